"""Long polling that confirms to Telegram only what the bot took on, and at a stop only
what it handled.

Telegram forgets every update below the ``offset`` of the next ``getUpdates``.  aiogram's
polling fetches a batch of up to a hundred and starts them one by one as its task limit
allows: stopped half-way, the rest of the batch was never started (the log's "coroutine
``Dispatcher._process_update`` was never awaited") and, the batch never confirmed, the
ones it had handled came back to the next start and were handled again.  Here every
fetched update is started at once (the fetch asks only for what there is room for), so
the next ``getUpdates`` confirms only started updates; at a stop nothing more is fetched,
the updates in hand get the shutdown grace, and one last ``getUpdates`` confirms what was
handled: everything, or, if the grace cut some off, everything below the first of those
(they, and what was handled after them, are delivered again to the next start).  The
updates in hand are bounded (``UPDATE_CONCURRENCY + UPDATE_BACKLOG``, at most a few per
reader account: bot/telegram/lanes.py) so that they finish within the grace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram import Bot
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

if TYPE_CHECKING:
    from bot.telegram.updates import TrackingDispatcher

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram returns at most this many updates per getUpdates.
MAX_BATCH = 100
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class Poller:
    """One bot's polling loop; ``run`` until ``stop`` is set, then ``confirm`` after the
    updates in hand were drained."""

    def __init__(
        self,
        dispatcher: TrackingDispatcher,
        bot: Bot,
        *,
        in_hand_limit: int,
        polling_timeout: int,
        allowed_updates: list[str] | None,
        data: dict[str, Any],
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.limit = max(1, in_hand_limit)
        self.polling_timeout = polling_timeout
        self.allowed_updates = allowed_updates
        self.data = data
        self.offset: int | None = None  # the next getUpdates confirms everything below
        self.in_hand: set[int] = set()
        self.cut_off: set[int] = set()  # cancelled before they finished (at a stop)
        self._room = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(config=BACKOFF)
        while not stop.is_set():
            room = self.limit - len(self.in_hand)
            if room <= 0:
                self._room.clear()
                await _first_of(self._room.wait(), stop.wait())
                continue
            try:
                updates = await _first_of(self._fetch(min(room, MAX_BATCH)), stop.wait())
            except Exception as exc:  # Telegram or the network away: try again later
                logger.error("Failed to fetch updates - %s: %s", type(exc).__name__, exc)
                await _first_of(backoff.asleep(), stop.wait())
                continue
            if updates is None:  # stopping: what the fetch brought is not confirmed
                break
            backoff.reset()
            for update in updates:
                self._start(update)
                self.offset = update.update_id + 1

    async def _fetch(self, limit: int) -> list[Update]:
        method = GetUpdates(
            offset=self.offset,
            limit=limit,
            timeout=self.polling_timeout,
            allowed_updates=self.allowed_updates,
        )
        timeout = self.bot.session.timeout + self.polling_timeout
        return await self.bot(method, request_timeout=int(timeout))

    def _start(self, update: Update) -> None:
        self.in_hand.add(update.update_id)
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: Update) -> None:
        try:
            result = await self.dispatcher.feed_update(self.bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(self.bot, result)
        except asyncio.CancelledError:
            self.cut_off.add(update.update_id)
            raise
        except Exception:
            logger.exception("Update %s failed", update.update_id)
        finally:
            self.in_hand.discard(update.update_id)
            self._room.set()

    async def confirm(self) -> None:
        """After the drain: confirm to Telegram what was handled (everything below the
        first update the grace cut off, else everything taken)."""
        offset = min(self.cut_off) if self.cut_off else self.offset
        if self.in_hand - self.cut_off:
            # Not drained (no shutdown work ran): confirm nothing more.
            offset = min(self.in_hand | self.cut_off)
        if offset is None:
            return
        if self.cut_off:
            logger.warning(
                "%d updates cut off at shutdown: Telegram delivers them again from update %d",
                len(self.cut_off),
                offset,
            )
        try:
            # limit=1: the update it returns (if any) stays unconfirmed for the next start.
            await self.bot(GetUpdates(offset=offset, limit=1, timeout=0))
        except Exception as exc:
            logger.warning("Could not confirm the handled updates (%s): some come again", exc)


async def _first_of(work: Awaitable[T], stop: Awaitable[object]) -> T | None:
    """``work``'s result, or None if ``stop`` finishes first (``work`` is cancelled)."""
    work_task = asyncio.ensure_future(work)
    stop_task = asyncio.ensure_future(stop)
    try:
        await asyncio.wait({work_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
        if not work_task.done():
            work_task.cancel()
            await asyncio.wait([work_task])
    if work_task.cancelled():
        return None
    return work_task.result()
