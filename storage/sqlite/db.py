"""The SQLite database: connections on threads we own, pragmas, migrations, transactions.

Connections and threads
    Every connection is a plain ``sqlite3`` connection created on, and used by, its own
    one-thread executor: one *writer* and a few *readers* (WAL lets readers see the last
    committed state while the writer writes).  The one exception is the hot path of
    ``run_brief_transaction`` (a batch of votes): it runs on the event loop's thread while
    the writer's thread has nothing queued, because under a storm a hop costs several
    times the work.  A connection serves one
    transaction at a time: it is checked out of its pool for the whole transaction,
    because two tasks interleaving ``BEGIN``s on one connection would mix their
    transactions.  That exclusivity is how a connection is used, not what keeps a promise:
    one post per article and one vote per reader are decided by the database (conditional
    ``UPDATE … WHERE status IN …``, primary keys, ``ON CONFLICT``), and hold just the same
    between two ``Database`` objects or two processes (see tests/unit/test_races.py).

Reads and writes
    ``transaction()`` (and ``run_transaction``, ``execute``) use the writer and start with
    ``BEGIN IMMEDIATE``: the write lock is taken up front, so a transaction that reads and
    then writes never meets a stale snapshot.  ``read()`` (and ``fetch_one``/``fetch_all``)
    use a reader in a plain deferred transaction: a consistent snapshot that never waits
    for the writer.  Readers run with ``PRAGMA query_only``, so a write sent to one fails
    loudly instead of racing.  When in doubt, use ``transaction()``: it is always correct.

Cancellation
    A task cancelled in a transaction never leaves its connection in it: the rollback is
    queued on the connection's own thread (synchronously, before the connection goes back
    to its pool), so it runs after whatever the cancelled task had queued and before
    anything the next user queues.  Work not yet started when its caller is cancelled is
    dropped.

Wake-ups, and why SIGTERM cannot be lost to them
    A thread hands a result to the event loop with ``loop.call_soon_threadsafe``, which
    writes one byte to the loop's self-pipe.  That pipe is also where the C signal handler
    writes the number of a signal (``signal.set_wakeup_fd``), and a Unix socket takes only
    a few hundred such tiny writes.  If thread results fill it while the loop is busy,
    the kernel refuses the signal's byte ("Exception ignored when trying to write to the
    signal wakeup fd: BlockingIOError") and asyncio never hears of the SIGTERM.  So results
    go through one mailbox per ``Database``, and only a result put into an *empty* mailbox
    wakes the loop: however many tasks wait on the database, its threads hold at most one
    byte in the pipe.  Hops are few as well: ``run_transaction`` is one hop; in a
    ``transaction()`` the ``BEGIN`` travels with the first statement (one hop per statement
    plus the commit), and a read snapshot is ended without a hop (queued, awaited by
    nobody).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StorageError

logger = logging.getLogger(__name__)

Row = sqlite3.Row
T = TypeVar("T")
Params = Sequence[Any]
Work = Callable[[sqlite3.Connection], T]

DEFAULT_READERS = 2


def _migrations() -> list[tuple[int, str, str]]:
    """Numbered ``NNNN_name.sql`` scripts shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations.sqlite").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


# --- work done on a connection's own thread ------------------------------------------------


def _connect(path: str, busy_timeout_ms: int, *, writer: bool) -> sqlite3.Connection:
    # We issue BEGIN ourselves.  The writer may also be used on the event loop's thread,
    # never at the same time as on its own (see ``Database.run_brief_transaction``).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not writer)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: readers find it set
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if not writer:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def _apply_migrations(conn: sqlite3.Connection) -> int:
    """Each script carries its own ``BEGIN … PRAGMA user_version = N; COMMIT;`` because
    ``executescript`` commits any open transaction before it runs."""
    version = _user_version(conn)
    for number, name, script in _migrations():
        if number <= version:
            continue
        logger.info("Applying migration %s", name)
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            raise
        version = _user_version(conn)
        if version != number:
            raise StorageError(f"migration {name} did not set user_version to {number}")
    return version


def _end(conn: sqlite3.Connection) -> None:
    """Roll back whatever is open (a failed or cancelled transaction, a read snapshot)."""
    if conn.in_transaction:
        try:
            conn.rollback()
        except sqlite3.Error:
            logger.exception("Rollback failed")


def _commit(conn: sqlite3.Connection) -> None:
    try:
        conn.commit()
    except BaseException:
        _end(conn)
        raise


def _begin_if_free(conn: sqlite3.Connection, busy_timeout_ms: int) -> bool:
    """``BEGIN IMMEDIATE`` without waiting: False if another connection (another
    ``Database`` or process on the file) holds the write lock now."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            return False
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return True


def _whole_transaction(work: Work[T], conn: sqlite3.Connection, *, begun: bool = False) -> T:
    if not begun:
        conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        _end(conn)
        raise
    _commit(conn)
    return result


# --- the bridge between the threads and the event loop -------------------------------------


class _Mailbox:
    """Results from the database threads to the event loop, with at most one wake-up
    (one byte in the loop's self-pipe) outstanding at any time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._guard = threading.Lock()
        self._results: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        self._wake_pending = False

    def post(self, future: asyncio.Future[Any], error: BaseException | None, value: Any) -> None:
        """Called on a database thread."""
        with self._guard:
            self._results.append((future, error, value))
            if self._wake_pending:
                return  # the loop is already due to take this one along
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            logger.debug("Database result after the event loop closed")

    def _deliver(self) -> None:
        """Called on the event loop."""
        with self._guard:
            results, self._results = self._results, []
            self._wake_pending = False
        for future, error, value in results:
            if future.done():  # its task was cancelled
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)


class _Connection:
    """One sqlite3 connection and the one thread that uses it."""

    def __init__(self, name: str, mailbox: _Mailbox) -> None:
        self.name = name
        self._mailbox = mailbox
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None
        # Jobs queued or running on the thread; 0 means the thread does not touch the
        # connection until the next job is submitted.
        self._jobs = 0
        self._jobs_lock = threading.Lock()
        self.busy_timeout_ms = 0

    @property
    def idle(self) -> bool:
        return self._jobs == 0

    def _submit(self, job: Callable[[], None]) -> Future[None]:
        with self._jobs_lock:
            self._jobs += 1
        submitted = self._executor.submit(job)
        submitted.add_done_callback(self._job_done)  # run, failed or cancelled unrun
        return submitted

    def _job_done(self, _: Future[None]) -> None:
        with self._jobs_lock:
            self._jobs -= 1

    def run_here(self, work: Work[T]) -> T:
        """Run ``work(connection)`` on the calling thread; only while the thread is idle
        and the caller holds the connection (checked out of its pool)."""
        conn = self._conn
        assert conn is not None, "not connected"
        assert self.idle, "the connection's thread is busy"
        return work(conn)

    async def connect(self, path: str, busy_timeout_ms: int, *, writer: bool) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        self._conn = await self._run(lambda: _connect(path, busy_timeout_ms, writer=writer))

    def call(self, work: Work[T]) -> asyncio.Future[T]:
        """Run ``work(connection)`` on the thread; the result comes back by the mailbox."""
        conn = self._conn
        assert conn is not None, "not connected"
        return self._run(lambda: work(conn))

    def queue(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Queue ``work`` behind everything already queued, and wait for nothing: no
        wake-up.  It must handle its own errors (see ``_end``)."""
        conn = self._conn
        if conn is not None:
            self._submit(lambda: work(conn))

    def _run(self, work: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        mailbox = self._mailbox

        def job() -> None:
            if future.cancelled():
                # The caller gave up before the job's turn (Task.cancel cancels the
                # future at once; the done-callback below may not have run yet).
                return
            try:
                value = work()
            except BaseException as exc:  # delivered to the awaiting task
                mailbox.post(future, exc, None)
            else:
                mailbox.post(future, None, value)

        submitted = self._submit(job)
        # A caller that gives up before the job has started drops the job.
        future.add_done_callback(lambda f: submitted.cancel() if f.cancelled() else None)
        return future

    async def close(self) -> None:
        """Close the connection after everything queued, then join the thread."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await self._run(conn.close)
            except sqlite3.Error:
                logger.exception("Closing %s failed", self.name)
        # The queue is empty now: the thread exits at once, the join takes microseconds.
        self._executor.shutdown(wait=True)


class _Pool:
    """Connections for one kind of use; one task at a time per connection."""

    def __init__(self, connections: list[_Connection]) -> None:
        self.connections = connections
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        for conn in connections:
            self._idle.put_nowait(conn)
        self.closed = False

    @asynccontextmanager
    async def take(self) -> AsyncIterator[_Connection]:
        conn = await self._idle.get()
        try:
            if self.closed:
                raise StorageError("the database is closed")
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        """Wait until every connection is idle (in-flight transactions end), close them."""
        if self.closed:
            return
        self.closed = True
        taken = [await self._idle.get() for _ in self.connections]
        try:
            for conn in taken:
                await conn.close()
        finally:
            for conn in taken:  # tasks still waiting for one learn that it is closed
                self._idle.put_nowait(conn)


# --- the public face -----------------------------------------------------------------------


class Database:
    def __init__(self, path: str, writer: _Pool, readers: _Pool) -> None:
        self.path = path
        self._writer = writer
        self._readers = readers

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        busy_timeout_ms: int = 5000,
        readers: int = DEFAULT_READERS,
    ) -> Database:
        """Open (creating if needed) and migrate; ``StorageError`` with one clear line if
        the file cannot be opened or used."""
        name = str(path)
        in_memory = name == ":memory:" or name.startswith("file::memory:")
        if not in_memory:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the folder of database {path}: {exc.strerror}"
                ) from exc
        mailbox = _Mailbox(asyncio.get_running_loop())
        opened: list[_Connection] = []
        try:
            writer = _Connection("sqlite-writer", mailbox)
            opened.append(writer)
            try:
                await writer.connect(name, busy_timeout_ms, writer=True)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open database {path}: {exc}") from exc
            try:
                await writer.call(_apply_migrations)
                # An in-memory database is private to its connection: no readers then.
                for number in range(0 if in_memory else readers):
                    reader = _Connection(f"sqlite-reader-{number}", mailbox)
                    opened.append(reader)
                    await reader.connect(name, busy_timeout_ms, writer=False)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot use database {path}: {exc}") from exc
        except BaseException:
            for conn in opened:
                await conn.close()
            raise
        writers = _Pool([writer])
        return cls(name, writers, _Pool(opened[1:]) if len(opened) > 1 else writers)

    async def migrate(self) -> int:
        """Apply every migration newer than ``PRAGMA user_version``; returns the version.
        (``open`` already did; this is for a database that another process may have
        left behind.)"""
        async with self._writer.take() as conn:
            return await conn.call(_apply_migrations)

    async def close(self) -> None:
        """Wait for the transactions in flight, close every connection, join the threads."""
        await self._writer.close()
        await self._readers.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error
        or cancellation.  Use it whenever the work may write, or reads in order to write."""
        async with self._writer.take() as conn:
            try:
                yield Transaction(conn, "BEGIN IMMEDIATE")
                await conn.call(_commit)
            except BaseException:
                conn.queue(_end)  # after the work, before the next user: see the docstring
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        """A read-only snapshot on a reader connection (plain deferred ``BEGIN``); it never
        waits for the writer.  A write in it fails (``query_only``)."""
        async with self._readers.take() as conn:
            try:
                yield Transaction(conn, "BEGIN")
            finally:
                conn.queue(_end)  # ends the snapshot; nothing to commit, nobody waits

    async def run_transaction(self, work: Work[T]) -> T:
        """Run ``work`` as one ``BEGIN IMMEDIATE … COMMIT`` in a single hop to the writer's
        thread (the hot path: a batch of votes).  ``work`` is plain sqlite3 code that must
        not touch the event loop.  If the caller is cancelled before the hop starts,
        nothing runs; once it has started, it completes (commits or rolls back) unseen."""
        async with self._writer.take() as conn:
            return await conn.call(lambda c: _whole_transaction(work, c))

    async def run_brief_transaction(self, work: Work[T]) -> T:
        """``run_transaction`` for work of a millisecond or so (a batch of votes): run on
        the event loop's own thread when the writer's thread is idle, else by a hop.

        The hop is what such work costs under a storm: the writer's thread needs the
        interpreter lock after every statement, and the busy event loop lets go of it only
        every few milliseconds, so a 1 ms batch of votes took 6-10 ms and the presses
        waiting for it held their update slots that long.  Here the loop is blocked for
        the batch itself, no longer (and, about once per 1,000 pages of log, for SQLite's
        automatic checkpoint: one fsync).  The connection is checked out of its pool, so
        nobody else uses it meanwhile."""
        async with self._writer.take() as conn:
            # Never wait for another connection's write lock on the loop's thread: that
            # connection may be served by this very loop.
            if conn.idle and conn.run_here(lambda c: _begin_if_free(c, conn.busy_timeout_ms)):
                return conn.run_here(lambda c: _whole_transaction(work, c, begun=True))
            return await conn.call(lambda c: _whole_transaction(work, c))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One autocommitted statement on the writer; returns the number of rows changed."""
        async with self._writer.take() as conn:
            return await conn.call(lambda c: c.execute(sql, params).rowcount)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """One read, on a reader: it sees everything committed before it started."""
        async with self._readers.take() as conn:
            row: Row | None = await conn.call(lambda c: c.execute(sql, params).fetchone())
            return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._readers.take() as conn:
            return await conn.call(lambda c: c.execute(sql, params).fetchall())


class Transaction:
    """Statements inside ``Database.transaction()`` or ``Database.read()``; each is one hop
    to the connection's thread, and the first one carries the ``BEGIN``."""

    def __init__(self, conn: _Connection, begin: str) -> None:
        self._conn = conn
        self._begin = begin

    def _call(self, work: Work[T]) -> asyncio.Future[T]:
        begin = self._begin

        def in_transaction(conn: sqlite3.Connection) -> T:
            if not conn.in_transaction:
                conn.execute(begin)
            return work(conn)

        return self._conn.call(in_transaction)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._call(lambda c: c.execute(sql, params).rowcount)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row id."""
        row_id = await self._call(lambda c: c.execute(sql, params).lastrowid)
        if row_id is None:
            raise StorageError("insert returned no row id")
        return row_id

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)  # consumed here, not on the database thread
        await self._call(lambda c: c.executemany(sql, batch))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._call(lambda c: c.execute(sql, params).fetchone())
        return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._call(lambda c: c.execute(sql, params).fetchall())
