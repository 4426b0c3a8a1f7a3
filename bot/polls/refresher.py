"""Coalesced refreshes: at most one pending refresh per key, at most one per interval.

Telegram allows about 20 edits a minute in a channel, so a poll's post is not edited per
vote.  ``Refresher`` keeps at most one pending refresh per poll, fired no sooner than
``interval`` after the previous one; the refresh reads the counts committed at that
moment, so the latest counts reach the post within one interval of the last vote.

With several instances each has its own ``Refresher``; a shared ``RefreshGate`` (Redis
``SET NX PX`` per poll) lets one edit per poll through per interval in total.  A refresh
that finds the gate taken is re-armed for when it opens, so the last votes are still shown
(by whichever instance then passes the gate: the edit reads the committed counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

logger = logging.getLogger(__name__)


class RefreshGate(Protocol):
    """One pass per key per interval, across every instance."""

    async def try_pass(self, key: int, interval: float) -> float:
        """0.0: pass now; else the seconds until the gate opens."""
        ...


class Refresher:
    def __init__(
        self,
        render: Callable[[int], Awaitable[None]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        backlog: Callable[[], float] | None = None,
        gate: RefreshGate | None = None,
    ) -> None:
        self._render = render
        self.interval = interval
        self._clock = clock
        # How long an edit sent now would wait for its send slot: a refresh is never
        # scheduled sooner than that, so a short budget stretches the interval instead
        # of queueing edits.
        self._backlog = backlog
        self.gate = gate
        self.gate_waits = 0  # refreshes re-armed because another instance had just edited
        self._last: dict[int, float] = {}
        self._pending: dict[int, asyncio.Task[None]] = {}
        # Refreshes already past their wait and talking to Telegram: flush() awaits them,
        # so none of them outlives the bot's HTTP session or the database.
        self._running: set[asyncio.Task[None]] = set()

    def mark_dirty(self, poll_id: int) -> None:
        if poll_id in self._pending:
            return  # the pending refresh will read the newest counts when it fires
        last = self._last.get(poll_id)
        delay = 0.0 if last is None else max(0.0, last + self.interval - self._clock())
        if self._backlog is not None:
            delay = max(delay, self._backlog())
        self._pending[poll_id] = asyncio.create_task(self._fire(poll_id, delay))

    async def _fire(self, poll_id: int, delay: float) -> None:
        closed_for = 0.0
        try:
            if delay:
                await asyncio.sleep(delay)
            if self.gate is not None:
                closed_for = await self.gate.try_pass(poll_id, self.interval)
        finally:
            self._pending.pop(poll_id, None)
        if closed_for > 0:
            # Another instance edited the post just now: come back when the gate opens.
            self.gate_waits += 1
            if poll_id not in self._pending:
                self._pending[poll_id] = asyncio.create_task(self._fire(poll_id, closed_for))
            return
        self._last[poll_id] = self._clock()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            await self._render(poll_id)
        except (TelegramServerError, TelegramNetworkError, TelegramRetryAfter) as exc:
            # Telegram is having trouble: try again one interval later.
            logger.warning("Refreshing poll %s failed (%s); will retry", poll_id, exc)
            self.mark_dirty(poll_id)
        except Exception:
            logger.exception("Refreshing poll %s failed", poll_id)

    async def flush(self) -> None:
        """Do every pending refresh now (shutdown): no vote's count is left unshown."""
        pending = list(self._pending.items())
        for _, task in pending:
            task.cancel()
        for _, task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        for poll_id, _ in pending:
            try:
                await self._render(poll_id)
            except Exception:
                # Shutdown goes on; the counts are committed and shown after the restart.
                logger.exception("Flushing poll %s failed", poll_id)

    @property
    def pending(self) -> int:
        return len(self._pending)
