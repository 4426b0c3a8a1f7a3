"""Articles on PostgreSQL: the same contract as storage/sqlite/articles.py.

Every step of the publishing state machine is one conditional ``UPDATE … WHERE status =
ANY(…) [AND publish_attempt = …]``: when two instances claim one draft, the second
``UPDATE`` waits for the first row lock, re-reads the committed row and no longer
matches, so exactly one gets the row back.  ``revise`` reads the current content
``FOR UPDATE``, so two editors changing different fields at once both keep their change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.models import Article, ArticleContent, ArticleStatus, PollSpec
from bot.repositories import EDITABLE, PUBLISHABLE, Change
from storage.rows import article_from_row, utc_now

from .db import Connection, Database, Record, changed
from .polls import insert_poll

# One statement per article or per listing: paragraphs and tags come along as arrays
# ordered by position; the reader count is the column the trigger of 0006 keeps.
_COLUMNS = """
    SELECT a.*,
           ARRAY(SELECT p.body FROM article_paragraphs p
                  WHERE p.article_id = a.id ORDER BY p.position) AS paragraphs,
           ARRAY(SELECT t.tag FROM article_tags t
                  WHERE t.article_id = a.id ORDER BY t.position) AS tags
"""
_SELECT = _COLUMNS + " FROM articles a"
_CLAIM = (
    "status = 'publishing', failure_reason = NULL, "
    "publish_attempt = publish_attempt + 1, claimed_at = $1"
)


def _values(statuses: tuple[ArticleStatus, ...]) -> list[str]:
    return [s.value for s in statuses]


def hydrate(row: Record) -> Article:
    return article_from_row(row, tuple(row["paragraphs"]), tuple(row["tags"]))


class ArticleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reading -------------------------------------------------------------------

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one(_SELECT + " WHERE a.id = $1", article_id)
        return hydrate(row) if row is not None else None

    @staticmethod
    async def _get(conn: Connection, article_id: int, *, lock: bool = False) -> Article | None:
        """With ``lock``, the row is locked first by a statement of its own: the read
        that follows then takes a new snapshot (READ COMMITTED), which includes the
        paragraphs and tags that a transaction we waited for has just committed."""
        if lock:
            await conn.execute("SELECT 1 FROM articles WHERE id = $1 FOR UPDATE", article_id)
        row = await conn.fetchrow(_SELECT + " WHERE a.id = $1", article_id)
        return hydrate(row) if row is not None else None

    async def _list(
        self, where: str, args: tuple[object, ...], order: str, limit: int = 1000
    ) -> list[Article]:
        """One statement: the page of ids first, then paragraphs and tags for it only."""
        n = len(args) + 1
        rows = await self._db.fetch_all(
            f"WITH page AS MATERIALIZED (SELECT a.id FROM articles a WHERE {where} "
            f"ORDER BY {order} LIMIT ${n}) "
            f"{_COLUMNS} FROM page JOIN articles a ON a.id = page.id ORDER BY {order}",
            *args,
            limit,
        )
        return [hydrate(row) for row in rows]

    async def list_unpublished(self, limit: int = 50) -> list[Article]:
        """Drafts and everything an editor still has to act on, newest first."""
        statuses = (*EDITABLE, ArticleStatus.UNCERTAIN, ArticleStatus.PUBLISHING)
        return await self._list(
            "a.status = ANY($1::text[])",
            (_values(statuses),),
            "a.updated_at DESC, a.id DESC",
            limit,
        )

    async def latest_published(self, limit: int = 5) -> list[Article]:
        return await self._list(
            "a.status = $1 AND a.withdrawn_at IS NULL",
            (ArticleStatus.PUBLISHED.value,),
            "a.published_at DESC, a.id DESC",
            limit,
        )

    async def list_scheduled(self) -> list[Article]:
        return await self._list(
            "a.status = $1", (ArticleStatus.SCHEDULED.value,), "a.scheduled_at, a.id"
        )

    async def due_scheduled(self, now: datetime) -> list[Article]:
        return await self._list(
            "a.status = $1 AND a.scheduled_at <= $2",
            (ArticleStatus.SCHEDULED.value, now.astimezone(UTC)),
            "a.scheduled_at, a.id",
        )

    async def next_scheduled_at(self) -> datetime | None:
        value: datetime | None = await self._db.fetch_value(
            "SELECT min(scheduled_at) FROM articles WHERE status = $1",
            ArticleStatus.SCHEDULED.value,
        )
        return value

    async def article_for_preview(self, chat_id: int, message_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT article_id FROM draft_previews WHERE chat_id = $1 AND message_id = $2",
            chat_id,
            message_id,
        )
        return int(value) if value is not None else None

    # --- writing -------------------------------------------------------------------

    async def create(
        self,
        content: ArticleContent,
        author_id: int,
        *,
        photo_file_id: str | None = None,
        poll: PollSpec | None = None,
    ) -> Article:
        """A new draft, and its poll when given, in one transaction."""
        now = utc_now()
        async with self._db.transaction() as conn:
            article_id = await conn.fetchval(
                """
                INSERT INTO articles (title, summary, dateline, source, original_published_at,
                                      views, photo_credit, poll_question, poll_intro,
                                      author_id, status, created_at, updated_at, photo_file_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $11, $12)
                RETURNING id
                """,
                content.title,
                content.summary,
                content.dateline,
                content.source,
                content.original_published_at,
                content.views,
                content.photo_credit,
                content.poll_question,
                content.poll_intro,
                author_id,
                now,
                photo_file_id,
            )
            await self._write_children(conn, article_id, content)
            if poll is not None:
                await insert_poll(conn, poll, author_id, article_id=article_id)
            article = await self._get(conn, article_id)
        assert article is not None
        return article

    @staticmethod
    async def _write_children(conn: Connection, article_id: int, content: ArticleContent) -> None:
        await conn.execute("DELETE FROM article_paragraphs WHERE article_id = $1", article_id)
        await conn.execute("DELETE FROM article_tags WHERE article_id = $1", article_id)
        await conn.execute(
            "INSERT INTO article_paragraphs (article_id, position, body) "
            "SELECT $1, n - 1, body FROM unnest($2::text[]) WITH ORDINALITY AS u(body, n)",
            article_id,
            list(content.paragraphs),
        )
        await conn.execute(
            "INSERT INTO article_tags (article_id, position, tag) "
            "SELECT $1, n - 1, tag FROM unnest($2::text[]) WITH ORDINALITY AS u(tag, n)",
            article_id,
            list(content.tags),
        )

    async def revise(
        self, article_id: int, change: Change, *, allow_published: bool = False
    ) -> Article | None:
        """Apply ``change`` to the current content, read under a row lock, in one
        transaction: a concurrent revision waits and then builds on this one."""
        allowed = (*EDITABLE, ArticleStatus.PUBLISHED) if allow_published else EDITABLE
        async with self._db.transaction() as conn:
            current = await self._get(conn, article_id, lock=True)
            if current is None or current.status not in allowed:
                return None
            content = change(current.content)
            updated = await conn.fetchval(
                """
                UPDATE articles
                   SET title = $1, summary = $2, dateline = $3, source = $4,
                       photo_credit = $5, poll_question = $6, poll_intro = $7,
                       original_published_at = $8, views = $9, updated_at = $10
                 WHERE id = $11 AND status = ANY($12::text[]) AND withdrawn_at IS NULL
                RETURNING id
                """,
                content.title,
                content.summary,
                content.dateline,
                content.source,
                content.photo_credit,
                content.poll_question,
                content.poll_intro,
                content.original_published_at,
                content.views,
                utc_now(),
                article_id,
                _values(allowed),
            )
            if updated is None:
                return None
            await self._write_children(conn, article_id, content)
            return await self._get(conn, article_id)

    async def _set(
        self,
        article_id: int,
        assignments: str,
        args: tuple[object, ...],
        allowed: tuple[ArticleStatus, ...],
        *,
        attempt: int | None = None,
        also: str = "",
        also_args: tuple[object, ...] = (),
    ) -> Article | None:
        """One conditional ``UPDATE``: ``assignments`` (placeholders ``$1…``) apply only
        if the article is in one of ``allowed``, at ``attempt`` when given, and the extra
        condition ``also`` (placeholders numbered after the others) holds."""
        n = len(args)
        sql = (
            f"UPDATE articles SET {assignments}, updated_at = ${n + 1} "
            f"WHERE id = ${n + 2} AND status = ANY(${n + 3}::text[])"
        )
        params: list[object] = [*args, utc_now(), article_id, _values(allowed)]
        if attempt is not None:
            params.append(attempt)
            sql += f" AND publish_attempt = ${len(params)}"
        if also:
            sql += " AND " + also.format(
                *(f"${len(params) + i + 1}" for i in range(len(also_args)))
            )
            params.extend(also_args)
        async with self._db.transaction() as conn:
            updated = await conn.fetchval(sql + " RETURNING id", *params)
            if updated is None:
                return None
            return await self._get(conn, article_id)

    async def withdraw(self, article_id: int) -> Article | None:
        """Take a published article down, once: two /delete at once, one gets the row."""
        now = utc_now()
        async with self._db.transaction() as conn:
            status = await conn.execute(
                "UPDATE articles SET withdrawn_at = $1, updated_at = $1 "
                "WHERE id = $2 AND status = 'published' AND withdrawn_at IS NULL",
                now,
                article_id,
            )
            if not changed(status):
                return None
            return await self._get(conn, article_id)

    async def set_photo(self, article_id: int, file_id: str) -> Article | None:
        return await self._set(article_id, "photo_file_id = $1", (file_id,), EDITABLE)

    async def schedule(self, article_id: int, when: datetime) -> Article | None:
        return await self._set(
            article_id,
            "status = 'scheduled', scheduled_at = $1",
            (when.astimezone(UTC),),
            (ArticleStatus.DRAFT, ArticleStatus.SCHEDULED, ArticleStatus.FAILED),
        )

    async def unschedule(self, article_id: int) -> Article | None:
        return await self._set(
            article_id,
            "status = 'draft', scheduled_at = NULL",
            (),
            (ArticleStatus.SCHEDULED,),
        )

    async def record_read(self, article_id: int, reader_id: int) -> bool:
        """Count a reader once per article; True when this is their first read."""
        inserted = await self._db.fetch_value(
            "INSERT INTO article_reads (article_id, reader_id, first_read_at) "
            "VALUES ($1, $2, $3) ON CONFLICT (article_id, reader_id) DO NOTHING RETURNING 1",
            article_id,
            reader_id,
            utc_now(),
        )
        return inserted is not None

    async def remember_preview(self, chat_id: int, message_id: int, article_id: int) -> None:
        await self._db.execute(
            "INSERT INTO draft_previews (chat_id, message_id, article_id) VALUES ($1, $2, $3) "
            "ON CONFLICT (chat_id, message_id) DO UPDATE SET article_id = excluded.article_id",
            chat_id,
            message_id,
            article_id,
        )

    # --- the publishing state machine -------------------------------------------------

    async def claim(
        self,
        article_id: int,
        *,
        from_statuses: tuple[ArticleStatus, ...] = PUBLISHABLE,
        attempt: int | None = None,
    ) -> Article | None:
        return await self._set(article_id, _CLAIM, (utc_now(),), from_statuses, attempt=attempt)

    async def claim_scheduled(self, article_id: int, due_by: datetime) -> Article | None:
        """Only if still scheduled for no later than ``due_by``."""
        return await self._set(
            article_id,
            _CLAIM,
            (utc_now(),),
            (ArticleStatus.SCHEDULED,),
            also="scheduled_at <= {0}",
            also_args=(due_by.astimezone(UTC),),
        )

    async def mark_published(
        self,
        article_id: int,
        attempt: int,
        chat_id: str,
        message_id: int,
        *,
        from_statuses: tuple[ArticleStatus, ...] = (ArticleStatus.PUBLISHING,),
    ) -> Article | None:
        return await self._set(
            article_id,
            "status = 'published', channel_chat_id = $1, channel_message_id = $2, "
            "published_at = $3, scheduled_at = NULL, failure_reason = NULL",
            (chat_id, message_id, utc_now()),
            from_statuses,
            attempt=attempt,
        )

    async def mark_failed(self, article_id: int, attempt: int, reason: str) -> Article | None:
        return await self._set(
            article_id,
            "status = 'failed', failure_reason = $1",
            (reason,),
            (ArticleStatus.PUBLISHING,),
            attempt=attempt,
        )

    async def mark_uncertain(self, article_id: int, attempt: int, reason: str) -> Article | None:
        return await self._set(
            article_id,
            "status = 'uncertain', failure_reason = $1",
            (reason,),
            (ArticleStatus.PUBLISHING,),
            attempt=attempt,
        )

    async def release(self, article_id: int, attempt: int, to: ArticleStatus) -> Article | None:
        return await self._set(
            article_id, "status = $1", (to.value,), (ArticleStatus.PUBLISHING,), attempt=attempt
        )

    async def settle_interrupted(self, reason: str, claimed_before: datetime) -> list[Article]:
        """Each article left "publishing" since before ``claimed_before`` becomes
        "uncertain", by one statement per article that names the attempt it saw."""
        rows = await self._db.fetch_all(
            "SELECT id, publish_attempt FROM articles WHERE status = $1 "
            "AND (claimed_at IS NULL OR claimed_at < $2) ORDER BY id",
            ArticleStatus.PUBLISHING.value,
            claimed_before.astimezone(UTC),
        )
        settled = []
        for row in rows:
            article = await self.mark_uncertain(row["id"], row["publish_attempt"], reason)
            if article is not None:
                settled.append(article)
        return settled
