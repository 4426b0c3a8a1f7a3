"""Discovery (search, related, most read, front page), reads of editors, and the digest,
with the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.articles.digest import Digest
from bot.articles.discovery import MAX_QUERY_CHARS, Discovery
from bot.articles.reading import Reading
from bot.models import Article, ArticleContent, Headline
from bot.repositories import Readership, SearchIndex
from bot.texts import RU
from tests.fakes.stores import MemoryArticles, MemorySearch

TZ = ZoneInfo("Asia/Almaty")


async def publish(
    articles: MemoryArticles, title: str, body: str = "Текст.", tags: tuple[str, ...] = ()
) -> Article:
    draft = await articles.create(ArticleContent(title=title, paragraphs=(body,), tags=tags), 1)
    claimed = await articles.claim(draft.id)
    assert claimed is not None
    done = await articles.mark_published(draft.id, claimed.publish_attempt, "-100", draft.id)
    assert done is not None
    return done


@pytest.fixture
def articles() -> MemoryArticles:
    return MemoryArticles()


@pytest.fixture
def search(articles: MemoryArticles) -> MemorySearch:
    return MemorySearch(articles)


def test_memory_search_implements_the_protocols(search: MemorySearch) -> None:
    index: SearchIndex = search
    stats: Readership = search
    assert isinstance(index, MemorySearch) and isinstance(stats, MemorySearch)


async def test_search_word_forms_and_empty_query(
    articles: MemoryArticles, search: MemorySearch
) -> None:
    avenue = await publish(articles, "Проспект Гагарина", "Переименование обсуждают.")
    other = await publish(articles, "Погода")
    discovery = Discovery(articles, search, search)
    assert [h.id for h in await discovery.search("проспекта")] == [avenue.id]
    # Empty (or blank) query: the latest articles, newest first.
    assert [h.id for h in await discovery.search("  ")] == [other.id, avenue.id]
    assert await discovery.search("", offset=10) == []


async def test_long_queries_are_cut(articles: MemoryArticles, search: MemorySearch) -> None:
    discovery = Discovery(articles, search, search)
    assert len(discovery.clean_query("слово " * 1000)) == MAX_QUERY_CHARS


async def test_related_tags_first(articles: MemoryArticles, search: MemorySearch) -> None:
    seed = await publish(articles, "Китай и Казахстан", "Миротворцы.", tags=("Китай",))
    tagged = await publish(articles, "Иное", "Иное.", tags=("Китай",))
    similar = await publish(articles, "Миротворцы учатся", "Иное.")
    discovery = Discovery(articles, search, search)
    assert [h.id for h in await discovery.related(seed.id)] == [tagged.id, similar.id]


async def test_editors_reads_do_not_count(articles: MemoryArticles) -> None:
    article = await publish(articles, "Статья")
    reading = Reading(articles, RU, TZ)
    assert await reading.open(article.id, 1, is_editor=True) is not None
    assert await reading.open(article.id, 2, is_editor=False) is not None
    assert await reading.open(article.id, 2, is_editor=False) is not None
    assert articles.reads == {(article.id, 2)}


async def test_top_counts_readers_in_the_window(
    articles: MemoryArticles, search: MemorySearch
) -> None:
    popular = await publish(articles, "Популярная")
    old = await publish(articles, "Старая")
    for reader in (1, 2):
        await articles.record_read(popular.id, reader)
    await articles.record_read(old.id, 1)
    articles.read_times[(old.id, 1)] = datetime.now(UTC) - timedelta(days=8)
    discovery = Discovery(articles, search, search)
    assert [(h.id, h.count) for h in await discovery.top()] == [(popular.id, 2)]
    front = await discovery.front_page()
    assert [h.id for h in front.latest] == [old.id, popular.id]
    assert [h.id for h in front.most_read] == [popular.id]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_digest_posts_once_a_day_after_its_time(
    articles: MemoryArticles, search: MemorySearch
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

    digest = Digest(search, RU, TZ, time(21, 0), send, link, clock=clock)
    assert not await digest.run_due()  # too early
    clock.now = today.replace(hour=21, minute=0)
    preview = await digest.preview()
    assert preview is not None and "&lt;b&gt;" in preview and "1 чит." in preview
    assert sent == []  # a preview posts nothing
    assert await digest.run_due()
    assert not await digest.run_due()
    # Another instance (or a restart) on the same day does not post it again.
    again = Digest(search, RU, TZ, time(21, 0), send, link, clock=clock)
    assert not await again.run_due()
    assert len(sent) == 1 and f'href="https://t.me/c/100/{popular.id}"' in sent[0]
    assert search.digests[clock.now.date()] == ("-100", 42)


async def test_digest_off_or_empty(articles: MemoryArticles, search: MemorySearch) -> None:
    async def send(html: str) -> tuple[str, int]:
        raise AssertionError("nothing to send")

    clock = Clock(datetime.now(TZ).replace(hour=23))
    off = Digest(search, RU, TZ, None, send, lambda h: None, clock=clock)
    assert not await off.run_due()
    empty = Digest(search, RU, TZ, time(21, 0), send, lambda h: None, clock=clock)
    assert await empty.preview() is None
    assert not await empty.run_due()
    assert search.digests == {}


async def test_top_is_counted_once_a_minute(
    articles: MemoryArticles, search: MemorySearch
) -> None:
    article = await publish(articles, "Статья")
    await articles.record_read(article.id, 1)
    clock = Clock(datetime.now(UTC))
    discovery = Discovery(articles, search, search, clock=clock)
    assert [h.count for h in await discovery.top()] == [1]
    await articles.record_read(article.id, 2)
    assert [h.count for h in await discovery.top(5)] == [1]
    clock.now += timedelta(seconds=61)
    assert [h.count for h in await discovery.top()] == [2]
