""" "Withdrawn" becomes a status of its own.

Before, a withdrawn article was ``status = 'published'`` with ``withdrawn_at`` set, because
SQLite cannot change a CHECK in place.  SQLite's articles table is rebuilt here (its
documented twelve steps: foreign keys are off around the migration, so the children keep
their rows); PostgreSQL swaps the constraints.
"""

from __future__ import annotations

from storage.migrations.articles_checks import upgrade_checks

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_checks(
        sqlite_status="CASE WHEN withdrawn_at IS NOT NULL THEN 'withdrawn' ELSE status END",
        postgres_update="UPDATE articles SET status = 'withdrawn' WHERE withdrawn_at IS NOT NULL",
    )
