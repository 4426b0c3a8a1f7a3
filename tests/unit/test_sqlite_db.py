"""The Database class itself: connections, read/write routing, cancellation, closing,
and the bound on event-loop wake-ups."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.errors import StorageError
from storage.sqlite.db import Database, _Mailbox

INSERT = "INSERT INTO dialog_states (key, updated_at) VALUES (?, 'now')"
COUNT = "SELECT COUNT(*) FROM dialog_states"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "news.sqlite3")
    yield database
    await database.close()


class Gate:
    """A SQL function ``gate()`` that blocks the database thread running it until the test
    opens it: the test knows a statement is in flight without guessing a delay."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> int:
        self.entered.set()
        self.opened.wait(10)
        return 1

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10), "gate() never ran"

    async def install(self, db: Database) -> None:
        """On the writer connection (functions are per connection)."""

        def register(conn: sqlite3.Connection) -> None:
            conn.create_function("gate", 0, self)

        await db.run_transaction(register)


async def count(db: Database) -> int:
    row = await db.fetch_one(COUNT)
    assert row is not None
    return int(row[0])


async def test_every_connection_has_the_pragmas(db: Database) -> None:
    async def pragmas(tx_factory: Callable[[], Any]) -> tuple[Any, ...]:
        async with tx_factory() as tx:
            found = []
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
                row = await tx.fetch_one(f"PRAGMA {name}")
                found.append(row[0])
            return tuple(found)

    expected = ("wal", 1, 5000, 1)  # synchronous 1 = NORMAL
    assert await pragmas(db.transaction) == expected
    # Both readers at once, so that each of them is asked.
    async with db.read() as first, db.read() as second:
        for tx in (first, second):
            row = await tx.fetch_one("PRAGMA query_only")
            assert row is not None and row[0] == 1
            for name, value in zip(
                ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"),
                expected,
                strict=True,
            ):
                row = await tx.fetch_one(f"PRAGMA {name}")
                assert row is not None and row[0] == value, name


async def test_reads_do_not_wait_for_a_write_transaction(db: Database) -> None:
    await db.execute(INSERT, ("committed",))
    writing = asyncio.Event()
    finish = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute(INSERT, ("uncommitted",))
            writing.set()
            await finish.wait()

    task = asyncio.create_task(writer())
    await writing.wait()
    # The writer connection is busy in a transaction; reads go to a reader, see the last
    # committed state and do not queue behind the writer.
    assert await asyncio.wait_for(count(db), 2) == 1
    finish.set()
    await task
    assert await count(db) == 2


async def test_a_read_is_one_snapshot(db: Database) -> None:
    await db.execute(INSERT, ("a",))
    async with db.read() as tx:
        before = await tx.fetch_one(COUNT)
        await db.execute(INSERT, ("b",))  # committed by the writer meanwhile
        during = await tx.fetch_one(COUNT)
    assert before is not None and during is not None
    assert before[0] == during[0] == 1
    assert await count(db) == 2


async def test_a_write_in_a_read_fails_loudly(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        async with db.read() as tx:
            await tx.execute(INSERT, ("x",))
    assert await count(db) == 0


async def test_cancelled_statement_in_flight_is_rolled_back(db: Database, tmp_path: Path) -> None:
    gate = Gate()
    await gate.install(db)

    async def work() -> None:
        async with db.transaction() as tx:
            await tx.execute(INSERT, ("cancelled",))
            await tx.fetch_one("SELECT gate()")  # blocks the writer thread
            await tx.execute(INSERT, ("never",))

    task = asyncio.create_task(work())
    await gate.wait_entered()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.opened.set()
    # The rollback was queued behind the statement: nothing of it was committed, and the
    # writer is out of its transaction, so another connection can take the write lock.
    await db.execute(INSERT, ("next",))
    assert await count(db) == 1
    other = await Database.open(tmp_path / "news.sqlite3", busy_timeout_ms=2000)
    try:
        assert await other.execute(INSERT, ("other",)) == 1
    finally:
        await other.close()


async def test_work_cancelled_before_its_turn_on_the_thread_never_runs(db: Database) -> None:
    gate = Gate()
    await gate.install(db)

    def wait_at_gate(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT gate()")

    blocker = asyncio.create_task(db.run_transaction(wait_at_gate))
    await gate.wait_entered()
    # Its caller gives up: the connection is free again while its thread is still busy.
    blocker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocker
    queued = asyncio.create_task(db.run_transaction(lambda c: c.execute(INSERT, ("no",))))
    await asyncio.sleep(0)  # it has taken the writer and queued its work behind the gate
    queued.cancel()
    gate.opened.set()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert await db.execute(INSERT, ("yes",)) == 1  # runs after whatever was queued
    assert await count(db) == 1


async def test_a_brief_transaction_runs_on_the_loop_only_while_the_writer_is_idle(
    db: Database,
) -> None:
    def insert(key: str) -> Callable[[sqlite3.Connection], int]:
        def work(conn: sqlite3.Connection) -> int:
            conn.execute(INSERT, (key,))
            return threading.get_ident()

        return work

    loop_thread = threading.get_ident()
    assert await db.run_brief_transaction(insert("idle")) == loop_thread
    assert await count(db) == 1  # committed: a reader sees it

    def fail(conn: sqlite3.Connection) -> None:
        conn.execute(INSERT, ("rolled back",))
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await db.run_brief_transaction(fail)
    assert await count(db) == 1

    # The writer's thread still busy with a cancelled caller's work: no use of the
    # connection beside it; the brief transaction waits its turn on that thread.
    gate = Gate()
    await gate.install(db)
    blocker = asyncio.create_task(db.run_transaction(lambda c: c.execute("SELECT gate()")))
    await gate.wait_entered()
    blocker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocker
    brief = asyncio.create_task(db.run_brief_transaction(insert("busy")))
    await asyncio.sleep(0)
    assert not brief.done()
    gate.opened.set()
    assert await brief != loop_thread
    assert await count(db) == 2


async def test_a_brief_transaction_never_waits_for_a_lock_on_the_loop(
    db: Database, tmp_path: Path
) -> None:
    """Another ``Database`` on the file holds the write lock, served by this very loop:
    waiting for it on the loop's thread would wait until ``busy_timeout`` runs out."""
    other = await Database.open(tmp_path / "news.sqlite3")
    try:
        locked, release = asyncio.Event(), asyncio.Event()

        async def hold_the_lock() -> None:
            async with other.transaction() as tx:
                await tx.execute(INSERT, ("other",))
                locked.set()
                await release.wait()

        def insert(conn: sqlite3.Connection) -> int:
            conn.execute(INSERT, ("brief",))
            return threading.get_ident()

        holder = asyncio.create_task(hold_the_lock())
        await locked.wait()
        brief = asyncio.create_task(db.run_brief_transaction(insert))
        await asyncio.sleep(0.05)  # the loop runs on: the brief one waits on its thread
        assert not brief.done()
        release.set()
        await holder
        assert await brief != threading.get_ident()
        assert await count(db) == 2
    finally:
        await other.close()


async def test_close_waits_for_the_transaction_in_flight(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "news.sqlite3")
    gate = Gate()
    await gate.install(db)

    async def work() -> None:
        async with db.transaction() as tx:
            await tx.execute(INSERT, ("in flight",))
            await tx.fetch_one("SELECT gate()")

    task = asyncio.create_task(work())
    await gate.wait_entered()
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0)
    assert not closing.done()
    gate.opened.set()
    await task
    await closing
    assert not any(t.name.startswith("sqlite-") for t in threading.enumerate())
    with pytest.raises(StorageError, match="closed"):
        await db.fetch_one(COUNT)
    reopened = await Database.open(tmp_path / "news.sqlite3")
    try:
        assert await count(reopened) == 1  # it was committed before the close
    finally:
        await reopened.close()


async def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    folder = tmp_path / "news.sqlite3"
    folder.mkdir()
    with pytest.raises(StorageError) as raised:
        await Database.open(folder)
    message = str(raised.value)
    assert "\n" not in message and str(folder) in message
    assert not any(t.name.startswith("sqlite-") for t in threading.enumerate())


async def test_results_from_threads_wake_the_loop_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many results arrive while the loop is busy, one byte waits in its pipe."""
    loop = asyncio.get_running_loop()
    wakeups = 0
    real = loop.call_soon_threadsafe

    def counting(callback: Callable[..., object], *args: Any) -> asyncio.Handle:
        nonlocal wakeups
        wakeups += 1
        return real(callback, *args)

    mailbox = _Mailbox(loop)
    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    futures = [loop.create_future() for _ in range(500)]

    def post(part: list[asyncio.Future[Any]]) -> None:
        for future in part:
            mailbox.post(future, None, id(future))

    # Three "database threads" deliver while the loop is blocked (this very call).
    threads = [threading.Thread(target=post, args=(futures[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wakeups == 1
    results = await asyncio.gather(*futures)
    assert results == [id(f) for f in futures]
    # Once delivered, the next result wakes the loop again.
    late = loop.create_future()
    await asyncio.to_thread(mailbox.post, late, None, "late")
    assert await late == "late"
    assert wakeups == 3  # to_thread's own result is one of them
