"""One Telegram limit as a *budget*: a GCRA bucket (the theoretical arrival time of its next
request) with a waiting line in front of it, served by priority, then by arrival order."""

from __future__ import annotations

import asyncio
import heapq
import math
from dataclasses import dataclass, field

from bot.telegram.pacing.priorities import Priority


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
