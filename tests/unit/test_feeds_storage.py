"""The feeds' guarantees are the database's, on both engines and between two connection
pools (two instances): an item is drafted once, a change is reported once, a feed's
check is claimed once, a failure is told once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.models import ArticleContent, FeedCheck, FeedMode, ItemKeys, ItemOutcome, RecordedItem
from storage import Stores
from tests.backends import Backend

CONTENT = ArticleContent(title="Новость", paragraphs=("Абзац.",))
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def keys(n: int, **changes: str | None) -> ItemKeys:
    values: dict[str, str | None] = {
        "guid": f"guid-{n}",
        "link_key": f"news.example.kz/news/{n}",
        "title_key": f"2026-12-07T09:{n:02d}|новость {n}",
        "content_hash": "h1",
    }
    values.update(changes)
    return ItemKeys(**values)  # type: ignore[arg-type]


async def record(stores: Stores, feed_id: int, item: ItemKeys) -> RecordedItem:
    """A check that found one item (drafted if new)."""
    _, (recorded,) = await stores.feeds.finish_check(
        feed_id, FeedCheck(error=None, next_check_at=NOW, items=((item, CONTENT),), author_id=1)
    )
    return recorded


async def test_one_item_met_by_two_instances_at_once_is_one_draft(backend: Backend) -> None:
    a, b = await backend.open(), await backend.open()
    feed_a = await a.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    feed_b = await b.feeds.add_feed("https://b.example/rss", FeedMode.REVIEW, 1, NOW)
    assert feed_a is not None and feed_b is not None
    for n in range(20):
        results = await asyncio.gather(
            record(a, feed_a.id, keys(n)),
            record(b, feed_b.id, keys(n, guid=None)),
        )
        assert sorted(r.outcome for r in results) == [ItemOutcome.NEW, ItemOutcome.SEEN], n
    assert len(await a.articles.list_unpublished(100)) == 20


async def test_an_item_is_the_same_by_guid_link_or_title_and_date(backend: Backend) -> None:
    stores = await backend.open()
    feed = await stores.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    assert feed is not None
    first = await record(stores, feed.id, keys(1))
    assert first.outcome is ItemOutcome.NEW and first.article is not None
    for same in (
        keys(1, link_key="x", title_key="y"),
        keys(1, guid="other", title_key="y"),
        keys(1, guid=None, link_key=None),
    ):
        again = await record(stores, feed.id, same)
        assert again.outcome is ItemOutcome.SEEN, same
    # The site changes its text: reported once, with the article it concerns.
    changed = keys(1, content_hash="h2")
    results = await asyncio.gather(*(record(stores, feed.id, changed) for _ in range(3)))
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == [ItemOutcome.CHANGED, ItemOutcome.SEEN, ItemOutcome.SEEN]
    (report,) = [r for r in results if r.outcome is ItemOutcome.CHANGED]
    assert report.article is not None and report.article.id == first.article.id
    assert len(await stores.articles.list_unpublished(100)) == 1


async def test_a_feed_check_is_claimed_by_one_instance_per_interval(backend: Backend) -> None:
    a, b = await backend.open(), await backend.open()
    feed = await a.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    assert feed is not None
    assert await a.feeds.add_feed("https://a.example/rss", FeedMode.AUTO, 2, NOW) is None
    later = NOW + timedelta(minutes=5)
    claims = await asyncio.gather(
        a.feeds.claim_due(NOW, later, 10), b.feeds.claim_due(NOW, later, 10)
    )
    assert sorted(len(claim) for claim in claims) == [0, 1]
    assert await a.feeds.claim_due(NOW, later, 10) == []
    (again,) = await b.feeds.claim_due(later, later + timedelta(minutes=5), 10)
    assert again.id == feed.id and again.last_checked_at == later


async def test_three_failures_are_told_once_and_the_recovery_once(backend: Backend) -> None:
    a, b = await backend.open(), await backend.open()
    feed = await a.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    assert feed is not None
    for _ in range(3):
        done, _ = await a.feeds.finish_check(feed.id, FeedCheck(error="500", next_check_at=NOW))
    assert done is not None and done.failures == 3 and done.last_error == "500"
    told = await asyncio.gather(
        a.feeds.flag_failure(feed.id, True, 3), b.feeds.flag_failure(feed.id, True, 3)
    )
    assert sorted(told) == [False, True]
    assert not await a.feeds.flag_failure(feed.id, False, 3)  # still failing
    ok, _ = await a.feeds.finish_check(
        feed.id, FeedCheck(error=None, next_check_at=NOW, etag='"e"')
    )
    assert ok is not None and ok.failures == 0 and ok.etag == '"e"'
    recovered = await asyncio.gather(
        a.feeds.flag_failure(feed.id, False, 3), b.feeds.flag_failure(feed.id, False, 3)
    )
    assert sorted(recovered) == [False, True]


async def test_cards_and_corrections_are_kept_per_article(backend: Backend) -> None:
    stores = await backend.open()
    article = await stores.articles.create(CONTENT, 1)
    await stores.feeds.save_card(article.id, 1001, 7)
    await stores.feeds.save_card(article.id, 1001, 7)
    await stores.feeds.save_card(article.id, 1002, 8)
    assert await stores.feeds.cards(article.id) == [(1001, 7), (1002, 8)]
    assert await stores.feeds.correction(article.id) is None
    fixed = ArticleContent(title="Исправлено", paragraphs=("Новый абзац.", "Ещё."))
    await stores.feeds.set_correction(article.id, CONTENT)
    await stores.feeds.set_correction(article.id, fixed)
    assert await stores.feeds.correction(article.id) == fixed
    await stores.feeds.set_correction(article.id, None)
    assert await stores.feeds.correction(article.id) is None
    # Removing a feed keeps what it brought.
    feed = await stores.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    assert feed is not None
    await record(stores, feed.id, keys(1))
    assert await stores.feeds.remove_feed(feed.id)
    assert not await stores.feeds.remove_feed(feed.id)
    other = await stores.feeds.add_feed("https://b.example/rss", FeedMode.REVIEW, 1, NOW)
    assert other is not None
    seen = await record(stores, other.id, keys(1))
    assert seen.outcome is ItemOutcome.SEEN


async def test_an_item_in_two_feeds_is_followed_by_the_feed_that_recorded_it(
    backend: Backend,
) -> None:
    """A section feed with a shorter text of the same item is no correction, each check."""
    stores = await backend.open()
    main = await stores.feeds.add_feed("https://a.example/rss", FeedMode.REVIEW, 1, NOW)
    section = await stores.feeds.add_feed("https://a.example/politics", FeedMode.REVIEW, 1, NOW)
    assert main is not None and section is not None
    assert (await record(stores, main.id, keys(1))).outcome is ItemOutcome.NEW
    shorter = keys(1, content_hash="h-short")
    for _ in range(2):
        assert await stores.feeds.unsettled(section.id, [shorter]) == []
        assert (await record(stores, section.id, shorter)).outcome is ItemOutcome.SEEN
    # The feed that recorded it still follows its corrections.
    corrected = keys(1, content_hash="h2")
    assert await stores.feeds.unsettled(main.id, [corrected]) == [0]
    assert (await record(stores, main.id, corrected)).outcome is ItemOutcome.CHANGED
