"""What only the PostgreSQL backend has: migrations under an advisory lock, a clear error
for an unreachable server, a dialog storage shared by instances, row locks for revisions.
(The repository contract runs on both backends in test_storage.py, test_races.py and
test_article_queries.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from aiogram.fsm.storage.base import StorageKey
from pydantic import SecretStr

from bot.errors import StorageError
from bot.models import ArticleContent
from bot.repositories import Change
from bot.settings import SettingsError, load_settings
from storage.postgres.db import MIGRATION_LOCK, Database, _migrations, apply_migrations, redact
from storage.postgres.dialogs import PostgresDialogStorage
from tests.backends import TABLES, Backend, StoreSettings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
CONTENT = ArticleContent(title="Заголовок", paragraphs=("Абзац.",))


async def _connect(url: str) -> asyncpg.Connection[asyncpg.Record]:
    return await asyncpg.connect(url, timeout=10)


async def test_migrations_run_once_and_record_each_script(empty_pg_database: str) -> None:
    db = await Database.open(empty_pg_database)
    try:
        rows = await db.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [
            (n, name) for n, name, _ in _migrations()
        ]
        assert await db.migrate() == _migrations()[-1][0]  # nothing left to do
        assert await db.fetch_value("SELECT count(*) FROM schema_migrations") == len(rows)
    finally:
        await db.close()


async def test_two_instances_migrating_together_migrate_once(empty_pg_database: str) -> None:
    # Without the lock both would CREATE TABLE articles and one would fail.
    first, second = await _connect(empty_pg_database), await _connect(empty_pg_database)
    try:
        versions = await asyncio.gather(apply_migrations(first), apply_migrations(second))
        latest = _migrations()[-1][0]
        assert list(versions) == [latest, latest]
        assert await first.fetchval("SELECT count(*) FROM schema_migrations") == len(_migrations())
    finally:
        await first.close()
        await second.close()


async def test_a_migration_waits_for_the_instance_holding_the_lock(empty_pg_database: str) -> None:
    holder, migrator = await _connect(empty_pg_database), await _connect(empty_pg_database)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        task = asyncio.create_task(apply_migrations(migrator))
        # Wait for the event itself: the migrator's lock request is queued in pg_locks.
        while not await holder.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert not task.done(), task
            await asyncio.sleep(0.01)
        assert await holder.fetchval("SELECT to_regclass('articles') IS NULL")
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        assert await task == _migrations()[-1][0]
        assert await holder.fetchval("SELECT to_regclass('articles') IS NOT NULL")
    finally:
        await holder.close()
        await migrator.close()


async def test_unreachable_server_is_a_storage_error_without_the_password() -> None:
    url = "postgresql://newsroom:s3cret-pass@127.0.0.1:1/newsroom"
    with pytest.raises(StorageError) as info:
        await Database.open(url, timeout=5)
    message = str(info.value)
    assert "127.0.0.1:1/newsroom" in message
    assert "s3cret" not in message
    assert redact(url) == "postgresql://newsroom:***@127.0.0.1:1/newsroom"


def test_database_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = {"bot_token": TOKEN, "channel_id": "-1001234567890", "_env_file": None}
    assert load_settings(**base).database_url is None
    url = "postgresql://bot:pa55word@db.example:5432/news"
    settings = load_settings(**base, database_url=url)
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == url
    assert "pa55word" not in repr(settings) and "pa55word" not in str(settings)
    for bad in (
        "mysql://bot:pa55word@db:3306/news",
        "postgresql://bot:pa55word@db:5432",
        "postgresql://bot:pa55word@db:99999/news",
    ):
        with pytest.raises(SettingsError) as info:
            load_settings(**base, database_url=bad)
        assert str(info.value).startswith("DATABASE_URL is invalid")
        assert "pa55word" not in str(info.value)


@pytest.fixture
async def pg(pg_database: str, tmp_path: Path) -> AsyncIterator[Backend]:
    """The run's database, emptied; tests open as many instances as they need."""
    path = tmp_path / "unused.sqlite3"
    settings = StoreSettings(database_path=path, database_url=SecretStr(pg_database))
    backend = Backend("postgres", settings)
    first = await backend.open()
    await first.db.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    try:
        yield backend
    finally:
        for stores in backend.opened:
            await stores.close()


async def test_dialogs_are_shared_by_instances(pg: Backend) -> None:
    one, two = await pg.open(), await pg.open()
    assert isinstance(one.dialogs, PostgresDialogStorage)
    key = StorageKey(bot_id=1, chat_id=2, user_id=3)
    await one.dialogs.set_state(key, "NewArticle:text")
    await one.dialogs.set_data(key, {"title": "Заголовок", "paragraphs": ["а", "б"]})
    assert await two.dialogs.get_state(key) == "NewArticle:text"
    assert await two.dialogs.get_data(key) == {"title": "Заголовок", "paragraphs": ["а", "б"]}
    await two.dialogs.set_state(key, None)
    assert await one.dialogs.get_state(key) is None
    other = StorageKey(bot_id=1, chat_id=2, user_id=4)
    assert await one.dialogs.get_data(other) == {}


async def test_revisions_from_two_instances_both_keep_their_change(pg: Backend) -> None:
    one, two = await pg.open(), await pg.open()
    article = await one.articles.create(CONTENT, 1)
    tags = [f"тег{i}" for i in range(20)]

    def adding(tag: str) -> Change:
        return lambda content: replace(content, tags=(*content.tags, tag))

    await asyncio.gather(
        *(
            (one if i % 2 else two).articles.revise(article.id, adding(t))
            for i, t in enumerate(tags)
        )
    )
    stored = await one.articles.get(article.id)
    assert stored is not None and sorted(stored.content.tags) == sorted(tags)
