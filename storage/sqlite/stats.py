"""Readers over time (the week's most read, the day's digest) and the digest record."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.models import ArticleStatus, Headline
from storage.rows import headline
from storage.searching import HEADLINE_COLUMNS

from .db import Database


class SqliteArticleStats:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def most_read(self, since: datetime, until: datetime, limit: int = 10) -> list[Headline]:
        """Counted from the reads in the window (index article_reads_by_time), so an old
        article read a lot this week is there, and a week-old burst is not."""
        rows = await self._db.fetch_all(
            f"""
            WITH counted AS MATERIALIZED (
                SELECT article_id AS id, COUNT(*) AS n FROM article_reads
                 WHERE first_read_at >= ? AND first_read_at < ?
                 GROUP BY article_id)
            SELECT {HEADLINE_COLUMNS}, counted.n AS n
              FROM counted JOIN articles a ON a.id = counted.id
             WHERE a.status = ? AND a.withdrawn_at IS NULL
             ORDER BY counted.n DESC, a.published_at DESC, a.id DESC
             LIMIT ?
            """,
            (
                since.astimezone(UTC).isoformat(),
                until.astimezone(UTC).isoformat(),
                ArticleStatus.PUBLISHED.value,
                limit,
            ),
        )
        return [headline(row, row["n"]) for row in rows]

    async def claim_digest(self, day: date) -> bool:
        changed = await self._db.execute(
            "INSERT INTO digests (day, claimed_at) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
            (day.isoformat(), datetime.now(UTC).isoformat()),
        )
        return changed > 0

    async def digest_posted(self, day: date, chat_id: str, message_id: int) -> None:
        await self._db.execute(
            "UPDATE digests SET chat_id = ?, message_id = ? WHERE day = ?",
            (chat_id, message_id, day.isoformat()),
        )
