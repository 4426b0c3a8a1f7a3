"""The queue of a group commit, for both backends: callers submit and wait for their own
result; one worker drains what has gathered.  How a batch is committed is the backend's
``_drain``."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

Args = TypeVar("Args")
Result = TypeVar("Result")


class GroupCommit(Generic[Args, Result]):
    def __init__(self) -> None:
        self._queue: list[tuple[Args, asyncio.Future[Result]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, args: Args) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Settle every queued future, batch by batch, until the queue is empty."""
        raise NotImplementedError
