"""The archive's storage on both backends (``stores``, tests/backends.py): archived
articles are readable, searchable and counted, never drafts; a page comes in once, also
when two imports run at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.models import ArchivedPage, ArticleContent, ArticleStatus, ImportedBatch
from storage import Stores
from tests.backends import Backend


def page(
    title: str, day: int, *, url: str | None = None, tags: tuple[str, ...] = ()
) -> ArchivedPage:
    when = datetime(2022, 4, day, 11, 38, tzinfo=UTC)
    keys = (f"title:{title.casefold()}|{when.date()}",) + ((f"url:{url}",) if url else ())
    content = ArticleContent(
        title=title,
        paragraphs=(f"Текст статьи «{title}» о проспекте Гагарина.", "Второй абзац."),
        original_published_at=when.replace(tzinfo=None),
        tags=tags,
    )
    return ArchivedPage(content=content, keys=keys, published_at=when)


async def archived_count(backend: Backend, stores: Stores) -> int:
    rows = await backend.fetch_all(
        stores, "SELECT count(*) FROM articles WHERE status = ?", ArticleStatus.ARCHIVED.value
    )
    return int(rows[0][0])


async def test_archived_pages_are_readable_searchable_and_counted(stores: Stores) -> None:
    result = await stores.archive.import_archived(
        [
            page("Переименование проспекта", 1, tags=("Алматы",)),
            page("Новый парк", 2, tags=("Алматы",)),
        ],
        author_id=7,
    )
    assert result == ImportedBatch(imported=2, duplicates=0)
    found = await stores.search.search("проспекта")
    # The title's match weighs more; both bodies mention the avenue.
    assert [h.title for h in found] == ["Переименование проспекта", "Новый парк"]
    avenue = found[0]
    article = await stores.articles.get(avenue.id)
    assert article is not None
    assert article.status is ArticleStatus.ARCHIVED
    assert article.published_at == datetime(2022, 4, 1, 11, 38, tzinfo=UTC)
    assert article.content.paragraphs[1] == "Второй абзац."
    assert article.content.tags == ("Алматы",)
    assert article.author_id == 7
    # Never a draft to act on.
    assert avenue.id not in {a.id for a in await stores.articles.list_unpublished()}
    # Related by the shared tag.
    assert [h.title for h in await stores.search.related(avenue.id)] == ["Новый парк"]
    # Counted in the most read.
    assert await stores.articles.record_read(avenue.id, 42)
    now = datetime.now(UTC)
    top = await stores.readership.most_read(now - timedelta(days=1), now + timedelta(seconds=1))
    assert [(h.id, h.count) for h in top] == [(avenue.id, 1)]


async def test_a_page_comes_in_once(backend: Backend, stores: Stores) -> None:
    first = [page("Один", 1, url="https://kt.kz/1"), page("Два", 2)]
    assert await stores.archive.import_archived(first, 1) == ImportedBatch(2, 0)
    assert await stores.archive.import_archived(first, 1) == ImportedBatch(0, 2)
    again = [
        page("Один, исправленный заголовок", 3, url="https://kt.kz/1"),  # same address
        page("Два", 2),  # same title and date
        page("Три", 3),
        page("Три", 3),  # twice in one batch
    ]
    assert await stores.archive.import_archived(again, 1) == ImportedBatch(1, 3)
    assert await archived_count(backend, stores) == 3


async def test_two_imports_at_once_store_each_page_once(backend: Backend) -> None:
    """Two pools, as two processes would have: the keys' primary key decides."""
    one, two = await backend.open(), await backend.open()
    pages = [page(f"Статья {i}", 1 + i % 28, url=f"https://kt.kz/{i}") for i in range(60)]
    results = await asyncio.gather(
        one.archive.import_archived(pages[:40], 1),
        two.archive.import_archived(list(reversed(pages[20:])), 2),
    )
    assert sum(r.imported for r in results) == 60
    assert sum(r.duplicates for r in results) == 20
    assert await archived_count(backend, one) == 60


async def test_one_running_import_per_editor_whatever_the_instance(backend: Backend) -> None:
    """Two pools, as two instances: one import per editor; the stop pressed in one
    reaches the import in the other; a dead instance's import is taken over."""
    one, two = await backend.open(), await backend.open()
    start = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    stale = timedelta(minutes=2)
    began = await asyncio.gather(
        one.archive.begin_import(7, 700, start, start - stale),
        two.archive.begin_import(7, 700, start + timedelta(seconds=1), start - stale),
    )
    assert sorted(began) == [False, True]
    mine, token = (one, start) if began[0] else (two, start + timedelta(seconds=1))
    other = two if mine is one else one
    assert await other.archive.begin_import(8, 800, start, start - stale)  # another editor
    assert await mine.archive.import_alive(7, token, start + timedelta(seconds=5))
    # The stop button: only in the chat where the import was started.
    assert not await other.archive.cancel_import(7, 999)
    assert await mine.archive.import_alive(7, token, start + timedelta(seconds=6))
    assert await other.archive.cancel_import(7, 700)
    assert not await mine.archive.import_alive(7, token, start + timedelta(seconds=7))
    await mine.archive.end_import(7, token)
    assert not await other.archive.cancel_import(7, 700)  # nothing runs any more
    # Editor 8's instance died: its import stops reporting and is taken over later.
    later = start + stale + timedelta(seconds=1)
    assert not await mine.archive.begin_import(8, 800, start + timedelta(seconds=30), start)
    assert await mine.archive.begin_import(8, 800, later, later - stale)
    assert not await other.archive.import_alive(8, start, later)  # the old one learns it
    await other.archive.end_import(8, start)  # and its end leaves the new one alone
    assert await mine.archive.import_alive(8, later, later + timedelta(seconds=1))
