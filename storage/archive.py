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
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import ArchivedPage, ArticleStatus, ImportedBatch
from storage.articles import child_rows, content_values
from storage.database import Database
from storage.rows import utc_now
from storage.search import FullTextSearch
from storage.tables import archive_imports, archive_pages, articles

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

    # --- the imports running -----------------------------------------------------------------

    async def begin_import(
        self, editor_id: int, chat_id: int, now: datetime, stale_before: datetime
    ) -> bool:
        """Take the editor's one running import (``now`` is its start, the token that
        later calls name it): a row of its own, or one whose instance stopped reporting
        before ``stale_before``. False: another import of theirs runs."""
        values = {"chat_id": chat_id, "started_at": now, "alive_at": now, "cancelled": False}
        added = (
            self._db.insert(archive_imports)
            .values(editor_id=editor_id, **values)
            .on_conflict_do_nothing()
            .returning(archive_imports.c.editor_id)
        )
        taken_over = (
            update(archive_imports)
            .where(
                (archive_imports.c.editor_id == editor_id)
                & (archive_imports.c.alive_at < stale_before)
            )
            .values(**values)
            .returning(archive_imports.c.editor_id)
        )
        async with self._db.transaction() as conn:
            if (await conn.execute(added)).first() is not None:
                return True
            return (await conn.execute(taken_over)).first() is not None

    async def import_alive(self, editor_id: int, started_at: datetime, now: datetime) -> bool:
        """The import reports in; True while it may go on (not stopped from any instance,
        not taken over)."""
        statement = (
            update(archive_imports)
            .where(
                (archive_imports.c.editor_id == editor_id)
                & (archive_imports.c.started_at == started_at)
            )
            .values(alive_at=now)
            .returning(archive_imports.c.cancelled)
        )
        async with self._db.transaction() as conn:
            cancelled = (await conn.execute(statement)).scalar()
        return cancelled is not None and not cancelled

    async def cancel_import(self, editor_id: int, chat_id: int) -> bool:
        """Ask the editor's import started in ``chat_id`` to stop; False if none runs."""
        statement = (
            update(archive_imports)
            .where(
                (archive_imports.c.editor_id == editor_id) & (archive_imports.c.chat_id == chat_id)
            )
            .values(cancelled=True)
            .returning(archive_imports.c.editor_id)
        )
        async with self._db.transaction() as conn:
            return (await conn.execute(statement)).first() is not None

    async def end_import(self, editor_id: int, started_at: datetime) -> None:
        statement = delete(archive_imports).where(
            (archive_imports.c.editor_id == editor_id)
            & (archive_imports.c.started_at == started_at)
        )
        async with self._db.transaction() as conn:
            await conn.execute(statement)
