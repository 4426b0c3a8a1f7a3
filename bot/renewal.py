"""Renewing a lease while work runs: an update's claim, a dialog's lock, a post's lock.

The renewal is stopped by an event, never cancelled in the middle of its call: a cancel
that lands inside a Redis command can be absorbed by the client, and a renewal loop that
outlives its cancel goes on renewing the lease forever, the block's exit waiting for it
(seen under a storm as updates handled but never acknowledged, their claims alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)

# Renews the lease; False: it is not ours any more (it ran out and another took it).
Renew = Callable[[], Awaitable[bool]]


@contextlib.asynccontextmanager
async def renewed(renew: Renew, every: float, what: str) -> AsyncIterator[None]:
    """Call ``renew`` every ``every`` seconds while the block runs."""
    done = asyncio.Event()

    async def renewing() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), every)
            if done.is_set():
                return
            try:
                if not await renew():
                    logger.warning("%s: the lease ran out before the work was done", what)
                    return
            except Exception as exc:  # Redis away for a moment: the next try may do
                logger.warning("Could not renew %s: %s", what, exc)

    task = asyncio.create_task(renewing())
    try:
        yield
    finally:
        done.set()
        # At most the call under way (bounded by the client's socket timeout); shielded
        # from a cancel of this task, which still arrives once the renewal has ended.
        await asyncio.wait([task])
