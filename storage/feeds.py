"""Feeds, the items they showed, the cards of their drafts and pending corrections.

"The same item" is the database's decision: an item row has three UNIQUE keys (GUID,
normalised link, title and date), and a new item's row and its draft are written in one
transaction, inserted with ``ON CONFLICT DO NOTHING``: of two instances (or two feeds)
meeting one item at once, exactly one inserts it and makes the draft.  A change of an
item is taken by one conditional ``UPDATE`` of its content hash, so it is reported once.
A feed's check is claimed by a conditional ``UPDATE`` of its next-check time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import (
    ArticleContent,
    Feed,
    FeedCheck,
    FeedMode,
    ItemKeys,
    ItemOutcome,
    RecordedItem,
)
from storage.articles import ArticleRepository, insert_draft
from storage.database import Database
from storage.rows import RowLike, from_row, utc_now
from storage.tables import feed_cards, feed_corrections, feed_items, feeds

f = feeds
items = feed_items
# An item's keys: any one of them matching makes it the same item.
KEY_COLUMNS = ("guid", "link_key", "title_key")


def _feed(row: RowLike) -> Feed:
    return from_row(
        Feed,
        row,
        id=int(row["id"]),
        mode=FeedMode(row["mode"]),
        added_by=int(row["added_by"]),
        failures=int(row["failures"]),
        failure_notified=bool(row["failure_notified"]),
    )


# Stands for the text of an item another feed recorded: never equal to a real hash.
_ANOTHER_FEEDS = "another feed's"


class FeedRepository:
    def __init__(self, db: Database, articles: ArticleRepository) -> None:
        self._db = db
        self._articles = articles

    async def _one(self, statement: Any) -> Feed | None:
        async with self._db.transaction() as conn:
            row = (await conn.execute(statement.returning(*f.c))).mappings().first()
        return _feed(row) if row is not None else None

    # --- feeds ---------------------------------------------------------------------------

    async def add_feed(
        self, url: str, mode: FeedMode, added_by: int, next_check_at: datetime
    ) -> Feed | None:
        statement = (
            self._db.insert(f)
            .values(
                url=url,
                mode=mode.value,
                added_by=added_by,
                added_at=utc_now(),
                next_check_at=next_check_at,
            )
            .on_conflict_do_nothing(index_elements=["url"])
        )
        return await self._one(statement)

    async def get_feed(self, feed_id: int) -> Feed | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(f).where(f.c.id == feed_id))).mappings().first()
        return _feed(row) if row is not None else None

    async def list_feeds(self) -> list[Feed]:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(f).order_by(f.c.id))).mappings().all()
        return [_feed(row) for row in rows]

    async def remove_feed(self, feed_id: int) -> bool:
        async with self._db.transaction() as conn:
            removed = await conn.execute(delete(f).where(f.c.id == feed_id).returning(f.c.id))
            return removed.first() is not None

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Feed]:
        """Claim up to ``limit`` due feeds for this instance in one statement: each row
        moves to ``until`` only if still due, so a feed is claimed by one instance (on
        PostgreSQL a second UPDATE waits for the row and re-checks it)."""
        any_due = select(f.c.id).where(f.c.next_check_at <= now).limit(1)
        async with self._db.read() as conn:  # most ticks find nothing: no write for them
            if (await conn.execute(any_due)).first() is None:
                return []
        due = (
            select(f.c.id)
            .where(f.c.next_check_at <= now)
            .order_by(f.c.next_check_at)
            .limit(limit)
            .scalar_subquery()
        )
        statement = (
            update(f)
            .where(f.c.id.in_(due) & (f.c.next_check_at <= now))
            .values(next_check_at=until, last_checked_at=now)
            .returning(*f.c)
        )
        async with self._db.transaction() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        return sorted((_feed(row) for row in rows), key=lambda feed: feed.id)

    async def finish_check(
        self,
        feed_id: int,
        check: FeedCheck,
    ) -> tuple[Feed | None, list[RecordedItem]]:
        """Record a check and the items it found, in one transaction."""
        recorded = []
        now = utc_now()
        values: dict[str, Any] = {
            "last_checked_at": now,
            "last_error": check.error,
            "next_check_at": check.next_check_at,
            "failures": f.c.failures + 1 if check.error is not None else 0,
        }
        if check.error is None:
            values.update(etag=check.etag, last_modified=check.last_modified)
        async with self._db.transaction() as conn:
            for keys, draft in check.items:
                recorded.append(await self._record(conn, feed_id, keys, draft, check.author_id))
            if any(r.outcome is ItemOutcome.NEW and r.article for r in recorded):
                values["last_new_item_at"] = now
            statement = update(f).where(f.c.id == feed_id).values(**values).returning(*f.c)
            row = (await conn.execute(statement)).mappings().first()
        return (_feed(row) if row is not None else None), recorded

    async def unsettled(self, feed_id: int, entries: Sequence[ItemKeys]) -> list[int]:
        """Which of the items may be new or changed: all but those already seen with the
        same content, and those another feed recorded (that feed follows their
        corrections: a site's section feed may carry a shorter text of the same item).
        One read for a whole feed; the write decides the rest."""
        if not entries:
            return []
        wanted = {
            column: [getattr(keys, column) for keys in entries if getattr(keys, column)]
            for column in KEY_COLUMNS
        }
        conditions = [items.c[column].in_(values) for column, values in wanted.items() if values]
        if not conditions:
            return list(range(len(entries)))
        statement = select(
            items.c.guid,
            items.c.link_key,
            items.c.title_key,
            items.c.content_hash,
            items.c.feed_id,
        ).where(or_(*conditions))
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        hashes: dict[tuple[str, str], set[str]] = {}
        for guid, link_key, title_key_, content_hash, recorded_by in rows:
            if recorded_by not in (None, feed_id):
                content_hash = _ANOTHER_FEEDS
            for column, value in (
                ("guid", guid),
                ("link_key", link_key),
                ("title_key", title_key_),
            ):
                if value is not None:
                    hashes.setdefault((column, value), set()).add(content_hash)
        todo = []
        for index, keys in enumerate(entries):
            found: set[str] = set()
            for column in KEY_COLUMNS:
                value = getattr(keys, column)
                if value is not None:
                    found |= hashes.get((column, value), set())
            if found != {keys.content_hash} and _ANOTHER_FEEDS not in found:
                todo.append(index)
        return todo

    async def flag_failure(self, feed_id: int, notified: bool, min_failures: int) -> bool:
        where = (f.c.id == feed_id) & (f.c.failure_notified.is_(not notified))
        where &= f.c.failures >= min_failures if notified else f.c.failures == 0
        return (
            await self._one(update(f).where(where).values(failure_notified=notified)) is not None
        )

    # --- items -----------------------------------------------------------------------------

    async def _record(
        self,
        conn: AsyncConnection,
        feed_id: int,
        keys: ItemKeys,
        draft: ArticleContent | None,
        author_id: int,
    ) -> RecordedItem:
        """One item, in the caller's transaction: the same as one seen (reported when
        changed), or new (inserted with ON CONFLICT DO NOTHING: of two instances meeting
        it at once one inserts it) and then drafted, when ``draft`` is given."""
        matches = [
            column == value
            for column, value in (
                (items.c.guid, keys.guid),
                (items.c.link_key, keys.link_key),
                (items.c.title_key, keys.title_key),
            )
            if value is not None
        ]
        if matches:
            found = (
                await conn.execute(
                    select(items.c.id, items.c.article_id, items.c.content_hash, items.c.feed_id)
                    .where(or_(*matches))
                    .order_by(items.c.id)
                    .limit(1)
                )
            ).first()
            if found is not None:
                return await self._seen(conn, feed_id, found, keys.content_hash)
        inserted = (
            await conn.execute(
                self._db.insert(items)
                .values(
                    feed_id=feed_id,
                    guid=keys.guid,
                    link_key=keys.link_key,
                    title_key=keys.title_key,
                    link=keys.link,
                    content_hash=keys.content_hash,
                    seen_at=utc_now(),
                )
                .on_conflict_do_nothing()
                .returning(items.c.id)
            )
        ).scalar()
        if inserted is None:  # another feed or instance recorded it just now
            return RecordedItem(ItemOutcome.SEEN)
        if draft is None:
            return RecordedItem(ItemOutcome.NEW)
        article_id = await insert_draft(conn, draft, author_id)
        await conn.execute(
            update(items).where(items.c.id == inserted).values(article_id=article_id)
        )
        return RecordedItem(ItemOutcome.NEW, await self._articles.get_in(conn, article_id))

    async def _seen(
        self, conn: AsyncConnection, feed_id: int, found: Any, content_hash: str
    ) -> RecordedItem:
        item_id, article_id, old_hash, recorded_by = found
        if old_hash == content_hash or recorded_by not in (None, feed_id):
            return RecordedItem(ItemOutcome.SEEN)
        taken = await conn.execute(
            update(items)
            .where((items.c.id == item_id) & (items.c.content_hash == old_hash))
            .values(content_hash=content_hash)
            .returning(items.c.id)
        )
        if taken.first() is None or article_id is None:
            return RecordedItem(ItemOutcome.SEEN)
        return RecordedItem(ItemOutcome.CHANGED, await self._articles.get_in(conn, article_id))

    # --- cards and corrections ---------------------------------------------------------------

    async def save_card(self, article_id: int, chat_id: int, message_id: int) -> None:
        statement = (
            self._db.insert(feed_cards)
            .values(article_id=article_id, chat_id=chat_id, message_id=message_id)
            .on_conflict_do_nothing()
        )
        async with self._db.transaction() as conn:
            await conn.execute(statement)

    async def cards(self, article_id: int) -> list[tuple[int, int]]:
        statement = (
            select(feed_cards.c.chat_id, feed_cards.c.message_id)
            .where(feed_cards.c.article_id == article_id)
            .order_by(feed_cards.c.chat_id, feed_cards.c.message_id)
        )
        async with self._db.read() as conn:
            return [(int(c), int(m)) for c, m in (await conn.execute(statement)).all()]

    async def set_correction(self, article_id: int, content: ArticleContent | None) -> None:
        fc = feed_corrections
        async with self._db.transaction() as conn:
            if content is None:
                await conn.execute(delete(fc).where(fc.c.article_id == article_id))
                return
            insert = self._db.insert(fc).values(
                article_id=article_id,
                title=content.title,
                paragraphs=list(content.paragraphs),
                created_at=utc_now(),
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["article_id"],
                    set_={
                        "title": insert.excluded.title,
                        "paragraphs": insert.excluded.paragraphs,
                        "created_at": insert.excluded.created_at,
                    },
                )
            )

    async def correction(self, article_id: int) -> ArticleContent | None:
        fc = feed_corrections
        statement = select(fc.c.title, fc.c.paragraphs).where(fc.c.article_id == article_id)
        async with self._db.read() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return ArticleContent(title=row[0], paragraphs=tuple(row[1]))
