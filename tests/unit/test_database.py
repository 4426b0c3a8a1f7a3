"""The Database itself, on SQLite: every connection's pragmas, read-only readers,
cancellation, two Databases on one file, closing, opening and migrating.
(PostgreSQL's own: test_postgres.py; the repositories on both engines: test_storage.py.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import StorageError
from storage.database import Database
from storage.migrations import newest_revision
from storage.migrations import runner as migrations
from storage.tables import metadata
from tests.fresh import fresh_python

INSERT = text("INSERT INTO dialog_states (key, updated_at) VALUES (:key, 'now')")
COUNT = text("SELECT count(*) FROM dialog_states")
PRAGMAS = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
# busy_timeout is the default of ``open_sqlite``; synchronous 2 = FULL: what is answered
# to a person (a vote, a recorded post) survives a power cut.
EXPECTED = ("wal", 1, 5000, 2)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open_sqlite(tmp_path / "news.sqlite3")
    yield database
    await database.close()


def sqlite_threads() -> set[threading.Thread]:
    """aiosqlite's worker threads, one per open connection."""
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def no_threads_beyond(before: set[threading.Thread]) -> bool:
    """Have the connections' threads ended?  (A thread ends just after its connection
    reports closed.)"""
    for _ in range(200):
        if sqlite_threads() <= before:
            return True
        await asyncio.sleep(0.01)
    return False


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
        """On the writer connection (functions are per connection; it is the only one)."""
        async with db.transaction() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            await raw.driver_connection.create_function("gate", 0, self)


async def insert(db: Database, key: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(INSERT, {"key": key})


async def count(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(COUNT)).scalar_one())


async def stamped(db: Database) -> list[str]:
    """The revisions recorded in ``alembic_version``."""
    async with db.read() as conn:
        return list(
            (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
        )


async def pragmas(conn: AsyncConnection) -> tuple[Any, ...]:
    return tuple([(await conn.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in PRAGMAS])


async def test_every_connection_has_the_pragmas(db: Database) -> None:
    async with db.transaction() as conn:
        assert await pragmas(conn) == EXPECTED
        assert (await conn.exec_driver_sql("PRAGMA query_only")).scalar() == 0
    # Both readers at once, so that each of them is asked.
    async with db.read() as first, db.read() as second:
        for conn in (first, second):
            assert await pragmas(conn) == EXPECTED
            assert (await conn.exec_driver_sql("PRAGMA query_only")).scalar() == 1


async def test_the_pragmas_follow_the_settings(tmp_path: Path) -> None:
    db = await Database.open_sqlite(
        tmp_path / "news.sqlite3", busy_timeout_ms=1234, synchronous="NORMAL"
    )
    try:
        async with db.transaction() as conn:
            assert await pragmas(conn) == ("wal", 1, 1234, 1)
        async with db.read() as conn:
            assert await pragmas(conn) == ("wal", 1, 1234, 1)
    finally:
        await db.close()


async def test_reads_do_not_wait_for_a_write_transaction(db: Database) -> None:
    await insert(db, "committed")
    writing = asyncio.Event()
    finish = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "uncommitted"})
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


async def test_a_snapshot_sees_one_committed_state(db: Database) -> None:
    await insert(db, "a")
    async with db.snapshot() as conn:
        before = (await conn.execute(COUNT)).scalar_one()
        await insert(db, "b")  # committed by the writer meanwhile
        during = (await conn.execute(COUNT)).scalar_one()
    assert before == during == 1
    assert await count(db) == 2


async def test_a_write_in_a_read_fails_loudly(db: Database) -> None:
    with pytest.raises(exc.OperationalError, match="readonly"):
        async with db.read() as conn:
            await conn.execute(INSERT, {"key": "x"})
    assert await count(db) == 0
    assert await count(db) == 0  # and the reader is usable again


async def test_an_error_rolls_the_transaction_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "x"})
            raise RuntimeError("boom")
    assert await count(db) == 0
    await insert(db, "y")
    assert await count(db) == 1


async def test_a_violated_constraint_rolls_back_the_whole_transaction(db: Database) -> None:
    with pytest.raises(exc.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "first"})
            await conn.execute(INSERT, {"key": "first"})
    assert await count(db) == 0


async def test_a_transaction_cancelled_mid_statement_leaves_nothing_behind(
    db: Database, tmp_path: Path
) -> None:
    gate = Gate()
    await gate.install(db)

    async def work() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "cancelled"})
            await conn.execute(text("SELECT gate()"))  # blocks the writer's thread
            await conn.execute(INSERT, {"key": "never"})

    task = asyncio.create_task(work())
    await gate.wait_entered()
    task.cancel()
    gate.opened.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    # Nothing of it was committed, and the writer is out of its transaction: this
    # Database writes, and so does another one on the file (nobody holds the lock).
    await asyncio.wait_for(insert(db, "next"), 10)
    assert await count(db) == 1
    other = await Database.open_sqlite(tmp_path / "news.sqlite3", busy_timeout_ms=2000)
    try:
        await insert(other, "other")
    finally:
        await other.close()
    assert await count(db) == 2


async def test_a_transaction_cancelled_while_open_is_rolled_back(db: Database) -> None:
    inside = asyncio.Event()

    async def work() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "cancelled"})
            inside.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(work())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(insert(db, "next"), 10)
    async with db.read() as conn:
        keys = (await conn.execute(text("SELECT key FROM dialog_states"))).scalars().all()
    assert keys == ["next"]


async def test_a_write_cancelled_while_waiting_for_the_writer_never_runs(db: Database) -> None:
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "holder"})
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    queued = asyncio.create_task(insert(db, "no"))
    await asyncio.sleep(0.05)  # it waits for the one writer connection
    assert not queued.done()
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    release.set()
    await holder
    await asyncio.wait_for(insert(db, "yes"), 10)
    async with db.read() as conn:
        keys = (await conn.execute(text("SELECT key FROM dialog_states ORDER BY key"))).scalars()
        assert list(keys) == ["holder", "yes"]


async def test_writes_of_one_database_queue_for_its_writer(db: Database) -> None:
    """Many transactions at once, each reading then writing: none is lost, none fails."""

    async def bump(i: int) -> None:
        async with db.transaction() as conn:
            n = (await conn.execute(COUNT)).scalar_one()
            await conn.execute(INSERT, {"key": f"{i}:{n}"})

    await asyncio.gather(*(bump(i) for i in range(50)))
    async with db.read() as conn:
        keys = (await conn.execute(text("SELECT key FROM dialog_states"))).scalars().all()
    # Each saw the rows of all the transactions before it: serialised, not interleaved.
    assert sorted(int(k.split(":")[1]) for k in keys) == list(range(50))


async def test_two_databases_on_one_file_exclude_each_others_writes(
    db: Database, tmp_path: Path
) -> None:
    """SQLite's lock decides: the second waits (busy_timeout) for the first's commit."""
    other = await Database.open_sqlite(tmp_path / "news.sqlite3")
    impatient = await Database.open_sqlite(tmp_path / "news.sqlite3", busy_timeout_ms=50)
    try:
        locked, release = asyncio.Event(), asyncio.Event()

        async def hold_the_lock() -> None:
            async with other.transaction() as conn:
                await conn.execute(INSERT, {"key": "other"})
                locked.set()
                await release.wait()

        holder = asyncio.create_task(hold_the_lock())
        await locked.wait()
        waiting = asyncio.create_task(insert(db, "mine"))
        # It waits on its own thread: the event loop (and the holder) runs on.
        await asyncio.sleep(0.2)
        assert not waiting.done()
        # One that will not wait that long is refused by SQLite itself.
        with pytest.raises(exc.OperationalError, match="locked"):
            await insert(impatient, "refused")
        release.set()
        await holder
        await asyncio.wait_for(waiting, 10)
        assert await count(db) == 2
        assert await count(other) == 2
    finally:
        await other.close()
        await impatient.close()


async def test_close_waits_for_the_transaction_in_flight(tmp_path: Path) -> None:
    before = sqlite_threads()
    db = await Database.open_sqlite(tmp_path / "news.sqlite3")
    gate = Gate()
    await gate.install(db)

    async def work() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT, {"key": "in flight"})
            await conn.execute(text("SELECT gate()"))

    task = asyncio.create_task(work())
    await gate.wait_entered()
    closing = asyncio.create_task(db.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    gate.opened.set()
    await asyncio.wait_for(task, 10)
    await asyncio.wait_for(closing, 10)
    assert await no_threads_beyond(before)  # every connection closed, in-flight one too
    reopened = await Database.open_sqlite(tmp_path / "news.sqlite3")
    try:
        assert await count(reopened) == 1  # it was committed before the close
    finally:
        await reopened.close()


async def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    before = sqlite_threads()
    folder = tmp_path / "news.sqlite3"
    folder.mkdir()
    with pytest.raises(StorageError) as raised:
        await Database.open_sqlite(folder)
    message = str(raised.value)
    assert "\n" not in message and str(folder) in message
    assert await no_threads_beyond(before)


async def test_an_unusable_folder_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = blocker / "news.sqlite3"
    with pytest.raises(StorageError) as raised:
        await Database.open_sqlite(path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message


async def test_a_fresh_database_is_built_and_stamped_at_the_head(db: Database) -> None:
    assert await stamped(db) == [migrations.head()]
    async with db.read() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        triggers = set(
            (
                await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            ).scalars()
        )
        user_version = (await conn.exec_driver_sql("PRAGMA user_version")).scalar()
    assert set(metadata.tables) <= tables
    assert {"article_search", "article_search_terms"} <= tables
    assert {
        "poll_vote_added",
        "poll_vote_moved",
        "poll_vote_removed",
        "article_read_added",
        "article_read_removed",
        "search_article_added",
        "search_article_changed",
        "search_article_deleted",
    } <= triggers
    assert user_version == 0  # the numbered scripts' counter is not used any more


async def test_opening_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    first = await Database.open_sqlite(path)
    await insert(first, "kept")
    await first.close()
    for _ in range(2):
        again = await Database.open_sqlite(path)
        try:
            assert await stamped(again) == [migrations.head()]
            assert await count(again) == 1
        finally:
            await again.close()


async def test_two_databases_opening_a_new_file_together_build_it_once(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    both = await asyncio.gather(*(Database.open_sqlite(path) for _ in range(2)))
    try:
        assert await stamped(both[1]) == [migrations.head()]
        await insert(both[0], "a")
        await insert(both[1], "b")
        assert await count(both[0]) == 2
    finally:
        for db in both:
            await db.close()


async def test_a_database_from_another_program_is_refused(tmp_path: Path) -> None:
    """Tables of ours without any migration record: never guessed at, never rebuilt."""
    path = tmp_path / "news.sqlite3"
    db = await Database.open_sqlite(path, migrate=False)
    try:
        async with db.transaction() as conn:
            await conn.execute(text("CREATE TABLE articles (id INTEGER PRIMARY KEY)"))
    finally:
        await db.close()
    with pytest.raises(StorageError) as raised:
        await Database.open_sqlite(path)
    assert "\n" not in str(raised.value) and "schema 0" in str(raised.value)


def test_the_newest_revision_is_read_as_alembic_reads_it() -> None:
    assert newest_revision() == migrations.head()


OPEN_TWICE = """
import asyncio, sys
from storage.database import Database

async def main():
    db = await Database.open_sqlite("news.sqlite3")
    print("alembic loaded:", "alembic" in sys.modules)
    await db.close()

asyncio.run(main())
"""


def test_a_database_at_the_newest_revision_opens_without_loading_alembic(
    tmp_path: Path,
) -> None:
    created = fresh_python(OPEN_TWICE, tmp_path)
    assert created.stdout.strip() == "alembic loaded: True", created.stderr
    opened = fresh_python(OPEN_TWICE, tmp_path)
    assert opened.stdout.strip() == "alembic loaded: False", opened.stderr
