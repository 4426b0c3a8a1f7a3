"""Redis for tests: the local server (127.0.0.1:6379), one key prefix per test, removed after.

Without a reachable Redis the tests that need it are skipped with a reason, except in CI
(``CI=true``), where they fail: a green CI must not hide that they did not run.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def closed_port_url() -> str:
    """A Redis URL nothing listens on (Redis "stopped")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@dataclass
class RedisSpace:
    url: str
    prefix: str
    client: Redis


async def redis_space() -> AsyncIterator[RedisSpace]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        message = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield RedisSpace(REDIS_URL, prefix, client)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
