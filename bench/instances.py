"""Vote capacity with several bot processes: 1, 2 and 3 instances in webhook mode on
PostgreSQL + Redis, against one SQLite process with long polling and the floor.

What is measured
----------------
N readers each press one poll button K times (reader i always presses option i mod 3, so
the final counts do not depend on the order in which concurrent deliveries land).  All
N×K presses are pushed into the fake Bot API server at once, and the clock runs from that
push until every callback query has been answered: clicks per second at saturation.
Right after the last answer, before any process is stopped, the stored counts are read
over a connection of our own and must equal the expected ones ("exact").

Contenders, each against a fresh fake server, database and Redis prefix:

* **floor** — a bare aiogram bot answering callbacks (``bench.harness.running_floor``),
  long polling, *in this process* (it shares the CPU of the fake server, as in
  bench/votes.py; the others are processes of their own);
* **sqlite ×1 polling** — ``python -m bot`` on SQLite with long polling (the default
  deployment);
* **pg+redis ×1/×2/×3 webhook** — ``python -m bot`` processes in webhook mode on one
  PostgreSQL database and one Redis prefix; the fake delivers each update by webhook,
  round-robin over the instances, as a load balancer would (tests/e2e/cluster.py).

Caveat: everything (fake server, PostgreSQL, Redis, the bots) shares this machine's cores;
on two cores a second or third instance competes with the first for the same CPU, so the
figures say what the software costs here, not how it scales on more machines.

Run ``python -m bench.instances`` (``make bench``); ``--quick`` for a smoke run.  Without
a reachable PostgreSQL or Redis the webhook rows are reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from redis.asyncio import Redis

from bench.harness import answering_router, floor_poll_post, running_floor
from storage import open_stores
from tests.backends import StoreSettings, create_database, database_url, drop_database
from tests.e2e.cluster import Cluster
from tests.e2e.harness import BOT_USERNAME, CHANNEL_ID, CHANNEL_USERNAME, EDITOR_ID, TOKEN
from tests.e2e.process import BotProcess
from tests.fakes.botapi_server import FakeBotAPI
from tests.redis_support import REDIS_URL

OPTIONS = ("A", "B", "C")
POLL_COMMAND = "/poll Question?\n" + "\n".join(OPTIONS)
FIRST_READER_ID = 200_000
# The bench's bots: generous pacing (answerCallbackQuery is not paced anyway) and a 0.3 s
# poll refresh, as in bench/votes.py; the update bound is production's default.
BENCH_ENV = {
    "RATE_CHAT_PER_SECOND": "50",
    "RATE_GROUP_PER_MINUTE": "6000",
    "POLL_REFRESH_SECONDS": "0.3",
    "UPDATE_CONCURRENCY": "256",
}


@dataclass(frozen=True)
class Config:
    readers: int
    clicks: int

    @property
    def presses(self) -> int:
        return self.readers * self.clicks

    @property
    def expected(self) -> tuple[int, ...]:
        return tuple(
            sum(1 for i in range(self.readers) if i % len(OPTIONS) == o)
            for o in range(len(OPTIONS))
        )


@dataclass
class Row:
    name: str
    seconds: float | None = None
    counts: tuple[int, ...] | None = None
    note: str = ""

    def line(self, config: Config) -> str:
        if self.seconds is None:
            return f"| {self.name:<24} | {'—':>10} | {'—':>9} | {'—':>5} | {self.note}"
        rate = config.presses / self.seconds
        exact = "—" if self.counts is None else ("yes" if self.counts == config.expected else "NO")
        return (
            f"| {self.name:<24} | {rate:>10,.0f} | {self.seconds:>9.2f} | {exact:>5} | {self.note}"
        )


def new_server() -> FakeBotAPI:
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Bench channel")
    server.rate_limits = False
    return server


async def storm(server: FakeBotAPI, post: dict[str, Any], config: Config, timeout: float) -> float:
    """Push every press at once; seconds until all are answered."""
    rows = post["reply_markup"]["inline_keyboard"]
    data = [str(row[0]["callback_data"]) for row in rows[: len(OPTIONS)]]
    users = [server.user(FIRST_READER_ID + i, f"Reader {i}") for i in range(config.readers)]
    before = len(server.callback_answers)
    started = time.perf_counter()
    for _ in range(config.clicks):
        for i, user in enumerate(users):
            user.clicks_data(post, data[i % len(OPTIONS)])
    await server.wait_for(
        lambda: len(server.callback_answers) - before >= config.presses, timeout=timeout
    )
    return time.perf_counter() - started


async def publish_poll(server: FakeBotAPI) -> dict[str, Any]:
    editor = server.user(EDITOR_ID, "Editor", "editor", started=True)
    editor.sends(POLL_COMMAND)
    await server.wait_for(lambda: server.chat_messages(CHANNEL_ID), timeout=30)
    await server.wait_idle(quiet=0.2, timeout=30)
    return server.chat_messages(CHANNEL_ID)[-1]


async def stored_counts(settings: StoreSettings) -> tuple[int, ...] | None:
    stores = await open_stores(settings)
    try:
        poll = await stores.polls.get(1)
    finally:
        await stores.close()
    return None if poll is None else poll.counts


@contextlib.asynccontextmanager
async def serving(server: FakeBotAPI) -> AsyncIterator[FakeBotAPI]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def run_floor(config: Config, timeout: float) -> Row:
    async with serving(new_server()) as server, running_floor(server, answering_router()) as bot:
        post = await floor_poll_post(server, bot)
        seconds = await storm(server, post, config, timeout)
    return Row("floor (bare aiogram)", seconds, note="in-process, long polling")


async def run_sqlite(config: Config, timeout: float) -> Row:
    with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp:
        async with serving(new_server()) as server:
            bot = BotProcess(server, Path(tmp))
            bot.env.update(BENCH_ENV)
            try:
                await bot.start_and_wait_ready(timeout=30)
                post = await publish_poll(server)
                seconds = await storm(server, post, config, timeout)
                counts = await stored_counts(StoreSettings(database_path=bot.database_path))
                await bot.stop(timeout=30)
            finally:
                await bot.ensure_dead()
    return Row("sqlite ×1 polling", seconds, counts, "python -m bot")


async def run_cluster(config: Config, n: int, timeout: float) -> Row:
    name = f"pg+redis ×{n} webhook"
    db_name = await create_database()
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    redis = Redis.from_url(REDIS_URL)
    url = database_url(db_name)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp:
            async with serving(new_server()) as server:
                cluster = Cluster(
                    server,
                    Path(tmp),
                    n=n,
                    database_url=url,
                    redis_url=REDIS_URL,
                    redis_prefix=prefix,
                    **BENCH_ENV,
                )
                try:
                    await cluster.start()
                    post = await publish_poll(server)
                    seconds = await storm(server, post, config, timeout)
                    counts = await stored_counts(
                        StoreSettings(Path("unused"), database_url=SecretStr(url))
                    )
                    await cluster.stop()
                finally:
                    await cluster.ensure_dead()
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await drop_database(db_name)
    return Row(name, seconds, counts, f"{n} × python -m bot")


async def shared_services() -> str | None:
    """Why the webhook rows cannot run, or None."""
    try:
        name = await create_database()
        await drop_database(name)
    except Exception as exc:
        return f"PostgreSQL: {exc}"
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await redis.ping()
    except Exception as exc:
        return f"Redis: {exc}"
    finally:
        await redis.aclose()
    return None


async def main_async(config: Config, instances: Sequence[int]) -> int:
    timeout = max(60.0, config.presses * 0.1)
    print(
        f"instances benchmark: {config.readers} readers × {config.clicks} clicks = "
        f"{config.presses} presses, pushed at once; expected counts {config.expected}"
    )
    rows = [await run_floor(config, timeout), await run_sqlite(config, timeout)]
    missing = await shared_services()
    for n in instances:
        if missing is not None:
            rows.append(Row(f"pg+redis ×{n} webhook", note=f"skipped: {missing}"))
            continue
        rows.append(await run_cluster(config, n, timeout))
    print("| contender                | clicks/s   | seconds   | exact | how")
    print("|--------------------------|------------|-----------|-------|-----")
    for row in rows:
        print(row.line(config))
    wrong = [r for r in rows if r.counts is not None and r.counts != config.expected]
    for row in wrong:
        print(f"problem: {row.name}: stored counts {row.counts}, expected {config.expected}")
    return 1 if wrong else 0


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, list[int]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instances",
        description="Clicks per second with 1-3 webhook instances on PostgreSQL+Redis.",
    )
    parser.add_argument("--readers", type=int, default=600, help="readers (default 600)")
    parser.add_argument("--clicks", type=int, default=3, help="clicks per reader (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 150 readers × 2 clicks")
    args = parser.parse_args(argv)
    if args.quick:
        return Config(readers=150, clicks=2), [1, 2, 3]
    if args.readers < 1 or args.clicks < 1:
        parser.error("--readers and --clicks must be at least 1")
    return Config(readers=args.readers, clicks=args.clicks), [1, 2, 3]


def main(argv: Sequence[str] | None = None) -> int:
    config, instances = parse_args(argv)
    return asyncio.run(main_async(config, instances))


if __name__ == "__main__":
    sys.exit(main())
