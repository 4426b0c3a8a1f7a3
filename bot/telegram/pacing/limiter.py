"""Pacing within Telegram's limits, in one process.

Each Telegram limit is one budget: the whole bot (``global_per_second``, about 30/s), each
private chat (``chat_per_second``, 1/s with a burst of ``chat_burst``) and each group or
channel (``group_per_minute``, 20/min).  A request first takes a slot of its chat's budget,
then one of the global budget, keeping its place (priority, arrival number) in both lines.

A caller that can stretch its work (the live-count refresher) can see how short a budget
is: ``limiter.estimated_wait(chat_id, Priority.LIVE)`` is about how long a new request of
that priority would wait now (its chat's and the global line together), and
``limiter.backlog(chat_id, Priority.LIVE)`` how many queued requests would go before it.
A refresher that waits ``max(interval, estimated_wait)`` never queues behind itself.

All rates are ceilings: the limiter stays ``SAFETY_MARGIN`` (5%) under them, so clock jitter
and network reordering do not tip a steady flow over Telegram's count.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.telegram.pacing.budgets import Budget, _Ticket
from bot.telegram.pacing.priorities import Priority, current_priority

# Stay this much under every configured rate (intervals are this much longer).
SAFETY_MARGIN = 1.05
# Idle per-chat budgets are forgotten once there are more than this many.
_MAX_IDLE_CHATS = 10_000


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


def is_private_chat(chat_id: int | str) -> bool:
    """User ids are positive; groups and channels are negative or ``@name``."""
    return isinstance(chat_id, int) and chat_id > 0
