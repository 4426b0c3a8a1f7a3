"""A channel message belongs to one article or poll; an article keeps its earlier versions.

``channel_messages`` is filled from what is on record: every article's post and every
poll's post, the earliest first (articles by publication, polls by creation).  An
article's poll on its article's post is the article's.  A post recorded twice (the
``/markpublished`` of an earlier release took any link) stays with the first; a later
article that still counts as published with another's post becomes "uncertain" (its
post unknown, for an editor to settle), a later poll is failed and loses its post, so
that nothing edits or deletes another's post again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import op
from sqlalchemy import select

from bot.models import ArticleStatus
from storage import tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

a, p = tables.articles, tables.polls
# A recorded post: when, chat, message, its owner (article, poll), the row (table, id).
Post = tuple[datetime, str, int, tuple[int | None, int | None], tuple[str, int]]


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _posts(bind: Any) -> list[Post]:
    """Every recorded post, earliest first (an article before its own poll)."""
    articles = bind.execute(
        select(a.c.id, a.c.published_at, a.c.created_at, a.c.channel_chat_id)
        .add_columns(a.c.channel_message_id)
        .where(a.c.channel_message_id.is_not(None))
    ).all()
    polls = bind.execute(
        select(p.c.id, p.c.article_id, p.c.created_at, p.c.channel_chat_id)
        .add_columns(p.c.channel_message_id)
        .where(p.c.channel_message_id.is_not(None))
    ).all()
    posts: list[Post] = [
        (_utc(published or created), chat or "", message, (id_, None), ("article", id_))
        for id_, published, created, chat, message in articles
    ]
    posts += [
        (
            _utc(created),
            chat or "",
            message,
            (article_id, None) if article_id is not None else (None, id_),
            ("poll", id_),
        )
        for id_, article_id, created, chat, message in polls
    ]
    return sorted(posts, key=lambda post: (post[0], post[4][0]))


def upgrade() -> None:
    bind = op.get_bind()
    tables.channel_messages.create(bind)
    tables.article_versions.create(bind)
    owners: dict[tuple[str, int], tuple[int | None, int | None]] = {}
    lost: list[tuple[str, int, int]] = []
    for _, chat, message, owner, (table, row_id) in _posts(bind):
        if owners.setdefault((chat, message), owner) != owner:
            lost.append((table, row_id, message))
    if owners:
        bind.execute(
            tables.channel_messages.insert(),
            [
                {"chat": chat, "message_id": message, "article_id": art, "poll_id": poll}
                for (chat, message), (art, poll) in owners.items()
            ],
        )
    for table, row_id, message in lost:
        if table == "article":
            # bot.failures.Failure(FailureKind.TAKEN, message).stored, as of this revision.
            why = f"taken:{message}"
            bind.execute(
                a.update()
                .where((a.c.id == row_id) & (a.c.status == ArticleStatus.PUBLISHED.value))
                .values(status=ArticleStatus.UNCERTAIN.value, failure_reason=why)
            )
        else:
            bind.execute(
                p.update()
                .where(p.c.id == row_id)
                .values(status="failed", channel_message_id=None, channel_chat_id=None)
            )
