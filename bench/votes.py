"""Vote throughput: the real bot against a bare aiogram bot that only answers callbacks.

What is measured
----------------
N readers each press a poll button K times (a deterministic mix of first votes, taps
on the option already chosen and switches to another option).  All N×K presses are
pushed into the fake Bot API server's update queue in one go, while the bot sits in
an idle long poll, and the clock runs from that push until every one of the N×K
callback queries has been answered (``answerCallbackQuery`` received by the fake).
The bot fetches the updates as fast as it asks for them (``getUpdates``, 100 a time).

Two contenders run in the same process, against the same server, in alternating
rounds (floor, bot, floor, bot, …) so that drifts of the machine hit both alike:

* **the floor** — a bare aiogram ``Dispatcher`` with one ``callback_query`` handler
  that does ``await callback.answer("ok")`` and nothing else.  It pays exactly what
  every aiogram bot pays per press and no more: long polling, parsing the updates into
  pydantic models, dispatching them, and one HTTP request per answer — plus the fake
  server's own work for those requests, which both contenders share.  No bot built on
  aiogram and answering each press can go faster than this in this setup, so it is the
  framework floor.
* **the bot** — the real newsroom bot (``bot.app.create_app``, polling bounded by
  ``UPDATE_CONCURRENCY`` as ``bench.harness.running_bot`` runs it), which on top of
  the floor routes through its middlewares and filters, commits each
  vote to SQLite (``BEGIN IMMEDIATE … COMMIT``) *before* answering, computes the toast
  from the committed counts, and coalesces live counts into a few channel edits.

* **the bot with metrics** — the same bot with ``METRICS_PORT`` set: every update,
  Telegram request, send-slot wait, vote and repository call is measured into its
  Prometheus registry.  After the last answer ``/metrics`` is scraped once and must count
  every press (``newsroom_votes_total``) and every answer.

The ratio bot time / floor time is the bot's own cost per press in units of the
framework's; its inverse is the bot's capacity as a share of the floor's.  The aim from
issue 9: at least 0.85 of the floor's clicks per second, with every vote durable; from
issue 18: the capacity with metrics on within 5 % of the capacity with them off.
"Durable" is checked, not assumed: right after the last answer — before the bot is
stopped, so no shutdown flush can help — a second SQLite connection opens the database
file and the stored counts must equal, option by option, each reader's last press.  If
they do not, the benchmark says "votes exact: no" and exits with status 1.

Caveats: the bot carries a fix that the bare floor lacks: it keeps aiogram's response
models alive (``bot/telegram/responses.py``), which the floor rebuilds after collections.
Given the same fix, the floor ran about 6% faster here, so against such a floor the share
is about 0.05 lower.  The fake server runs in the same process and event loop, so its
CPU time (about a third of the floor's) is in both measurements, which makes the ratio
kinder to the bot than a ratio of the bots' own costs would be.  The fake records every
request, so the heap grows round by round and press by press; the cyclic garbage
collector's view of it is frozen before each timed section and every half second during
it (``bench.harness.history_frozen``), otherwise later presses pay for earlier ones (it
used to inflate the floor about 1.6× here).  On a shared machine the rounds are noisy:
read the medians.

Run ``python -m bench.votes`` (``make bench``); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Dispatcher, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import history_frozen, running_bot
from storage.database import Database
from storage.polls import PollRepository
from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    CHANNEL_USERNAME,
    EDITOR_ID,
    TOKEN,
    exchange,
)
from tests.e2e.webhook_harness import free_port
from tests.fakes.botapi_server import FakeBotAPI

OPTIONS = ("A", "B", "C")
POLL_COMMAND = "/poll Question?\n" + "\n".join(OPTIONS)
FIRST_READER_ID = 100_000
AIM = 0.85  # the bot's clicks per second as a share of the floor's (issue 9)
METRICS_AIM = 0.95  # capacity with metrics on as a share of that with them off (issue 18)
SEED = 2026

# Which toasts count as a vote answer (the bot's texts; see bot/texts.py).
VOTE_TOASTS = ("Ваш голос учтён", "Вы уже выбрали")


@dataclass(frozen=True)
class Config:
    readers: int
    clicks: int
    rounds: int
    metrics: bool = True  # also run the bot with metrics on

    @property
    def presses(self) -> int:
        return self.readers * self.clicks


@dataclass(frozen=True)
class Workload:
    """Who presses which option, in push order; each reader's presses stay in order."""

    presses: tuple[tuple[int, int], ...]  # (reader index, option index)
    expected: tuple[int, ...]  # final votes per option
    repeats: int  # presses of the option the reader had already chosen
    switches: int  # presses that move a reader's vote to another option

    @classmethod
    def make(cls, readers: int, clicks: int, seed: int = SEED) -> Workload:
        rng = random.Random(seed)
        plans: list[list[int]] = []
        repeats = switches = 0
        for _ in range(readers):
            choice = rng.randrange(len(OPTIONS))
            plan = [choice]
            for _ in range(clicks - 1):
                if rng.random() < 0.5:
                    repeats += 1
                else:
                    choice = (choice + rng.randrange(1, len(OPTIONS))) % len(OPTIONS)
                    switches += 1
                plan.append(choice)
            plans.append(plan)
        # Interleave the readers at random, keeping each reader's own presses in order.
        order = [reader for reader in range(readers) for _ in range(clicks)]
        rng.shuffle(order)
        taken = [0] * readers
        presses: list[tuple[int, int]] = []
        for reader in order:
            presses.append((reader, plans[reader][taken[reader]]))
            taken[reader] += 1
        final = Counter(plan[-1] for plan in plans)
        expected = tuple(final.get(i, 0) for i in range(len(OPTIONS)))
        return cls(tuple(presses), expected, repeats, switches)


@dataclass
class Result:
    seconds: float
    edits: int = 0
    problems: list[str] = field(default_factory=list)


def option_data(post: dict[str, Any]) -> list[str]:
    """The callback data of the post's option buttons, in option order."""
    rows = post["reply_markup"]["inline_keyboard"]
    return [str(row[0]["callback_data"]) for row in rows[: len(OPTIONS)]]


async def press_all(
    server: FakeBotAPI, post: dict[str, Any], workload: Workload, timeout: float
) -> tuple[float, list[str]]:
    """Push every press at once, then time until all are answered; returns the query ids."""
    data = option_data(post)
    users = [
        server.user(FIRST_READER_ID + i, f"Reader {i}")
        for i in range(1 + max(r for r, _ in workload.presses))
    ]
    answered_before = len(server.callback_answers)
    total = len(workload.presses)
    # No await between the pushes: the whole queue is there before the bot fetches any.
    ids = [
        users[reader].clicks_data(post, data[option])["callback_query"]["id"]
        for reader, option in workload.presses
    ]
    # The fake keeps every request it gets: see bench.harness.history_frozen.
    async with history_frozen():
        started = time.perf_counter()
        await server.wait_for(
            lambda: len(server.callback_answers) - answered_before >= total, timeout=timeout
        )
        return time.perf_counter() - started, ids


def drop_leftover_updates(server: FakeBotAPI) -> None:
    """Updates fetched but not yet confirmed by a stopped bot must not reach the next one."""
    server.updates.clear()


# --- the floor -----------------------------------------------------------------------------


async def run_floor(server: FakeBotAPI, workload: Workload, timeout: float) -> Result:
    router = Router(name="floor")

    @router.callback_query()
    async def answer(callback: CallbackQuery) -> None:
        await callback.answer("ok")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = server.make_bot()
    # Any channel message with the same keyboard will do: the floor never looks at it.
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"{label} · 0", callback_data=f"v:1:{i}")]
            for i, label in enumerate(OPTIONS)
        ]
    )
    sent = await bot.send_message(CHANNEL_ID, "<b>Question?</b>", reply_markup=keyboard)
    post = server.current({"chat": {"id": CHANNEL_ID}, "message_id": sent.message_id})
    polls_before = len(server.calls("getUpdates"))
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
    )
    try:
        await server.wait_for(lambda: len(server.calls("getUpdates")) > polls_before, 10)
        await server.wait_idle(quiet=0.1)
        seconds, ids = await press_all(server, post, workload, timeout)
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
        drop_leftover_updates(server)
    result = Result(seconds)
    wrong = [i for i in ids if (server.callback_answer(i) or {}).get("text") != "ok"]
    if wrong:
        result.problems.append(f"floor: {len(wrong)} presses not answered 'ok'")
    return result


# --- the real bot --------------------------------------------------------------------------


async def stored_counts(database_path: Path) -> tuple[int, ...] | None:
    """The counts committed in the file, read over a connection of our own."""
    db = await Database.open_sqlite(database_path)
    try:
        poll = await PollRepository(db).get(1)
    finally:
        await db.close()
    return None if poll is None else poll.counts


async def scraped_total(port: int, name: str) -> float:
    """The sum of a metric's samples in the bot's ``/metrics``, parsed as Prometheus would."""
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        text = await answer.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def run_bot(
    server: FakeBotAPI,
    workload: Workload,
    timeout: float,
    concurrency: int | None = None,
    *,
    metrics: bool = False,
) -> Result:
    overrides: dict[str, Any] = {} if concurrency is None else {"update_concurrency": concurrency}
    if metrics:
        overrides["metrics_port"] = free_port()
    editor = server.user(EDITOR_ID, "Editor", "editor", started=True)
    with tempfile.TemporaryDirectory(prefix="bench-votes-") as tmp:
        # The harness's overrides: generous pacing (answerCallbackQuery is not paced
        # anyway) and a 0.3 s poll refresh, i.e. more edits than production's 3 s;
        # polling as bot.app.run does (UPDATE_CONCURRENCY running, UPDATE_BACKLOG waiting).
        async with running_bot(server, Path(tmp), **overrides) as (_, settings):
            answer = await exchange(server, editor, POLL_COMMAND)
            if "/closepoll 1" not in answer:
                raise RuntimeError(f"the bot did not post the poll: {answer!r}")
            post = server.chat_messages(CHANNEL_ID)[-1]
            await server.wait_idle(quiet=0.1)
            seconds, ids = await press_all(server, post, workload, timeout)
            # Before stopping (no shutdown flush can help): is every vote in the file?
            counts = await stored_counts(Path(tmp) / "newsroom.sqlite3")
            votes_counted = (
                await scraped_total(settings.metrics_port, "newsroom_votes_total")
                if settings.metrics_port is not None
                else None
            )
            # Let the last coalesced refresh land, so the edit count is that of a run.
            await server.wait_idle(quiet=3 * settings.poll_refresh_seconds)
        edits = server.edits(post)
    result = Result(seconds, edits=edits)
    texts = [str((server.callback_answer(i) or {}).get("text", "")) for i in ids]
    wrong = sum(1 for text in texts if not text.startswith(VOTE_TOASTS))
    if wrong:
        result.problems.append(f"bot: {wrong} presses not answered with a vote toast")
    if counts != workload.expected:
        result.problems.append(f"bot: stored counts {counts}, expected {workload.expected}")
    if votes_counted is not None and votes_counted != len(workload.presses):
        result.problems.append(
            f"bot with metrics: newsroom_votes_total {votes_counted:g}, "
            f"expected {len(workload.presses)}"
        )
    return result


# --- the run -------------------------------------------------------------------------------


def rate(presses: int, seconds: float) -> str:
    return f"{presses / seconds:,.0f} clicks/s"


async def main_async(config: Config) -> int:
    workload = Workload.make(config.readers, config.clicks)
    timeout = max(60.0, config.presses * 0.05)
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Bench channel")
    server.rate_limits = False
    await server.start()
    print(
        f"vote benchmark: {config.readers} readers × {config.clicks} clicks = "
        f"{config.presses} presses per round ({workload.switches} switches, "
        f"{workload.repeats} repeats), {config.rounds} round(s) per contender"
    )
    floor: list[Result] = []
    bots: list[Result] = []
    measured: list[Result] = []
    try:
        for round_no in range(1, config.rounds + 1):
            floor.append(await run_floor(server, workload, timeout))
            bots.append(await run_bot(server, workload, timeout))
            line = (
                f"  round {round_no}: floor {floor[-1].seconds:.3f} s, "
                f"bot {bots[-1].seconds:.3f} s ({bots[-1].edits} channel edits)"
            )
            if config.metrics:
                measured.append(await run_bot(server, workload, timeout, metrics=True))
                line += f", bot with metrics {measured[-1].seconds:.3f} s"
            print(line)
    finally:
        await server.stop()
    return report(config, workload, floor, bots, server, measured)


def report(
    config: Config,
    workload: Workload,
    floor: Sequence[Result],
    bots: Sequence[Result],
    server: FakeBotAPI,
    measured: Sequence[Result] = (),
) -> int:
    floor_s = statistics.median(r.seconds for r in floor)
    bot_s = statistics.median(r.seconds for r in bots)
    ratio = bot_s / floor_s
    edits = statistics.median(r.edits for r in bots)
    problems = [p for r in [*floor, *bots, *measured] for p in r.problems]
    problems += [f"fake server: {e}" for e in server.errors]
    problems += [f"fake server: {e}" for e in server.api_errors if "answerCallbackQuery" in e]
    exact = not any(p.startswith("bot: stored counts") for p in problems)
    print(f"floor (bare aiogram): {floor_s:.3f} s median, {rate(config.presses, floor_s)}")
    print(f"bot (newsroom):       {bot_s:.3f} s median, {rate(config.presses, bot_s)}")
    print(f"ratio bot/floor time: {ratio:.2f}×")
    share = floor_s / bot_s
    print(f"capacity, bot/floor clicks per second: {share:.2f}")
    print(f"aim: ≥ {AIM} — {'met' if share >= AIM else 'not met'}")
    if measured:
        measured_s = statistics.median(r.seconds for r in measured)
        kept = bot_s / measured_s
        print(
            f"bot with metrics:     {measured_s:.3f} s median, {rate(config.presses, measured_s)}"
        )
        print(
            f"capacity, metrics on/off: {kept:.3f} "
            f"(bot with metrics/floor: {floor_s / measured_s:.2f})"
        )
        print(f"aim: ≥ {METRICS_AIM} — {'met' if kept >= METRICS_AIM else 'not met'}")
    print(f"channel edits by the bot: {edits:g} for {config.presses} clicks (median per round)")
    expected = dict(zip(OPTIONS, workload.expected, strict=True))
    print(f"votes exact: {'yes' if exact else 'no'} (expected {expected})")
    for problem in problems:
        print(f"problem: {problem}")
    return 0 if not problems else 1


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.votes",
        description="Clicks per second: the newsroom bot vs a bare aiogram bot (the floor).",
    )
    parser.add_argument("--readers", type=int, default=500, help="readers (default 500)")
    parser.add_argument("--clicks", type=int, default=4, help="clicks per reader (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per contender (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 100 readers × 2 clicks, 1 round"
    )
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="leave out the third contender, the bot with METRICS_PORT set",
    )
    args = parser.parse_args(argv)
    metrics = not args.no_metrics
    if args.quick:
        return Config(readers=100, clicks=2, rounds=1, metrics=metrics)
    for name in ("readers", "clicks", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return Config(readers=args.readers, clicks=args.clicks, rounds=args.rounds, metrics=metrics)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
