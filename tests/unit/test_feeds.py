"""The pieces of the feeds that need no bot: one link normalisation, the address check
(at every redirect), the size cap, Retry-After, feed parsing, a parser that dies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import pytest

from bot.articles.publishing import Publisher
from bot.articles.revisions import Revisions
from bot.feeds.cards import Cards
from bot.feeds.desk import AddOutcome, FeedDesk
from bot.feeds.fetching import Fetcher, FetchError, address_allowed, retry_after
from bot.feeds.links import normalise_link, title_key
from bot.feeds.pages import extract_article
from bot.feeds.parsing import FeedFormatError, parse_feed
from bot.models import Article, FeedMode
from bot.texts import RU
from bot.workers import WorkerProcess
from storage import stores_on
from storage.database import Database
from tests.fakes.feed_site import FeedSite, Item, rss

P = ParamSpec("P")
T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    "variant",
    [
        "https://news.example.kz/news/12",
        "http://news.example.kz/news/12",
        "https://www.news.example.kz/news/12/",
        "https://WWW.News.Example.KZ:443/news/12",
        "https://news.example.kz/news/12?utm_source=rss&utm_medium=feed",
        "https://news.example.kz/news/12/?fbclid=abc&yclid=1#comments",
    ],
)
def test_one_article_has_one_normalised_link(variant: str) -> None:
    assert normalise_link(variant) == "news.example.kz/news/12"


def test_what_tells_articles_apart_stays_in_the_link() -> None:
    assert normalise_link("https://news.example.kz/news?id=12&utm_source=x") == (
        "news.example.kz/news?id=12"
    )
    assert normalise_link("https://news.example.kz/news?id=12") != normalise_link(
        "https://news.example.kz/news?id=13"
    )
    assert normalise_link("https://news.example.kz:8443/a") == "news.example.kz:8443/a"
    for bad in ("javascript:alert(1)", "ftp://news.example.kz/a", "/news/12", "http://[::1"):
        assert normalise_link(bad) is None


def test_a_title_without_a_date_is_no_key() -> None:
    when = datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC)
    assert title_key("  Новость   Дня ", when) == title_key("новость дня", when)
    assert title_key("Новость дня", None) is None


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),  # reserved
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("not an address", False),
    ],
)
def test_only_public_addresses_are_allowed(address: str, allowed: bool) -> None:
    assert address_allowed(address, allow_private=False) is allowed
    assert address_allowed(address, allow_private=True)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert retry_after("120") == 120
    assert retry_after("Mon, 07 Dec 2026 09:02:00 GMT", now) == 120
    assert retry_after("soon") is None
    assert retry_after("99999999") == 86_400


class OnlyTheSite(Fetcher):
    """The site under test (127.0.0.1) stands for a public server; every other private
    address is refused as in production."""

    def allowed(self, address: str) -> bool:
        return address == "127.0.0.1" or address_allowed(address, allow_private=False)


async def test_a_redirect_to_a_private_address_is_refused(site: FeedSite) -> None:
    site.serve("/feed", rss([Item("Новость", "https://news.example.kz/1", "1")]))
    site.redirect("/to-public", "/feed")
    fetcher = OnlyTheSite(allow_private=False, max_bytes=100_000)
    try:
        assert (await fetcher.get(site.url("/to-public"))).status == 200
        for target in (
            site.url("/feed", host="127.0.0.2"),
            site.url("/feed", host="[::1]"),
            "http://169.254.169.254/latest/meta-data/",
            "file:///etc/passwd",
        ):
            site.redirect("/away", target)
            with pytest.raises(FetchError) as refused:
                await fetcher.get(site.url("/away"))
            assert refused.value.code in ("private", "scheme"), target
        assert not site.requests_to("/feed")[1:], "the refused hops were never requested"
    finally:
        await fetcher.close()


async def test_a_body_larger_than_the_cap_is_cut_there(site: FeedSite) -> None:
    site.serve("/endless", b"", endless_chunk=65_536)
    site.serve("/small", b"x" * 1000)
    fetcher = Fetcher(allow_private=True, max_bytes=100_000)
    try:
        cut = await fetcher.get(site.url("/endless"))
        assert cut.truncated and len(cut.body) == 100_000
        whole = await fetcher.get(site.url("/small"))
        assert not whole.truncated and len(whole.body) == 1000
    finally:
        await fetcher.close()


async def test_conditional_get_and_retry_after(site: FeedSite) -> None:
    site.serve(
        "/feed", b"<rss/>", etag='"v1"', headers={"Last-Modified": "Mon, 07 Dec 2026 09:00:00 GMT"}
    )
    site.serve("/busy", b"", status=503, headers={"Retry-After": "90"})
    fetcher = Fetcher(allow_private=True, max_bytes=100_000)
    try:
        first = await fetcher.get(site.url("/feed"))
        assert first.etag == '"v1"' and first.last_modified is not None
        again = await fetcher.get(
            site.url("/feed"), etag=first.etag, last_modified=first.last_modified
        )
        assert again.unchanged and again.body == b""
        sent = site.requests_to("/feed")[-1].headers
        assert sent["If-None-Match"] == '"v1"' and "If-Modified-Since" in sent
        with pytest.raises(FetchError) as busy:
            await fetcher.get(site.url("/busy"))
        assert busy.value.code == "http" and busy.value.retry_after == 90
    finally:
        await fetcher.close()


def test_parsing_never_raises_but_for_what_is_no_feed() -> None:
    for junk in (b"", b"\x00\xff" * 100, b"<html><p>page</p></html>", b'{"a": 1}', b"[1, 2]"):
        with pytest.raises(FeedFormatError):
            parse_feed(junk)
    feed = parse_feed(rss([Item("Заголовок", "https://news.example.kz/1", None, "Текст.")]))
    (item,) = feed.items
    assert item.guid is None and item.keys.link_key == "news.example.kz/1"


class BreaksOn(WorkerProcess):
    """A worker that dies (for good: after its retry alone too) on one kind of task and
    runs the others here."""

    def __init__(self, breaking: Callable[..., object]) -> None:
        super().__init__(idle_seconds=None)
        self.breaking = breaking

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if function is self.breaking:
            raise BrokenProcessPool("the worker died")
        return function(*args, **kwargs)


class CountedCards(Cards):
    def __init__(self) -> None:
        self.sent: list[Article] = []

    async def send(
        self, article: Article, feed_id: int, *, link: str | None, from_item: bool
    ) -> int:
        self.sent.append(article)
        return 1


@contextlib.asynccontextmanager
async def feed_desk(tmp_path: Path, worker: WorkerProcess) -> AsyncIterator[FeedDesk]:
    db = await Database.open_sqlite(tmp_path / "feeds.sqlite3")
    stores = stores_on(db)
    never = cast(Any, None)  # review feeds neither publish nor edit posts
    desk = FeedDesk(
        stores.feeds,
        stores.articles,
        OnlyTheSite(allow_private=False, max_bytes=1_000_000),
        CountedCards(),
        Publisher(stores.articles, never),
        Revisions(stores.articles, never),
        RU,
        interval=300,
        notify=lambda html: asyncio.sleep(0),
        worker=worker,
    )
    try:
        yield desk
    finally:
        await desk.stop()
        await desk.close()
        await db.close()


async def test_a_feed_that_breaks_the_parser_is_told_and_nothing_is_added(
    site: FeedSite, tmp_path: Path
) -> None:
    site.serve("/rss", rss([Item("Новость", site.url("/page/1"), "g1")]))
    async with feed_desk(tmp_path, BreaksOn(parse_feed)) as desk:
        result = await desk.add(site.url("/rss"), FeedMode.REVIEW, 1, editor_id=1)
        assert result.outcome is AddOutcome.FAILED and result.error == "unreadable"
        assert RU.feed_error("unreadable", {}) != "unreadable"  # a sentence, not a key
        assert await desk.feeds() == []


async def test_a_page_that_breaks_the_reader_leaves_the_draft_to_the_item(
    site: FeedSite, tmp_path: Path
) -> None:
    site.serve("/rss", rss([Item("Новость о мосте", site.url("/page/1"), "g1")]))
    site.serve("/page/1", (FIXTURES / "seed_article.html").read_bytes())
    async with feed_desk(tmp_path, BreaksOn(extract_article)) as desk:
        result = await desk.add(site.url("/rss"), FeedMode.REVIEW, 1, editor_id=1)
        assert result.outcome is AddOutcome.ADDED
        ((article, draft),) = result.drafted
        assert draft.from_item and article.title == "Новость о мосте"
        assert article.content.paragraphs == ("Первый абзац новости.", "Второй абзац новости.")
