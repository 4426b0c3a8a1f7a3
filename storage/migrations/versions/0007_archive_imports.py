"""Archive imports running are known to every instance: one per editor, and the stop
button works wherever its press arrives."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The table as this revision made it (not the live declaration, which may change).
    op.create_table(
        "archive_imports",
        sa.Column("editor_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("started_at", UtcTime, nullable=False),
        sa.Column("alive_at", UtcTime, nullable=False),
        sa.Column(
            "cancelled",
            sa.Boolean(create_constraint=False),
            nullable=False,
            server_default=sa.text("false"),
        ),
    )
