"""Search, related articles, the most read and digest claims, on both backends (the
``stores`` fixture, tests/backends.py): SQLite FTS5 and PostgreSQL's tsvector find the
same articles in the same order."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from bot.models import Article, ArticleContent, ChannelPost
from bot.repositories import ArticleStore, Revision
from storage import Stores, stores_on
from storage.database import Database
from storage.migrations.runner import head
from storage.search import FullTextSearch
from storage.stemming import stemmed
from tests.backends import Backend

LEGACY_POSTGRES = Path(__file__).parents[1] / "data" / "legacy_schema" / "postgres"


async def publish(
    repo: ArticleStore, title: str, *paragraphs: str, tags: tuple[str, ...] = ()
) -> Article:
    draft = await repo.create(
        ArticleContent(title=title, paragraphs=paragraphs or ("Текст.",), tags=tags), 1
    )
    claimed = await repo.claim(draft.id)
    assert claimed is not None
    published = await repo.mark_published(claimed.attempt, ChannelPost("-100", draft.id))
    assert published is not None
    return published


def test_stemming_folds_word_forms() -> None:
    assert stemmed("проспекта") == stemmed("Проспект") == "проспект"
    assert stemmed("Ёлки, ёлка!") == stemmed("елки елка")


async def test_word_forms_match(stores: Stores) -> None:
    repo = stores.articles
    avenue = await publish(repo, "Новый проспект в Алматы", "Открыли движение.")
    await publish(repo, "Погода", "Солнечно и тепло.")
    index = stores.search
    assert [h.id for h in await index.search("проспекта")] == [avenue.id]
    assert [h.id for h in await index.search("ПРОСПЕКТАМИ алматы")] == [avenue.id]
    assert await index.search("луна") == []


async def test_best_match_first(stores: Stores) -> None:
    repo = stores.articles
    mention = await publish(repo, "Новости дня", "Среди прочего упомянули бюджет.", "Итоги.")
    about = await publish(repo, "Бюджет на следующий год", "Бюджет принят. Бюджет вырос.")
    found = await stores.search.search("бюджета")
    assert [h.id for h in found] == [about.id, mention.id]


async def test_any_word_when_no_article_has_all(stores: Stores) -> None:
    repo = stores.articles
    one = await publish(repo, "Футбол", "Матч закончился вничью.")
    found = await stores.search.search("футбол хоккей")
    assert [h.id for h in found] == [one.id]


@pytest.mark.parametrize(
    "query",
    ['"', '"проспект', "проспект*", "title:проспект", "(проспект", "^проспект", "-проспект",
     "проспект OR", "NEAR(проспект)", "'; DROP TABLE articles; --", "*", ":", '"""()^-*:'],
)  # fmt: skip
async def test_fts_syntax_is_just_text(stores: Stores, query: str) -> None:
    repo = stores.articles
    avenue = await publish(repo, "Проспект Гагарина", "Текст.")
    found = await stores.search.search(query)
    words = [w for w in query.replace("'", " ").split() if w.strip("\"*:()^-;'")]
    if any("проспект" in w for w in words):
        assert [h.id for h in found] == [avenue.id]
    assert (await repo.get(avenue.id)) is not None


async def test_unpublished_and_edited(stores: Stores) -> None:
    repo = stores.articles
    await repo.create(ArticleContent(title="Черновик про космос", paragraphs=("Текст.",)), 1)
    published = await publish(repo, "Старый заголовок", "Текст про реку.")
    index = stores.search
    assert await index.search("космос") == []
    assert [h.id for h in await index.search("реки")] == [published.id]
    await repo.revise(
        published.id,
        Revision(
            lambda c: ArticleContent(title="Новый заголовок", paragraphs=("Про озеро.",)),
            allow_published=True,
        ),
    )
    assert await index.search("реки") == []
    assert [h.id for h in await index.search("озере")] == [published.id]


async def test_leaves_index_when_no_longer_published(backend: Backend, stores: Stores) -> None:
    """Whatever takes an article out of "published" (a withdrawal) takes it out of search."""
    repo = stores.articles
    published = await publish(repo, "Снятая статья", "Текст.")
    index = stores.search
    assert len(await index.search("снятая")) == 1
    await backend.execute(
        stores, "UPDATE articles SET status = 'failed' WHERE id = ?", published.id
    )
    assert await index.search("снятая") == []
    assert await backend.fetch_all(stores, "SELECT COUNT(*) FROM article_search") == [(0,)]


async def test_withdrawn_leaves_search_related_and_top(stores: Stores) -> None:
    """/delete makes the status "withdrawn": gone from search, related and the top."""
    repo = stores.articles
    gone = await publish(repo, "Снятая статья", "Текст про миротворцев.", tags=("Китай",))
    kept = await publish(repo, "Другая статья", "Текст про миротворцев.", tags=("Китай",))
    await repo.record_read(gone.id, 1)
    assert [h.id for h in await stores.search.search("миротворцы")] == [kept.id, gone.id]
    assert await repo.withdraw(gone.id) is not None
    assert [h.id for h in await stores.search.search("миротворцы")] == [kept.id]
    assert [h.id for h in await stores.search.related(kept.id)] == []
    now = datetime.now(UTC)
    assert (
        await stores.readership.most_read(now - timedelta(days=1), now + timedelta(seconds=1))
        == []
    )


async def test_backfill_of_articles_published_before_the_index(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await Database.open_sqlite(path)
    published = await publish(stores_on(db).articles, "Архивная статья", "Текст.")
    await db.close()
    # As if it predated the index: not in it, queued for it.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM article_search")
    conn.execute("INSERT OR IGNORE INTO search_pending VALUES (?)", (published.id,))
    conn.commit()
    conn.close()
    db = await Database.open_sqlite(path)
    try:
        index = FullTextSearch(db)
        assert await index.sync() == 1
        assert [h.id for h in await index.search("архивной")] == [published.id]
    finally:
        await db.close()


async def legacy_desk_before_search(url: str) -> int:
    """A database as the numbered scripts before Alembic left it when 0009 (the desk)
    came before 0008 (search), with an article published in between; its id."""
    scripts = sorted(LEGACY_POSTGRES.glob("*.sql"), key=lambda p: (p.name[:4] == "0008", p.name))
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        article_id: int = 0
        for script in scripts:
            if script.name.startswith("0008"):
                article_id = await conn.fetchval(
                    "INSERT INTO articles (title, author_id, status, channel_chat_id,"
                    " channel_message_id, published_at, created_at, updated_at)"
                    " VALUES ('Архивная статья', 1, 'published', '-100', 1, now(), now(), now())"
                    " RETURNING id"
                )
                await conn.execute(
                    "INSERT INTO article_paragraphs VALUES ($1, 0, 'Текст.')", article_id
                )
            async with conn.transaction():
                await conn.execute(script.read_text(encoding="utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    int(script.name[:4]),
                    script.name,
                )
        return article_id
    finally:
        await conn.close()


async def test_postgres_search_added_after_the_desk(empty_pg_database: str) -> None:
    """A database that got 0009 (the desk) before 0008 (search) existed is adopted, and
    what was published before the index is indexed."""
    published = await legacy_desk_before_search(empty_pg_database)
    db = await Database.open_postgres(empty_pg_database)
    try:
        async with db.read() as conn:
            stamp = await conn.execute(text("SELECT version_num FROM alembic_version"))
            assert stamp.scalars().all() == [head()]
            legacy = await conn.execute(text("SELECT count(*) FROM schema_migrations"))
            assert legacy.scalar_one() == len(list(LEGACY_POSTGRES.glob("*.sql")))
        index = FullTextSearch(db)
        assert await index.sync() == 1
        assert [h.id for h in await index.search("архивной")] == [published]
    finally:
        await db.close()


async def test_related_tags_first_then_text(stores: Stores) -> None:
    repo = stores.articles
    seed = await publish(
        repo, "Китай и Казахстан", "Министр обороны обсудил миротворцев.", tags=("Китай", "RT")
    )
    both_tags = await publish(repo, "Другая тема", "Ничего общего.", tags=("RT", "Китай"))
    one_tag = await publish(repo, "Тоже тема", "Ничего общего.", tags=("Китай",))
    similar = await publish(repo, "Миротворцы", "Миротворцев обучат вместе.")
    await publish(repo, "Погода", "Солнечно.")
    index = stores.search
    found = await index.related(seed.id, limit=3)
    assert [h.id for h in found] == [both_tags.id, one_tag.id, similar.id]
    assert [h.id for h in await index.related(similar.id, limit=3)] == [seed.id]


async def test_most_read_in_a_window(stores: Stores) -> None:
    repo = stores.articles
    popular = await publish(repo, "Популярная", "Текст.")
    quiet = await publish(repo, "Тихая", "Текст.")
    for reader in (1, 2, 3):
        await repo.record_read(popular.id, reader)
    await repo.record_read(quiet.id, 1)
    await repo.record_read(quiet.id, 1)
    now = datetime.now(UTC)
    stats = stores.readership
    top = await stats.most_read(now - timedelta(days=7), now + timedelta(seconds=1))
    assert [(h.id, h.count) for h in top] == [(popular.id, 3), (quiet.id, 1)]
    assert await stats.most_read(now + timedelta(seconds=1), now + timedelta(days=1)) == []


async def test_digest_claimed_once_across_connections(backend: Backend) -> None:
    """Two processes (two connection pools) claim the same day: the database decides."""
    first, second = await backend.open(), await backend.open()
    day = date(2026, 5, 1)
    claims = [await first.readership.claim_digest(day), await second.readership.claim_digest(day)]
    assert claims == [True, False]
    assert await second.readership.claim_digest(date(2026, 5, 2))
    await first.readership.digest_posted(day, "-100", 7)
    assert await backend.fetch_all(
        first, "SELECT chat_id, message_id FROM digests ORDER BY day"
    ) == [("-100", 7), (None, None)]
