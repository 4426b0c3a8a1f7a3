"""The numbers behind the /stats charts, on both backends: distinct readers per period
(of one article, or of all), by the time of their first read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Stores
from tests.unit.test_discovery import backdate_read, publish

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def hours(n: int) -> list[datetime]:
    return [T0 + timedelta(hours=i) for i in range(n + 1)]


async def read(stores: Stores, article_id: int, reader_id: int, at: datetime) -> None:
    assert await stores.articles.record_read(article_id, reader_id)
    await backdate_read(stores, article_id, reader_id, at)


async def test_readers_per_period_of_one_article_and_of_all(stores: Stores) -> None:
    first = await publish(stores.articles, "Первая")
    second = await publish(stores.articles, "Вторая")
    await read(stores, first.id, 1, T0)  # the window's first moment counts
    await read(stores, first.id, 2, T0 + timedelta(minutes=59, seconds=59))
    await read(stores, first.id, 3, T0 + timedelta(hours=2, minutes=30))
    await read(stores, first.id, 4, T0 + timedelta(hours=3))  # the window's end: outside
    await read(stores, first.id, 5, T0 - timedelta(seconds=1))  # before it: outside
    # Reader 1 opens the second article in the same hour: one reader of that hour.
    await read(stores, second.id, 1, T0 + timedelta(minutes=10))
    await read(stores, second.id, 6, T0 + timedelta(hours=1))

    readership = stores.readership
    assert await readership.readers_per_period(hours(3), first.id) == [2, 0, 1]
    assert await readership.readers_per_period(hours(3), second.id) == [1, 1, 0]
    assert await readership.readers_per_period(hours(3)) == [2, 1, 1]
    assert await readership.readers_per_period(hours(1), 999) == [0]
    assert await readership.readers_per_period([T0]) == []
