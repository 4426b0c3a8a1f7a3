"""What the benchmarks share: the real bot run as ``bot.app.run`` runs it, a bare aiogram
bot (the floor), presses offered at a steady pace, and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import App, create_app
from bot.lifecycle import start_polling
from bot.settings import Settings
from tests.e2e.harness import CHANNEL_ID, Newsroom
from tests.fakes.botapi_server import FakeBotAPI

OPTIONS = ("A", "B", "C")


@contextlib.asynccontextmanager
async def running_bot(
    server: FakeBotAPI, tmp: Path, **overrides: Any
) -> AsyncIterator[tuple[App, Settings]]:
    """The newsroom bot, polling as ``bot.app.run`` does (``bot.lifecycle.start_polling``); the
    e2e harness's test settings otherwise."""
    settings = Newsroom(server, tmp, **overrides).settings
    app = await create_app(settings)
    polls_before = len(server.calls("getUpdates"))
    task = asyncio.create_task(start_polling(app, handle_signals=False, polling_timeout=1))
    try:
        await server.wait_for(
            lambda: len(server.calls("getUpdates")) > polls_before or task.done(), timeout=10
        )
        if task.done():
            task.result()
        yield app, settings
    finally:
        if not task.done():
            with contextlib.suppress(RuntimeError):
                await app.dispatcher.stop_polling()
        try:
            await asyncio.wait_for(task, 10)
        finally:
            await app.db.close()
            server.updates.clear()


@contextlib.asynccontextmanager
async def running_floor(
    server: FakeBotAPI, router: Router, concurrency: int | None = None
) -> AsyncIterator[Bot]:
    """A bare aiogram bot with one router, polling like the bot does."""
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = server.make_bot()
    polls_before = len(server.calls("getUpdates"))
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, polling_timeout=1, tasks_concurrency_limit=concurrency
        )
    )
    try:
        await server.wait_for(lambda: len(server.calls("getUpdates")) > polls_before, 10)
        yield bot
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
        server.updates.clear()


@contextlib.asynccontextmanager
async def history_frozen(every: float = 0.5) -> AsyncIterator[None]:
    """A timed section in which the fake server's growing history is no one's cost.

    The fake keeps every request it gets, in this process: left to the cyclic garbage
    collector, each full collection walks all of it again, so a press costs more the
    longer a run lasts (a 10,000-press burst ran at 62% of a 1,000-press one, most of the
    difference in the collector).  Real Telegram keeps its history elsewhere.  Freezing
    what exists (``gc.freeze``) before the section and every ``every`` seconds during it
    takes that history out of every collection; what the contenders make and drop between
    two freezes is still collected as usual (cyclic garbage caught by a freeze waits until
    the section ends, when everything is unfrozen again).
    """
    gc.collect()
    gc.freeze()

    async def keep_freezing() -> None:
        while True:
            await asyncio.sleep(every)
            gc.freeze()

    task = asyncio.create_task(keep_freezing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.unfreeze()


def answering_router() -> Router:
    router = Router(name="floor")

    @router.callback_query()
    async def answer(callback: CallbackQuery) -> None:
        await callback.answer("ok")

    return router


async def floor_poll_post(server: FakeBotAPI, bot: Bot) -> dict[str, Any]:
    """A channel post with vote buttons for the floor (which never looks at it)."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"{label} · 0", callback_data=f"v:1:{i}")]
            for i, label in enumerate(OPTIONS)
        ]
    )
    sent = await bot.send_message(CHANNEL_ID, "<b>Question?</b>", reply_markup=keyboard)
    return server.current({"chat": {"id": CHANNEL_ID}, "message_id": sent.message_id})


async def offer_at_pace(
    count: int, per_second: float, push: Callable[[int], None], now: Callable[[], float]
) -> float:
    """Call ``push(i)`` for i in 0..count-1 at a steady rate; returns the seconds it took.

    Pushes are scheduled on absolute times, so a late wake-up catches up instead of
    drifting (a busy loop makes small bursts, as a real network does).
    """
    start = now()
    pushed = 0
    while pushed < count:
        due = min(count, math.floor((now() - start) * per_second) + 1)
        while pushed < due:
            push(pushed)
            pushed += 1
        if pushed < count:
            await asyncio.sleep(max(0.0, start + pushed / per_second - now()))
    return now() - start


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Rank correlation (no ties expected): 1.0 means exactly the same order."""
    n = len(xs)
    if n < 2:
        return 1.0

    def ranks(values: Sequence[float]) -> list[int]:
        order = sorted(range(n), key=lambda i: values[i])
        result = [0] * n
        for rank, i in enumerate(order):
            result[i] = rank
        return result

    rx, ry = ranks(xs), ranks(ys)
    d2 = sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def max_window_count(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
