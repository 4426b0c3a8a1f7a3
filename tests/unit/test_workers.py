"""The worker process: a task that kills it fails alone; the others it had are redone."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from bot.workers import WorkerProcess


async def test_a_task_that_kills_the_worker_fails_alone() -> None:
    worker = WorkerProcess(idle_seconds=None)
    try:
        assert await worker.run(pow, 2, 5) == 32  # started
        # Queued together: the worker dies at the second task, taking the rest with it.
        results = await asyncio.gather(
            worker.run(pow, 2, 1),
            worker.run(os._exit, 1),
            *(worker.run(pow, 2, n) for n in range(2, 8)),
            return_exceptions=True,
        )
        assert results[0] == 2
        assert isinstance(results[1], BrokenProcessPool)
        assert results[2:] == [2**n for n in range(2, 8)]
        assert await worker.run(pow, 3, 2) == 9  # and the worker serves on
    finally:
        worker.close()
    assert not worker.running


async def test_an_idle_worker_stops_and_the_next_task_starts_another() -> None:
    worker = WorkerProcess(idle_seconds=0.05)
    try:
        assert await worker.run(divmod, 7, 2) == (3, 1)
        assert worker.running
        while worker.running:  # the idle timer's own callback stops it
            await asyncio.sleep(0.01)
        assert await worker.run(divmod, 9, 4) == (2, 1)
    finally:
        worker.close()


async def test_keyword_arguments_reach_the_task() -> None:
    worker = WorkerProcess(idle_seconds=None)
    try:
        assert await worker.run(int, "ff", base=16) == 255
        with pytest.raises(ValueError):
            await worker.run(int, "zz", base=16)
    finally:
        worker.close()
