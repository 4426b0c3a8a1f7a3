"""Storage: one implementation of the repositories for SQLite and PostgreSQL.

SQLite (``DATABASE_PATH``) is the default; ``DATABASE_URL`` selects PostgreSQL, for
several instances sharing one database.  The repositories implement the protocols of
``bot.repositories`` with SQLAlchemy Core statements built from ``storage.tables``;
the few places where the engines truly differ (the full-text index, the vote batch)
branch on ``Database.dialect`` inside the repository concerned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from aiogram.fsm.storage.base import BaseStorage
from pydantic import SecretStr

from bot.repositories import (
    ArticleStore,
    EditorStore,
    FeedStore,
    HistoryStore,
    ImportLedger,
    PollStore,
    Readership,
    SearchIndex,
    StatsStore,
)
from storage.archive import ArchiveRepository
from storage.articles import ArticleRepository
from storage.database import Database
from storage.desk import DeskRepository
from storage.dialogs import DialogStorage
from storage.feeds import FeedRepository
from storage.polls import PollRepository
from storage.readership import ReadershipRepository
from storage.search import FullTextSearch

logger = logging.getLogger(__name__)


class DeskStore(EditorStore, HistoryStore, StatsStore, Protocol):
    """The editor's desk: one repository implements all three protocols."""


class StorageSettings(Protocol):
    """What the factory reads of the settings."""

    @property
    def database_url(self) -> SecretStr | None: ...

    @property
    def database_path(self) -> Path: ...

    @property
    def database_busy_timeout_ms(self) -> int: ...


@dataclass
class Stores:
    backend: Literal["sqlite", "postgresql"]
    db: Database
    articles: ArticleStore
    polls: PollStore
    desk: DeskStore
    search: SearchIndex
    readership: Readership
    dialogs: BaseStorage
    archive: ImportLedger
    feeds: FeedStore

    async def close(self) -> None:
        await self.db.close()


async def open_database(settings: StorageSettings) -> Database:
    """Open (and migrate) the configured database; ``StorageError`` if it cannot be used."""
    if settings.database_url is not None:
        db = await Database.open_postgres(settings.database_url.get_secret_value())
        logger.info("Storage: PostgreSQL at %s", db.where)
        return db
    db = await Database.open_sqlite(
        settings.database_path, busy_timeout_ms=settings.database_busy_timeout_ms
    )
    logger.info("Storage: SQLite at %s", settings.database_path)
    return db


def stores_on(db: Database) -> Stores:
    """Every repository on one database."""
    search = FullTextSearch(db)
    articles = ArticleRepository(db)
    return Stores(
        backend=db.dialect,
        db=db,
        articles=articles,
        polls=PollRepository(db),
        desk=DeskRepository(db),
        search=search,
        readership=ReadershipRepository(db),
        dialogs=DialogStorage(db),
        archive=ArchiveRepository(db, search),
        feeds=FeedRepository(db, articles),
    )


async def open_stores(settings: StorageSettings) -> Stores:
    return stores_on(await open_database(settings))


async def database_answers(db: Database, timeout: float = 2.0) -> bool:
    """For /healthz: does the database answer a trivial query within ``timeout`` seconds?"""
    import asyncio

    try:
        return await asyncio.wait_for(db.answers(), timeout)
    except TimeoutError:
        return False
