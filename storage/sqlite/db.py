"""The SQLite connection: pragmas, migrations and serialized transactions.

One aiosqlite connection runs every statement on one worker thread, so two tasks that
interleave ``BEGIN``s on it would corrupt each other's transactions.  Every database
operation therefore goes through ``Database.lock``: a transaction holds it from
``BEGIN IMMEDIATE`` to ``COMMIT``, a single statement holds it for that statement.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.errors import StorageError

logger = logging.getLogger(__name__)

Row = sqlite3.Row
T = TypeVar("T")
Params = Sequence[Any]


def _migrations() -> list[tuple[int, str, str]]:
    """Numbered ``NNNN_name.sql`` scripts shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations.sqlite").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = 5000) -> Database:
        if str(path) != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the folder of database {path}: {exc.strerror}"
                ) from exc
        connecting = aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn = await connecting
        except sqlite3.Error as exc:
            # aiosqlite's worker thread still has to answer its own stop(): wait for it,
            # or it would call back into an event loop that asyncio.run has closed.
            await asyncio.to_thread(connecting._thread.join, 5)
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        db = cls(conn)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await db.migrate()
        except sqlite3.Error as exc:
            await conn.close()
            raise StorageError(f"cannot use database {path}: {exc}") from exc
        return db

    async def migrate(self) -> int:
        """Apply every migration newer than ``PRAGMA user_version``; returns the version.

        Each script carries its own ``BEGIN … PRAGMA user_version = N; COMMIT;`` because
        ``executescript`` commits any open transaction before it runs.
        """
        async with self.lock:
            version = await self._user_version()
            for number, name, script in _migrations():
                if number <= version:
                    continue
                logger.info("Applying migration %s", name)
                try:
                    await self._conn.executescript(script)
                except sqlite3.Error:
                    if self._conn.in_transaction:
                        await self._conn.rollback()
                    raise
                version = await self._user_version()
                if version != number:
                    raise StorageError(f"migration {name} did not set user_version to {number}")
            return version

    async def _user_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        async with self.lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` under the lock; rolled back on any error.

        The worker thread runs queued calls in order even when the awaiting task is
        cancelled, so the rollback (queued after the BEGIN) always ends what BEGIN
        started: a cancellation can never leave the shared connection inside a
        transaction.
        """
        async with self.lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield Transaction(self._conn)
                await self._conn.commit()
            except BaseException:
                await asyncio.shield(self._rollback())
                raise

    async def _rollback(self) -> None:
        try:
            await self._conn.rollback()
        except (sqlite3.Error, ValueError):
            logger.exception("Rollback failed")

    async def run_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` as one ``BEGIN IMMEDIATE … COMMIT`` in a single worker-thread call.

        For hot paths (a reader's vote): one hop to the database thread instead of one
        per statement, so the lock is held for microseconds, not for a dozen hops.
        ``work`` must be plain sqlite3 code and must not touch the event loop.
        """

        def transaction(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            return result

        async with self.lock:
            # aiosqlite has no public "run this function on the connection's thread";
            # _execute is that, and _conn is the sqlite3 connection it owns.
            result: T = await self._conn._execute(  # type: ignore[no-untyped-call]
                transaction, self._conn._conn
            )
            return result

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One autocommitted statement; returns the number of rows changed."""
        async with self.lock:
            cursor = await self._conn.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.lock, self._conn.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.lock, self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


class Transaction:
    """Statements run inside ``Database.transaction()``; the lock is already held."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row id."""
        cursor = await self._conn.execute(sql, params)
        row_id = cursor.lastrowid
        await cursor.close()
        if row_id is None:
            raise StorageError("insert returned no row id")
        return row_id

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())
