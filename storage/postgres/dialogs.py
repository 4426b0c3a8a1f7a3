"""aiogram FSM storage in PostgreSQL: dialogs survive restarts and are shared by
instances.

Unlike the SQLite storage there is no memory cache: another instance may move the same
dialog on, so every answer comes from the database (one primary-key lookup).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from .db import Database


class PostgresDialogStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._keys = DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._db.execute(
            "INSERT INTO dialog_states (key, state, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            self._key(key),
            value,
            datetime.now(UTC),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        state = await self._db.fetch_value(
            "SELECT state FROM dialog_states WHERE key = $1", self._key(key)
        )
        return str(state) if state is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._db.execute(
            "INSERT INTO dialog_states (key, data, updated_at) VALUES ($1, $2::jsonb, $3) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            self._key(key),
            json.dumps(dict(data), ensure_ascii=False),
            datetime.now(UTC),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = await self._db.fetch_value(
            "SELECT data::text FROM dialog_states WHERE key = $1", self._key(key)
        )
        loaded = json.loads(raw) if raw is not None else {}
        return loaded if isinstance(loaded, dict) else {}

    async def close(self) -> None:
        """The database belongs to the app, which closes it."""
