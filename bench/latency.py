"""Click → answer latency at a steady load, and order under overload: bot vs. floor.

What is measured
----------------
1. The floor's capacity: a bare aiogram bot (one ``callback_query`` handler that answers
   "ok") gets N presses at once; clicks per second until the last is answered.
2. Steady load: presses are offered at a steady 50% and then 80% of that capacity for
   ``--seconds`` (20 s; 3 s with ``--quick``), to the floor and to the real bot.  The
   latency of a press runs from its push into the fake server's update queue to the
   arrival of its ``answerCallbackQuery``; p50/p95/p99 are printed for both.  Every
   press is built (a deep copy of the post and a validation) before its phase starts and
   only queued on time, as the capacity's presses are queued before its clock runs: the
   load generator shares the process, and building presses on the fly took about a
   quarter of the CPU, so "80% of capacity" was really a saturated machine, for the
   floor too.
3. Overload: presses at 150% of the floor's capacity for ``--overload-seconds``.  Nobody
   can keep up, so a backlog builds; what matters is that every press is answered and
   that the oldest is answered first.  Printed: answered/offered, the Spearman rank
   correlation between push order and answer order (1.0 = strictly oldest first), the
   longest wait, and how long the backlog took to drain after the last push.

The bot is the newsroom bot with the e2e harness's settings, polling as ``bot.app.run``
does: at most ``UPDATE_CONCURRENCY`` readers' updates run at once, oldest first, and
``UPDATE_BACKLOG`` more wait their turn (bot/telegram/lanes.py); the floor is aiogram's
default (every fetched update started at once).  Readers (2,000) and options are
drawn at random; after the bot's run, the stored counts must equal each reader's last
press ("votes exact").  Same process, same fake server, same caveats as bench.votes.

Run ``python -m bench.latency`` (``make bench``); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    OPTIONS,
    answering_router,
    floor_poll_post,
    history_frozen,
    offer_at_pace,
    percentile,
    running_bot,
    running_floor,
    spearman,
)
from bench.votes import POLL_COMMAND, VOTE_TOASTS, option_data, stored_counts
from tests.e2e.harness import (
    BOT_USERNAME,
    CHANNEL_ID,
    CHANNEL_USERNAME,
    EDITOR_ID,
    TOKEN,
    exchange,
)
from tests.fakes.botapi_server import FakeBotAPI

READERS = 2000
FIRST_READER_ID = 200_000
SEED = 7


@dataclass(frozen=True)
class Config:
    seconds: float
    overload_seconds: float
    capacity_presses: int
    concurrency: int | None


@dataclass
class Phase:
    name: str
    offered: int
    rate: float
    waits: list[float] = field(default_factory=list)  # in push order; nan = unanswered
    push_times: list[float] = field(default_factory=list)
    answer_times: list[float] = field(default_factory=list)
    drain: float = 0.0

    @property
    def answered(self) -> int:
        return sum(1 for w in self.waits if w == w)

    def line(self) -> str:
        done = [w for w in self.waits if w == w]
        p50, p95, p99 = (percentile(done, q) * 1000 for q in (50, 95, 99))
        return (
            f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  "
            f"({self.answered}/{self.offered} answered)"
        )

    def order_line(self) -> str:
        pairs = [
            (p, a)
            for p, a in zip(self.push_times, self.answer_times, strict=True)
            if a == a  # answered
        ]
        rho = spearman([p for p, _ in pairs], [a for _, a in pairs])
        done = [w for w in self.waits if w == w]
        return (
            f"{self.answered}/{self.offered} answered, order ρ={rho:.4f}, "
            f"p50 {percentile(done, 50):.2f} s, p99 {percentile(done, 99):.2f} s, "
            f"max wait {max(done):.2f} s, drained {self.drain:.2f} s after the last push"
        )


class Presser:
    """Readers pressing the options of one post; remembers each reader's last press."""

    def __init__(self, server: FakeBotAPI, post: dict[str, Any], seed: int = SEED) -> None:
        self.server = server
        self.post = post
        self.data = option_data(post)
        self.rng = random.Random(seed)
        self.last: dict[int, int] = {}
        self.ids: list[str] = []
        self.users = [server.user(FIRST_READER_ID + i, f"R{i}") for i in range(READERS)]

    def prepare(self, count: int) -> list[dict[str, Any]]:
        """``count`` presses built (and checked) now, to be queued by ``release`` in order."""
        presses = []
        for _ in range(count):
            reader = self.rng.randrange(READERS)
            option = self.rng.randrange(len(OPTIONS))
            self.last[reader] = option
            update = self.users[reader].prepares_click(self.post, self.data[option])
            self.ids.append(str(update["callback_query"]["id"]))
            presses.append(update)
        return presses

    def release(self, press: dict[str, Any]) -> str:
        """Queue a prepared press for the bot; returns its callback query id."""
        self.server.push_update(press, checked=True)
        return str(press["callback_query"]["id"])

    def expected(self) -> tuple[int, ...]:
        counts = Counter(self.last.values())
        return tuple(counts.get(i, 0) for i in range(len(OPTIONS)))


def answer_times(server: FakeBotAPI) -> dict[str, float]:
    return {
        str(r.params.get("callback_query_id")): r.time
        for r in server.requests
        if r.method == "answerCallbackQuery"
    }


async def run_phase(
    server: FakeBotAPI, presser: Presser, name: str, rate: float, seconds: float
) -> Phase:
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * seconds))
    presses = presser.prepare(count)
    ids: list[str] = []
    pushed_at: list[float] = []

    def push(i: int) -> None:
        ids.append(presser.release(presses[i]))
        pushed_at.append(loop.time())

    answered_before = len(server.callback_answers)
    async with history_frozen():
        await offer_at_pace(count, rate, push, loop.time)
        last_push = loop.time()
        # A cheap test: it runs after every request the fake receives.
        await server.wait_for(
            lambda: len(server.callback_answers) - answered_before >= count,
            timeout=max(60.0, 3 * seconds),
        )
    times = answer_times(server)
    answered = [times.get(i, float("nan")) for i in ids]
    phase = Phase(name, count, rate, push_times=pushed_at, answer_times=answered)
    phase.waits = [a - p for p, a in zip(pushed_at, answered, strict=True)]
    phase.drain = max(a for a in answered if a == a) - last_push
    return phase


async def capacity(server: FakeBotAPI, presser: Presser, presses: int) -> float:
    """Clicks per second with every press queued at once."""
    loop = asyncio.get_running_loop()
    answered_before = len(server.callback_answers)
    for press in presser.prepare(presses):
        presser.release(press)
    async with history_frozen():
        started = loop.time()
        await server.wait_for(
            lambda: len(server.callback_answers) - answered_before >= presses, timeout=120
        )
        return presses / (loop.time() - started)


async def floor_runs(server: FakeBotAPI, config: Config) -> tuple[float, list[Phase]]:
    async with running_floor(server, answering_router()) as bot:
        post = await floor_poll_post(server, bot)
        presser = Presser(server, post)
        await server.wait_idle(quiet=0.1)
        cap = await capacity(server, presser, config.capacity_presses)
        phases = [
            await run_phase(server, presser, f"{share:.0%}", cap * share, config.seconds)
            for share in (0.5, 0.8)
        ]
        phases.append(await run_phase(server, presser, "150%", cap * 1.5, config.overload_seconds))
    return cap, phases


async def bot_runs(
    server: FakeBotAPI, config: Config, cap: float
) -> tuple[list[Phase], list[str]]:
    problems: list[str] = []
    editor = server.user(EDITOR_ID, "Editor", "editor", started=True)
    overrides: dict[str, Any] = {}
    if config.concurrency is not None:
        overrides["update_concurrency"] = config.concurrency
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        async with running_bot(server, Path(tmp), **overrides):
            answer = await exchange(server, editor, POLL_COMMAND)
            if "/closepoll" not in answer:
                raise RuntimeError(f"the bot did not post the poll: {answer!r}")
            post = server.chat_messages(CHANNEL_ID)[-1]
            presser = Presser(server, post)
            await server.wait_idle(quiet=0.1)
            phases = [
                await run_phase(server, presser, f"{share:.0%}", cap * share, config.seconds)
                for share in (0.5, 0.8)
            ]
            phases.append(
                await run_phase(server, presser, "150%", cap * 1.5, config.overload_seconds)
            )
            counts = await stored_counts(Path(tmp) / "newsroom.sqlite3")
            if counts != presser.expected():
                problems.append(f"bot: stored counts {counts}, expected {presser.expected()}")
            wrong = sum(
                1
                for qid in presser.ids
                if not str(server.callback_answers[qid].get("text", "")).startswith(VOTE_TOASTS)
            )
            if wrong:
                problems.append(f"bot: {wrong} presses not answered with a vote toast")
    return phases, problems


async def main_async(config: Config) -> int:
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Bench channel")
    server.rate_limits = False
    await server.start()
    try:
        cap, floor = await floor_runs(server, config)
        print(
            f"latency benchmark: floor capacity {cap:,.0f} clicks/s "
            f"({config.capacity_presses} presses at once); steady phases "
            f"{config.seconds:g} s, overload {config.overload_seconds:g} s; "
            f"bot update concurrency {config.concurrency or 'settings default'}"
        )
        bots, problems = await bot_runs(server, config, cap)
    finally:
        await server.stop()
    for f, b in zip(floor[:2], bots[:2], strict=True):
        print(f"steady {f.name} of floor capacity ({f.rate:,.0f} clicks/s):")
        print(f"  floor: {f.line()}")
        print(f"  bot:   {b.line()}")
    f, b = floor[2], bots[2]
    print(f"overload 150% ({f.rate:,.0f} clicks/s for {config.overload_seconds:g} s):")
    print(f"  floor: {f.order_line()}")
    print(f"  bot:   {b.order_line()}")
    all_answered = all(p.answered == p.offered for p in [*floor, *bots])
    print(f"every press answered: {'yes' if all_answered else 'no'}")
    print(f"votes exact: {'no' if problems else 'yes'}")
    problems += [f"fake server: {e}" for e in server.errors]
    for problem in problems:
        print(f"problem: {problem}")
    return 0 if all_answered and not problems else 1


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency",
        description="Click→answer latency at 50%/80% of the floor's capacity; order at 150%.",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="steady phases (20 s)")
    parser.add_argument("--overload-seconds", type=float, default=8.0, help="overload phase (8 s)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="bot's UPDATE_CONCURRENCY (default: 32)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s phases")
    args = parser.parse_args(argv)
    if args.quick:
        return Config(3.0, 2.0, 300, args.concurrency)
    if args.seconds <= 0 or args.overload_seconds <= 0:
        parser.error("phases must last more than 0 s")
    return Config(args.seconds, args.overload_seconds, 1000, args.concurrency)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
