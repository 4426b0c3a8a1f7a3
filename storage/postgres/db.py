"""PostgreSQL through an asyncpg pool: connecting, migrations, transactions, errors.

Several bot instances may share one PostgreSQL database, so nothing here relies on being
the only process: every guarantee is a statement (a conditional ``UPDATE``, a primary
key, ``ON CONFLICT``), and transactions run at PostgreSQL's default READ COMMITTED, where
a conditional ``UPDATE`` that waited for another transaction's row re-checks its
``WHERE`` against the committed row.

Migrations are the numbered scripts in ``storage/migrations/postgres``; each runs in its
own transaction together with its row in ``schema_migrations``, all under a session-level
``pg_advisory_lock``, so instances starting together migrate once: the second waits for
the first and then finds nothing to do.

An unreachable or unusable server is a ``StorageError`` naming the server, never the
password.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.errors import StorageError

logger = logging.getLogger(__name__)

Record = asyncpg.Record
if TYPE_CHECKING:  # asyncpg's classes are generic in its stubs only
    Connection: TypeAlias = asyncpg.Connection[Record] | PoolConnectionProxy[Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy

# pg_advisory_lock key of the migrations: "newsroom" in the first 8 bytes, as a bigint.
MIGRATION_LOCK = int.from_bytes(b"newsroom", "big") & 0x7FFF_FFFF_FFFF_FFFF

# What "the server is gone" looks like to asyncpg: a socket error, a broken or refused
# connection, a server shutting down, a timeout.
UNREACHABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)

CONNECT_ERRORS: tuple[type[Exception], ...] = (*UNREACHABLE, asyncpg.PostgresError)


def redact(url: str) -> str:
    """The URL with its password replaced, fit for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid database URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def where(url: str) -> str:
    """``host:port/dbname`` only: what a message needs to name the server."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    except ValueError:
        return "<invalid database URL>"


def _migrations() -> list[tuple[int, str, str]]:
    """Numbered ``NNNN_name.sql`` scripts shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations.postgres").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def latest_version() -> int:
    return max(number for number, _, _ in _migrations())


async def apply_migrations(conn: Connection) -> int:
    """Bring the schema up to date under the migration lock; returns the version.

    The lock is per database, held by this session until unlocked (or the connection
    drops), so a second instance blocks here until the first has committed."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # Every script not yet recorded, not only those above the highest: branches merged
        # late can bring a lower number (0008, search) than one already applied (0009).
        applied = {
            row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")
        }
        version = max(applied, default=0)
        for number, name, script in _migrations():
            if number in applied:
                continue
            logger.info("Applying PostgreSQL migration %s", name)
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", number, name
                )
            version = max(version, number)
        return version
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


class Database:
    """A pool of connections to one PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool[Record], url: str) -> None:
        self._pool = pool
        self.where = where(url)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
        migrate: bool = True,
    ) -> Database:
        """Connect and migrate; ``StorageError`` with one clear line if the server cannot
        be reached or used."""
        place = where(url)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=min_size, max_size=max_size, timeout=timeout
            )
        except CONNECT_ERRORS as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {place}: {_why(exc)}") from exc
        except ValueError as exc:  # a malformed URL, refused by asyncpg's parser
            raise StorageError(f"invalid PostgreSQL URL for {place}") from exc
        db = cls(pool, url)
        if migrate:
            try:
                await db.migrate()
            except BaseException:
                await db.close()
                raise
        return db

    async def migrate(self) -> int:
        async with self.connection() as conn:
            try:
                return await apply_migrations(conn)
            except asyncpg.PostgresError as exc:
                raise StorageError(f"cannot migrate PostgreSQL at {self.where}: {exc}") from exc

    async def close(self) -> None:
        """Wait for the connections in use to come back, then close them all."""
        await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection of the pool, outside any transaction; a lost server becomes a
        ``StorageError``."""
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except UNREACHABLE as exc:
            raise StorageError(f"PostgreSQL at {self.where} is unreachable: {_why(exc)}") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One transaction on one connection: committed at the end of the block, rolled
        back on any error or cancellation."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def execute(self, sql: str, *args: Any) -> str:
        """One autocommitted statement; returns PostgreSQL's status line (``UPDATE 1``)."""
        async with self.connection() as conn:
            return await conn.execute(sql, *args)

    async def fetch_one(self, sql: str, *args: Any) -> Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetch_all(self, sql: str, *args: Any) -> list[Record]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)


def changed(status: str) -> int:
    """Rows changed, from a status line such as ``UPDATE 1`` or ``INSERT 0 1``."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
