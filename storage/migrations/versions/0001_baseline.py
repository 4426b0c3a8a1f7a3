"""The schema as the nine numbered SQL scripts before Alembic left it.

A database made then is stamped here; a new database is built from ``storage.tables``
and stamped at the head, so this revision has nothing to do.
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
