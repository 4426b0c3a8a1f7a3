"""Redis: what several bot instances must share besides the database.

* ``RedisBuckets`` — Telegram's limits as GCRA buckets decided by one Lua script, so all
  instances together stay under them (bot/telegram/pacing.py ``SharedRateLimiter``).
* ``RedisRefreshGate`` — at most one live-count edit per poll per interval, whoever sends it
  (bot/polls/refresher.py).
* ``RedisUpdateLedger`` — ids of handled webhook updates, so a redelivered update is
  acknowledged without being handled twice (bot/telegram/webhook.py).
* ``RedisPostLocks`` — one edit of a channel post at a time across instances, so a slow
  edit never lands after a newer one (bot/telegram/channel.py ``Channel.message_lock``).

Every key starts with the prefix given (``REDIS_PREFIX``), so several bots, or tests, can
share one server.  Times are the Redis server's (``TIME``), so instances with different
clocks agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.repositories import Claim

logger = logging.getLogger(__name__)

__all__ = [
    "RedisBuckets",
    "RedisPostLocks",
    "RedisRefreshGate",
    "RedisUpdateLedger",
    "open_redis",
]


def open_redis(url: str) -> Redis:
    """A client with short timeouts: a Redis that does not answer must not hang updates."""
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


# GCRA: the bucket keeps its theoretical arrival time (TAT, ms).  A request may go when
# TAT - (burst - 1) * interval <= now; it moves TAT to max(TAT, now) + interval.
# ARGV: interval ms, burst, mode ('take' | 'hold'), hold ms.  Returns the wait in ms as a
# string ("0" = taken): Lua numbers would be cut to integers on the way out.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if ARGV[3] == 'hold' then
  local held = now + tonumber(ARGV[4]) + (burst - 1) * interval
  if held > tat then
    redis.call('SET', KEYS[1], string.format('%.3f', held), 'PX', math.ceil(held - now) + 1000)
  end
  return '0'
end
local ready = tat - (burst - 1) * interval
if ready > now then
  return string.format('%.3f', ready - now)
end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', new), 'PX', math.ceil(new - now) + 1000)
return '0'
"""


class RedisBuckets:
    """``bot.telegram.pacing.SharedBuckets`` in Redis: one atomic script per decision."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:rate:"
        self._script = redis.register_script(_GCRA)

    async def take(self, key: str, interval: float, burst: int) -> float | None:
        """0.0: a slot was taken; > 0: seconds until one may be; None: Redis is down."""
        try:
            wait = await self._script(
                keys=[self.prefix + key], args=[interval * 1000, burst, "take", 0]
            )
        except RedisError as exc:
            logger.warning("Shared rate limit unavailable (%s): pacing locally", exc)
            return None
        return float(wait) / 1000

    async def hold(self, key: str, interval: float, burst: int, seconds: float) -> None:
        """Telegram said 429: nobody sends on ``key`` for ``seconds``."""
        try:
            await self._script(
                keys=[self.prefix + key], args=[interval * 1000, burst, "hold", seconds * 1000]
            )
        except RedisError as exc:
            logger.warning("Could not share a 429 wait (%s)", exc)


class RedisRefreshGate:
    """``bot.polls.refresher.RefreshGate``: ``SET NX PX`` per poll, one pass per interval."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:refresh:"

    async def try_pass(self, key: int, interval: float) -> float:
        """0.0: this instance may edit now; else seconds until the gate opens."""
        name = f"{self.prefix}{key}"
        ms = max(1, math.ceil(interval * 1000))
        try:
            if await self.redis.set(name, "1", nx=True, px=ms):
                return 0.0
            left = await self.redis.pttl(name)
        except RedisError as exc:
            # Better an extra edit (paced anyway) than counts left unshown.
            logger.warning("Refresh gate unavailable (%s): refreshing poll %s", exc, key)
            return 0.0
        return max(0.001, int(left) / 1000) if int(left) > 0 else 0.001


# Claim: a new update gets "busy:<owner>" with a lease (the instance handling it may
# die), which its owner renews while it works; a handled one is "done" for ``ttl``.  Only
# the owner releases or renews: an instance whose lease ran out cannot free, or keep,
# a claim that another has taken since.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  return 'new'
end
local state = redis.call('GET', KEYS[1])
if not state then return 'gone' end
if string.sub(state, 1, 5) == 'busy:' then return 'busy' end
return state
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
"""


class RedisPostLocks:
    """``bot.telegram.channel.SharedLocks``: one holder per post across instances.

    ``SET NX PX`` with a token of this hold; the holder renews it every third of the lease
    while it works (an edit can wait long for the channel's budget), and frees it only if
    the token is still its own.  An instance that dies holding it holds the post's edits
    up for at most ``lease`` seconds.  If taking it fails half-way (the answer lost, or the
    holder cancelled after Redis set the key), the token is deleted again, so no hold is
    left behind that nobody can free.  With Redis away, the edit goes ahead without it:
    better an edit, ordered within its own process, than none.
    """

    POLL_SECONDS = 0.05  # how often a waiting instance tries again

    def __init__(self, redis: Redis, prefix: str, *, lease: float) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:post:"
        self.lease = lease
        self.lease_ms = max(1, math.ceil(lease * 1000))
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        name = f"{self.prefix}{key}"
        token = uuid.uuid4().hex
        try:
            held = await self._take(name, token)
        except BaseException:
            await self._free(name, token, quiet=True)
            raise
        renewing = asyncio.create_task(self._renewing(name, token)) if held else None
        try:
            yield
        finally:
            try:
                if renewing is not None:
                    renewing.cancel()
                    # Not ``await renewing``: a cancel of this task arriving meanwhile
                    # would be spent on the renewal and lost.
                    await asyncio.wait([renewing])
            finally:
                await self._free(name, token, quiet=not held)

    async def _take(self, name: str, token: str) -> bool:
        while True:
            try:
                if await self.redis.set(name, token, nx=True, px=self.lease_ms):
                    return True
            except RedisError as exc:
                logger.warning("Post lock unavailable (%s): editing %s without it", exc, name)
                return False
            await asyncio.sleep(self.POLL_SECONDS)

    async def _renewing(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._renew(keys=[name], args=[self.lease_ms, token]):
                    logger.warning("%s: the lease ran out before the edit was done", name)
                    return
            except Exception as exc:  # Redis away for a moment: the next try may do
                logger.warning("Could not renew %s: %s", name, exc)

    async def _free(self, name: str, token: str, *, quiet: bool = False) -> None:
        """Delete the key if it is this hold's; shielded, so a cancel does not skip it.
        ``quiet``: it was perhaps never taken (Redis failed or the taking was cancelled)."""
        try:
            await asyncio.shield(self._release(keys=[name], args=[token]))
        except RedisError as exc:
            log = logger.debug if quiet else logger.warning
            log("Could not free %s (%s): it expires after its lease", name, exc)


class RedisUpdateLedger:
    """``bot.telegram.webhook.UpdateLedger`` shared by all instances."""

    def __init__(self, redis: Redis, prefix: str, *, ttl: float, lease: float) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:update:"
        self.ttl_ms = max(1, math.ceil(ttl * 1000))
        self.lease_ms = max(1, math.ceil(lease * 1000))
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        self.owner = f"busy:{uuid.uuid4().hex}"
        # The handler renews a claim this often while it works on the update.
        self.renew_every: float | None = lease / 3
        self._webhook_key = f"{prefix}:webhook:fingerprint"

    async def claim(self, update_id: int) -> Claim:
        answer: Any = await self._claim(
            keys=[f"{self.prefix}{update_id}"], args=[self.lease_ms, self.owner]
        )
        state = answer.decode() if isinstance(answer, bytes) else str(answer)
        if state == "new":
            return Claim.NEW
        if state == "done":
            return Claim.DONE
        if state == "busy":
            return Claim.BUSY
        return await self.claim(update_id)  # expired between SET and GET: try again

    async def done(self, update_id: int) -> None:
        await self.redis.set(f"{self.prefix}{update_id}", "done", px=self.ttl_ms)

    async def release(self, update_id: int) -> None:
        await self._release(keys=[f"{self.prefix}{update_id}"], args=[self.owner])

    async def renew(self, update_id: int) -> None:
        await self._renew(keys=[f"{self.prefix}{update_id}"], args=[self.lease_ms, self.owner])

    async def webhook_fingerprint(self) -> str | None:
        value = await self.redis.get(self._webhook_key)
        return value.decode() if isinstance(value, bytes) else value

    async def remember_webhook(self, fingerprint: str) -> None:
        await self.redis.set(self._webhook_key, fingerprint)


async def redis_answers(redis: Redis, timeout: float = 2.0) -> bool:
    """For /healthz: does Redis answer a PING within ``timeout`` seconds?"""
    try:
        return bool(await asyncio.wait_for(redis.ping(), timeout))
    except (RedisError, OSError, TimeoutError):
        return False
