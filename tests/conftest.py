"""Test-wide settings and fixtures."""

from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fakes.feed_site import FeedSite
from tests.redis_support import RedisSpace, redis_space

# Property tests check correctness, not speed: no per-example deadline, so a loaded CI
# machine cannot turn a slow example into a failure.
settings.register_profile("newsroom", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("newsroom")


@pytest.fixture
async def redis() -> AsyncIterator[RedisSpace]:
    """A key prefix of its own on the local Redis (skipped if unreachable, failed in CI)."""
    async for space in redis_space():
        yield space


@pytest.fixture
async def site() -> AsyncIterator[FeedSite]:
    """The outlet's site on 127.0.0.1: feeds and article pages, as a test serves them."""
    server = FeedSite()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# Storage contract tests: the same tests against SQLite and PostgreSQL (tests/backends.py).
from tests.backends import (  # noqa: E402
    backend,
    backend_settings,
    empty_pg_database,
    pg_database,
    stores,
)

__all__ = ["backend", "backend_settings", "empty_pg_database", "pg_database", "stores"]
