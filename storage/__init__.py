"""The storage backends, and the one factory the app calls to open the configured one.

SQLite (``DATABASE_PATH``) is the default; ``DATABASE_URL`` selects PostgreSQL, for
several instances sharing one database.  Both implement the protocols of
``bot/repositories.py`` and an aiogram FSM storage for dialogs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeAlias

from aiogram.fsm.storage.base import BaseStorage
from pydantic import SecretStr

from bot.repositories import (
    ArticleStats,
    ArticleStore,
    EditorStore,
    HistoryStore,
    PollStore,
    SearchIndex,
    StatsStore,
)
from storage.postgres import articles as pg_articles
from storage.postgres import db as pg_db
from storage.postgres import desk as pg_desk
from storage.postgres import dialogs as pg_dialogs
from storage.postgres import polls as pg_polls
from storage.postgres import search as pg_search
from storage.postgres import stats as pg_stats
from storage.sqlite import articles as sqlite_articles
from storage.sqlite import db as sqlite_db
from storage.sqlite import desk as sqlite_desk
from storage.sqlite import dialogs as sqlite_dialogs
from storage.sqlite import polls as sqlite_polls
from storage.sqlite import search as sqlite_search
from storage.sqlite import stats as sqlite_stats

logger = logging.getLogger(__name__)


class DeskStore(EditorStore, HistoryStore, StatsStore, Protocol):
    """The editor's desk: one repository implements all three protocols."""


AnyDatabase: TypeAlias = sqlite_db.Database | pg_db.Database


class StorageSettings(Protocol):
    """What the factory reads of ``bot.settings.Settings``."""

    @property
    def database_url(self) -> SecretStr | None: ...

    @property
    def database_path(self) -> Path: ...

    @property
    def database_busy_timeout_ms(self) -> int: ...


@dataclass
class Stores:
    backend: Literal["sqlite", "postgresql"]
    db: AnyDatabase
    articles: ArticleStore
    polls: PollStore
    desk: DeskStore
    search: SearchIndex
    stats: ArticleStats
    dialogs: BaseStorage

    async def close(self) -> None:
        await self.db.close()


async def open_stores(settings: StorageSettings) -> Stores:
    """Open (and migrate) the configured database; ``StorageError`` if it cannot be used."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        pg = await pg_db.Database.open(url)
        logger.info("Storage: PostgreSQL at %s", pg.where)
        return Stores(
            backend="postgresql",
            db=pg,
            articles=pg_articles.ArticleRepository(pg),
            polls=pg_polls.PollRepository(pg),
            desk=pg_desk.DeskRepository(pg),
            search=pg_search.PostgresSearchIndex(pg),
            stats=pg_stats.PostgresArticleStats(pg),
            dialogs=pg_dialogs.PostgresDialogStorage(pg),
        )
    lite = await sqlite_db.Database.open(
        settings.database_path, busy_timeout_ms=settings.database_busy_timeout_ms
    )
    logger.info("Storage: SQLite at %s", settings.database_path)
    return Stores(
        backend="sqlite",
        db=lite,
        articles=sqlite_articles.ArticleRepository(lite),
        polls=sqlite_polls.PollRepository(lite),
        desk=sqlite_desk.DeskRepository(lite),
        search=sqlite_search.SqliteSearchIndex(lite),
        stats=sqlite_stats.SqliteArticleStats(lite),
        dialogs=sqlite_dialogs.SqliteDialogStorage(lite),
    )


async def database_answers(db: AnyDatabase, timeout: float = 2.0) -> bool:
    """For /healthz: does the database answer a trivial query within ``timeout`` seconds?"""
    try:
        await asyncio.wait_for(db.fetch_one("SELECT 1"), timeout)
    except Exception:
        return False
    return True
