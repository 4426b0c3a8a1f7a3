"""aiogram FSM storage in the project's database: dialogs survive restarts.

aiogram asks for the state on every update.  On SQLite this process is the only writer,
so answers come from a write-through memory cache and the database keeps them durable.
On PostgreSQL another instance may move the same dialog on, so every answer comes from
the database (one primary-key lookup).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import Column, Insert, Select, bindparam, select

from storage.database import Database
from storage.rows import utc_now
from storage.tables import dialog_states

CACHE_SIZE = 10_000

KEYS = select(dialog_states.c.key)
GET_STATE = select(dialog_states.c.state).where(dialog_states.c.key == bindparam("key"))
GET_DATA = select(dialog_states.c.data).where(dialog_states.c.key == bindparam("key"))


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


class DialogStorage(BaseStorage):
    """One row per dialog key: its state and its data, each written by one upsert."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._keys = DefaultKeyBuilder(with_destiny=True)
        # Bounded, least recently used out: every reader who votes passes through here.
        cached = db.dialect == "sqlite"
        self._states: OrderedDict[str, Any] | None = OrderedDict() if cached else None
        self._data: OrderedDict[str, Any] | None = OrderedDict() if cached else None
        # With the cache: the keys that have a row at all (editors in a dialog, a few
        # hundred at most), loaded once, so a reader who never had a dialog costs no read.
        self._stored: set[str] = set()
        self._loaded = False
        self._set_state = self._upsert(dialog_states.c.state)
        self._set_data = self._upsert(dialog_states.c.data)

    def _upsert(self, column: Column[Any]) -> Insert:
        statement = self._db.insert(dialog_states)
        return statement.on_conflict_do_update(
            index_elements=[dialog_states.c.key],
            set_={
                column: statement.excluded[column.name],
                "updated_at": statement.excluded.updated_at,
            },
        )

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(
        self,
        statement: Insert,
        name: str,
        column: str,
        value: Any,
        cache: OrderedDict[str, Any] | None,
    ) -> None:
        if cache is not None and name in cache and cache[name] == value:
            return
        async with self._db.transaction() as conn:
            await conn.execute(statement, {"key": name, column: value, "updated_at": utc_now()})
        if cache is not None:
            self._stored.add(name)
            _remember(cache, name, copy.deepcopy(value))

    async def _read(
        self, statement: Select[tuple[Any]], name: str, cache: OrderedDict[str, Any] | None
    ) -> Any:
        """The stored value; None when there is no row."""
        if cache is not None and name in cache:
            cache.move_to_end(name)
            return cache[name]
        if cache is not None and self._loaded and name not in self._stored:
            # A reader who never had a dialog (every voter passes here): no database read.
            _remember(cache, name, None)
            return None
        async with self._db.read() as conn:
            if cache is not None and not self._loaded:
                self._stored.update((await conn.execute(KEYS)).scalars())
                self._loaded = True
            if cache is None or name in self._stored:
                value = (await conn.execute(statement, {"key": name})).scalar_one_or_none()
            else:
                value = None
        if cache is not None:
            if name in cache:  # a write of the same key landed meanwhile: it is newer
                return cache[name]
            _remember(cache, name, value)
        return value

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(self._set_state, self._key(key), "state", value, self._states)

    async def get_state(self, key: StorageKey) -> str | None:
        state = await self._read(GET_STATE, self._key(key), self._states)
        return str(state) if state is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(self._set_data, self._key(key), "data", dict(data), self._data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        data = await self._read(GET_DATA, self._key(key), self._data)
        # A copy the caller may change without changing the cache.
        return copy.deepcopy(data) if isinstance(data, dict) else {}

    async def close(self) -> None:
        """The database belongs to the app, which closes it."""
