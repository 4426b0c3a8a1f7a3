"""Readers over time (the week's most read, the day's digest) and the digest record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, update

from bot.models import Headline
from storage.database import Database
from storage.rows import headline, utc_now
from storage.searching import most_first
from storage.tables import article_reads, digests
from storage.types import UtcTime

# Counted from the reads in the window (index article_reads_by_time), so an old article
# read a lot this week is there, and a week-old burst is not.
_counted = (
    select(article_reads.c.article_id.label("id"), func.count().label("n"))
    .where(
        article_reads.c.first_read_at >= bindparam("since"),
        article_reads.c.first_read_at < bindparam("until"),
    )
    .group_by(article_reads.c.article_id)
    .cte("counted")
    .prefix_with("MATERIALIZED")
)
_MOST_READ = most_first(_counted, _counted.c.n)


def _readers_per_period(periods: int, of_article: bool) -> Select[Any]:
    """Distinct readers per period between ``bound0`` < ``bound1`` < … by the time of their
    first read (one range scan of the window; the CASE names each read's period).  Plain
    SQL on both engines: the bounds come from the caller, in its time zone.  The bounds
    are typed: a bare datetime would reach SQLite in another text form than the stored
    one, and compare wrongly."""
    read_at = article_reads.c.first_read_at
    bounds = [bindparam(f"bound{i}", type_=UtcTime()) for i in range(periods + 1)]
    period = case(*((read_at < bounds[i + 1], i) for i in range(periods))).label("period")
    query = (
        select(period, func.count(article_reads.c.reader_id.distinct()).label("n"))
        .where(read_at >= bounds[0], read_at < bounds[periods])
        .group_by(period)
    )
    if of_article:
        query = query.where(article_reads.c.article_id == bindparam("article_id"))
    return query


_DIGEST_POSTED = update(digests).where(digests.c.day == bindparam("on_day"))


class ReadershipRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        # The primary key decides: of two instances inserting the same day, one inserts.
        self._claim = (
            db.insert(digests)
            .on_conflict_do_nothing(index_elements=[digests.c.day])
            .returning(digests.c.day)
        )

    async def most_read(self, since: datetime, until: datetime, limit: int = 10) -> list[Headline]:
        rows = await self._db.rows(_MOST_READ, {"since": since, "until": until, "limit": limit})
        return [headline(row, row["n"]) for row in rows]

    async def readers_per_period(
        self, bounds: Sequence[datetime], article_id: int | None = None
    ) -> list[int]:
        periods = len(bounds) - 1
        if periods < 1:
            return []
        query = _readers_per_period(periods, article_id is not None)
        values: dict[str, Any] = {f"bound{i}": bound for i, bound in enumerate(bounds)}
        if article_id is not None:
            values["article_id"] = article_id
        counts = [0] * periods
        async with self._db.read() as conn:
            for row in await conn.execute(query, values):
                counts[row.period] = int(row.n)
        return counts

    async def claim_digest(self, day: date) -> bool:
        async with self._db.transaction() as conn:
            claimed = await conn.execute(self._claim, {"day": day, "claimed_at": utc_now()})
            return claimed.first() is not None

    async def digest_posted(self, day: date, chat_id: str, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                _DIGEST_POSTED, {"on_day": day, "chat_id": chat_id, "message_id": message_id}
            )
