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
from sqlalchemy import inspect, text

from bot.errors import StorageError
from bot.models import ArticleContent
from bot.repositories import Change, Revision
from bot.settings import SettingsError, load_settings
from storage.database import Database, redact, where
from storage.dialogs import DialogStorage
from storage.migrations import runner as migrations
from storage.migrations.runner import MIGRATION_LOCK
from storage.tables import metadata
from tests.backends import Backend, StoreSettings, emptied

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
CONTENT = ArticleContent(title="Заголовок", paragraphs=("Абзац.",))


async def _connect(url: str) -> asyncpg.Connection[asyncpg.Record]:
    return await asyncpg.connect(url, timeout=10)


async def _stamped(url: str) -> list[str]:
    conn = await _connect(url)
    try:
        return [row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")]
    finally:
        await conn.close()


async def test_a_fresh_database_is_built_and_stamped_at_the_head(empty_pg_database: str) -> None:
    db = await Database.open_postgres(empty_pg_database)
    try:
        async with db.read() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            functions = set(
                (
                    await conn.execute(
                        text("SELECT proname FROM pg_proc WHERE proname LIKE ANY (:names)"),
                        {"names": ["poll_votes_count", "article_reads_count", "search_%"]},
                    )
                ).scalars()
            )
        assert set(metadata.tables) | {"article_search", "search_terms"} <= tables
        assert "schema_migrations" not in tables  # the numbered scripts' record is gone
        assert functions == {
            "poll_votes_count",
            "article_reads_count",
            "search_queue_article",
            "search_any",
        }
    finally:
        await db.close()
    assert await _stamped(empty_pg_database) == [migrations.head()]
    again = await Database.open_postgres(empty_pg_database)  # nothing left to do
    await again.close()
    assert await _stamped(empty_pg_database) == [migrations.head()]


async def test_two_instances_opening_a_fresh_database_together_migrate_once(
    empty_pg_database: str,
) -> None:
    # Without the lock both would CREATE TABLE articles and one would fail.
    both = await asyncio.gather(*(Database.open_postgres(empty_pg_database) for _ in range(2)))
    for db in both:
        await db.close()
    assert await _stamped(empty_pg_database) == [migrations.head()]


async def test_a_migration_waits_for_the_instance_holding_the_lock(empty_pg_database: str) -> None:
    holder = await _connect(empty_pg_database)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        task = asyncio.create_task(Database.open_postgres(empty_pg_database))
        # Wait for the event itself: the migrator's lock request is queued in pg_locks.
        while not await holder.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert not task.done(), task
            await asyncio.sleep(0.01)
        assert await holder.fetchval("SELECT to_regclass('articles') IS NULL")
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        db = await task
        await db.close()
        assert await holder.fetchval("SELECT to_regclass('articles') IS NOT NULL")
    finally:
        await holder.close()


async def test_unreachable_server_is_a_storage_error_without_the_password() -> None:
    url = "postgresql://newsroom:s3cret-pass@127.0.0.1:1/newsroom"
    with pytest.raises(StorageError) as info:
        await Database.open_postgres(url)
    message = str(info.value)
    assert "127.0.0.1:1/newsroom" in message
    assert "s3cret" not in message and "\n" not in message
    assert redact(url) == "postgresql://newsroom:***@127.0.0.1:1/newsroom"
    assert where(url) == "127.0.0.1:1/newsroom"
    assert redact("postgresql://newsroom@db/news") == "postgresql://newsroom@db/news"
    assert where("postgresql://newsroom:s3cret@db/news") == "db:5432/news"


async def test_a_server_that_goes_away_is_a_storage_error(empty_pg_database: str) -> None:
    db = await Database.open_postgres(empty_pg_database)
    try:
        admin = await _connect(empty_pg_database)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        with pytest.raises(StorageError) as info:
            async with db.transaction() as conn:
                await conn.execute(text("SELECT 1"))
        assert "\n" not in str(info.value) and db.where in str(info.value)
    finally:
        await db.close()


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
    await emptied(await backend.open())
    try:
        yield backend
    finally:
        for stores in backend.opened:
            await stores.close()


async def test_dialogs_are_shared_by_instances(pg: Backend) -> None:
    one, two = await pg.open(), await pg.open()
    assert isinstance(one.dialogs, DialogStorage)
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
            (one if i % 2 else two).articles.revise(article.id, Revision(adding(t)))
            for i, t in enumerate(tags)
        )
    )
    stored = await one.articles.get(article.id)
    assert stored is not None and sorted(stored.content.tags) == sorted(tags)
