"""Moving a newsroom from its SQLite file to an empty PostgreSQL database.

Everything is copied in one PostgreSQL transaction, so a failure leaves the target empty.
The counters that triggers keep (``articles.reads``, ``poll_options.votes``) are not
copied: the triggers rebuild them from the copied reads and votes, and the check at the
end compares them with the source's, so a count that had drifted would show.  Identity
sequences are moved past the largest copied ids, so new rows never collide.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from storage.postgres import db as pg_db
from storage.sqlite import db as sqlite_db

# In the order foreign keys need; (table, column kept by a trigger, or None).
TABLES: tuple[tuple[str, str | None], ...] = (
    ("articles", "reads"),
    ("article_paragraphs", None),
    ("article_tags", None),
    ("article_reads", None),
    ("draft_previews", None),
    ("polls", None),
    ("poll_options", "votes"),
    ("poll_votes", None),
    ("dialog_states", None),
    ("desk_editors", None),
    ("editor_actions", None),
    ("post_reactions", None),
    ("digests", None),
    # Not copied: article_search, search_terms and search_pending are derived; the copied
    # published articles are queued by the insert trigger of 0008 and indexed at start.
)
WITH_IDENTITY = ("articles", "polls", "editor_actions")
CHUNK = 5000


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


def _converter(data_type: str) -> Any:
    """SQLite keeps times as ISO-8601 text and flags as 0/1; PostgreSQL has types."""
    if data_type == "timestamp with time zone":

        def aware(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        return aware
    if data_type == "timestamp without time zone":
        return lambda v: (
            datetime.fromisoformat(v).replace(tzinfo=None) if isinstance(v, str) else v
        )
    if data_type == "date":
        return lambda v: date.fromisoformat(v) if isinstance(v, str) else v
    if data_type == "boolean":
        return lambda v: None if v is None else bool(v)
    return None


def _read_chunks(path: Path, sql: str) -> list[list[tuple[Any, ...]]]:
    """All rows of one query, in chunks, from a read-only connection (on a thread)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = conn.execute(sql)
        chunks = []
        while rows := cursor.fetchmany(CHUNK):
            chunks.append(rows)
        return chunks
    finally:
        conn.close()


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(sql).fetchone()
        return int(row[0] or 0)
    finally:
        conn.close()


async def copy_sqlite_to_postgres(sqlite_path: Path, url: str) -> list[TableCount]:
    """Copy everything; returns the row counts per table (and the kept counters) of the
    source and of the target, read back after the commit."""
    if not sqlite_path.is_file():
        raise TransferError(f"no SQLite database at {sqlite_path}")
    # Brings an older file up to the current schema, which the copy assumes.
    await (await sqlite_db.Database.open(sqlite_path)).close()
    target = await pg_db.Database.open(url)
    try:
        async with target.transaction() as conn:
            for table, _ in TABLES:
                if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                    raise TransferError(
                        f"PostgreSQL at {target.where} is not empty ({table} has rows): "
                        "the copy goes into an empty database only"
                    )
            for table, kept in TABLES:
                columns = await conn.fetch(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = $1 "
                    "ORDER BY ordinal_position",
                    table,
                )
                names = [c["column_name"] for c in columns if c["column_name"] != kept]
                converters = [
                    _converter(c["data_type"]) for c in columns if c["column_name"] != kept
                ]
                select = f"SELECT {', '.join(names)} FROM {table}"
                for chunk in await asyncio.to_thread(_read_chunks, sqlite_path, select):
                    records = [
                        tuple(
                            f(v) if f is not None else v
                            for f, v in zip(converters, row, strict=True)
                        )
                        for row in chunk
                    ]
                    await conn.copy_records_to_table(table, records=records, columns=names)
            for table in WITH_IDENTITY:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce(max(id), 0) + 1, false) FROM {table}"
                )
        return await _verify(sqlite_path, target)
    except (asyncpg.PostgresError, sqlite3.Error) as exc:
        raise TransferError(f"the copy failed, nothing was written: {exc}") from exc
    finally:
        await target.close()


async def _verify(sqlite_path: Path, target: pg_db.Database) -> list[TableCount]:
    counts = []
    checks = [(table, f"SELECT count(*) FROM {table}") for table, _ in TABLES]
    checks += [
        ("articles.reads (sum)", "SELECT sum(reads) FROM articles"),
        ("poll_options.votes (sum)", "SELECT sum(votes) FROM poll_options"),
    ]
    for name, sql in checks:
        source = await asyncio.to_thread(_count, sqlite_path, sql)
        copied = await target.fetch_value(sql)
        counts.append(TableCount(name, source, int(copied or 0)))
    return counts
