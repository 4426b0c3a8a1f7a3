"""Readers over time (the week's most read, the day's digest) and the digest record, on
PostgreSQL: the contract of storage/sqlite/stats.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.models import Headline
from storage.rows import headline
from storage.searching import HEADLINE_COLUMNS

from .db import Database, changed
from .search import VISIBLE


class PostgresArticleStats:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def most_read(self, since: datetime, until: datetime, limit: int = 10) -> list[Headline]:
        """Counted from the reads in the window (index article_reads_by_time), so an old
        article read a lot this week is there, and a week-old burst is not."""
        rows = await self._db.fetch_all(
            f"""
            WITH counted AS MATERIALIZED (
                SELECT article_id AS id, count(*) AS n FROM article_reads
                 WHERE first_read_at >= $1 AND first_read_at < $2
                 GROUP BY article_id)
            SELECT {HEADLINE_COLUMNS}, counted.n AS n
              FROM counted JOIN articles a ON a.id = counted.id
             WHERE {VISIBLE}
             ORDER BY counted.n DESC, a.published_at DESC, a.id DESC
             LIMIT $3
            """,
            since.astimezone(UTC),
            until.astimezone(UTC),
            limit,
        )
        return [headline(row, row["n"]) for row in rows]

    async def claim_digest(self, day: date) -> bool:
        """The primary key decides: of two instances inserting the same day, one inserts."""
        status = await self._db.execute(
            "INSERT INTO digests (day, claimed_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
            day,
            datetime.now(UTC),
        )
        return changed(status) > 0

    async def digest_posted(self, day: date, chat_id: str, message_id: int) -> None:
        await self._db.execute(
            "UPDATE digests SET chat_id = $1, message_id = $2 WHERE day = $3",
            chat_id,
            message_id,
            day,
        )
