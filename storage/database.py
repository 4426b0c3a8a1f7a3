"""The database, on either engine, through SQLAlchemy Core's asyncio API.

SQLite (the default, ``sqlite+aiosqlite``) and PostgreSQL (``postgresql+asyncpg``) take
the same statements.  Every guarantee the newsroom relies on is a statement the database
decides (a conditional ``UPDATE``, a primary key, ``ON CONFLICT``), so it holds between
two ``Database`` objects, two processes, or instances sharing one PostgreSQL server.

SQLite
    One *writer* connection (a pool of one) and a few *readers* (WAL lets readers see the
    last committed state while the writer writes).  Write transactions queue for the
    writer in this process, in arrival order, instead of polling SQLite's busy handler;
    another process on the same file waits ``busy_timeout``.  A write transaction starts
    with ``BEGIN IMMEDIATE``: the write lock is taken up front, so a transaction that
    reads and then writes never meets a stale snapshot.  Readers run ``query_only``, so a
    write sent to one fails loudly instead of racing.  SQLite's own transaction handling
    in the driver is off; SQLAlchemy's ``begin`` event emits ours.  ``synchronous=FULL``:
    a commit is on disk before it is acknowledged, so a vote answered or a post recorded
    survives a power cut (measured: the vote capacity's share of the floor went from 0.98
    to 0.93 with it, group commit sharing one sync among the presses of a batch).
    ``rows``/``row`` and ``write`` take the same Core statements in one trip to an
    aiosqlite connection's thread instead of SQLAlchemy's five (``storage.direct``): the
    statements readers wait for use them.

PostgreSQL
    One pool for everything, at the default READ COMMITTED: a conditional ``UPDATE``
    that waited for another transaction's row re-checks its ``WHERE`` against the
    committed row.

An unreachable or unusable database is a ``StorageError`` naming it, never a password.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
from sqlalchemy import Executable, Table, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from bot.errors import StorageError
from storage import direct as direct_path

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]

SQLITE_READERS = 2
POSTGRES_POOL = 10
# A write waits its turn for the one writer connection as long as it takes: under a
# storm hundreds queue for a millisecond each.
WRITER_QUEUE_TIMEOUT = 3600.0
# A row by column name, whichever way it was read.
Row = Mapping[Any, Any]


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
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def where(url: str) -> str:
    """``host:port/dbname`` only: what a message needs to name the server."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    except ValueError:
        return "<invalid database URL>"


def postgres_url(url: str) -> URL:
    """A ``postgresql://`` URL as SQLAlchemy's asyncpg dialect takes it."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg")


def _why(error: BaseException) -> str:
    cause = error.orig if isinstance(error, exc.DBAPIError) and error.orig else error
    text_ = str(cause).strip() or type(cause).__name__
    return text_.splitlines()[0]


def _probe(path: str) -> None:
    sqlite3.connect(path).close()


async def _mapped(
    conn: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Row]:
    """A statement's rows by column name, through SQLAlchemy's execution."""
    return (await conn.execute(statement, params)).mappings().all()


def _pragmas(busy_timeout_ms: int, synchronous: str) -> tuple[str, ...]:
    """What every connection of ours to a SQLite file sets."""
    return (
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        f"PRAGMA synchronous = {synchronous}",
        "PRAGMA foreign_keys = ON",
    )


def _sqlite_engine(
    path: str, busy_timeout_ms: int, *, writer: bool, pool_size: int, synchronous: str
) -> AsyncEngine:
    # Readers run each statement on its own (SQLite makes one statement one snapshot),
    # so a read costs its statement and nothing else: no BEGIN, no COMMIT, no rollback
    # when the connection goes back to its pool.  ``Database.snapshot`` opens a
    # transaction where several statements must agree.
    readonly: dict[str, Any] = (
        {} if writer else {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}
    )
    engine = create_async_engine(
        URL.create("sqlite+aiosqlite", database=path),
        # Also for ":memory:" (where SQLAlchemy would share one connection between
        # transactions): the database lives in the pool's one connection.
        poolclass=AsyncAdaptedQueuePool,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=WRITER_QUEUE_TIMEOUT,
        **readonly,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def prepare(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            if writer:
                cursor.execute("PRAGMA journal_mode = WAL")  # persistent: readers find it
            for pragma in _pragmas(busy_timeout_ms, synchronous):
                cursor.execute(pragma)
            if not writer:
                cursor.execute("PRAGMA query_only = ON")
        finally:
            cursor.close()

    if writer:

        @event.listens_for(engine.sync_engine, "begin")
        def start(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """The engines of one database: ``transaction()`` to write, ``read()`` to read."""

    def __init__(
        self,
        dialect: Dialect,
        writer: AsyncEngine,
        reader: AsyncEngine,
        where: str,
        direct: direct_path.Readers | None = None,
    ) -> None:
        self.dialect: Dialect = dialect
        self.writer = writer
        self.reader = reader
        self.where = where
        # On a SQLite file: the one-hop path of ``rows`` and ``write``.
        self._direct = direct
        self._statements = direct_path.Statements()
        self._tracer: Callable[[str], object] | None = None
        # Transactions and reads in flight, so that closing waits for them.
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @classmethod
    async def open_sqlite(
        cls,
        path: Path | str,
        *,
        busy_timeout_ms: int = 5000,
        readers: int = SQLITE_READERS,
        synchronous: str = "FULL",
        migrate: bool = True,
    ) -> Database:
        """Open (creating the file and its folder if needed) and bring the schema up to
        date; ``StorageError`` with one clear line if the file cannot be used."""
        name = str(path)
        in_memory = name == ":memory:"
        if not in_memory:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageError(
                    f"cannot create the folder of database {path}: {error.strerror}"
                ) from error
            # A file that cannot be opened is one clear line before any connection of
            # aiosqlite's exists: a failed aiosqlite connect leaves its thread to answer
            # a loop that may be gone by then (a traceback after the one clear line).
            try:
                await asyncio.to_thread(_probe, name)
            except sqlite3.Error as error:
                raise StorageError(f"cannot open database {path}: {error}") from error
        writer = _sqlite_engine(
            name, busy_timeout_ms, writer=True, pool_size=1, synchronous=synchronous
        )
        # An in-memory database lives in its one connection: it reads there too.
        reader = (
            writer
            if in_memory
            else _sqlite_engine(
                name, busy_timeout_ms, writer=False, pool_size=readers, synchronous=synchronous
            )
        )
        direct = (
            None
            if in_memory
            else direct_path.Readers(name, readers, _pragmas(busy_timeout_ms, synchronous))
        )
        db = cls("sqlite", writer, reader, name, direct)
        await db._start(migrate)
        return db

    @classmethod
    async def open_postgres(
        cls, url: str, *, pool_size: int = POSTGRES_POOL, migrate: bool = True
    ) -> Database:
        """Connect and bring the schema up to date; ``StorageError`` naming the server
        (never the password) if it cannot be reached or used."""
        place = where(url)
        try:
            engine = create_async_engine(
                postgres_url(url),
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=WRITER_QUEUE_TIMEOUT,
                connect_args={"timeout": 10},
            )
        except (exc.ArgumentError, ValueError) as error:
            raise StorageError(f"invalid PostgreSQL URL for {place}") from error
        db = cls("postgresql", engine, engine, place)
        await db._start(migrate)
        return db

    async def _start(self, migrate: bool) -> None:
        from storage.migrations import upgrade

        try:
            if self._direct is not None:
                # A SQLite file: the readers open it and the first query reads its
                # header; the writer connects at the first write.
                await self._direct.open()
            else:
                async with self.writer.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            if migrate:
                await upgrade(self)
        except BaseException as error:
            await self.close()
            if isinstance(error, exc.SQLAlchemyError | OSError | sqlite3.Error):
                raise StorageError(self._cannot("use", error)) from error
            raise

    def _cannot(self, verb: str, error: BaseException) -> str:
        what = "PostgreSQL at" if self.dialect == "postgresql" else "database"
        return f"cannot {verb} {what} {self.where}: {_why(error)}"

    async def close(self) -> None:
        """Refuse new work, wait for the transactions in flight, close every connection."""
        self._closed = True
        await self._idle.wait()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._direct is not None:
            await self._direct.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed at the end of the block, rolled back on any
        error or cancellation.  Use it whenever the work may write, or reads to write."""
        async with self._tracked(self.writer) as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Reads, each statement consistent in itself (on a SQLite reader connection: it
        never waits for the writer).  For several statements that must agree with each
        other, ``snapshot()``."""
        async with self._tracked(self.reader, begin=self.reader is self.writer) as conn:
            yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """Reads that all see one committed state."""
        async with self._tracked(self.reader, begin=self.reader is self.writer) as conn:
            if self.dialect == "postgresql":
                await conn.execute(
                    text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                )
                yield conn
                return
            if self.reader is self.writer:  # in memory: already in a transaction
                yield conn
                return
            await conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                await conn.exec_driver_sql("COMMIT")

    async def rows(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row]:
        """A query's rows, as ``read()`` would give them; on a SQLite file in one trip to
        a reader connection's thread (the statement is compiled once: pass constants)."""
        given = params or {}
        prepared = self._prepared(statement)
        if prepared is None or self._direct is None:
            async with self.read() as conn:
                return await _mapped(conn, statement, given)
        async with self._counted():
            return await self._direct.fetch(self._traced(prepared), given)

    async def row(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Row | None:
        """A query's first row, or None."""
        found = await self.rows(statement, params)
        return found[0] if found else None

    async def write(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row]:
        """One statement as a transaction of its own, and the rows it returns; on a
        SQLite file it runs in one trip to the writer's thread, in its turn for the writer
        (and one more, SQLAlchemy's reset, as the connection goes back to its pool).  Once
        sent it commits, even if the caller is cancelled: use it where that is fine."""
        given = params or {}
        prepared = self._prepared(statement)
        if prepared is None:
            async with self.transaction() as conn:
                return await _mapped(conn, statement, given)
        # No BEGIN: SQLite makes the one statement its own transaction.
        async with self._tracked(self.writer, begin=False) as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert isinstance(driver, aiosqlite.Connection)
            return await direct_path.fetch(driver, self._traced(prepared), given)

    @asynccontextmanager
    async def tracing(self, callback: Callable[[str], object]) -> AsyncIterator[None]:
        """Every statement of this database's reads, transactions and one-hop path (not
        the votes' own fast path) handed to ``callback``, on the event loop, as written
        (placeholders, not values), while the block runs: to see what a call costs
        (``BEGIN`` and ``COMMIT`` too)."""

        def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            callback(statement)

        engines = {self.writer.sync_engine, self.reader.sync_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", sent)
        self._tracer = callback
        try:
            yield
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", sent)
            self._tracer = None

    def _prepared(self, statement: Executable) -> direct_path.Prepared | None:
        return self._statements.get(statement) if self._direct is not None else None

    def _traced(self, prepared: direct_path.Prepared) -> direct_path.Prepared:
        """The one-hop statement, shown to ``tracing``'s callback as it goes."""
        if self._tracer is not None:
            self._tracer(prepared.sql)
        return prepared

    @asynccontextmanager
    async def _counted(self) -> AsyncIterator[None]:
        if self._closed:
            raise StorageError("the database is closed")
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    @asynccontextmanager
    async def _tracked(
        self, engine: AsyncEngine, *, begin: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        async with self._counted():
            try:
                async with engine.begin() if begin else engine.connect() as conn:
                    yield conn
            except (
                exc.OperationalError,
                exc.InterfaceError,
                exc.InternalError,
                OSError,
            ) as error:
                if self._is_lost(error):
                    raise StorageError(self._cannot("reach", error)) from error
                raise

    def _is_lost(self, error: BaseException) -> bool:
        """Is the server gone (as opposed to a statement that failed)?"""
        if isinstance(error, OSError):
            return True
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        # A dropped PostgreSQL connection shows as an interface error, or as asyncpg's
        # "another operation is in progress" when the drop lands mid-operation.
        return self.dialect == "postgresql" and isinstance(
            error, exc.InterfaceError | exc.InternalError
        )

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """The engine's ``INSERT``, with ``on_conflict_do_nothing``/``_do_update``: the two
        dialects spell them alike, only the import differs."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def answers(self) -> bool:
        """Does the database answer a trivial query?"""
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
