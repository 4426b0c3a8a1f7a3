"""SQLite's one-hop path (``Database.rows``/``row``/``write``): the same rows as through
SQLAlchemy, values through the columns' own types, and SQLAlchemy kept where it must be."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
)

from bot.errors import StorageError
from storage.database import Database
from storage.direct import Statements
from storage.types import Day, Json, LocalTime, UtcTime

meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("at", UtcTime),
    Column("local", LocalTime),
    Column("payload", Json),
    Column("day", Day),
    Column("flag", Boolean),
    Column("plain_at", DateTime),
    Column("plain_day", Date),
)
others = Table(
    "others", meta, Column("id", Integer, primary_key=True), Column("v", Text, key="vk")
)
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Акорда",
        "at": datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC),
        "local": datetime(2026, 12, 7, 15, 30),  # noqa: DTZ001 (a local time is naive)
        "payload": {"теги": ["а", "б"], "n": 3},
        "day": date(2026, 12, 7),
        "flag": True,
        "plain_at": datetime(2026, 12, 7, 10, 30),  # noqa: DTZ001 (SQLAlchemy's own DateTime)
        "plain_day": date(2026, 12, 8),
    },
    {
        "id": 2,
        "name": None,
        "at": None,
        "local": None,
        "payload": None,
        "day": None,
        "flag": False,
        "plain_at": None,
        "plain_day": None,
    },
]
BY_ID = select(things).where(things.c.id == bindparam("id"))
SINCE = select(things.c.id, things.c.name.label("title")).where(
    things.c.at >= bindparam("since", type_=things.c.at.type)
)
ALL = select(things).order_by(things.c.id)
# Lists written into the statement: each value a parameter, through the column's type.
CONSTANT_LISTS = select(things.c.id).where(
    things.c.name.in_(["Акорда", "Астана"])
    & things.c.at.in_([ROWS[0]["at"], datetime(2020, 1, 1, tzinfo=UTC)])
    & (things.c.id >= bindparam("low"))
)
IN_LIST = select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True)))
COUNT = select(func.count().label("n")).select_from(things)
UNNAMED = select(func.count()).select_from(things)
# What SQLAlchemy names or renders as it runs: left to it.
AS_SQLALCHEMY_RUNS_THEM: list[tuple[Any, dict[str, Any]]] = [
    (UNNAMED, {}),
    (text("SELECT id FROM things ORDER BY id"), {}),
    (
        select(things.c.id)
        .limit(bindparam("n", type_=Integer, literal_execute=True))
        .order_by(things.c.id),
        {"n": 1},
    ),
    (select(things.c.id, others.c.id).join(others, others.c.id == things.c.id), {}),
    (select(others.c.vk), {}),
]
ADD = (
    insert(things)
    .values(id=bindparam("id"), at=bindparam("at"))
    .returning(things.c.id, things.c.at)
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open_sqlite(tmp_path / "news.sqlite3")
    async with database.transaction() as conn:
        await conn.run_sync(meta.create_all)
        await conn.execute(things.insert(), ROWS)
    yield database
    await database.close()


@contextmanager
def through_sqlalchemy(db: Database) -> Iterator[list[str]]:
    """The statements SQLAlchemy sends while the block runs."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engines = {db.writer.sync_engine, db.reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


async def as_sqlalchemy_reads(db: Database, statement: Any, params: dict[str, Any]) -> list[Any]:
    async with db.read() as conn:
        return [dict(row) for row in (await conn.execute(statement, params)).mappings()]


async def test_rows_read_as_sqlalchemy_reads_them(db: Database) -> None:
    cases: list[tuple[Any, dict[str, Any]]] = [
        (ALL, {}),
        (BY_ID, {"id": 1}),
        (BY_ID, {"id": 2}),
        (SINCE, {"since": datetime(2026, 12, 7, 16, 0, tzinfo=UTC).astimezone()}),
        (COUNT, {}),
        (CONSTANT_LISTS, {"low": 1}),
        (select(things.c.id).where(things.c.id.in_([1, 2]) & things.c.id.in_([2, 3])), {}),
    ]
    for statement, params in cases:
        with through_sqlalchemy(db) as sent:
            direct = [dict(row) for row in await db.rows(statement, params)]
        assert sent == []  # one hop: SQLAlchemy's execution never ran
        assert direct == await as_sqlalchemy_reads(db, statement, params)
    assert [dict(row) for row in await db.rows(ALL)] == ROWS
    assert await db.row(BY_ID, {"id": 3}) is None
    assert await db.rows(CONSTANT_LISTS, {"low": 1}) == [{"id": 1}]


async def test_a_list_parameter_or_an_unnamed_column_is_left_to_sqlalchemy(db: Database) -> None:
    with through_sqlalchemy(db) as sent:
        found = await db.rows(IN_LIST, {"ids": [2, 1, 5]})
        counted = await db.row(UNNAMED)
    assert sorted(row["id"] for row in found) == [1, 2]
    assert counted == {"count_1": 2}
    assert len(sent) == 2


async def test_what_sqlalchemy_names_or_renders_as_it_runs_is_left_to_it(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(others.insert(), [{"id": 1, "vk": "x"}, {"id": 2, "vk": "y"}])
    for statement, params in AS_SQLALCHEMY_RUNS_THEM:
        with through_sqlalchemy(db) as sent:
            rows = [dict(row) for row in await db.rows(statement, params)]
        assert len(sent) == 1, statement
        assert rows == await as_sqlalchemy_reads(db, statement, params)


async def test_a_write_returns_its_rows_and_is_committed(db: Database, tmp_path: Path) -> None:
    moment = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    with through_sqlalchemy(db) as sent:
        [added] = await db.write(ADD, {"id": 7, "at": moment})
    assert sent == []
    assert dict(added) == {"id": 7, "at": moment}
    other = await Database.open_sqlite(tmp_path / "news.sqlite3")
    try:
        row = await other.row(BY_ID, {"id": 7})
        assert row is not None and row["at"] == moment
    finally:
        await other.close()
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await db.write(ADD, {"id": 7, "at": moment})
    assert (await db.row(COUNT)) == {"n": 3}
    traced: list[str] = []
    async with db.tracing(traced.append):
        await db.write(ADD, {"id": 8, "at": moment})
        await db.row(BY_ID, {"id": 8})
    assert [statement.split()[0] for statement in traced] == ["INSERT", "SELECT"]


async def test_more_reads_at_once_than_connections(db: Database) -> None:
    found = await asyncio.gather(*(db.row(BY_ID, {"id": 1 + i % 2}) for i in range(40)))
    assert [row["id"] for row in found if row is not None] == [1 + i % 2 for i in range(40)]


async def test_in_memory_everything_goes_through_sqlalchemy() -> None:
    db = await Database.open_sqlite(":memory:")
    try:
        async with db.transaction() as conn:
            await conn.run_sync(meta.create_all)
            await conn.execute(things.insert(), ROWS)
        with through_sqlalchemy(db) as sent:
            assert [dict(row) for row in await db.rows(ALL)] == ROWS
        assert [s for s in sent if not s.startswith("BEGIN")] == [str(ALL.compile(db.reader))]
    finally:
        await db.close()


async def test_a_closed_database_refuses_reads(db: Database) -> None:
    await db.close()
    with pytest.raises(StorageError, match="closed"):
        await db.rows(ALL)


def test_statements_are_compiled_once_each() -> None:
    cache = Statements(size=2)
    first = cache.get(BY_ID)
    assert first is not None and cache.get(BY_ID) is first
    cache.get(SINCE)
    cache.get(ALL)  # the least recently used goes: BY_ID
    again = cache.get(BY_ID)
    assert again is not None and again is not first and again.sql == first.sql
    assert cache.get(IN_LIST) is None


async def test_a_start_that_fails_leaves_no_connection_open(tmp_path: Path) -> None:
    folder = tmp_path / "news.sqlite3"
    folder.mkdir()
    before = {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}
    with pytest.raises(StorageError):
        await Database.open_sqlite(folder)
    for _ in range(200):  # a thread ends just after its connection reports closed
        left = {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}
        if left <= before:
            break
        await asyncio.sleep(0.01)
    assert left <= before
