"""Articles: drafts, the publishing state machine, schedules, reads and previews.

State changes that decide who may publish are single conditional ``UPDATE … WHERE status
IN (…) [AND publish_attempt = …]`` statements: when two editors, two processes or two
instances claim one draft, exactly one gets the row back (on PostgreSQL the second
``UPDATE`` waits for the first row lock, re-reads the committed row and no longer
matches).  ``revise`` reads the current content under a row lock (PostgreSQL; SQLite's
write transaction is exclusive already), so two editors changing different fields at
once both keep their change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.models import Article, ArticleContent, ArticleStatus, ArticleVersion, Attempt, ChannelPost
from bot.repositories import (
    CLAIMED,
    EDITABLE,
    NO_EXTRAS,
    PUBLISHABLE,
    DraftExtras,
    Revision,
    Statuses,
)
from storage.database import Database
from storage.ownership import claim_message
from storage.polls import insert_poll
from storage.rows import RowLike, article_from_row, content_json, utc_now, version_from_row
from storage.tables import (
    article_paragraphs,
    article_reads,
    article_tags,
    article_versions,
    articles,
    draft_previews,
)

a = articles
# What an editor still has to act on.
UNSETTLED = (*EDITABLE, ArticleStatus.UNCERTAIN, ArticleStatus.PUBLISHING)
# The content columns an editor changes (``revise``).
_CONTENT = (
    "title",
    "summary",
    "dateline",
    "source",
    "original_published_at",
    "views",
    "photo_credit",
    "poll_question",
    "poll_intro",
)


v = article_versions
# The next number of an article's versions, in the statement that stores one.
_SAVE_VERSION = insert(v).from_select(
    ["article_id", "version", "title", "content", "editor_id", "editor_name", "saved_at"],
    select(
        bindparam("article_id", type_=v.c.article_id.type),
        select(func.coalesce(func.max(v.c.version), 0) + 1)
        .where(v.c.article_id == bindparam("article_id"))
        .scalar_subquery(),
        bindparam("title", type_=v.c.title.type),
        bindparam("content", type_=v.c.content.type),
        bindparam("editor_id", type_=v.c.editor_id.type),
        bindparam("editor_name", type_=v.c.editor_name.type),
        bindparam("saved_at", type_=v.c.saved_at.type),
    ),
)
_VERSIONS = select(v).where(v.c.article_id == bindparam("article_id")).order_by(v.c.version)
_VERSION = select(v).where(
    (v.c.article_id == bindparam("article_id")) & (v.c.version == bindparam("number"))
)
# One read counted per reader and article.
_READ_KEY = ("article_id", "reader_id")
# Version numbers are 32-bit integers on both engines.
_INT32 = range(1, 2**31)


def _values(statuses: Iterable[ArticleStatus]) -> list[str]:
    return [s.value for s in statuses]


def content_values(content: ArticleContent) -> dict[str, Any]:
    """The columns of ``articles`` that hold an article's content."""
    return {name: getattr(content, name) for name in _CONTENT}


async def _update(
    conn: AsyncConnection,
    article_id: int,
    values: dict[str, Any],
    allowed: Iterable[ArticleStatus],
    *conditions: ColumnElement[bool],
    attempt: int | None = None,
) -> bool:
    """``ArticleRepository._set``'s statement inside the caller's transaction; True when
    it changed the row."""
    where = (a.c.id == article_id) & a.c.status.in_(_values(allowed))
    if attempt is not None:
        where &= a.c.publish_attempt == attempt
    for condition in conditions:
        where &= condition
    statement = update(a).where(where).values(**values, updated_at=utc_now())
    return (await conn.execute(statement.returning(a.c.id))).first() is not None


def child_rows(
    article_id: int, content: ArticleContent
) -> tuple[tuple[Table, list[dict[str, Any]]], ...]:
    """The rows of an article's paragraphs and of its tags, each table with its rows."""
    return tuple(
        (table, [{"article_id": article_id, "position": i, key: v} for i, v in enumerate(values)])
        for table, key, values in (
            (article_paragraphs, "body", content.paragraphs),
            (article_tags, "tag", content.tags),
        )
    )


class _Children:
    """An article's paragraphs and tags in the same statement as its row: one ordered
    array per article, built the engine's way (SQLite has no arrays: JSON pairs of
    position and text, sorted here, so nothing relies on an aggregate's order)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def column(self, table: Any, text_column: str) -> ColumnElement[Any]:
        owned = table.c.article_id == a.c.id
        aggregate: ColumnElement[Any]
        if self.dialect == "postgresql":
            aggregate = func.coalesce(
                func.array_agg(aggregate_order_by(table.c[text_column], table.c.position)),
                literal_column("ARRAY[]::text[]"),
            )
        else:
            aggregate = func.json_group_array(
                func.json_array(table.c.position, table.c[text_column])
            )
        return select(aggregate).where(owned).scalar_subquery()

    def decode(self, value: Any) -> tuple[str, ...]:
        if self.dialect == "postgresql":
            return tuple(value)
        return tuple(text for _, text in sorted(json.loads(value)))


async def write_children(
    conn: AsyncConnection, article_id: int, content: ArticleContent, *, fresh: bool = False
) -> None:
    """The article's paragraphs and tags, replacing those it had (``fresh``: none yet)."""
    for table, rows in child_rows(article_id, content):
        if not fresh:
            await conn.execute(delete(table).where(table.c.article_id == article_id))
        if rows:
            await conn.execute(table.insert(), rows)


async def insert_draft(
    conn: AsyncConnection,
    content: ArticleContent,
    author_id: int,
    photo_file_id: str | None = None,
) -> int:
    """A new draft's row and children, in the caller's transaction; returns its id."""
    now = utc_now()
    article_id: int = (
        await conn.execute(
            a.insert()
            .values(
                **content_values(content),
                author_id=author_id,
                status=ArticleStatus.DRAFT.value,
                created_at=now,
                updated_at=now,
                photo_file_id=photo_file_id,
            )
            .returning(a.c.id)
        )
    ).scalar_one()
    await write_children(conn, article_id, content, fresh=True)
    return article_id


class ArticleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._children = _Children(db.dialect)
        self._columns = (
            a,
            self._children.column(article_paragraphs, "body").label("paragraphs"),
            self._children.column(article_tags, "tag").label("tags"),
        )
        self._by_id = select(*self._columns).where(a.c.id == bindparam("id"))
        self._first_read = (
            db.insert(article_reads)
            .values({name: bindparam(name) for name in (*_READ_KEY, "first_read_at")})
            .on_conflict_do_nothing(index_elements=_READ_KEY)
            .returning(article_reads.c.reader_id)
        )
        scheduled = a.c.status == ArticleStatus.SCHEDULED.value
        self._unsettled = self._listing(
            a.c.status.in_(_values(UNSETTLED)), (a.c.updated_at.desc(), a.c.id.desc())
        )
        self._published = self._listing(
            a.c.status == ArticleStatus.PUBLISHED.value, (a.c.published_at.desc(), a.c.id.desc())
        )
        self._scheduled = self._listing(scheduled, (a.c.scheduled_at, a.c.id))
        self._due = self._listing(
            scheduled & (a.c.scheduled_at <= bindparam("now", type_=a.c.scheduled_at.type)),
            (a.c.scheduled_at, a.c.id),
        )

    def _hydrate(self, row: RowLike) -> Article:
        return article_from_row(
            row, self._children.decode(row["paragraphs"]), self._children.decode(row["tags"])
        )

    # --- reading -------------------------------------------------------------------

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.row(self._by_id, {"id": article_id})
        return self._hydrate(row) if row is not None else None

    async def get_in(self, conn: AsyncConnection, article_id: int) -> Article | None:
        """The article as the caller's transaction sees it."""
        return await self._get(conn, article_id)

    async def _get(self, conn: AsyncConnection, article_id: int) -> Article | None:
        row = (await conn.execute(self._by_id, {"id": article_id})).mappings().first()
        return self._hydrate(row) if row is not None else None

    def _listing(self, where: ColumnElement[bool], order: Sequence[Any]) -> Select[Any]:
        """One statement: the page of ids is chosen first (an index scan and a sort of
        bare rows), so the paragraphs and tags are gathered for its rows only."""
        page = (
            select(a.c.id).where(where).order_by(*order).limit(bindparam("limit", type_=Integer))
        ).cte("page")
        page = page.prefix_with("MATERIALIZED")
        return select(*self._columns).join(page, page.c.id == a.c.id).order_by(*order)

    async def _list(
        self, statement: Select[Any], limit: int = 1000, **params: Any
    ) -> list[Article]:
        rows = await self._db.rows(statement, {"limit": limit, **params})
        return [self._hydrate(row) for row in rows]

    async def list_unpublished(self, limit: int = 50) -> list[Article]:
        """Drafts and everything an editor still has to act on, newest first."""
        return await self._list(self._unsettled, limit)

    async def latest_published(self, limit: int = 5) -> list[Article]:
        return await self._list(self._published, limit)

    async def list_scheduled(self) -> list[Article]:
        return await self._list(self._scheduled)

    async def due_scheduled(self, now: datetime) -> list[Article]:
        return await self._list(self._due, now=now)

    async def next_scheduled_at(self) -> datetime | None:
        statement = select(func.min(a.c.scheduled_at)).where(
            a.c.status == ArticleStatus.SCHEDULED.value
        )
        async with self._db.read() as conn:
            value: datetime | None = (await conn.execute(statement)).scalar()
        return value

    async def article_for_preview(self, chat_id: int, message_id: int) -> int | None:
        statement = select(draft_previews.c.article_id).where(
            (draft_previews.c.chat_id == chat_id) & (draft_previews.c.message_id == message_id)
        )
        async with self._db.read() as conn:
            value = (await conn.execute(statement)).scalar()
        return int(value) if value is not None else None

    # --- writing -------------------------------------------------------------------

    async def create(
        self, content: ArticleContent, author_id: int, extras: DraftExtras = NO_EXTRAS
    ) -> Article:
        """A new draft, and its poll when given, in one transaction."""
        async with self._db.transaction() as conn:
            article_id = await insert_draft(conn, content, author_id, extras.photo_file_id)
            if extras.poll is not None:
                await insert_poll(conn, self._db, extras.poll, author_id, article_id=article_id)
            article = await self._get(conn, article_id)
        assert article is not None
        return article

    async def revise(self, article_id: int, revision: Revision) -> Article | None:
        """Apply the change to the current content, read under a row lock, in one
        transaction: a concurrent revision waits and then builds on this one.  The
        content it replaces becomes the article's next version (numbered under the same
        lock; the primary key would refuse a number given twice)."""
        allowed = (*EDITABLE, ArticleStatus.PUBLISHED) if revision.allow_published else EDITABLE
        editor = revision.editor
        async with self._db.transaction() as conn:
            # A statement of its own: the read after it takes a new snapshot (READ
            # COMMITTED), which includes what the transaction we waited for committed.
            await conn.execute(select(a.c.id).where(a.c.id == article_id).with_for_update())
            current = await self._get(conn, article_id)
            if current is None or current.status not in allowed:
                return None
            content = revision.change(current.content)
            updated = await conn.execute(
                update(a)
                .where((a.c.id == article_id) & a.c.status.in_(_values(allowed)))
                .values(**content_values(content), updated_at=utc_now())
                .returning(a.c.id)
            )
            if updated.first() is None:
                return None
            if content != current.content:
                await conn.execute(
                    _SAVE_VERSION,
                    {
                        "article_id": article_id,
                        "title": current.content.title,
                        "content": content_json(current.content),
                        "editor_id": editor.user_id if editor else None,
                        "editor_name": editor.name if editor else None,
                        "saved_at": utc_now(),
                    },
                )
            await write_children(conn, article_id, content)
            return await self._get(conn, article_id)

    async def versions(self, article_id: int) -> list[ArticleVersion]:
        async with self._db.read() as conn:
            rows = (await conn.execute(_VERSIONS, {"article_id": article_id})).mappings()
            return [version_from_row(row) for row in rows]

    async def version(self, article_id: int, number: int) -> ArticleVersion | None:
        if number not in _INT32:
            return None
        async with self._db.read() as conn:
            row = (
                (await conn.execute(_VERSION, {"article_id": article_id, "number": number}))
                .mappings()
                .first()
            )
        return None if row is None else version_from_row(row)

    async def _set(
        self,
        article_id: int,
        values: dict[str, Any],
        allowed: Iterable[ArticleStatus],
        *conditions: ColumnElement[bool],
        attempt: int | None = None,
    ) -> Article | None:
        """One conditional ``UPDATE``: ``values`` apply only if the article is in one of
        ``allowed``, at ``attempt`` when given, and every extra condition holds."""
        async with self._db.transaction() as conn:
            if not await _update(conn, article_id, values, allowed, *conditions, attempt=attempt):
                return None
            return await self._get(conn, article_id)

    async def set_photo(self, article_id: int, file_id: str) -> Article | None:
        return await self._set(article_id, {"photo_file_id": file_id}, EDITABLE)

    async def reject(self, article_id: int) -> Article | None:
        """A draft an editor turned down: rejected, once (never while being published)."""
        return await self._set(
            article_id,
            {"status": ArticleStatus.REJECTED.value, "scheduled_at": None},
            EDITABLE,
        )

    async def schedule(self, article_id: int, when: datetime) -> Article | None:
        return await self._set(
            article_id,
            {"status": ArticleStatus.SCHEDULED.value, "scheduled_at": when},
            (ArticleStatus.DRAFT, ArticleStatus.SCHEDULED, ArticleStatus.FAILED),
        )

    async def unschedule(self, article_id: int) -> Article | None:
        return await self._set(
            article_id,
            {"status": ArticleStatus.DRAFT.value, "scheduled_at": None},
            (ArticleStatus.SCHEDULED,),
        )

    async def record_read(self, article_id: int, reader_id: int) -> bool:
        """Count a reader once per article; True when this is their first read."""
        params = {"article_id": article_id, "reader_id": reader_id, "first_read_at": utc_now()}
        return bool(await self._db.write(self._first_read, params))

    async def remember_preview(self, chat_id: int, message_id: int, article_id: int) -> None:
        insert = self._db.insert(draft_previews).values(
            chat_id=chat_id, message_id=message_id, article_id=article_id
        )
        statement = insert.on_conflict_do_update(
            index_elements=["chat_id", "message_id"],
            set_={"article_id": insert.excluded.article_id},
        )
        async with self._db.transaction() as conn:
            await conn.execute(statement)

    # --- the publishing state machine -------------------------------------------------

    @staticmethod
    def _claim() -> dict[str, Any]:
        return {
            "status": ArticleStatus.PUBLISHING.value,
            "failure_reason": None,
            "publish_attempt": a.c.publish_attempt + 1,
            "claimed_at": utc_now(),
        }

    async def claim(self, article_id: int) -> Article | None:
        return await self._set(article_id, self._claim(), PUBLISHABLE)

    async def claim_uncertain(self, seen: Attempt) -> Article | None:
        return await self._set(
            seen.article_id, self._claim(), (ArticleStatus.UNCERTAIN,), attempt=seen.number
        )

    async def claim_scheduled(self, article_id: int, due_by: datetime) -> Article | None:
        """Only if still scheduled, and for no later than ``due_by`` (an editor may have
        unscheduled or moved it since the scheduler looked)."""
        return await self._set(
            article_id, self._claim(), (ArticleStatus.SCHEDULED,), a.c.scheduled_at <= due_by
        )

    async def mark_published(
        self, held: Attempt, post: ChannelPost, *, from_statuses: Statuses = CLAIMED
    ) -> Article | None:
        """Recorded with the message's claim in one transaction: ``MessageTaken`` (and
        nothing changed) when the message is another article's or poll's."""
        article_id = held.article_id
        values = {
            "status": ArticleStatus.PUBLISHED.value,
            "channel_chat_id": post.chat_id,
            "channel_message_id": post.message_id,
            "published_at": utc_now(),
            "scheduled_at": None,
            "failure_reason": None,
        }
        async with self._db.transaction() as conn:
            if not await _update(conn, article_id, values, from_statuses, attempt=held.number):
                return None
            await claim_message(
                conn, self._db, post.chat_id, post.message_id, article_id=article_id
            )
            return await self._get(conn, article_id)

    async def _end_attempt(
        self, held: Attempt, status: ArticleStatus, reason: str | None
    ) -> Article | None:
        """End the attempt held in ``status``, if it is still the current one."""
        values: dict[str, Any] = {"status": status.value}
        if reason is not None:
            values["failure_reason"] = reason
        return await self._set(held.article_id, values, CLAIMED, attempt=held.number)

    async def mark_failed(self, held: Attempt, reason: str) -> Article | None:
        return await self._end_attempt(held, ArticleStatus.FAILED, reason)

    async def mark_uncertain(self, held: Attempt, reason: str) -> Article | None:
        return await self._end_attempt(held, ArticleStatus.UNCERTAIN, reason)

    async def release(self, held: Attempt, to: ArticleStatus) -> Article | None:
        return await self._end_attempt(held, to, None)

    async def settle_interrupted(self, reason: str, claimed_before: datetime) -> list[Article]:
        """Each article left "publishing" since before ``claimed_before`` becomes
        "uncertain", by one statement per article that names the attempt it saw."""
        statement = (
            select(a.c.id, a.c.publish_attempt)
            .where(
                (a.c.status == ArticleStatus.PUBLISHING.value)
                & (a.c.claimed_at.is_(None) | (a.c.claimed_at < claimed_before))
            )
            .order_by(a.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        settled = []
        for article_id, attempt in rows:
            article = await self.mark_uncertain(Attempt(article_id, attempt), reason)
            if article is not None:
                settled.append(article)
        return settled

    # --- withdrawal ----------------------------------------------------------------------

    async def withdraw(self, article_id: int) -> Article | None:
        """Published -> withdrawn, once: two /delete at once, one gets the row."""
        return await self._set(
            article_id,
            {"status": ArticleStatus.WITHDRAWN.value, "withdrawn_at": utc_now()},
            (ArticleStatus.PUBLISHED,),
        )
