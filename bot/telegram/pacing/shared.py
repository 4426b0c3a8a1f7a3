"""Budgets shared by several bot instances: Telegram's limits are per bot, not per process."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from bot.telegram.pacing.budgets import Budget
from bot.telegram.pacing.limiter import Clock, RateLimiter, RateLimits, Sleep


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
