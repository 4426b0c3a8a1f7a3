"""The editor's desk in SQLite: editors added in chat, the action history, reaction
counts of channel posts and the period statistics.

Adding or removing an editor and its history line are one transaction; whether a change
happened is decided by the statement (``ON CONFLICT DO NOTHING``, ``DELETE``), so two
admins adding the same person at once record it once.  Reaction counts keep the newest
update by its own date, in the statement, whatever order updates arrive in.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.models import EditorAction, PeriodStats, PostReactions, StoredEditor
from storage.rows import (
    editor_action_from_row,
    editor_from_row,
    iso_utc,
    reactions_from_row,
    top_articles,
)

from .db import Database, Transaction


async def _record(
    tx: Transaction,
    action: str,
    editor_id: int | None,
    editor_name: str | None = None,
    article_id: int | None = None,
    poll_id: int | None = None,
    detail: str | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO editor_actions "
        "(article_id, poll_id, editor_id, editor_name, action, detail, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (article_id, poll_id, editor_id, editor_name, action, detail, iso_utc()),
    )


class DeskRepository:
    """Implements EditorStore, HistoryStore and StatsStore (bot/repositories.py)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- editors ---------------------------------------------------------------------

    async def list_editors(self) -> list[StoredEditor]:
        rows = await self._db.fetch_all(
            "SELECT user_id, added_by, added_at FROM desk_editors ORDER BY added_at, user_id"
        )
        return [editor_from_row(r) for r in rows]

    async def editor_ids(self) -> frozenset[int]:
        rows = await self._db.fetch_all("SELECT user_id FROM desk_editors")
        return frozenset(int(r["user_id"]) for r in rows)

    async def add_editor(
        self, user_id: int, added_by: int, added_by_name: str | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            added = await tx.execute(
                "INSERT INTO desk_editors (user_id, added_by, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO NOTHING",
                (user_id, added_by, iso_utc()),
            )
            if added:
                await _record(tx, "addeditor", added_by, added_by_name, detail=str(user_id))
        return added > 0

    async def remove_editor(
        self, user_id: int, removed_by: int, removed_by_name: str | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            removed = await tx.execute("DELETE FROM desk_editors WHERE user_id = ?", (user_id,))
            if removed:
                await _record(tx, "removeeditor", removed_by, removed_by_name, detail=str(user_id))
        return removed > 0

    # --- history ---------------------------------------------------------------------

    async def record_action(
        self,
        action: str,
        editor_id: int | None,
        *,
        editor_name: str | None = None,
        article_id: int | None = None,
        poll_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        async with self._db.transaction() as tx:
            await _record(tx, action, editor_id, editor_name, article_id, poll_id, detail)

    async def article_history(self, article_id: int) -> list[EditorAction]:
        rows = await self._db.fetch_all(
            "SELECT * FROM editor_actions WHERE article_id = ? ORDER BY id", (article_id,)
        )
        return [editor_action_from_row(r) for r in rows]

    # --- reactions and statistics ------------------------------------------------------

    async def save_reactions(
        self, chat: str, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        changed = await self._db.execute(
            "INSERT INTO post_reactions (chat, message_id, reactions, total, date) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (chat, message_id) DO UPDATE SET reactions = excluded.reactions, "
            "total = excluded.total, date = excluded.date "
            "WHERE excluded.date >= post_reactions.date",
            (
                chat,
                message_id,
                json.dumps([list(pair) for pair in counts], ensure_ascii=False),
                sum(count for _, count in counts),
                iso_utc(date),
            ),
        )
        return changed > 0

    async def reactions(self, chat: str, message_id: int) -> PostReactions | None:
        row = await self._db.fetch_one(
            "SELECT * FROM post_reactions WHERE chat = ? AND message_id = ?", (chat, message_id)
        )
        if row is None:
            return None
        return reactions_from_row(chat, message_id, row)

    async def period_stats(self, since: datetime, until: datetime, top: int) -> PeriodStats:
        period = (iso_utc(since), iso_utc(until))
        async with self._db.read() as tx:  # one snapshot: the totals agree with each other
            published = await tx.fetch_one(
                "SELECT COUNT(*) AS n FROM articles "
                "WHERE status = 'published' AND published_at >= ? AND published_at < ?",
                period,
            )
            readers = await tx.fetch_one(
                "SELECT COUNT(DISTINCT reader_id) AS n FROM article_reads "
                "WHERE first_read_at >= ? AND first_read_at < ?",
                period,
            )
            votes = await tx.fetch_one(
                "SELECT COUNT(*) AS n FROM poll_votes WHERE voted_at >= ? AND voted_at < ?",
                period,
            )
            best = await tx.fetch_all(
                "SELECT a.id, a.title, COUNT(*) AS n FROM article_reads r "
                "JOIN articles a ON a.id = r.article_id "
                "WHERE r.first_read_at >= ? AND r.first_read_at < ? "
                "GROUP BY a.id ORDER BY n DESC, a.id DESC LIMIT ?",
                (*period, top),
            )
        return PeriodStats(
            published=int(published["n"]) if published else 0,
            readers=int(readers["n"]) if readers else 0,
            votes=int(votes["n"]) if votes else 0,
            top=top_articles(best),
        )
