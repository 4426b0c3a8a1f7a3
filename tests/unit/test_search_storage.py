"""Search, related articles, the most read and digest claims on real SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import Article, ArticleContent
from storage.sqlite.articles import ArticleRepository
from storage.sqlite.db import Database
from storage.sqlite.search import SqliteSearchIndex
from storage.sqlite.stats import SqliteArticleStats
from storage.stemming import stemmed


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "news.sqlite3")
    yield database
    await database.close()


async def publish(
    repo: ArticleRepository, title: str, *paragraphs: str, tags: tuple[str, ...] = ()
) -> Article:
    draft = await repo.create(
        ArticleContent(title=title, paragraphs=paragraphs or ("Текст.",), tags=tags), 1
    )
    claimed = await repo.claim(draft.id)
    assert claimed is not None
    published = await repo.mark_published(draft.id, claimed.publish_attempt, "-100", draft.id)
    assert published is not None
    return published


def test_stemming_folds_word_forms() -> None:
    assert stemmed("проспекта") == stemmed("Проспект") == "проспект"
    assert stemmed("Ёлки, ёлка!") == stemmed("елки елка")


async def test_word_forms_match(db: Database) -> None:
    repo = ArticleRepository(db)
    avenue = await publish(repo, "Новый проспект в Алматы", "Открыли движение.")
    await publish(repo, "Погода", "Солнечно и тепло.")
    index = SqliteSearchIndex(db)
    assert [h.id for h in await index.search("проспекта")] == [avenue.id]
    assert [h.id for h in await index.search("ПРОСПЕКТАМИ алматы")] == [avenue.id]
    assert await index.search("луна") == []


async def test_best_match_first(db: Database) -> None:
    repo = ArticleRepository(db)
    mention = await publish(repo, "Новости дня", "Среди прочего упомянули бюджет.", "Итоги.")
    about = await publish(repo, "Бюджет на следующий год", "Бюджет принят. Бюджет вырос.")
    found = await SqliteSearchIndex(db).search("бюджета")
    assert [h.id for h in found] == [about.id, mention.id]


async def test_any_word_when_no_article_has_all(db: Database) -> None:
    repo = ArticleRepository(db)
    one = await publish(repo, "Футбол", "Матч закончился вничью.")
    found = await SqliteSearchIndex(db).search("футбол хоккей")
    assert [h.id for h in found] == [one.id]


@pytest.mark.parametrize(
    "query",
    ['"', '"проспект', "проспект*", "title:проспект", "(проспект", "^проспект", "-проспект",
     "проспект OR", "NEAR(проспект)", "'; DROP TABLE articles; --", "*", ":", '"""()^-*:'],
)  # fmt: skip
async def test_fts_syntax_is_just_text(db: Database, query: str) -> None:
    repo = ArticleRepository(db)
    avenue = await publish(repo, "Проспект Гагарина", "Текст.")
    found = await SqliteSearchIndex(db).search(query)
    words = [w for w in query.replace("'", " ").split() if w.strip("\"*:()^-;'")]
    if any("проспект" in w for w in words):
        assert [h.id for h in found] == [avenue.id]
    assert (await repo.get(avenue.id)) is not None


async def test_unpublished_and_edited(db: Database) -> None:
    repo = ArticleRepository(db)
    await repo.create(ArticleContent(title="Черновик про космос", paragraphs=("Текст.",)), 1)
    published = await publish(repo, "Старый заголовок", "Текст про реку.")
    index = SqliteSearchIndex(db)
    assert await index.search("космос") == []
    assert [h.id for h in await index.search("реки")] == [published.id]
    await repo.revise(
        published.id,
        lambda c: ArticleContent(title="Новый заголовок", paragraphs=("Про озеро.",)),
        allow_published=True,
    )
    assert await index.search("реки") == []
    assert [h.id for h in await index.search("озере")] == [published.id]


async def test_leaves_index_when_no_longer_published(db: Database) -> None:
    """Whatever takes an article out of "published" (a withdrawal) takes it out of search."""
    repo = ArticleRepository(db)
    published = await publish(repo, "Снятая статья", "Текст.")
    index = SqliteSearchIndex(db)
    assert len(await index.search("снятая")) == 1
    await db.execute("UPDATE articles SET status = 'failed' WHERE id = ?", (published.id,))
    assert await index.search("снятая") == []
    row = await db.fetch_one("SELECT COUNT(*) AS n FROM article_search")
    assert row is not None and row["n"] == 0


async def test_backfill_of_articles_published_before_the_index(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await Database.open(path)
    published = await publish(ArticleRepository(db), "Архивная статья", "Текст.")
    await db.close()
    # As if it predated migration 0008: not in the index, queued for it.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM article_search")
    conn.execute("INSERT OR IGNORE INTO search_pending VALUES (?)", (published.id,))
    conn.commit()
    conn.close()
    db = await Database.open(path)
    try:
        index = SqliteSearchIndex(db)
        assert await index.sync() == 1
        assert [h.id for h in await index.search("архивной")] == [published.id]
    finally:
        await db.close()


async def test_related_tags_first_then_text(db: Database) -> None:
    repo = ArticleRepository(db)
    seed = await publish(
        repo, "Китай и Казахстан", "Министр обороны обсудил миротворцев.", tags=("Китай", "RT")
    )
    both_tags = await publish(repo, "Другая тема", "Ничего общего.", tags=("RT", "Китай"))
    one_tag = await publish(repo, "Тоже тема", "Ничего общего.", tags=("Китай",))
    similar = await publish(repo, "Миротворцы", "Миротворцев обучат вместе.")
    await publish(repo, "Погода", "Солнечно.")
    index = SqliteSearchIndex(db)
    found = await index.related(seed.id, limit=3)
    assert [h.id for h in found] == [both_tags.id, one_tag.id, similar.id]
    assert [h.id for h in await index.related(similar.id, limit=3)] == [seed.id]


async def test_most_read_in_a_window(db: Database) -> None:
    repo = ArticleRepository(db)
    popular = await publish(repo, "Популярная", "Текст.")
    quiet = await publish(repo, "Тихая", "Текст.")
    for reader in (1, 2, 3):
        await repo.record_read(popular.id, reader)
    await repo.record_read(quiet.id, 1)
    await repo.record_read(quiet.id, 1)
    now = datetime.now(UTC)
    stats = SqliteArticleStats(db)
    top = await stats.most_read(now - timedelta(days=7), now + timedelta(seconds=1))
    assert [(h.id, h.count) for h in top] == [(popular.id, 3), (quiet.id, 1)]
    assert await stats.most_read(now + timedelta(seconds=1), now + timedelta(days=1)) == []


async def test_digest_claimed_once_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    try:
        day = date(2026, 5, 1)
        claims = [
            await SqliteArticleStats(first).claim_digest(day),
            await SqliteArticleStats(second).claim_digest(day),
        ]
        assert claims == [True, False]
        assert await SqliteArticleStats(second).claim_digest(date(2026, 5, 2))
    finally:
        await first.close()
        await second.close()
