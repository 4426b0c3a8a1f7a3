"""Test-wide settings and fixtures."""

from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings

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


# Storage contract tests: the same tests against SQLite and PostgreSQL (tests/backends.py).
from tests.backends import (  # noqa: E402
    backend,
    backend_settings,
    empty_pg_database,
    pg_database,
    stores,
)

__all__ = ["backend", "backend_settings", "empty_pg_database", "pg_database", "stores"]
