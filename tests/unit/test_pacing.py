"""Pacing and retry decisions of the request middleware, on a manual clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetChat,
    Response,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.pacing.budgets import Budget, _Ticket
from bot.telegram.pacing.limiter import RateLimiter, RateLimits
from bot.telegram.pacing.middleware import PacingRetryMiddleware
from bot.telegram.pacing.priorities import Priority, send_priority
from bot.telegram.pacing.retries import is_safe_to_repeat, may_repeat, never_reached_telegram

CHANNEL = -1001234567890
READER = 12345
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


class ManualClock:
    """Time moves only when the test says so; ``sleep`` waits for it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._ids), woken))
        await woken

    @property
    def sleeping(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_wake(self) -> float | None:
        live = [when for when, _, f in self._sleepers if not f.done()]
        return min(live) if live else None

    def wake_next(self) -> float:
        """Jump to the earliest sleeper's deadline and wake everyone due by then."""
        when = self.next_wake()
        assert when is not None, "nobody is waiting for the clock"
        self.now = max(self.now, when)
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)
        return self.now


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition`` holds (no time passes on the clock)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def settle() -> None:
    """Let every runnable task run to its next wait (no time passes on the clock)."""
    for _ in range(100):
        await asyncio.sleep(0)


async def step(clock: ManualClock) -> None:
    """Once everything is waiting: move the clock to the next sleeper's deadline."""
    await settle()
    clock.wake_next()
    await settle()


def limiter_on(clock: ManualClock, **limits: Any) -> RateLimiter:
    values: dict[str, Any] = {"global_per_second": 1000.0, **limits}
    return RateLimiter(RateLimits(**values), clock=clock, sleep=clock.sleep)


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    bot = Bot(TOKEN)
    yield bot
    await bot.session.close()


# --- one budget, no clock ------------------------------------------------------------------


def test_budget_allows_a_burst_then_paces() -> None:
    budget = Budget(interval=1.0, burst=3)
    assert [budget.try_now(0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.ready_at() == 1.0


def test_waiters_are_served_by_priority_then_arrival() -> None:
    budget = Budget(interval=1.0)
    assert budget.try_now(0.0)
    arrivals = [
        *[(Priority.LIVE, f"live{i}") for i in range(5)],
        (Priority.BACKGROUND, "notice"),
        (Priority.INTERACTIVE, "reply"),
        (Priority.PUBLISH, "publish"),
        (Priority.INTERACTIVE, "reply2"),
    ]
    names = {}
    for seq, (priority, name) in enumerate(arrivals):
        budget.join(_Ticket(priority, seq))
        names[seq] = name
    assert budget.grant(0.5) is None  # the slot is not free yet
    served = []
    now = 0.0
    while budget.waiting():
        now += 1.0
        ticket = budget.grant(now)
        assert ticket is not None
        served.append(names[ticket.seq])
    assert served == [
        *["publish", "reply", "reply2"],
        *["live0", "live1", "live2", "live3", "live4"],
        "notice",
    ]


def test_cancelled_waiters_give_up_their_place() -> None:
    budget = Budget(interval=1.0)
    assert budget.try_now(0.0)
    first, second = _Ticket(Priority.LIVE, 0), _Ticket(Priority.LIVE, 1)
    budget.join(first)
    budget.join(second)
    first.cancelled = True
    assert budget.ahead_of(Priority.LIVE) == 1
    assert budget.grant(1.0) is second
    assert not budget.waiting()


@given(st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=1, max_size=60))
def test_a_group_budget_never_exceeds_20_a_minute(gaps: list[float]) -> None:
    limiter = RateLimiter(RateLimits())
    budget = limiter.chat_budget(CHANNEL)
    now, sent = 0.0, []
    for gap in gaps:
        now += gap
        now = max(now, budget.ready_at())
        assert budget.try_now(now)
        sent.append(now)
    for i, t in enumerate(sent):
        assert sum(1 for u in sent[i:] if u < t + 60) <= 20


def test_hold_keeps_the_budget_closed_then_allows_one() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)
    limiter.back_off(READER, 30)
    budget = limiter.chat_budget(READER)
    assert not budget.try_now(clock.now + 29.9)
    assert budget.try_now(clock.now + 30)
    assert not budget.try_now(clock.now + 30)  # not a full burst right after a 429


def test_backlog_and_estimated_wait_see_what_goes_first() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)
    budget = limiter.chat_budget(CHANNEL)  # 20/min: 3.15 s a slot
    assert limiter.estimated_wait(CHANNEL) == 0.0
    assert budget.try_now(clock.now)
    for seq, priority in enumerate([Priority.LIVE] * 3 + [Priority.PUBLISH]):
        budget.join(_Ticket(priority, seq))
    assert limiter.backlog(CHANNEL, Priority.PUBLISH) == 1
    assert limiter.backlog(CHANNEL, Priority.LIVE) == 4
    assert limiter.backlog(CHANNEL, Priority.BACKGROUND) == 4
    assert limiter.estimated_wait(CHANNEL, Priority.PUBLISH) == pytest.approx(2 * 3.15)
    assert limiter.estimated_wait(CHANNEL, Priority.LIVE) == pytest.approx(5 * 3.15)
    assert limiter.backlog(READER) == 0


# --- the limiter, on a manual clock ----------------------------------------------------------


async def test_a_publish_never_waits_behind_queued_live_edits() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)
    served: list[tuple[str, float]] = []

    async def send(name: str, priority: Priority) -> None:
        with send_priority(priority):
            await limiter.acquire(CHANNEL)
        served.append((name, clock.now))

    tasks = [asyncio.create_task(send(f"live{i}", Priority.LIVE)) for i in range(50)]
    await until(lambda: limiter.backlog(CHANNEL, Priority.LIVE) == 49)
    assert [name for name, _ in served] == ["live0"]
    tasks.append(asyncio.create_task(send("publish", Priority.PUBLISH)))
    tasks.append(asyncio.create_task(send("reply", Priority.INTERACTIVE)))
    await until(lambda: limiter.backlog(CHANNEL, Priority.LIVE) == 51)
    while len(served) < 4:
        await step(clock)
    interval = 60 / 20 * 1.05
    assert [name for name, _ in served[1:4]] == ["publish", "reply", "live1"]
    assert [at - 1000.0 for _, at in served[1:4]] == pytest.approx(
        [interval, 2 * interval, 3 * interval]
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_global_budget_is_shared_by_priority_too() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, global_per_second=10.0, chat_per_second=100.0)
    served: list[str] = []

    async def send(name: str, chat_id: int, priority: Priority) -> None:
        await limiter.acquire(chat_id, priority)
        served.append(name)

    tasks = [
        asyncio.create_task(send(f"notice{i}", 5000 + i, Priority.BACKGROUND)) for i in range(5)
    ]
    await until(lambda: limiter.backlog(1, Priority.BACKGROUND) == 4)
    tasks.append(asyncio.create_task(send("reply", READER, Priority.INTERACTIVE)))
    await until(lambda: limiter.backlog(1, Priority.BACKGROUND) == 5)
    while len(served) < 6:
        await step(clock)
    assert served == ["notice0", "reply", "notice1", "notice2", "notice3", "notice4"]
    await asyncio.gather(*tasks)


async def test_a_cancelled_wait_leaves_the_line_and_sends_nothing() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)
    requests = PacingRetryMiddleware(limiter)
    await requests.wait_turn(CHANNEL)
    waiting = asyncio.create_task(requests.wait_turn(CHANNEL))
    await until(lambda: limiter.backlog(CHANNEL, Priority.PUBLISH) == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limiter.backlog(CHANNEL, Priority.BACKGROUND) == 0


# --- the middleware ------------------------------------------------------------------------


class FakeTelegram:
    """``make_request`` for the middleware: answers with a script of errors, then ok."""

    def __init__(self, clock: ManualClock, *errors: Exception) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.calls: list[tuple[str, float]] = []

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
        self.calls.append((method.__api_method__, self.clock.now))
        if self.errors:
            raise self.errors.pop(0)
        return Response[Any](ok=True, result=True)


def server_error(method: TelegramMethod[Any]) -> TelegramServerError:
    return TelegramServerError(method=method, message="Internal Server Error")


def timeout_error(method: TelegramMethod[Any]) -> TelegramNetworkError:
    try:
        try:
            raise TimeoutError
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
    except TelegramNetworkError as wrapped:
        return wrapped


async def call(
    requests: PacingRetryMiddleware,
    telegram: FakeTelegram,
    bot: Bot,
    method: TelegramMethod[Any],
) -> Response[Any]:
    return await requests(telegram, bot, method)


async def run_with_clock(clock: ManualClock, job: asyncio.Future[Any]) -> Any:
    """Advance the clock whenever the job sleeps, until it ends."""
    while not job.done():
        await settle()
        if not job.done():
            await step(clock)
    return await job


def test_what_is_safe_to_repeat() -> None:
    # Anything that creates a message may be doubled, in a reader's chat as well.
    assert not is_safe_to_repeat(SendMessage(chat_id=READER, text="x"))
    assert not is_safe_to_repeat(SendMessage(chat_id=CHANNEL, text="x"))
    assert not is_safe_to_repeat(SendPhoto(chat_id="@news", photo="id"))
    assert is_safe_to_repeat(EditMessageText(chat_id=CHANNEL, message_id=1, text="x"))
    assert is_safe_to_repeat(AnswerCallbackQuery(callback_query_id="1"))
    assert is_safe_to_repeat(DeleteMessage(chat_id=CHANNEL, message_id=1))
    assert is_safe_to_repeat(GetChat(chat_id=CHANNEL))


def test_the_retry_rule() -> None:
    send = SendMessage(chat_id=READER, text="part 2")
    edit = EditMessageReplyMarkup(chat_id=CHANNEL, message_id=1)
    flood = TelegramRetryAfter(method=send, message="Too Many Requests", retry_after=3)
    assert may_repeat(send, flood)
    assert not may_repeat(send, server_error(send))
    assert not may_repeat(send, timeout_error(send))
    assert may_repeat(edit, server_error(edit))
    assert may_repeat(edit, timeout_error(edit))
    assert not never_reached_telegram(timeout_error(send))


async def test_a_reader_send_is_not_repeated_after_a_server_error(bot: Bot) -> None:
    clock = ManualClock()
    requests = PacingRetryMiddleware(limiter_on(clock))
    method = SendMessage(chat_id=READER, text="part 2")
    telegram = FakeTelegram(clock, server_error(method))
    with pytest.raises(TelegramServerError):
        await call(requests, telegram, bot, method)
    assert len(telegram.calls) == 1
    assert requests.stats.not_repeated == 1


async def test_edits_are_repeated_after_server_and_network_errors(bot: Bot) -> None:
    clock = ManualClock()
    requests = PacingRetryMiddleware(limiter_on(clock), base_backoff=0.5)
    method = EditMessageReplyMarkup(chat_id=CHANNEL, message_id=1)
    telegram = FakeTelegram(clock, server_error(method), timeout_error(method))
    job = asyncio.create_task(call(requests, telegram, bot, method))
    response = await run_with_clock(clock, job)
    assert response.ok
    assert len(telegram.calls) == 3
    # Backed off 0.5 s then 1 s (and paced: the channel allows one edit per 3.15 s).
    assert telegram.calls[1][1] - telegram.calls[0][1] >= 0.5
    assert telegram.calls[2][1] - telegram.calls[1][1] >= 1.0
    assert requests.stats.retried_after_error == 2


async def test_a_429_is_waited_out_and_holds_the_chat_for_everyone(bot: Bot) -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, chat_per_second=100.0)
    requests = PacingRetryMiddleware(limiter)
    method = SendMessage(chat_id=READER, text="part 1")
    flood = TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=7)
    telegram = FakeTelegram(clock, flood)
    start = clock.now
    first = asyncio.create_task(call(requests, telegram, bot, method))
    await until(lambda: clock.sleeping > 0)  # the 429 came; the retry waits
    other = asyncio.create_task(
        call(requests, telegram, bot, SendMessage(chat_id=READER, text="y"))
    )
    await until(lambda: limiter.backlog(READER, Priority.BACKGROUND) == 2)
    await run_with_clock(clock, asyncio.gather(first, other))
    assert [t - start for _, t in telegram.calls] == [0.0, 7.0, pytest.approx(7.0105)]
    assert requests.stats.retried_after_429 == 1


async def test_a_429_without_a_chat_is_slept_out(bot: Bot) -> None:
    clock = ManualClock()
    requests = PacingRetryMiddleware(limiter_on(clock))
    method = AnswerCallbackQuery(callback_query_id="1", text="ok")
    flood = TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=2)
    telegram = FakeTelegram(clock, flood)
    job = asyncio.create_task(call(requests, telegram, bot, method))
    await run_with_clock(clock, job)
    assert [t - 1000.0 for _, t in telegram.calls] == [0.0, 2.0]


async def test_a_refused_connection_is_repeated_even_for_a_send() -> None:
    """A real aiogram session against a closed port: the request was never written."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RateLimiter(RateLimits(group_per_minute=60_000.0))
    requests = PacingRetryMiddleware(limiter, max_retries=2, base_backoff=0.0)
    session = AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    session.middleware(requests)
    bot = Bot(TOKEN, session=session)
    try:
        with pytest.raises(TelegramNetworkError) as raised:
            await bot.send_message(CHANNEL, "news")
    finally:
        await bot.session.close()
    assert never_reached_telegram(raised.value)
    assert requests.stats.retried_after_error == 2
    assert requests.stats.sent == 3


async def test_wait_turn_takes_the_slot_for_the_next_request_only(bot: Bot) -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)
    requests = PacingRetryMiddleware(limiter)
    telegram = FakeTelegram(clock)
    live = asyncio.create_task(limiter.acquire(CHANNEL, Priority.LIVE))
    await live  # the channel's one slot is gone
    queued_live = asyncio.create_task(limiter.acquire(CHANNEL, Priority.LIVE))
    await until(lambda: limiter.backlog(CHANNEL, Priority.LIVE) == 1)

    async def publish() -> None:
        await requests.wait_turn(CHANNEL)  # PUBLISH: ahead of the queued edit
        await call(requests, telegram, bot, SendMessage(chat_id=CHANNEL, text="news"))
        await call(requests, telegram, bot, SendMessage(chat_id=CHANNEL, text="again"))

    job = asyncio.create_task(publish())
    await until(lambda: limiter.backlog(CHANNEL, Priority.PUBLISH) == 1)
    slot = 60 / 20 * 1.05
    await step(clock)
    assert len(telegram.calls) == 1
    assert telegram.calls[0][1] == pytest.approx(1000.0 + slot)  # not queued a second time
    assert not queued_live.done()
    await run_with_clock(clock, job)
    # Paced again (INTERACTIVE by default, so still ahead of the queued edit).
    assert telegram.calls[1][1] == pytest.approx(1000.0 + 2 * slot)
    assert not queued_live.done()
    await run_with_clock(clock, queued_live)
    assert clock.now == pytest.approx(1000.0 + 3 * slot)
