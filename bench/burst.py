"""Full-text burst: hundreds of readers open one article within a second, under Telegram's
limits as the fake server enforces them.

What is measured
----------------
The fake server enforces Telegram's flood limits (30 messages/s for the bot, about 1/s
per private chat with a small burst, 20/min per group or channel) and answers 429 past
them.  The newsroom bot runs with ``RATE_GLOBAL_PER_SECOND=30`` and the production
per-chat limits.  An editor imports and publishes the seed article; then ``--readers``
readers (300) send ``/start a<id>`` (the channel post's "read in full" deep link) spread
evenly over one second.  Half a second into the burst the editor publishes a second article,
to see how long a publish waits while the bot's budget is full of readers' parts.  The
channel's own budget (20 posts a minute) may hold it back after the first publish; the
time it allowed at the earliest is printed beside the delay, and the aim is that the
publish waits no more than a second beyond it: the editor's update has its own line
(the update lanes) and the channel send the first place in the global budget.

Printed: readers served in full, 429s received (the fake's count and the bot's retries),
the messages per second over the burst (first to last part) and the most in any one
second against the configured 30/s, per-reader time to the last part (p50/p99/max), and
the second publish's delay.

The floor is a bare aiogram bot that answers each ``/start`` with the same parts and no
pacing, against the same enforced limits: what a bot without a limiter gets.

Run ``python -m bench.burst`` (``make bench``); ``--quick`` for a smoke run (100 readers).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from bench.harness import max_window_count, offer_at_pace, percentile, running_bot, running_floor
from bot.telegram.pacing.limiter import SAFETY_MARGIN
from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    CHANNEL_USERNAME,
    EDITOR_ID,
    TOKEN,
    body_of,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.state import RecordedRequest
from tests.fakes.users import FakeUser

SEED_PATH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed_article.txt"
FIRST_READER_ID = 300_000
FLOOR_FIRST_READER_ID = 400_000
CONFIGURED_PER_SECOND = 30.0
PUBLISH_AIM_S = 1.0


@dataclass(frozen=True)
class Config:
    readers: int
    concurrency: int | None = None


def long_article() -> str:
    """The seed article with its body told twice: a full text of two messages."""
    lines = SEED_PATH.read_text(encoding="utf-8").splitlines()
    body = lines[5:20]
    return "\n".join([*lines[:5], *body, *body, *lines[5:]])


@dataclass
class Burst:
    readers: int
    served: int
    parts: int
    messages: int
    seconds: float
    peak: int
    throttled: int
    finish: list[float]

    def rate(self) -> float:
        return (self.messages - 1) / self.seconds if self.seconds > 0 else float("nan")


async def import_draft(server: FakeBotAPI, editor: FakeUser, text: str) -> int:
    before = len(editor.received())
    editor.sends("/import\n" + text)
    confirmation = await server.wait_for(
        lambda: next(
            (body_of(m) for m in editor.received()[before:] if "/publish " in body_of(m)), None
        ),
        timeout=30,
    )
    return int(str(confirmation).split("/publish ", 1)[1].split()[0])


async def push_readers(server: FakeBotAPI, readers: list[FakeUser], text: str) -> dict[int, float]:
    loop = asyncio.get_running_loop()
    pushed: dict[int, float] = {}

    def push(i: int) -> None:
        readers[i].sends(text)
        pushed[readers[i].id] = loop.time()

    await offer_at_pace(len(readers), len(readers) / 1.0, push, loop.time)
    return pushed


def measure(
    server: FakeBotAPI, readers: list[FakeUser], pushed: dict[int, float], parts: int, before: int
) -> Burst:
    ids = {r.id for r in readers}
    sends = [
        r
        for r in server.requests[before:]
        if r.method == "sendMessage" and r.status == 200 and r.params.get("chat_id") in ids
    ]
    times = [r.time for r in sends]
    last_part: dict[int, float] = {}
    for r in sends:
        chat = int(r.params["chat_id"])
        last_part[chat] = max(last_part.get(chat, 0.0), r.time)
    served = sum(1 for r in readers if len(r.received()) >= parts)
    return Burst(
        readers=len(readers),
        served=served,
        parts=parts,
        messages=len(sends),
        seconds=(max(times) - min(times)) if times else 0.0,
        peak=max_window_count(times),
        throttled=0,
        finish=[last_part[c] - pushed[c] for c in last_part],
    )


@dataclass(frozen=True)
class PublishDelay:
    seconds: float  # from the editor's /publish to the channel post
    budget: float  # what the channel's own 20/min budget allowed at the earliest


async def bot_burst(
    server: FakeBotAPI, config: Config
) -> tuple[Burst, PublishDelay, int, int, list[str]]:
    seed = long_article()
    editor = server.user(EDITOR_ID, "Editor", "editor", started=True)
    readers = [server.user(FIRST_READER_ID + i, f"R{i}") for i in range(config.readers)]
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        async with running_bot(
            server,
            Path(tmp),
            rate_global_per_second=CONFIGURED_PER_SECOND,
            rate_chat_per_second=1.0,
            rate_group_per_minute=20.0,
            poll_refresh_seconds=3.0,
            **({} if config.concurrency is None else {"update_concurrency": config.concurrency}),
        ) as (app, settings):
            first = await import_draft(server, editor, seed)
            second = await import_draft(server, editor, seed.replace("\n", " (2)\n", 1))
            editor.sends(f"/publish {first}")
            await server.wait_for(lambda: len(server.chat_messages(CHANNEL_ID)) >= 1, 30)
            await server.wait_idle(quiet=0.5, timeout=30)
            first_post = max(r.time for r in server.requests if channel_post(r))
            throttled_before = server.throttled
            before = len(server.requests)
            loop = asyncio.get_running_loop()
            burst = asyncio.create_task(push_readers(server, readers, f"/start a{first}"))
            await asyncio.sleep(0.5)
            channel_before = len(server.chat_messages(CHANNEL_ID))
            publish_at = loop.time()
            editor.sends(f"/publish {second}")
            await server.wait_for(
                lambda: len(server.chat_messages(CHANNEL_ID)) > channel_before, timeout=120
            )
            budget_free = first_post + 60.0 / settings.rate_group_per_minute * SAFETY_MARGIN
            publish_delay = PublishDelay(
                loop.time() - publish_at, max(0.0, budget_free - publish_at)
            )
            pushed = await burst
            await server.wait_for(lambda: all(r.received() for r in readers), timeout=120)
            await server.wait_idle(quiet=1.5, timeout=120)
            parts = len(readers[0].received())
            result = measure(server, readers, pushed, parts, before)
            result.throttled = server.throttled - throttled_before
            retried = app.requests.stats.retried_after_429
            if any(len(r.received()) != parts for r in readers):
                problems.append("bot: readers got different numbers of parts")
        concurrency = settings.update_concurrency
    return result, publish_delay, retried, concurrency, problems


def channel_post(request: RecordedRequest) -> bool:
    return (
        request.method.startswith("send")
        and request.status == 200
        and str(request.params.get("chat_id")) in (str(CHANNEL_ID), CHANNEL_USERNAME)
    )


async def floor_burst(server: FakeBotAPI, config: Config, texts: list[str]) -> Burst:
    router = Router(name="floor")

    @router.message(CommandStart())
    async def full_text(message: Message) -> None:
        for text in texts:
            await message.answer(text, parse_mode=None)

    readers = [server.user(FLOOR_FIRST_READER_ID + i, f"F{i}") for i in range(config.readers)]
    # aiogram logs each handler's 429 with a traceback: that is the point, not news.
    logging.getLogger("aiogram.event").setLevel(logging.CRITICAL)
    async with running_floor(server, router):
        await server.wait_idle(quiet=0.1)
        throttled_before = server.throttled
        before = len(server.requests)
        pushed = await push_readers(server, readers, "/start a1")
        await server.wait_for(lambda: not server.undelivered, timeout=60)
        await server.wait_idle(quiet=1.0, timeout=120)
        result = measure(server, readers, pushed, len(texts), before)
        result.throttled = server.throttled - throttled_before
    return result


def describe(name: str, burst: Burst) -> str:
    done = burst.finish or [float("nan")]
    return (
        f"  {name}: {burst.served}/{burst.readers} readers served in full "
        f"({burst.parts} part(s) each), {burst.throttled} × 429, "
        f"{burst.messages} messages in {burst.seconds:.1f} s = {burst.rate():.1f}/s "
        f"(most in one second: {burst.peak}); last part after p50 "
        f"{percentile(done, 50):.1f} s, p99 {percentile(done, 99):.1f} s, "
        f"max {max(done):.1f} s"
    )


async def main_async(config: Config) -> int:
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Bench channel")
    server.rate_limits = True
    await server.start()
    try:
        bot, publish_delay, retried, concurrency, problems = await bot_burst(server, config)
        texts = [body_of(m) for m in server.chat_messages(FIRST_READER_ID)]
        floor = await floor_burst(server, config, texts)
    finally:
        await server.stop()
    print(
        f"full-text burst: {config.readers} readers open one article within 1 s; "
        f"Telegram's limits enforced by the fake; configured {CONFIGURED_PER_SECOND:g}/s"
    )
    print(describe("bot  ", bot))
    print(describe("floor", floor) + "  (no pacing)")
    print(f"  bot: retries after 429: {retried}")
    print(
        f"  bot: a /publish sent 0.5 s into the burst reached the channel "
        f"{publish_delay.seconds:.1f} s later; the channel's 20/min budget allowed "
        f"{publish_delay.budget:.1f} s at the earliest (UPDATE_CONCURRENCY={concurrency})"
    )
    ok = bot.served == bot.readers and bot.throttled == 0 and bot.peak <= CONFIGURED_PER_SECOND
    verdict = "yes" if ok else "no"
    print(f"all served, zero 429s, ≤ {CONFIGURED_PER_SECOND:g} in any second: {verdict}")
    publish_ok = publish_delay.seconds <= publish_delay.budget + PUBLISH_AIM_S
    print(
        f"the publish waited at most {PUBLISH_AIM_S:g} s beyond the channel's budget: "
        f"{'yes' if publish_ok else 'no'}"
    )
    ok &= publish_ok
    problems += [f"fake server: {e}" for e in server.errors]
    for problem in problems:
        print(f"problem: {problem}")
    return 0 if ok and not problems else 1


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst",
        description="Readers opening one article at once, under Telegram's limits.",
    )
    parser.add_argument("--readers", type=int, default=300, help="readers (default 300)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 readers")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="the bot's UPDATE_CONCURRENCY (32)"
    )
    args = parser.parse_args(argv)
    readers = 100 if args.quick else args.readers
    if readers < 1:
        parser.error("--readers must be at least 1")
    return Config(readers, args.concurrency)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
