"""A worker process for CPU-bound pure functions: drawing charts, parsing feeds, reading
article pages.

Python runs one thread of Python at a time, so a parser on a thread still takes the
event loop's core; in a process of its own it uses the machine's other core and the bot
goes on answering meanwhile.  The worker is spawned, not forked (a fork of the running
bot would copy its threads' locks in whatever state they are), at its first task, and
stopped after ``idle_seconds`` without one (``None``: kept until ``close``), which gives
its memory back.  A worker that died (killed, out of memory) fails the tasks it had with
``BrokenProcessPool`` and is replaced for the next one.

This module imports nothing of the bot's: the worker imports it at start.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def watch_parent() -> None:
    """The worker's initializer: it exits when the bot's process is gone (killed, with
    no shutdown), which its pool's queue would otherwise never tell it."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()


class WorkerProcess:
    """One worker process; its tasks run one at a time, in the order given."""

    def __init__(self, idle_seconds: float | None) -> None:
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._busy = 0
        self._alone = asyncio.Lock()

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` in the worker; all must be picklable (a
        module-level function, plain data).

        A worker that dies fails every task it had queued, whichever one killed it (a
        parser's crash, the kernel's out-of-memory killer): each is tried once more, alone
        in a fresh worker, so that only the task that breaks that one too raises
        ``BrokenProcessPool``."""
        task = functools.partial(function, *args, **kwargs)
        try:
            return await self._submit(task)
        except BrokenProcessPool:
            async with self._alone:
                return await self._submit(task)

    async def _submit(self, task: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=watch_parent
            )
        pool = self._pool
        self._busy += 1
        try:
            return await loop.run_in_executor(pool, task)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
            raise
        finally:
            self._busy -= 1
            if not self._busy and self._pool is not None and self._idle_seconds is not None:
                self._idle = loop.call_later(self._idle_seconds, self.close)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        """Stop the worker (idle, or the bot stopping); the next task starts another."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
