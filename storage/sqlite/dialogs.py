"""aiogram FSM storage in the project's database: dialogs survive restarts."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from .db import Database

CACHE_SIZE = 10_000


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


class SqliteDialogStorage(BaseStorage):
    """aiogram asks for the state on every update; answers come from a write-through
    memory cache (this process is the only writer), the database keeps them durable."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._keys = DefaultKeyBuilder(with_destiny=True)
        # Every reader who votes passes through here: bounded, least recently used out.
        self._states: OrderedDict[str, str | None] = OrderedDict()
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # The keys that have a row at all (editors in a dialog, a few hundred at most),
        # loaded once: a reader who never had a dialog costs no database read.
        self._stored: set[str] = set()
        self._loaded = False

    async def _has_row(self, name: str) -> bool:
        if not self._loaded:
            rows = await self._db.fetch_all("SELECT key FROM dialog_states")
            self._stored.update(str(row["key"]) for row in rows)
            self._loaded = True
        return name in self._stored

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        name = self._key(key)
        if name in self._states and self._states[name] == value:
            return
        await self._db.execute(
            "INSERT INTO dialog_states (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (name, value, datetime.now(UTC).isoformat()),
        )
        self._stored.add(name)
        _remember(self._states, name, value)

    async def get_state(self, key: StorageKey) -> str | None:
        name = self._key(key)
        if name not in self._states:
            if not await self._has_row(name):
                _remember(self._states, name, None)
                return None
            row = await self._db.fetch_one(
                "SELECT state FROM dialog_states WHERE key = ?", (name,)
            )
            state = str(row["state"]) if row and row["state"] is not None else None
            _remember(self._states, name, state)
            return state
        self._states.move_to_end(name)
        return self._states[name]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        name = self._key(key)
        if name in self._data and self._data[name] == dict(data):
            return
        await self._db.execute(
            "INSERT INTO dialog_states (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (name, json.dumps(dict(data), ensure_ascii=False), datetime.now(UTC).isoformat()),
        )
        self._stored.add(name)
        _remember(self._data, name, copy.deepcopy(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        name = self._key(key)
        if name not in self._data:
            if not await self._has_row(name):
                _remember(self._data, name, {})
                return {}
            row = await self._db.fetch_one("SELECT data FROM dialog_states WHERE key = ?", (name,))
            loaded = json.loads(row["data"]) if row is not None else {}
            _remember(self._data, name, loaded if isinstance(loaded, dict) else {})
        return copy.deepcopy(self._data[name])  # a copy the caller may change

    async def close(self) -> None:
        """The database belongs to the app, which closes it."""
