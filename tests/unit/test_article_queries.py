"""Articles at scale: one statement per listing or fetch, reader counts kept by a trigger."""

from __future__ import annotations

from bot.models import ArticleContent, ChannelPost
from storage import Stores
from tests.backends import Backend

CONTENT = ArticleContent(
    title="Заголовок",
    paragraphs=tuple(f"Абзац {i}." for i in range(12)),  # more than 9: order is numeric
    tags=("Б", "А", "В"),
)


async def test_listings_and_fetches_are_one_statement_each(stores: Stores) -> None:
    repo = stores.articles
    for i in range(25):
        article = await repo.create(CONTENT, 1)
        claimed = await repo.claim(article.id)
        assert claimed is not None
        await repo.mark_published(claimed.attempt, ChannelPost("@news", 100 + i))
    await repo.get(article.id)  # every connection opened before we count
    statements: list[str] = []

    def trace(statement: str) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    async with stores.db.tracing(trace):
        listed = await repo.latest_published(20)
        assert len(listed) == 20 and [a.channel_message_id for a in listed][:2] == [124, 123]
        assert all(a.content == CONTENT for a in listed)
        assert len(statements) == 1, statements
        statements.clear()
        assert await repo.get(listed[0].id) == listed[0]
        assert len(statements) == 1, statements


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
