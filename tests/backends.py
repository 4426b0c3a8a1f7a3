"""Both storage backends for the repository contract tests.

``backend`` is parametrised over SQLite (a file in the test's temporary folder) and
PostgreSQL (a database created for this test run, ``newsroom_test_<random>``, emptied
before each test and dropped at the end).  ``backend.open()`` opens the stores the way
the app does (``storage.open_stores``); each call is a new pool, as another process
would have, so races between two of them are decided by the database alone.

PostgreSQL is found at ``NEWSROOM_TEST_POSTGRES`` (default: user postgres at
127.0.0.1:5432, database ``test``, from which the test databases are created).  When it
cannot be reached, its tests are skipped with the reason, except in CI (``CI=true``),
where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import SecretStr
from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError

from storage import Stores, open_stores

ADMIN_URL = os.environ.get("NEWSROOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")


def database_url(name: str) -> str:
    """The URL of database ``name`` on the test server."""
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


@cache
def _unreachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=5)
        await conn.close()

    try:
        # On a thread of its own: callers may be inside a running event loop.
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, probe()).result()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL not reachable at {urlsplit(ADMIN_URL).netloc}: {exc}"
    return None


def need_postgres() -> None:
    """Skip the test without PostgreSQL; fail it in CI, where it must be there."""
    reason = _unreachable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(reason)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database() -> str:
    """A new empty database; returns its name."""
    name = f"newsroom_test_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    return name


async def drop_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """This test run's own database (its URL), migrated by the first test to open it."""
    need_postgres()
    name = asyncio.run(create_database())
    try:
        yield database_url(name)
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
async def empty_pg_database() -> AsyncIterator[str]:
    """A database of its own for one test (migrations start from nothing)."""
    need_postgres()
    name = await create_database()
    try:
        yield database_url(name)
    finally:
        await drop_database(name)


@dataclass(frozen=True)
class StoreSettings:
    """The part of ``bot.settings.Settings`` that ``open_stores`` reads."""

    database_path: Path
    database_url: SecretStr | None = None
    database_busy_timeout_ms: int = 5000


@dataclass
class Backend:
    name: str
    settings: StoreSettings
    opened: list[Stores] = field(default_factory=list)

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    async def open(self) -> Stores:
        """The stores on a new connection pool, as another process would have."""
        stores = await open_stores(self.settings)
        self.opened.append(stores)
        return stores

    async def execute(self, stores: Stores, sql: str, *args: Any) -> None:
        """Raw SQL written with ``?`` placeholders, in a write transaction, on either
        backend."""
        statement, params = raw(sql, args)
        async with stores.db.transaction() as conn:
            await conn.execute(statement, params)

    async def fetch_all(self, stores: Stores, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """The rows of a raw query (``?`` placeholders) as tuples, from a read snapshot."""
        statement, params = raw(sql, args)
        async with stores.db.read() as conn:
            rows = (await conn.execute(statement, params)).all()
        return [tuple(row) for row in rows]

    @property
    def integrity_error(self) -> type[Exception]:
        """What a violated constraint raises, whatever the engine."""
        return IntegrityError


def raw(sql: str, args: Sequence[Any]) -> tuple[TextClause, dict[str, Any]]:
    """SQL written with ``?`` placeholders as a ``text`` clause with named parameters,
    which SQLAlchemy renders in each driver's own style."""
    numbers = iter(range(len(args)))
    statement = re.sub(r"\?", lambda _: f":p{next(numbers)}", sql)
    return text(statement), {f"p{i}": value for i, value in enumerate(args)}


TABLES = (
    "articles, article_paragraphs, article_tags, article_reads, draft_previews, "
    "polls, poll_options, poll_votes, dialog_states, desk_editors, editor_actions, "
    "post_reactions, article_search, search_terms, search_pending, digests, "
    "channel_messages, article_versions, archive_pages, "
    "feeds, feed_items, feed_cards, feed_corrections"
)


async def emptied(stores: Stores) -> None:
    """Every data table of a PostgreSQL database emptied, ids restarted (the migration
    history, ``alembic_version``, stays)."""
    async with stores.db.transaction() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, StoreSettings]:
    """Synchronous, so that the session's database is created outside any event loop."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_database")
        path = tmp_path / "unused.sqlite3"
        return "postgres", StoreSettings(database_path=path, database_url=SecretStr(url))
    return "sqlite", StoreSettings(database_path=tmp_path / "news.sqlite3")


@pytest.fixture
async def backend(backend_settings: tuple[str, StoreSettings]) -> AsyncIterator[Backend]:
    chosen = Backend(*backend_settings)
    if chosen.is_postgres:
        stores = await chosen.open()  # migrates the run's database on first use
        await emptied(stores)
    try:
        yield chosen
    finally:
        for stores in chosen.opened:
            await stores.close()


@pytest.fixture
async def stores(backend: Backend) -> Stores:
    """One process's stores on the backend under test."""
    return await backend.open()
