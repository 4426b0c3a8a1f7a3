""" "Rejected" (a feed's draft turned down) and "archived" (published on the outlet's site
before the bot) become statuses."""

from __future__ import annotations

from storage.migrations.articles_checks import upgrade_checks

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_checks()
