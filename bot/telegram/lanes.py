"""Two lines for the updates in hand: the desk's (editors) and everyone else's.

Polling takes in at most ``UPDATE_CONCURRENCY + UPDATE_BACKLOG`` updates at a time
(aiogram's ``tasks_concurrency_limit``) and stops fetching when that many are unfinished.
Of those, at most ``UPDATE_CONCURRENCY`` of the readers' updates run at once; the others
wait here, oldest first (``asyncio.Semaphore`` serves its waiters in order).  An editor's
update has its own line, so a ``/publish`` sent while three hundred readers wait for the
full text of a viral article runs at once, not after all of them (as the burst bench shows).
In webhook mode Telegram holds the waiting updates in its own connections (at most 40 at a
time), and the webhook handler takes the slot itself, so an update that waited until a
stop began is handed back to Telegram rather than run (by the webhook server).

A slot is taken before any of aiogram's middlewares run: the dialog's storage and its
isolation lock are touched only by updates that run, and the order in which updates reach
their line is the order they came in.  Being an editor is the desk's rule
(the editors' registry), asked without a query (``Editors.known``) for the same reason.
An editor added a moment ago may take the readers' line until the set is reloaded; a line
is not a right.  Telegram sets the sender, so nobody can put themselves in the desk's line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update

# Editors are a handful of people: this bounds what they can start at once.
DESK_SLOTS = 8

IsEditor = Callable[[int], bool]


class UpdateLanes:
    """The desk's line and the readers' line, each a bounded first-come-first-served one.

    Each line counts the updates running in it and those waiting for a slot, for the
    metrics (read at a scrape, so counting costs two additions per update).
    """

    names = ("desk", "readers")

    def __init__(
        self, is_editor: IsEditor, reader_slots: int, desk_slots: int = DESK_SLOTS
    ) -> None:
        self._is_editor = is_editor
        self.readers = asyncio.Semaphore(reader_slots)
        self.desk = asyncio.Semaphore(desk_slots)
        self._running = dict.fromkeys(self.names, 0)
        self._waiting = dict.fromkeys(self.names, 0)

    def lane_of(self, update: Update) -> str:
        user = UserContextMiddleware.resolve_event_context(update).user
        if user is not None and self._is_editor(user.id):
            return "desk"
        return "readers"

    def running(self, lane: str) -> int:
        return self._running[lane]

    def waiting(self, lane: str) -> int:
        return self._waiting[lane]

    @contextlib.asynccontextmanager
    async def slot(self, update: Update) -> AsyncIterator[None]:
        """Wait for a slot in ``update``'s line and hold it."""
        lane = self.lane_of(update)
        line = self.desk if lane == "desk" else self.readers
        self._waiting[lane] += 1
        try:
            await line.acquire()
        finally:
            self._waiting[lane] -= 1
        self._running[lane] += 1
        try:
            yield
        finally:
            self._running[lane] -= 1
            line.release()
