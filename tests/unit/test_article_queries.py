"""Articles at scale: one statement per listing or fetch, reader counts kept by a trigger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.models import ArticleContent
from storage import Stores
from storage.sqlite.articles import ArticleRepository
from storage.sqlite.db import Database, _migrations
from tests.backends import Backend

CONTENT = ArticleContent(
    title="Заголовок",
    paragraphs=tuple(f"Абзац {i}." for i in range(12)),  # more than 9: order is numeric
    tags=("Б", "А", "В"),
)


async def test_listings_and_fetches_are_one_statement_each(tmp_path: Path) -> None:
    # No reader connections: every statement goes through the writer, where we trace them.
    db = await Database.open(tmp_path / "news.sqlite3", readers=0)
    try:
        repo = ArticleRepository(db)
        for i in range(25):
            article = await repo.create(CONTENT, 1)
            claimed = await repo.claim(article.id)
            assert claimed is not None
            await repo.mark_published(article.id, claimed.publish_attempt, "@news", 100 + i)
        statements: list[str] = []

        def trace(conn: sqlite3.Connection) -> None:
            conn.set_trace_callback(statements.append)

        await db.run_transaction(trace)
        statements.clear()
        listed = await repo.latest_published(20)
        assert len(listed) == 20 and [a.channel_message_id for a in listed][:2] == [124, 123]
        assert all(a.content == CONTENT for a in listed)
        assert len(statements) == 1, statements
        statements.clear()
        assert await repo.get(listed[0].id) == listed[0]
        assert len(statements) == 1, statements
    finally:
        await db.close()


async def test_reads_are_counted_by_the_database(backend: Backend, stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    for reader in (1, 2, 2, 3):
        await repo.record_read(article.id, reader)
    loaded = await repo.get(article.id)
    assert loaded is not None and loaded.reads == 3
    [listed] = await repo.list_unpublished()
    assert listed.reads == 3
    # The counter follows the rows, whoever changes them.
    await backend.execute(stores, "DELETE FROM article_reads WHERE reader_id = ?", 1)
    loaded = await repo.get(article.id)
    assert loaded is not None and loaded.reads == 2


async def test_existing_reads_are_counted_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    for number, _, script in _migrations():
        if number < 6:
            old.executescript(script)
    old.execute(
        "INSERT INTO articles (id, title, author_id, created_at, updated_at) "
        "VALUES (1, 'a', 1, 'now', 'now'), (2, 'b', 1, 'now', 'now')"
    )
    old.executemany(
        "INSERT INTO article_reads (article_id, reader_id, first_read_at) VALUES (?, ?, 'now')",
        [(1, 10), (1, 11), (1, 12), (2, 10)],
    )
    old.close()
    db = await Database.open(path)
    try:
        rows = await db.fetch_all("SELECT id, reads FROM articles ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, 3), (2, 1)]
    finally:
        await db.close()
