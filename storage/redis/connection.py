"""The Redis client every shared adapter uses, and whether Redis answers."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import RedisError


def open_redis(url: str) -> Redis:
    """A client with short timeouts: a Redis that does not answer must not hang updates."""
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


async def redis_answers(redis: Redis, timeout: float = 2.0) -> bool:
    """For /healthz: does Redis answer a PING within ``timeout`` seconds?"""
    try:
        return bool(await asyncio.wait_for(redis.ping(), timeout))
    except (RedisError, OSError, TimeoutError):
        return False
