"""The editor's desk on PostgreSQL: the same contract as storage/sqlite/desk.py.

Adding or removing an editor and its history line are one transaction, decided by the
statement (``ON CONFLICT DO NOTHING``, ``DELETE``); reaction counts keep the newest
update by its own date, in the upsert, whatever order updates arrive in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.models import EditorAction, PeriodStats, PostReactions, StoredEditor
from storage.rows import editor_action_from_row, editor_from_row, reactions_from_row, top_articles

from .db import Connection, Database, changed


async def _record(
    conn: Connection,
    action: str,
    editor_id: int | None,
    editor_name: str | None = None,
    article_id: int | None = None,
    poll_id: int | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO editor_actions "
        "(article_id, poll_id, editor_id, editor_name, action, detail, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        article_id,
        poll_id,
        editor_id,
        editor_name,
        action,
        detail,
        datetime.now(UTC),
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
        async with self._db.transaction() as conn:
            added = changed(
                await conn.execute(
                    "INSERT INTO desk_editors (user_id, added_by, added_at) VALUES ($1, $2, $3) "
                    "ON CONFLICT (user_id) DO NOTHING",
                    user_id,
                    added_by,
                    datetime.now(UTC),
                )
            )
            if added:
                await _record(conn, "addeditor", added_by, added_by_name, detail=str(user_id))
        return added > 0

    async def remove_editor(
        self, user_id: int, removed_by: int, removed_by_name: str | None = None
    ) -> bool:
        async with self._db.transaction() as conn:
            removed = changed(
                await conn.execute("DELETE FROM desk_editors WHERE user_id = $1", user_id)
            )
            if removed:
                await _record(
                    conn, "removeeditor", removed_by, removed_by_name, detail=str(user_id)
                )
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
        async with self._db.transaction() as conn:
            await _record(conn, action, editor_id, editor_name, article_id, poll_id, detail)

    async def article_history(self, article_id: int) -> list[EditorAction]:
        rows = await self._db.fetch_all(
            "SELECT * FROM editor_actions WHERE article_id = $1 ORDER BY id", article_id
        )
        return [editor_action_from_row(r) for r in rows]

    # --- reactions and statistics ------------------------------------------------------

    async def save_reactions(
        self, chat: str, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        status = await self._db.execute(
            "INSERT INTO post_reactions (chat, message_id, reactions, total, date) "
            "VALUES ($1, $2, $3::jsonb, $4, $5) "
            "ON CONFLICT (chat, message_id) DO UPDATE SET reactions = excluded.reactions, "
            "total = excluded.total, date = excluded.date "
            "WHERE excluded.date >= post_reactions.date",
            chat,
            message_id,
            json.dumps([list(pair) for pair in counts], ensure_ascii=False),
            sum(count for _, count in counts),
            date.astimezone(UTC),
        )
        return changed(status) > 0

    async def reactions(self, chat: str, message_id: int) -> PostReactions | None:
        row = await self._db.fetch_one(
            "SELECT reactions::text AS reactions, date FROM post_reactions "
            "WHERE chat = $1 AND message_id = $2",
            chat,
            message_id,
        )
        if row is None:
            return None
        return reactions_from_row(chat, message_id, row)

    async def period_stats(self, since: datetime, until: datetime, top: int) -> PeriodStats:
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        # One snapshot: the totals agree with each other.
        async with self._db.transaction() as conn:
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            published = await conn.fetchval(
                "SELECT count(*) FROM articles "
                "WHERE status = 'published' AND published_at >= $1 AND published_at < $2",
                since,
                until,
            )
            readers = await conn.fetchval(
                "SELECT count(DISTINCT reader_id) FROM article_reads "
                "WHERE first_read_at >= $1 AND first_read_at < $2",
                since,
                until,
            )
            votes = await conn.fetchval(
                "SELECT count(*) FROM poll_votes WHERE voted_at >= $1 AND voted_at < $2",
                since,
                until,
            )
            best = await conn.fetch(
                "SELECT a.id, a.title, count(*) AS n FROM article_reads r "
                "JOIN articles a ON a.id = r.article_id "
                "WHERE r.first_read_at >= $1 AND r.first_read_at < $2 "
                "GROUP BY a.id ORDER BY n DESC, a.id DESC LIMIT $3",
                since,
                until,
                top,
            )
        return PeriodStats(
            published=int(published or 0),
            readers=int(readers or 0),
            votes=int(votes or 0),
            top=top_articles(best),
        )
