"""Locks across instances, held under a short lease that the holder renews while it lives:
one edit of a channel post at a time (a slow edit never lands after a newer one), and one
update of a dialog at a time (aiogram's event isolation)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterator

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.exceptions import RedisError

from storage.redis.leases import RELEASE, RENEW, renewed

logger = logging.getLogger(__name__)


class RedisLeasedLocks:
    """One holder per key across instances.

    ``SET NX PX`` with a token of this hold; the holder renews it every third of the lease
    while it works (an edit can wait long for the channel's budget), and frees it only if
    the token is still its own.  An instance that dies holding it holds the key up for
    at most ``lease`` seconds.  If taking it fails half-way (the answer lost, or the
    holder cancelled after Redis set the key), the token is deleted again, so no hold is
    left behind that nobody can free.  With Redis away, the work goes ahead without it:
    better an edit, ordered within its own process, than none.
    """

    POLL_SECONDS = 0.05  # how often a waiting instance tries again

    def __init__(self, redis: Redis, *, lease: float) -> None:
        self.redis = redis
        self.lease = lease
        self.lease_ms = max(1, math.ceil(lease * 1000))
        self._release = redis.register_script(RELEASE)
        self._renew = redis.register_script(RENEW)

    @contextlib.asynccontextmanager
    async def hold_key(self, name: str) -> AsyncIterator[None]:
        """Hold the Redis key ``name`` while the block runs, renewing its lease."""
        token = uuid.uuid4().hex
        try:
            held = await self._take(name, token)
        except BaseException:
            await self._free(name, token, quiet=True)
            raise
        try:
            if not held:
                yield
                return

            async def renew() -> bool:
                return bool(await self._renew(keys=[name], args=[self.lease_ms, token]))

            async with renewed(renew, self.lease / 3, name):
                yield
        finally:
            await self._free(name, token, quiet=not held)

    async def _take(self, name: str, token: str) -> bool:
        while True:
            try:
                if await self.redis.set(name, token, nx=True, px=self.lease_ms):
                    return True
            except RedisError as exc:
                logger.warning("Lock unavailable (%s): going on with %s without it", exc, name)
                return False
            await asyncio.sleep(self.POLL_SECONDS)

    async def _free(self, name: str, token: str, *, quiet: bool = False) -> None:
        """Delete the key if it is this hold's; shielded, so a cancel does not skip it.
        ``quiet``: it was perhaps never taken (Redis failed or the taking was cancelled)."""
        try:
            await asyncio.shield(self._release(keys=[name], args=[token]))
        except RedisError as exc:
            log = logger.debug if quiet else logger.warning
            log("Could not free %s (%s): it expires after its lease", name, exc)


class RedisPostLocks(RedisLeasedLocks):
    """The channel's ``SharedLocks``: one holder per post across instances."""

    def __init__(self, redis: Redis, prefix: str, *, lease: float) -> None:
        super().__init__(redis, lease=lease)
        self.prefix = f"{prefix}:post:"

    def hold(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self.hold_key(f"{self.prefix}{key}")


class RedisDialogIsolation(BaseEventIsolation):
    """aiogram's event isolation (one update of a dialog at a time) across instances.

    aiogram's ``RedisEventIsolation`` holds its lock for a fixed time without renewing
    it: long enough for the slowest update, it also keeps a dead instance's dialogs locked
    that long.  This one renews a short lease while the update runs.
    """

    def __init__(self, redis: Redis, key_builder: KeyBuilder, *, lease: float) -> None:
        self.locks = RedisLeasedLocks(redis, lease=lease)
        self.key_builder = key_builder

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        async with self.locks.hold_key(self.key_builder.build(key, "lock")):
            yield

    async def close(self) -> None:
        """The Redis client is the app's: it closes it."""
