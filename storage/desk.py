"""The editor's desk: editors added in chat, the action history, reaction counts of
channel posts and the period statistics.

Adding or removing an editor and its history line are one transaction; whether a change
happened is decided by the statement (``ON CONFLICT DO NOTHING``, ``DELETE``), so two
admins adding the same person at once record it once.  Reaction counts keep the newest
update by its own date, in the upsert, whatever order updates arrive in.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import (
    ActionRecord,
    ArticleStatus,
    EditorAction,
    PeriodStats,
    PostReactions,
    StoredEditor,
)
from storage.database import Database
from storage.rows import editor_action_from_row, editor_from_row, top_articles, utc_now
from storage.tables import article_reads, articles, desk_editors, editor_actions, post_reactions
from storage.tables import poll_votes as votes

LIST_EDITORS = select(
    desk_editors.c.user_id, desk_editors.c.added_by, desk_editors.c.added_at
).order_by(desk_editors.c.added_at, desk_editors.c.user_id)
EDITOR_IDS = select(desk_editors.c.user_id)
REMOVE_EDITOR = (
    delete(desk_editors)
    .where(desk_editors.c.user_id == bindparam("user_id"))
    .returning(desk_editors.c.user_id)
)
RECORD = insert(editor_actions)
HISTORY = (
    select(editor_actions)
    .where(editor_actions.c.article_id == bindparam("article_id"))
    .order_by(editor_actions.c.id)
)
REACTIONS = select(post_reactions.c.reactions, post_reactions.c.date).where(
    post_reactions.c.chat == bindparam("chat"),
    post_reactions.c.message_id == bindparam("message_id"),
)


def _count(what: Any, moment: Any) -> Select[tuple[int]]:
    return select(what).where(moment >= bindparam("since"), moment < bindparam("until"))


# Withdrawn articles have their own status: "published" counts what is still in the
# channel, as /stats reports it.
PUBLISHED = _count(func.count(), articles.c.published_at).where(
    articles.c.status == ArticleStatus.PUBLISHED.value
)
READERS = _count(func.count(article_reads.c.reader_id.distinct()), article_reads.c.first_read_at)
VOTES = _count(func.count(), votes.c.voted_at)
NEW_READERS = func.count().label("n")
TOP = (
    _count(articles.c.id, article_reads.c.first_read_at)
    .add_columns(articles.c.title, NEW_READERS)
    .select_from(article_reads.join(articles, articles.c.id == article_reads.c.article_id))
    .group_by(articles.c.id)
    .order_by(NEW_READERS.desc(), articles.c.id.desc())
    .limit(bindparam("top"))
)


async def _record(conn: AsyncConnection, record: ActionRecord) -> None:
    await conn.execute(RECORD, {**dataclasses.asdict(record), "at": utc_now()})


class DeskRepository:
    """Implements EditorStore, HistoryStore and StatsStore, the desk's repository protocols."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._add_editor = (
            db.insert(desk_editors).on_conflict_do_nothing().returning(desk_editors.c.user_id)
        )
        upsert = db.insert(post_reactions)
        self._save_reactions = upsert.on_conflict_do_update(
            index_elements=[post_reactions.c.chat, post_reactions.c.message_id],
            set_={
                "reactions": upsert.excluded.reactions,
                "total": upsert.excluded.total,
                "date": upsert.excluded.date,
            },
            where=upsert.excluded.date >= post_reactions.c.date,
        ).returning(post_reactions.c.total)

    # --- editors ---------------------------------------------------------------------

    async def list_editors(self) -> list[StoredEditor]:
        async with self._db.read() as conn:
            rows = (await conn.execute(LIST_EDITORS)).mappings().all()
        return [editor_from_row(r) for r in rows]

    async def editor_ids(self) -> frozenset[int]:
        async with self._db.read() as conn:
            return frozenset((await conn.execute(EDITOR_IDS)).scalars())

    async def add_editor(
        self, user_id: int, added_by: int, added_by_name: str | None = None
    ) -> bool:
        values = {"user_id": user_id, "added_by": added_by, "added_at": utc_now()}
        async with self._db.transaction() as conn:
            added = (await conn.execute(self._add_editor, values)).first() is not None
            if added:
                await _record(
                    conn, ActionRecord("addeditor", added_by, added_by_name, detail=str(user_id))
                )
        return added

    async def remove_editor(
        self, user_id: int, removed_by: int, removed_by_name: str | None = None
    ) -> bool:
        async with self._db.transaction() as conn:
            removed = (await conn.execute(REMOVE_EDITOR, {"user_id": user_id})).first()
            if removed is not None:
                record = ActionRecord(
                    "removeeditor", removed_by, removed_by_name, detail=str(user_id)
                )
                await _record(conn, record)
        return removed is not None

    # --- history ---------------------------------------------------------------------

    async def record_action(self, record: ActionRecord) -> None:
        async with self._db.transaction() as conn:
            await _record(conn, record)

    async def article_history(self, article_id: int) -> list[EditorAction]:
        async with self._db.read() as conn:
            rows = (await conn.execute(HISTORY, {"article_id": article_id})).mappings().all()
        return [editor_action_from_row(r) for r in rows]

    # --- reactions and statistics ------------------------------------------------------

    async def save_reactions(
        self, chat: str, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        values = {
            "chat": chat,
            "message_id": message_id,
            "reactions": [list(pair) for pair in counts],
            "total": sum(count for _, count in counts),
            "date": date,
        }
        async with self._db.transaction() as conn:
            return (await conn.execute(self._save_reactions, values)).first() is not None

    async def reactions(self, chat: str, message_id: int) -> PostReactions | None:
        async with self._db.read() as conn:
            row = (await conn.execute(REACTIONS, {"chat": chat, "message_id": message_id})).first()
        if row is None:
            return None
        counts = tuple((str(label), int(count)) for label, count in row.reactions)
        return PostReactions(chat, message_id, counts, row.date)

    async def period_stats(self, since: datetime, until: datetime, top: int) -> PeriodStats:
        period = {"since": since, "until": until}
        async with self._db.snapshot() as conn:  # the totals agree with each other
            published = (await conn.execute(PUBLISHED, period)).scalar_one()
            readers = (await conn.execute(READERS, period)).scalar_one()
            voted = (await conn.execute(VOTES, period)).scalar_one()
            best = (await conn.execute(TOP, {**period, "top": top})).mappings().all()
        return PeriodStats(
            published=int(published),
            readers=int(readers),
            votes=int(voted),
            top=top_articles(best),
        )
