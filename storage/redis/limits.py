"""Telegram's limits shared by every instance: GCRA buckets decided in Redis."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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
    """The shared rate limiter's buckets (``SharedBuckets``) in Redis: one atomic script per
    decision."""

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
