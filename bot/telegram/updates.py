"""The dispatcher, with the updates in progress tracked through its public hook.

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
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED, NextMiddlewareType
from aiogram.types import TelegramObject, Update

from bot.telegram.lanes import Admission, UpdateLanes

logger = logging.getLogger(__name__)

# What an update middleware calls to pass the update on (to the next middleware or the handler).
NextHandler = NextMiddlewareType[TelegramObject]


class TrackingDispatcher(Dispatcher):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_progress: set[asyncio.Task[Any]] = set()
        self.lanes: UpdateLanes | None = None  # set by the composition root

    async def feed_update(
        self, bot: Bot, update: Update, *, admission: Admission | None = None, **kwargs: Any
    ) -> Any:
        """aiogram's, within the update's slot (``admission``: the caller holds the slot
        and says what its line decided, as the webhook handler does)."""
        task = asyncio.current_task()
        if task is not None:
            self.in_progress.add(task)
        try:
            if self.lanes is None:
                return await super().feed_update(bot, update, **kwargs)
            if admission is not None:
                return await self._admitted(bot, update, admission, **kwargs)
            async with self.lanes.slot(update) as given:
                return await self._admitted(bot, update, given, **kwargs)
        finally:
            if task is not None:
                self.in_progress.discard(task)

    async def _admitted(
        self, bot: Bot, update: Update, admission: Admission, **kwargs: Any
    ) -> Any:
        if admission is Admission.RUN or self.lanes is None:
            return await super().feed_update(bot, update, **kwargs)
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
