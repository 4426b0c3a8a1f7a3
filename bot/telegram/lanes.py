"""Two lines for the updates in hand: the desk's (editors) and everyone else's.

Polling takes in at most ``UPDATE_CONCURRENCY + UPDATE_BACKLOG`` updates at a time
(aiogram's ``tasks_concurrency_limit``) and stops fetching when that many are unfinished.
Of those, at most ``UPDATE_CONCURRENCY`` of the readers' updates run at once; the others
wait here, oldest first (``asyncio.Semaphore`` serves its waiters in order).  An editor's
update has its own line, so a ``/publish`` sent while three hundred readers wait for the
full text of a viral article runs at once instead of after all of them (``bench/burst.py``).

Registered on ``dispatcher.update`` after aiogram's own middlewares, which find the user
(``event_from_user``).  Being an editor is the desk's rule (``bot/desk/editors.py``), asked
without a query (``Editors.known``): the choice must not wait, or presses that waited for
it would be overtaken by later ones.  An editor added on another instance a moment ago
takes the readers' line until the set is reloaded; a line is not a right.  Telegram sets
the sender, so nobody can put themselves in the desk's line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

# Editors are a handful of people: this bounds what one of them can start at once.
DESK_SLOTS = 8

IsEditor = Callable[[int], bool]


class UpdateLanes(BaseMiddleware):
    def __init__(self, is_editor: IsEditor, reader_slots: int, desk_slots: int = DESK_SLOTS):
        self._is_editor = is_editor
        self.readers = asyncio.Semaphore(reader_slots)
        self.desk = asyncio.Semaphore(desk_slots)

    def lane_of(self, data: dict[str, Any]) -> asyncio.Semaphore:
        user = data.get("event_from_user")
        if isinstance(user, User) and self._is_editor(user.id):
            return self.desk
        return self.readers

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.lane_of(data):
            return await handler(event, data)
