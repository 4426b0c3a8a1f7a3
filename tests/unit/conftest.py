"""Fixtures for unit tests of the services: the real repositories, on a SQLite of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Stores, stores_on
from storage.database import Database


@pytest.fixture
async def sqlite_stores(tmp_path: Path) -> AsyncIterator[Stores]:
    """Every repository on a fresh SQLite database: the services are tested on the
    statements they run in production, not on a copy of them in memory.  A file rather
    than ``:memory:``: reads then go through the reader connections, as in the bot."""
    stores = stores_on(await Database.open_sqlite(tmp_path / "unit.sqlite3"))
    try:
        yield stores
    finally:
        await stores.close()
