"""Discovery (search, related, most read, front page), reads of editors, and the digest,
on the real repositories (a SQLite of their own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.articles.digest import Digest
from bot.articles.discovery import MAX_QUERY_CHARS, Discovery
from bot.articles.reading import Reading
from bot.models import Article, ArticleContent, ChannelPost, Headline
from bot.repositories import ArticleStore
from bot.texts import RU, Texts
from storage import Stores
from storage.tables import article_reads, digests

TZ = ZoneInfo("Asia/Almaty")


async def publish(
    articles: ArticleStore, title: str, body: str = "Текст.", tags: tuple[str, ...] = ()
) -> Article:
    draft = await articles.create(ArticleContent(title=title, paragraphs=(body,), tags=tags), 1)
    claimed = await articles.claim(draft.id)
    assert claimed is not None
    done = await articles.mark_published(claimed.attempt, ChannelPost("-100", draft.id))
    assert done is not None
    return done


@pytest.fixture
def articles(sqlite_stores: Stores) -> ArticleStore:
    return sqlite_stores.articles


@pytest.fixture
def discovery(sqlite_stores: Stores) -> Discovery:
    return Discovery(sqlite_stores.articles, sqlite_stores.search, sqlite_stores.readership)


async def stored_reads(stores: Stores) -> set[tuple[int, int]]:
    """Every (article, reader) read recorded."""
    async with stores.db.read() as conn:
        rows = await conn.execute(select(article_reads.c.article_id, article_reads.c.reader_id))
        return {(article_id, reader_id) for article_id, reader_id in rows}


async def backdate_read(stores: Stores, article_id: int, reader_id: int, when: datetime) -> None:
    """What the passage of time does to a read (a test cannot wait a week)."""
    async with stores.db.transaction() as conn:
        await conn.execute(
            update(article_reads)
            .where(article_reads.c.article_id == article_id)
            .where(article_reads.c.reader_id == reader_id)
            .values(first_read_at=when)
        )


async def stored_digests(stores: Stores) -> dict[date, tuple[str | None, int | None]]:
    """The digests claimed, by day: (chat, message) once posted."""
    async with stores.db.read() as conn:
        rows = await conn.execute(select(digests.c.day, digests.c.chat_id, digests.c.message_id))
        return {day: (chat, message) for day, chat, message in rows}


async def test_search_word_forms_and_empty_query(
    articles: ArticleStore, discovery: Discovery
) -> None:
    avenue = await publish(articles, "Проспект Гагарина", "Переименование обсуждают.")
    other = await publish(articles, "Погода")
    assert [h.id for h in await discovery.search("проспекта")] == [avenue.id]
    # Empty (or blank) query: the latest articles, newest first.
    assert [h.id for h in await discovery.search("  ")] == [other.id, avenue.id]
    assert await discovery.search("", offset=10) == []


async def test_long_queries_are_cut(discovery: Discovery) -> None:
    assert len(discovery.clean_query("слово " * 1000)) == MAX_QUERY_CHARS


async def test_related_tags_first(articles: ArticleStore, discovery: Discovery) -> None:
    seed = await publish(articles, "Китай и Казахстан", "Миротворцы.", tags=("Китай",))
    tagged = await publish(articles, "Иное", "Иное.", tags=("Китай",))
    similar = await publish(articles, "Миротворцы учатся", "Иное.")
    assert [h.id for h in await discovery.related(seed.id)] == [tagged.id, similar.id]


async def test_editors_reads_do_not_count(sqlite_stores: Stores, articles: ArticleStore) -> None:
    article = await publish(articles, "Статья")
    reading = Reading(articles, RU, TZ)
    assert await reading.open(article.id, 1, is_editor=True) is not None
    assert await reading.open(article.id, 2, is_editor=False) is not None
    assert await reading.open(article.id, 2, is_editor=False) is not None
    assert await stored_reads(sqlite_stores) == {(article.id, 2)}


async def test_top_counts_readers_in_the_window(
    sqlite_stores: Stores, articles: ArticleStore, discovery: Discovery
) -> None:
    popular = await publish(articles, "Популярная")
    old = await publish(articles, "Старая")
    for reader in (1, 2):
        await articles.record_read(popular.id, reader)
    await articles.record_read(old.id, 1)
    await backdate_read(sqlite_stores, old.id, 1, datetime.now(UTC) - timedelta(days=8))
    assert [(h.id, h.count) for h in await discovery.top()] == [(popular.id, 2)]
    front = await discovery.front_page()
    assert [h.id for h in front.latest] == [old.id, popular.id]
    assert [h.id for h in front.most_read] == [popular.id]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Channel:
    """The channel as the digest sees it: the test's own post and links."""

    post: Callable[[str], Awaitable[tuple[str, int]]]
    link_to: Callable[[Headline], str | None]
    texts: Texts = RU

    async def post_digest(self, html: str) -> tuple[str, int]:
        return await self.post(html)


async def test_digest_posts_once_a_day_after_its_time(
    sqlite_stores: Stores, articles: ArticleStore
) -> None:
    popular = await publish(articles, "Популярная <b>")
    await articles.record_read(popular.id, 7)
    today = datetime.now(TZ)
    clock = Clock(today.replace(hour=20, minute=59))
    sent: list[str] = []

    async def send(html: str) -> tuple[str, int]:
        sent.append(html)
        return "-100", 42

    def link(item: Headline) -> str:
        return f"https://t.me/c/100/{item.channel_message_id}"

    stats, channel = sqlite_stores.readership, Channel(send, link)
    digest = Digest(stats, channel, TZ, time(21, 0), clock=clock)
    assert not await digest.run_due()  # too early
    clock.now = today.replace(hour=21, minute=0)
    preview = await digest.preview()
    assert preview is not None and "&lt;b&gt;" in preview and "1 чит." in preview
    assert sent == []  # a preview posts nothing
    assert await digest.run_due()
    assert not await digest.run_due()
    # Another instance (or a restart) on the same day does not post it again.
    again = Digest(stats, channel, TZ, time(21, 0), clock=clock)
    assert not await again.run_due()
    assert len(sent) == 1 and f'href="https://t.me/c/100/{popular.id}"' in sent[0]
    assert (await stored_digests(sqlite_stores))[clock.now.date()] == ("-100", 42)


async def test_digest_off_or_empty(sqlite_stores: Stores) -> None:
    async def send(html: str) -> tuple[str, int]:
        raise AssertionError("nothing to send")

    clock = Clock(datetime.now(TZ).replace(hour=23))
    stats, channel = sqlite_stores.readership, Channel(send, lambda h: None)
    off = Digest(stats, channel, TZ, None, clock=clock)
    assert not await off.run_due()
    empty = Digest(stats, channel, TZ, time(21, 0), clock=clock)
    assert await empty.preview() is None
    assert not await empty.run_due()
    assert await stored_digests(sqlite_stores) == {}


async def test_top_is_counted_once_a_minute(sqlite_stores: Stores, articles: ArticleStore) -> None:
    article = await publish(articles, "Статья")
    await articles.record_read(article.id, 1)
    clock = Clock(datetime.now(UTC))
    discovery = Discovery(articles, sqlite_stores.search, sqlite_stores.readership, clock=clock)
    assert [h.count for h in await discovery.top()] == [1]
    await articles.record_read(article.id, 2)
    assert [h.count for h in await discovery.top(5)] == [1]
    clock.now += timedelta(seconds=61)
    assert [h.count for h in await discovery.top()] == [2]
