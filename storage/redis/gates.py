"""At most one live-count edit per poll per interval, whichever instance sends it."""

from __future__ import annotations

import logging
import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RedisRefreshGate:
    """The live-count refresher's ``RefreshGate``: ``SET NX PX`` per poll, one pass per
    interval."""

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
