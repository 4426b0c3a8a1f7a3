"""The outlet's archive: pages stored as archived articles, in batches, each page once.

A batch is one transaction: its articles, their paragraphs and tags, and the keys that
tell each page again (``archive_pages``), each kind of row in one multi-row statement.
The keys' primary key decides what is new: they are inserted ``ON CONFLICT DO NOTHING``
and read back, and an article whose key turned out to belong to another article (a
page imported by another import at the same moment) is deleted again in the same
transaction. The known keys are looked up first, so a second import of the same archive
writes nothing. The search queue's triggers queue the new articles; the batch is
indexed right after its commit, so the archive is searchable as it comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import ArchivedPage, ArticleStatus, ImportedBatch
from storage.articles import child_rows, content_values
from storage.database import Database
from storage.rows import utc_now
from storage.search import FullTextSearch
from storage.tables import archive_pages, articles

_KEYS: BindParameter[Any] = bindparam("keys", expanding=True)
_KNOWN = select(archive_pages.c.key).where(archive_pages.c.key.in_(_KEYS))
_OWNERS = select(archive_pages.c.key, archive_pages.c.article_id).where(
    archive_pages.c.key.in_(_KEYS)
)
_ADD = articles.insert().returning(articles.c.id, sort_by_parameter_order=True)
_DROP = delete(articles).where(articles.c.id.in_(bindparam("ids", expanding=True)))


def _new_pages(batch: Sequence[ArchivedPage], known: set[str]) -> list[ArchivedPage]:
    """The pages none of whose keys is known, the first of each repeated one."""
    seen = set(known)
    fresh = []
    for page in batch:
        if seen.isdisjoint(page.keys):
            fresh.append(page)
        seen.update(page.keys)
    return fresh


class ArchiveRepository:
    def __init__(self, db: Database, search: FullTextSearch) -> None:
        self._db = db
        self._search = search
        self._claim = db.insert(archive_pages).on_conflict_do_nothing(
            index_elements=[archive_pages.c.key]
        )

    async def import_archived(
        self, batch: Sequence[ArchivedPage], author_id: int
    ) -> ImportedBatch:
        keys = sorted({key for page in batch for key in page.keys})
        async with self._db.transaction() as conn:
            known = set((await conn.execute(_KNOWN, {"keys": keys})).scalars()) if keys else set()
            fresh = _new_pages(batch, known)
            imported = await self._store(conn, fresh, author_id) if fresh else 0
        if imported:
            await self._search.sync()
        return ImportedBatch(imported=imported, duplicates=len(batch) - imported)

    async def _store(
        self, conn: AsyncConnection, pages: list[ArchivedPage], author_id: int
    ) -> int:
        """Insert ``pages``; returns how many stayed (those whose keys were all theirs)."""
        now = utc_now()
        rows = [
            {
                **content_values(page.content),
                "author_id": author_id,
                "status": ArticleStatus.ARCHIVED.value,
                "created_at": now,
                "updated_at": now,
                "published_at": page.published_at,
            }
            for page in pages
        ]
        ids = list((await conn.execute(_ADD, rows)).scalars())
        children: dict[Any, list[dict[str, Any]]] = {}
        for article_id, page in zip(ids, pages, strict=True):
            for table, table_rows in child_rows(article_id, page.content):
                children.setdefault(table, []).extend(table_rows)
        for table, table_rows in children.items():
            if table_rows:
                await conn.execute(table.insert(), table_rows)
        claims = [
            {"key": key, "article_id": article_id}
            for article_id, page in zip(ids, pages, strict=True)
            for key in page.keys
        ]
        # Sorted: two imports claiming the same keys take their locks in the same order.
        claims.sort(key=lambda claim: claim["key"])
        if claims:
            await conn.execute(self._claim, claims)
            keys = [claim["key"] for claim in claims]
            owners = dict((await conn.execute(_OWNERS, {"keys": keys})).tuples().all())
            # A key another article holds: this page came in elsewhere meanwhile.
            lost = sorted({c["article_id"] for c in claims if owners[c["key"]] != c["article_id"]})
            if lost:
                await conn.execute(_DROP, {"ids": lost})
            return len(ids) - len(lost)
        return len(ids)
