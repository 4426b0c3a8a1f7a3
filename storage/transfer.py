"""Moving a newsroom from its SQLite file to an empty PostgreSQL database.

Both sides are opened as ``Database``s, so the source file is first brought up to the
current schema and the same tables describe both; every table is copied by the same
statements, in batches, the column types turning SQLite's text into PostgreSQL's types.
Everything is written in one PostgreSQL transaction, read from one snapshot of the
source, so a failure leaves the target empty.  The counters that triggers keep
(``articles.reads``, ``poll_options.votes``) are not copied: the triggers rebuild them
from the copied reads and votes, and the check at the end compares them with the
source's, so a count that had drifted would show.  Identity sequences are moved past the
largest copied ids, so new rows never collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, exc, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.searching import SHOWN
from storage.tables import articles, metadata, poll_options, search_pending
from storage.types import UtcTime

CHUNK = 5000
# Kept by triggers on the copied rows: rebuilt, not copied, then compared.
KEPT: tuple[Column[Any], ...] = (articles.c.reads, poll_options.c.votes)
# In the order foreign keys need.  The search queue is derived: the published articles
# are queued after the copy and indexed when the bot starts on PostgreSQL.
TABLES: tuple[Table, ...] = tuple(t for t in metadata.sorted_tables if t is not search_pending)
WITH_IDENTITY = tuple(t for t in TABLES if "id" in t.c and t.c.id.identity is not None)


def _copied(table: Table) -> list[Column[Any]]:
    return [column for column in table.columns if column not in KEPT]


READ = {t.name: select(*_copied(t)) for t in TABLES}
WRITE = {t.name: insert(t).execution_options(insertmanyvalues_page_size=CHUNK) for t in TABLES}
ANY_ROW = {t.name: select(literal(1)).select_from(t).limit(1) for t in TABLES}
# Our own moments are UTC: one written without a zone is read as UTC, not local time.
UTC_COLUMNS = {t.name: [c.name for c in _copied(t) if isinstance(c.type, UtcTime)] for t in TABLES}
COUNTS = {t.name: select(func.count()).select_from(t) for t in TABLES}
CHECKS = list(COUNTS.items()) + [
    (f"{c.table.name}.{c.name} (sum)", select(func.coalesce(func.sum(c), 0))) for c in KEPT
]
INDEXED = select(articles.c.id).where(SHOWN)


# Told (table, rows copied so far, rows the table has) when a table starts and after
# each batch: the command line draws its progress from it.
Progress = Callable[[str, int, int], None]


def _no_progress(table: str, done: int, total: int) -> None:
    pass


class TransferError(Exception):
    """The copy cannot be made; the message says why, and nothing was written."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


async def copy_sqlite_to_postgres(
    sqlite_path: Path, url: str, progress: Progress = _no_progress
) -> list[TableCount]:
    """Copy everything; returns the row counts per table (and the kept counters) of the
    source and of the target, read back after the commit."""
    if not sqlite_path.is_file():
        raise TransferError(f"no SQLite database at {sqlite_path}")
    source = await Database.open_sqlite(sqlite_path)
    try:
        target = await Database.open_postgres(url)
        try:
            try:
                await _copy(source, target, progress)
            except exc.DBAPIError as error:
                raise TransferError(
                    f"the copy failed, nothing was written: {_why(error)}"
                ) from error
            return await _verify(source, target)
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: Database, target: Database, progress: Progress) -> None:
    async with source.snapshot() as reading, target.transaction() as writing:
        for table in TABLES:
            if (await writing.execute(ANY_ROW[table.name])).first() is not None:
                raise TransferError(
                    f"PostgreSQL at {target.where} is not empty ({table.name} has rows): "
                    "the copy goes into an empty database only"
                )
        for table in TABLES:
            await _copy_table(table.name, reading, writing, progress)
        for table in WITH_IDENTITY:
            after = func.coalesce(func.max(table.c.id), 0) + 1
            sequence = func.pg_get_serial_sequence(table.name, "id")
            await writing.execute(select(func.setval(sequence, after, False)))
        queue = target.insert(search_pending).from_select(["article_id"], INDEXED)
        await writing.execute(queue.on_conflict_do_nothing())


async def _copy_table(
    name: str, reading: AsyncConnection, writing: AsyncConnection, progress: Progress
) -> None:
    total = int((await reading.execute(COUNTS[name])).scalar_one())
    progress(name, 0, total)
    rows = await reading.stream(READ[name])
    done = 0
    async for chunk in rows.mappings().partitions(CHUNK):
        records = [dict(row) for row in chunk]
        for record in records:
            for column in UTC_COLUMNS[name]:
                moment = record[column]
                if isinstance(moment, datetime) and moment.tzinfo is None:
                    record[column] = moment.replace(tzinfo=UTC)
        await writing.execute(WRITE[name], records)
        done += len(records)
        progress(name, done, total)


async def _verify(source: Database, target: Database) -> list[TableCount]:
    async with source.snapshot() as before, target.read() as after:
        return [
            TableCount(
                name,
                int((await before.execute(check)).scalar_one()),
                int((await after.execute(check)).scalar_one()),
            )
            for name, check in CHECKS
        ]


def _why(error: exc.DBAPIError) -> str:
    cause = error.orig if error.orig is not None else error
    return (str(cause).strip() or type(cause).__name__).splitlines()[0]
