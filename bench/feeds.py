"""Feeds benchmark: one cycle of the checker over 500 feeds on a local site.

What is measured
----------------
A news site in a process of its own (aiohttp on 127.0.0.1, so its work is not counted
as the bot's) serves 500 RSS feeds of 20 items each.  The bot's database (SQLite, a
temporary file) knows all 500: 300 are unchanged since the last check and answer the
stored ``ETag`` with 304; 200 have one new item each (19 of their items were seen
before).  All 500 are due; one ``FeedDesk.check_due()`` runs the real fetcher
(conditional GET, the address check, the streamed size cap), ``feedparser``, the item
keys and the database's dedupe, fetches each new item's article page (the seed
article's HTML), reads it with the page extractor, and makes 200 drafts.  Cards are
counted, not sent: they go through Telegram at its 1-message-per-second-per-chat pace,
which no cycle can beat.  (The page's photo is left out: its og:image points elsewhere.)

Feeds and pages are parsed in the bot's worker process, as in production.  Figures:
wall time of the cycle, CPU seconds of the bot's process and of its worker during it,
the growth of the bot's peak RSS and the worker's peak.  Aim from the issue: under
10 s and 50 MB on 2 cores.

    .venv/bin/python -m bench.feeds [--feeds 500] [--changed 200]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from bench.processes import workers_as_in_the_bot
from bot.articles.publishing import Publisher
from bot.articles.revisions import Revisions
from bot.feeds.cards import Cards
from bot.feeds.desk import FeedDesk
from bot.feeds.fetching import Fetcher
from bot.feeds.parsing import parse_feed
from bot.models import Article, FeedCheck, FeedMode
from bot.texts import RU
from storage import stores_on
from storage.database import Database
from tests.fakes.feed_site import Item, rss

ITEMS = 20
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def feed_items(feed: int, count: int, port: int = 0) -> list[Item]:
    """Feed ``feed``'s newest ``count`` items, newest first; each links to its page."""
    return [
        Item(
            title=f"Новость {k} сайта {feed}",
            link=f"http://127.0.0.1:{port}/page/{feed}/{k}?utm_source=rss",
            guid=f"{feed}-{k}",
            text=f"Первый абзац новости {k}.\n\n" + "Второй абзац, подлиннее. " * 20,
            published=START + timedelta(minutes=k),
            categories=("Экономика", "Казахстан"),
        )
        for k in reversed(range(count))
    ]


def etag(feed: int, changed: bool) -> str:
    return f'"{feed}-{"v2" if changed else "v1"}"'


PAGE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "seed_article.html"


def serve(feeds: int, changed: int, port: Any, listen: int) -> None:
    """The site, in its own process: feed i at /feed/i, every article page at /page/…
    (the seed article's page, as the site would render it)."""
    bodies = {
        i: rss(feed_items(i, ITEMS if i < changed else ITEMS - 1, listen)) for i in range(feeds)
    }
    page = PAGE.read_bytes()

    async def article(request: web.Request) -> web.Response:
        return web.Response(body=page, headers={"Content-Type": "text/html; charset=utf-8"})

    async def handle(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        tag = etag(i, i < changed)
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(
            body=bodies[i], headers={"ETag": tag, "Content-Type": "application/rss+xml"}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{i}", handle)
        app.router.add_get("/page/{i}/{k}", article)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", listen, backlog=1024)
        await site.start()
        port.value = int(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class CountedCards(Cards):
    """Cards counted instead of sent (Telegram paces them, not the cycle)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(
        self, article: Article, feed_id: int, *, link: str | None, from_item: bool
    ) -> int:
        self.sent += 1
        return 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU of a live process (the parsing worker, still running)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(feeds: int, changed: int, port: int, folder: Path) -> None:
    db = await Database.open_sqlite(folder / "feeds.sqlite3")
    stores = stores_on(db)
    cards = CountedCards()
    never = cast(Any, None)  # review feeds neither publish nor edit posts
    desk = FeedDesk(
        stores.feeds,
        stores.articles,
        Fetcher(allow_private=True, max_bytes=5_000_000),
        cards,
        Publisher(stores.articles, never),
        Revisions(stores.articles, never),
        RU,
        interval=300,
        notify=lambda html: asyncio.sleep(0),
    )
    # What earlier checks left: every feed known, its items seen, its ETag stored.
    for i in range(feeds):
        feed = await stores.feeds.add_feed(
            f"http://127.0.0.1:{port}/feed/{i}", FeedMode.REVIEW, 1, START
        )
        assert feed is not None
        known = parse_feed(rss(feed_items(i, ITEMS - 1, port))).items
        await stores.feeds.finish_check(
            feed.id,
            FeedCheck(
                error=None,
                next_check_at=START,
                etag=etag(i, False),
                items=tuple((item.keys, None) for item in known),
            ),
        )
    rss_before = peak_rss_mb()
    children_before = {child.pid for child in multiprocessing.active_children()}
    cpu_before = time.process_time()
    started = time.perf_counter()
    checked = await desk.check_due()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    growth = peak_rss_mb() - rss_before
    workers = [
        child.pid
        for child in multiprocessing.active_children()
        if child.pid not in children_before and child.pid is not None
    ]
    worker_cpu = sum(process_cpu_seconds(pid) for pid in workers)
    worker_peak = max((process_peak_mb(pid) for pid in workers), default=0.0)
    drafts = len(await stores.articles.list_unpublished(10_000))
    await desk.stop()
    await desk.close()
    await db.close()
    assert checked == feeds, checked
    assert drafts == changed and cards.sent == changed, (drafts, cards.sent)
    print(f"feeds checked: {checked} ({feeds - changed} answered 304, {changed} with a new item)")
    print(f"drafts made: {drafts} (cards counted: {cards.sent})")
    print(f"cycle wall time: {wall:.2f} s (aim < 10 s)")
    print(f"bot CPU during the cycle: {cpu:.2f} s, and {worker_cpu:.2f} s in its parsing worker")
    print(
        f"peak RSS growth: {growth:.1f} MB (aim < 50 MB); "
        f"the worker peaked at {worker_peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--changed", type=int, default=200)
    args = parser.parse_args()
    workers_as_in_the_bot()
    port = multiprocessing.Value("i", 0)
    with socket.socket() as probe:  # a free port, known before the feeds are written
        probe.bind(("127.0.0.1", 0))
        listen = probe.getsockname()[1]
    # Forked: the site's code is this module's, which spawned processes do not import.
    site = multiprocessing.get_context("fork").Process(
        target=serve, args=(args.feeds, args.changed, port, listen), daemon=True
    )
    site.start()
    try:
        deadline = time.monotonic() + 30
        while not port.value:
            if time.monotonic() > deadline or not site.is_alive():
                sys.exit("the site did not start")
            time.sleep(0.05)
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(run(args.feeds, args.changed, port.value, Path(folder)))
    finally:
        site.terminate()
        site.join()


if __name__ == "__main__":
    main()
