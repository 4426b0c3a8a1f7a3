"""SQLite statements in one hop: the hot reads, and single-statement writes.

Through SQLAlchemy's aiosqlite adapter a statement is five trips to the connection's
thread and back (cursor, execute, fetch, close, and the rollback when the connection goes
back to its pool) plus SQLAlchemy's own execution work: about 0.4 ms a read on the
2-core development machine, where the query itself took 0.03 ms.  The statements readers
wait for (the full text, the headlines, a search, a first read) take the same Core
constructs, compiled once for SQLite, and run them with ``aiosqlite``'s public
``execute_fetchall``: one trip.
Values go in and come out through the columns' own types (``bind_processor``,
``result_processor``), so a row reads exactly as through SQLAlchemy, and the
repositories write each statement once for both engines (``Database.rows``).  What
the path cannot reproduce exactly it leaves to SQLAlchemy (``prepare`` says which).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy import Executable
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    SelectBase,
    UpdateBase,
)
from sqlalchemy.types import TypeEngine

# ``:name`` parameters: a statement's values are handed over by name.
_DIALECT = sqlite.dialect(paramstyle="named")
# Statements are module or repository constants, so this holds all of them; a statement
# built per call would only cost its compiling, never a wrong answer.
CACHED_STATEMENTS = 512

Row = dict[str, Any]
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as SQLite text, the values of its own literals, and the conversions
    of its parameters and result columns."""

    sql: str
    literals: dict[str, Any]
    binds: dict[str, _Processor]
    columns: tuple[str, ...]
    results: tuple[_Processor, ...]

    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        given = {**self.literals, **params}
        out = {}
        for name, value in given.items():
            process = self.binds.get(name)
            out[name] = process(value) if process is not None and value is not None else value
        return out

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Row]:
        columns, results = self.columns, self.results
        return [
            {
                name: (value if process is None or value is None else process(value))
                for name, process, value in zip(columns, results, row, strict=True)
            }
            for row in raw
        ]


def prepare(statement: Executable) -> Prepared | None:
    """The statement compiled for the one-hop path, or None when SQLAlchemy's execution
    must run it: a ``text()``, a list given per call, a value rendered into the SQL as it
    runs, a column SQLAlchemy names as it compiles (unnamed, keyed other than its name,
    or two of one name)."""
    if not isinstance(statement, SelectBase | UpdateBase):
        return None
    # A query's columns, or what an INSERT/UPDATE/DELETE returns.
    selected: list[ColumnElement[Any]] = list(statement.exported_columns)
    keys = [column.key for column in selected]
    names = [getattr(column, "name", column.key) for column in selected]
    if None in keys or keys != names or len(set(keys)) != len(keys):
        return None  # label the column to come here
    compiled = _compiled(statement)
    binds = {name: compiled.binds[name] for name in compiled.params}
    required = {name for name, bind in binds.items() if bind.required}
    if any(
        bind.literal_execute or (bind.expanding and name in required)
        for name, bind in binds.items()
    ):
        return None
    if any(bind.expanding for bind in binds.values()):
        # A list written into the statement (``status IN (…)``): one parameter a value.
        compiled = _compiled(
            statement.params(dict.fromkeys(required)), {"render_postcompile": True}
        )
    types = {name: _type_of(name, binds) for name in compiled.params}
    if None in types.values():
        return None
    return Prepared(
        sql=str(compiled),
        literals={name: v for name, v in compiled.params.items() if name not in required},
        binds={
            name: kind.bind_processor(_DIALECT) for name, kind in types.items() if kind is not None
        },
        columns=tuple(str(key) for key in keys),
        results=tuple(
            _on_sqlite(column.type).result_processor(_DIALECT, None) for column in selected
        ),
    )


def _compiled(statement: ClauseElement, options: dict[str, Any] | None = None) -> SQLCompiler:
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs=options or {})
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _on_sqlite(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type as SQLite's dialect runs it (``DateTime`` becomes SQLite's own)."""
    return kind.dialect_impl(_DIALECT)


def _type_of(name: str, binds: Mapping[str, BindParameter[Any]]) -> TypeEngine[Any] | None:
    """A parameter's type; a list's values (``status_1_2``) have the list's; None when
    the name is neither (SQLAlchemy renamed it)."""
    if name in binds:
        return _on_sqlite(binds[name].type)
    base = binds.get(name.rsplit("_", 1)[0])
    return _on_sqlite(base.type) if base is not None and base.expanding else None


class Statements:
    """Compiled statements by identity (each kept alive by its entry, so an id is never
    taken by another statement while cached)."""

    def __init__(self, size: int = CACHED_STATEMENTS) -> None:
        self._size = size
        self._cache: OrderedDict[int, tuple[Executable, Prepared | None]] = OrderedDict()

    def get(self, statement: Executable) -> Prepared | None:
        key = id(statement)
        entry = self._cache.get(key)
        if entry is not None and entry[0] is statement:
            self._cache.move_to_end(key)
            return entry[1]
        prepared = prepare(statement)
        self._cache[key] = (statement, prepared)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return prepared


async def fetch(
    connection: aiosqlite.Connection, prepared: Prepared, params: Mapping[str, Any]
) -> list[Row]:
    """One trip to the connection's thread: execute and fetch every row."""
    raw = await connection.execute_fetchall(prepared.sql, prepared.values(params))
    return prepared.rows(list(raw))


class Readers:
    """A few read-only ``aiosqlite`` connections on the database file, lent one at a
    time (WAL: they see the last committed state and never wait for the writer)."""

    def __init__(self, path: str, size: int, pragmas: Sequence[str]) -> None:
        self._path = path
        self._size = size
        self._pragmas = pragmas
        self._idle: asyncio.LifoQueue[aiosqlite.Connection] = asyncio.LifoQueue()
        self._all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        """Every connection at once, each set up in one trip (a start waits for them);
        if one fails, those that opened are closed again."""
        results = await asyncio.gather(
            *(self._connect() for _ in range(self._size)), return_exceptions=True
        )
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            await self.close()
            raise failed

    async def _connect(self) -> None:
        connection = await aiosqlite.connect(self._path, isolation_level=None)
        self._all.append(connection)
        await connection.executescript(";".join((*self._pragmas, "PRAGMA query_only = ON")) + ";")
        self._idle.put_nowait(connection)

    async def fetch(self, prepared: Prepared, params: Mapping[str, Any]) -> list[Row]:
        connection = await self._idle.get()
        try:
            return await fetch(connection, prepared, params)
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()
        self._all.clear()
