"""Feeds: the feeds the bot checks, every item they showed (the keys that make "the same
item" a database decision), the cards of feed drafts and corrections awaiting /apply."""

from __future__ import annotations

from alembic import op

from storage.tables import feed_cards, feed_corrections, feed_items, feeds

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (feeds, feed_items, feed_cards, feed_corrections):
        table.create(bind, checkfirst=True)
