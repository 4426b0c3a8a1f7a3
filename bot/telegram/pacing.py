"""The one place every outgoing request passes: pacing within Telegram's limits, retries.

aiogram has no rate limiter and no retry of its own, so this request middleware does both.

Pacing
------
Each Telegram limit is one *budget*: the whole bot (``global_per_second``, about 30/s), each
private chat (``chat_per_second``, 1/s with a burst of ``chat_burst``) and each group or
channel (``group_per_minute``, 20/min).  A budget is a GCRA bucket (the theoretical arrival
time of its next request) with a waiting line in front of it.  The line is served by
priority, then by arrival order; a request first takes a slot of its chat's budget, then one
of the global budget, keeping its place (priority, arrival number) in both lines.

The priority is chosen by the caller, per task, with a context manager::

    with send_priority(Priority.LIVE):
        await bot.edit_message_reply_markup(...)

``PUBLISH`` (a channel publish) > ``INTERACTIVE`` (the default: answers to a person's
action) > ``LIVE`` (live-count edits of poll posts) > ``BACKGROUND`` (notices to editors and
admins).  A publish that arrives after fifty queued live-count edits of the same channel
goes out at the channel's next free slot, not after them.

A caller that can stretch its work (the live-count refresher) can see how short a budget
is: ``limiter.estimated_wait(chat_id, Priority.LIVE)`` is about how long a new request of
that priority would wait now (its chat's and the global line together), and
``limiter.backlog(chat_id, Priority.LIVE)`` how many queued requests would go before it.
A refresher that waits ``max(interval, estimated_wait)`` never queues behind itself.

``PacingRetryMiddleware.wait_turn(chat_id)`` takes the slot *before* a request is built
(with ``PUBLISH`` priority by default) and marks it in a context variable, so the next paced
request of the same task to that chat goes out without queueing again.  The publisher uses
it so that a cancellation while waiting means "certainly not sent".

All rates are ceilings: the limiter stays ``SAFETY_MARGIN`` (5%) under them, so clock jitter
and network reordering do not tip a steady flow over Telegram's count.

Retries
-------
Only what Telegram provably did not take is repeated for every method: ``429`` (it did
nothing; the wait it names holds the chat's budget back for every request, not only this
one) and a connection that failed before the request was written (aiohttp's
``ClientConnectorError``: refused, DNS, TLS handshake).  After a server error or a network
error with an unknown outcome (a timeout, a dropped connection) only edits, answers, reads
and deletions are repeated: a repeated ``send*`` may double a message, in the channel as in
a reader's chat (part 2 of an article twice), so it is raised to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientConnectorError

logger = logging.getLogger(__name__)

# Methods that put a message in a chat or change one: what Telegram's limits count.
_PACED_PREFIXES = ("send", "edit", "copy", "forward", "stop")
# Methods that create a new message: repeating one after an unknown outcome may double it.
_CREATING_PREFIXES = ("send", "copy", "forward")
# Stay this much under every configured rate (intervals are this much longer).
SAFETY_MARGIN = 1.05
# A 429 asking to wait longer than this is not waited out: the request fails instead.
MAX_RETRY_AFTER_SECONDS = 120.0
# Idle per-chat budgets are forgotten once there are more than this many.
_MAX_IDLE_CHATS = 10_000


class Priority(IntEnum):
    """Who goes first when a budget is short; lower values are served first."""

    PUBLISH = 0
    INTERACTIVE = 1
    LIVE = 2
    BACKGROUND = 3


_priority: ContextVar[Priority] = ContextVar("send_priority", default=Priority.INTERACTIVE)
# The chat key whose slot ``wait_turn`` already took for this task's next request.
_prepaid: ContextVar[str | None] = ContextVar("prepaid_turn", default=None)


@contextlib.contextmanager
def send_priority(priority: Priority) -> Iterator[None]:
    """Requests made inside the block queue with ``priority``.

    It is a context variable: it holds for this task, and for tasks created inside the block
    (they copy the context), not for other tasks.
    """
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    return _priority.get()


@dataclass(order=True)
class _Ticket:
    priority: int
    seq: int
    granted: asyncio.Future[None] | None = field(default=None, compare=False)
    cancelled: bool = field(default=False, compare=False)


@dataclass
class Budget:
    """One limit: a GCRA bucket and the line of requests waiting for it, best first.

    Pure bookkeeping, no waiting: times are passed in, so the order and the pace can be
    checked without a clock.
    """

    interval: float
    burst: int = 1
    tat: float = -math.inf  # theoretical arrival time of the next request
    line: list[_Ticket] = field(default_factory=list)
    name: str = "global"  # the key of a shared budget (SharedRateLimiter)

    def ready_at(self) -> float:
        """The earliest time the next request may go out."""
        return self.tat - (self.burst - 1) * self.interval

    def spend(self, now: float) -> None:
        self.tat = max(self.tat, now) + self.interval

    def hold(self, until: float) -> None:
        """Telegram said to wait: nothing goes out before ``until``, then one at a time."""
        self.tat = max(self.tat, until + (self.burst - 1) * self.interval)

    def try_now(self, now: float) -> bool:
        """Take a slot at once if nobody waits and the bucket allows it."""
        self._drop_cancelled()
        if self.line or self.ready_at() > now:
            return False
        self.spend(now)
        return True

    def join(self, ticket: _Ticket) -> None:
        heapq.heappush(self.line, ticket)

    def grant(self, now: float) -> _Ticket | None:
        """Give the current slot to the best waiter, if the bucket allows it now."""
        self._drop_cancelled()
        if not self.line or self.ready_at() > now:
            return None
        self.spend(now)
        return heapq.heappop(self.line)

    def waiting(self) -> bool:
        self._drop_cancelled()
        return bool(self.line)

    def pop_best(self) -> _Ticket | None:
        """The best waiter, for a slot taken elsewhere (a shared budget)."""
        self._drop_cancelled()
        return heapq.heappop(self.line) if self.line else None

    def ahead_of(self, priority: Priority) -> int:
        """Waiters a new request of ``priority`` would queue behind."""
        return sum(1 for t in self.line if not t.cancelled and t.priority <= priority)

    def estimated_wait(self, priority: Priority, now: float) -> float:
        start = max(0.0, self.ready_at() - now)
        return start + self.ahead_of(priority) * self.interval

    def _drop_cancelled(self) -> None:
        while self.line and self.line[0].cancelled:
            heapq.heappop(self.line)


@dataclass
class RateLimits:
    global_per_second: float = 25.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 1


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Budgets for the whole bot and for each chat, each served by priority then arrival.

    ``clock`` and ``sleep`` can be replaced (tests run on a manual clock).
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self.clock = clock
        self.sleep = sleep
        self._global = Budget(SAFETY_MARGIN / self.limits.global_per_second)
        self._chats: dict[str, Budget] = {}
        self._pumps: dict[int, asyncio.Task[None]] = {}  # id(budget) → its server task
        self._arrivals = itertools.count()

    # -- budgets ------------------------------------------------------------------------

    def global_budget(self) -> Budget:
        return self._global

    def chat_budget(self, chat_id: int | str) -> Budget:
        key = str(chat_id)
        budget = self._chats.get(key)
        if budget is None:
            if len(self._chats) >= _MAX_IDLE_CHATS:
                self._forget_idle()
            if is_private_chat(chat_id):
                budget = Budget(
                    SAFETY_MARGIN / self.limits.chat_per_second, self.limits.chat_burst
                )
            else:
                budget = Budget(
                    60.0 / self.limits.group_per_minute * SAFETY_MARGIN, self.limits.group_burst
                )
            budget.name = key
            self._chats[key] = budget
        return budget

    def _forget_idle(self) -> None:
        now = self.clock()
        for key, budget in list(self._chats.items()):
            if not budget.line and budget.tat <= now:
                del self._chats[key]

    # -- taking a turn ------------------------------------------------------------------

    def next_arrival(self) -> int:
        return next(self._arrivals)

    async def acquire(
        self, chat_id: int | str, priority: Priority | None = None, *, arrival: int | None = None
    ) -> None:
        """Wait for a slot of the chat's budget, then of the global one.

        ``priority`` defaults to the one set by ``send_priority`` (``INTERACTIVE``);
        ``arrival`` keeps a retried request's place in the lines.
        """
        ticket_priority = current_priority() if priority is None else priority
        seq = self.next_arrival() if arrival is None else arrival
        await self._take(self.chat_budget(chat_id), ticket_priority, seq)
        await self._take(self._global, ticket_priority, seq)

    async def _take(self, budget: Budget, priority: Priority, seq: int) -> None:
        if await self._take_now(budget):
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ticket = _Ticket(int(priority), seq, granted)
        budget.join(ticket)
        self._ensure_pump(budget)
        try:
            await granted
        except asyncio.CancelledError:
            ticket.cancelled = True
            raise

    async def _take_now(self, budget: Budget) -> bool:
        """A slot without waiting in line, if one is free this moment."""
        return budget.try_now(self.clock())

    def _ensure_pump(self, budget: Budget) -> None:
        key = id(budget)
        pump = self._pumps.get(key)
        if pump is None or pump.done():
            self._pumps[key] = asyncio.create_task(self._serve(budget))

    async def _serve(self, budget: Budget) -> None:
        """Hand out the budget's slots to its waiters, best first, as time allows."""
        try:
            while budget.waiting():
                ticket = budget.grant(self.clock())
                if ticket is None:
                    await self.sleep(max(0.0, budget.ready_at() - self.clock()))
                elif ticket.granted is not None and not ticket.granted.done():
                    ticket.granted.set_result(None)
        finally:
            self._pumps.pop(id(budget), None)
            for ticket in budget.line:  # only if the server itself was cancelled
                if ticket.granted is not None and not ticket.granted.done():
                    ticket.granted.cancel()

    # -- telling callers how short a budget is --------------------------------------------

    def backlog(self, chat_id: int | str, priority: Priority = Priority.LIVE) -> int:
        """Queued requests (this chat's line and the global one) that go before ``priority``."""
        chat = self._chats.get(str(chat_id))
        in_chat = chat.ahead_of(priority) if chat is not None else 0
        return in_chat + self._global.ahead_of(priority)

    def estimated_wait(self, chat_id: int | str, priority: Priority = Priority.LIVE) -> float:
        """About how long a request of ``priority`` to ``chat_id`` made now would wait."""
        now = self.clock()
        chat = self._chats.get(str(chat_id))
        in_chat = chat.estimated_wait(priority, now) if chat is not None else 0.0
        return max(in_chat, self._global.estimated_wait(priority, now))

    def back_off(self, chat_id: int | str | None, seconds: float) -> None:
        """A 429: the chat's budget (or the global one) is held for everyone."""
        until = self.clock() + seconds
        budget = self.chat_budget(chat_id) if chat_id is not None else self._global
        budget.hold(until)

    async def hold_back(self, chat_id: int | str | None, seconds: float) -> None:
        """``back_off``, told to every instance when the budget is shared."""
        self.back_off(chat_id, seconds)


class SharedBuckets(Protocol):
    """GCRA buckets outside the process (Redis): every instance spends the same budget."""

    async def take(self, key: str, interval: float, burst: int) -> float | None:
        """0.0: a slot was taken; > 0: seconds until one may be; None: unavailable."""
        ...

    async def hold(self, key: str, interval: float, burst: int, seconds: float) -> None: ...


class SharedRateLimiter(RateLimiter):
    """Telegram's limits are per bot, not per process: with several instances each budget's
    slots are decided by ``SharedBuckets`` (one atomic script in Redis).

    The lines stay local: within one instance requests still go by priority then arrival
    (a publish before queued live-count edits); across instances the slots go to whoever
    asks first.  If the shared store does not answer, the local budget decides (Telegram's
    429 is still waited out), so a Redis outage slows nothing down.
    """

    def __init__(
        self,
        buckets: SharedBuckets,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self.buckets = buckets

    async def _shared_take(self, budget: Budget) -> float:
        """0.0 when a slot was taken, else the seconds to wait before asking again."""
        now = self.clock()
        wait = await self.buckets.take(budget.name, budget.interval, budget.burst)
        if wait is None:  # shared store unavailable: the local bucket decides
            if budget.ready_at() <= now:
                budget.spend(now)
                return 0.0
            return budget.ready_at() - now
        if wait <= 0:
            budget.spend(now)  # keeps the local estimate (estimated_wait) near the truth
            return 0.0
        budget.tat = max(budget.tat, now + wait + (budget.burst - 1) * budget.interval)
        return wait

    async def _take_now(self, budget: Budget) -> bool:
        return not budget.waiting() and await self._shared_take(budget) == 0.0

    async def _serve(self, budget: Budget) -> None:
        try:
            while budget.waiting():
                wait = await self._shared_take(budget)
                if wait > 0:
                    await self.sleep(wait)
                    continue
                ticket = budget.pop_best()
                granted = ticket.granted if ticket is not None else None
                if granted is not None and not granted.done():
                    granted.set_result(None)
        finally:
            self._pumps.pop(id(budget), None)
            for ticket in budget.line:
                if ticket.granted is not None and not ticket.granted.done():
                    ticket.granted.cancel()

    async def hold_back(self, chat_id: int | str | None, seconds: float) -> None:
        self.back_off(chat_id, seconds)
        budget = self.chat_budget(chat_id) if chat_id is not None else self._global
        await self.buckets.hold(budget.name, budget.interval, budget.burst, seconds)


def is_private_chat(chat_id: int | str) -> bool:
    """User ids are positive; groups and channels are negative or ``@name``."""
    return isinstance(chat_id, int) and chat_id > 0


def _chat_of(method: TelegramMethod[Any]) -> int | str | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) else None


def _is_paced(api_method: str) -> bool:
    return api_method.startswith(_PACED_PREFIXES)


def is_safe_to_repeat(method: TelegramMethod[Any]) -> bool:
    """Can this request be sent again when we don't know whether the first one landed?

    Edits, answers, reads and deletions: yes.  Anything that creates a message: no, in
    any chat — a reader would see a part of an article twice.
    """
    return not method.__api_method__.startswith(_CREATING_PREFIXES)


def never_reached_telegram(exc: BaseException) -> bool:
    """Did the request fail before it was written (refused, DNS, TLS handshake)?

    aiogram wraps aiohttp's errors in ``TelegramNetworkError`` (``raise ... from``); the
    original is its ``__cause__`` (or ``__context__``).  A connector error means no
    connection was made, so Telegram cannot have seen the request; a timeout or a dropped
    connection can come after Telegram acted.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ClientConnectorError | ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def may_repeat(method: TelegramMethod[Any], exc: BaseException) -> bool:
    """The retry rule: repeat what Telegram provably did not take, or what is harmless."""
    if isinstance(exc, TelegramRetryAfter):
        return True
    if isinstance(exc, TelegramNetworkError) and never_reached_telegram(exc):
        return True
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return is_safe_to_repeat(method)
    return False


@dataclass
class RequestStats:
    sent: int = 0
    retried_after_429: int = 0
    retried_after_error: int = 0
    not_repeated: int = 0  # failures with an unknown outcome raised to the caller


class PacingRetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        limiter: RateLimiter | None = None,
        *,
        max_retries: int = 5,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        self.limiter = limiter or RateLimiter()
        self.max_retries = max_retries
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.stats = RequestStats()

    async def wait_turn(self, chat_id: int | str, priority: Priority = Priority.PUBLISH) -> None:
        """Take a slot for ``chat_id`` now, before the request exists.

        The next paced request of this task to that chat uses the slot instead of queueing
        again.  Cancelled while waiting: nothing was sent.  Await it directly (not through
        ``asyncio.wait_for`` or a new task): the mark lives in this task's context.  Pass the
        same chat reference the request will carry (``-100…`` and ``@name`` are two keys).
        """
        await self.limiter.acquire(chat_id, priority)
        _prepaid.set(str(chat_id))

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        api_method = method.__api_method__
        if api_method == "getUpdates":
            return await make_request(bot, method)
        chat_id = _chat_of(method) if _is_paced(api_method) else None
        priority = current_priority()
        arrival = self.limiter.next_arrival()
        prepaid = chat_id is not None and _prepaid.get() == str(chat_id)
        if prepaid:
            _prepaid.set(None)
        attempt = 0
        while True:
            if chat_id is not None and not (prepaid and attempt == 0):
                await self.limiter.acquire(chat_id, priority, arrival=arrival)
            try:
                self.stats.sent += 1
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.max_retries or exc.retry_after > self.max_retry_after:
                    raise
                self.stats.retried_after_429 += 1
                logger.warning(
                    "Flood control on %s (chat %s): waiting %s s",
                    api_method,
                    chat_id,
                    exc.retry_after,
                )
                if chat_id is not None:
                    await self.limiter.hold_back(chat_id, exc.retry_after)
                else:
                    await self.limiter.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if not may_repeat(method, exc):
                    self.stats.not_repeated += 1
                    raise
                if attempt >= self.max_retries:
                    raise
                self.stats.retried_after_error += 1
                delay = min(self.max_backoff, self.base_backoff * 2**attempt)
                logger.warning(
                    "%s failed (%s); retrying in %.1f s", api_method, type(exc).__name__, delay
                )
                await self.limiter.sleep(delay)
            attempt += 1
