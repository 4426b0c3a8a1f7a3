"""aiogram FSM storage in the project's database: dialogs survive restarts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from .db import Database


class SqliteDialogStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._keys = DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._db.execute(
            "INSERT INTO dialog_states (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (self._key(key), value, datetime.now(UTC).isoformat()),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._db.fetch_one(
            "SELECT state FROM dialog_states WHERE key = ?", (self._key(key),)
        )
        return str(row["state"]) if row and row["state"] is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._db.execute(
            "INSERT INTO dialog_states (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (
                self._key(key),
                json.dumps(dict(data), ensure_ascii=False),
                datetime.now(UTC).isoformat(),
            ),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._db.fetch_one(
            "SELECT data FROM dialog_states WHERE key = ?", (self._key(key),)
        )
        if row is None:
            return {}
        loaded = json.loads(row["data"])
        return loaded if isinstance(loaded, dict) else {}

    async def close(self) -> None:
        """The database belongs to the app, which closes it."""
