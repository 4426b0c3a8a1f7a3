"""Keys held under a lease by a token: only the holder may free or renew one, so an
instance whose lease ran out cannot free, or keep, a key that another has taken since."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)

# How long what an instance holds (an update's claim, a dialog lock, a post's edit lock)
# outlives it if it dies: its holder renews it every third of this while it lives, so
# a slow send keeps it, and a dead instance's holds are free within these seconds.
LEASE_SECONDS = 4.0

# ARGV: the holder's token.  Deletes the key only if it is still the holder's.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# ARGV: the lease in ms, the holder's token.  Extends the key only if it is the holder's.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
"""

# The renewal is stopped by an event, never cancelled in the middle of its call: a cancel
# that lands inside a Redis command can be absorbed by the client, and a renewal loop that
# outlives its cancel goes on renewing the lease forever, the block's exit waiting for it
# (seen under a storm as updates handled but never acknowledged, their claims alive).
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
