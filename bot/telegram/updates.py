"""The dispatcher, with the updates in progress tracked through its public hook, and
its polling our own (bot/telegram/polling.py).

aiogram's polling does not await the update tasks still running when it stops (those
queued behind an editor's dialog lock included), and keeps its own task set private;
overriding ``feed_update`` tells us which updates are being handled, so shutdown can
finish them (or cancel and await them) before the database closes under them.  It is
also where an update waits for its slot in the desk's or the readers' lane, before any
middleware runs.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED, NextMiddlewareType
from aiogram.types import TelegramObject, Update
from aiogram.types.base import UNSET, UNSET_TYPE

from bot.logs import current_update_id
from bot.telegram.lanes import Admission, UpdateLanes
from bot.telegram.polling import MAX_BATCH, Poller

logger = logging.getLogger(__name__)

# What an update middleware calls to pass the update on (to the next middleware or the handler).
NextHandler = NextMiddlewareType[TelegramObject]


class TrackingDispatcher(Dispatcher):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_progress: set[asyncio.Task[Any]] = set()
        self.lanes: UpdateLanes | None = None  # set by the composition root
        # Told of each update the lanes turn away (no middleware sees those): the metrics.
        self.turned_away: Callable[[Update], None] | None = None
        self._polling_stop: asyncio.Event | None = None
        self._polling_stopped = asyncio.Event()

    async def feed_update(
        self, bot: Bot, update: Update, *, admission: Admission | None = None, **kwargs: Any
    ) -> Any:
        """aiogram's, within the update's slot (``admission``: the caller holds the slot
        and says what its line decided, as the webhook handler does)."""
        task = asyncio.current_task()
        if task is not None:
            self.in_progress.add(task)
        # Every line logged while this update is handled names it (the JSON log format).
        naming = current_update_id.set(update.update_id)
        try:
            if self.lanes is None:
                return await super().feed_update(bot, update, **kwargs)
            if admission is not None:
                return await self._admitted(bot, update, admission, **kwargs)
            async with self.lanes.slot(update) as given:
                return await self._admitted(bot, update, given, **kwargs)
        finally:
            current_update_id.reset(naming)
            if task is not None:
                self.in_progress.discard(task)

    async def _admitted(
        self, bot: Bot, update: Update, admission: Admission, **kwargs: Any
    ) -> Any:
        if admission is Admission.RUN or self.lanes is None:
            return await super().feed_update(bot, update, **kwargs)
        if self.turned_away is not None:
            self.turned_away(update)
        await self.lanes.turn_away(bot, update, admission)
        return UNHANDLED

    async def drain(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for the updates in hand; cancel and await what is
        still running after that.  Returns how many had to be cancelled."""
        running = {t for t in self.in_progress if t is not asyncio.current_task()}
        if not running:
            return 0
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            logger.warning(
                "Shutdown: cancelling %d updates still running after %s s", len(late), grace
            )
            await asyncio.wait(late)
        return len(late)

    async def start_polling(
        self,
        *bots: Bot,
        polling_timeout: int = 10,
        allowed_updates: list[str] | UNSET_TYPE | None = UNSET,
        handle_signals: bool = True,
        close_bot_session: bool = True,
        tasks_concurrency_limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Poll one bot until ``stop_polling`` (or SIGTERM/SIGINT), then shut down:
        aiogram's life cycle (start-up, shutdown handlers) around our loop, which never
        confirms to Telegram what it did not handle.  ``tasks_concurrency_limit``: the
        updates in hand past which nothing more is fetched.  aiogram's other polling
        options (``handle_as_tasks``, ``backoff_config``) do not apply."""
        if len(bots) != 1:
            raise ValueError("polling runs one bot")
        if self._polling_stop is not None:
            raise RuntimeError("polling is already running")
        for option in ("handle_as_tasks", "backoff_config"):
            kwargs.pop(option, None)
        (bot,) = bots
        if isinstance(allowed_updates, UNSET_TYPE):
            allowed_updates = self.resolve_used_update_types()
        stop = self._polling_stop = asyncio.Event()
        self._polling_stopped.clear()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, _stop_on_signal, stop, sig)
        data: dict[str, Any] = {"dispatcher": self, "bots": (bot,), **self.workflow_data}
        data.update(kwargs)
        poller = Poller(
            self,
            bot,
            in_hand_limit=tasks_concurrency_limit or MAX_BATCH,
            polling_timeout=polling_timeout,
            allowed_updates=allowed_updates,
            data=data,
        )
        try:
            await self.emit_startup(bot=bot, **data)
            logger.info("Start polling")
            try:
                await poller.run(stop)
            finally:
                logger.info("Polling stopped")
                await self.emit_shutdown(bot=bot, **data)  # the updates in hand drained
                await poller.confirm()
        finally:
            if close_bot_session:
                await bot.session.close()
            self._polling_stop = None
            self._polling_stopped.set()

    async def stop_polling(self) -> None:
        """Stop polling and wait until shutdown is done."""
        if self._polling_stop is None:
            raise RuntimeError("Polling is not started")
        self._polling_stop.set()
        await self._polling_stopped.wait()


def _stop_on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    logger.warning("Received %s signal", sig.name)
    stop.set()
