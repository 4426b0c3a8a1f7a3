"""The outlet's archive comes in: a table of the pages imported (each once), and archived
articles join the search index (its queue triggers redefined on both engines)."""

from __future__ import annotations

from alembic import op

from storage import tables
from storage.ddl import POSTGRES_SEARCH_QUEUE, SEARCH_QUEUE_TRIGGERS, SQLITE_SEARCH_QUEUE

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables.archive_pages.create(bind)
    postgres = bind.dialect.name == "postgresql"
    for trigger in SEARCH_QUEUE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON articles" if postgres else ""))
    for trigger in POSTGRES_SEARCH_QUEUE if postgres else SQLITE_SEARCH_QUEUE:
        op.execute(trigger)
