"""Articles: drafts, the publishing state machine, schedules and reads.

State changes that decide who may publish are single conditional ``UPDATE … WHERE
status IN (…)`` statements, so two editors (or two quick commands) cannot both move the
same draft to "publishing": exactly one of them gets the row back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from bot.models import Article, ArticleContent, ArticleStatus, PollSpec
from bot.repositories import EDITABLE, PUBLISHABLE
from storage.rows import article_from_row, parse_time, utc_now

from .db import Database, Row, Transaction
from .polls import insert_poll


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _placeholders(values: tuple[object, ...]) -> str:
    return ", ".join("?" for _ in values)


# One statement per article or per listing: the paragraphs and tags come along as JSON
# arrays of [position, text] (sorted in Python, so no reliance on aggregate order), and
# the reader count is the column that migration 0006's trigger keeps.
_COLUMNS = """
    SELECT a.*,
           (SELECT json_group_array(json_array(p.position, p.body))
              FROM article_paragraphs p WHERE p.article_id = a.id) AS paragraphs_json,
           (SELECT json_group_array(json_array(t.position, t.tag))
              FROM article_tags t WHERE t.article_id = a.id) AS tags_json
"""
_SELECT = _COLUMNS + " FROM articles a"


def _ordered(encoded: str) -> tuple[str, ...]:
    return tuple(text for _, text in sorted(json.loads(encoded)))


class ArticleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reading -------------------------------------------------------------------

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one(_SELECT + " WHERE a.id = ?", (article_id,))
        return self._hydrate(row) if row is not None else None

    async def _get(self, tx: Transaction, article_id: int) -> Article | None:
        row = await tx.fetch_one(_SELECT + " WHERE a.id = ?", (article_id,))
        return self._hydrate(row) if row is not None else None

    @staticmethod
    def _hydrate(row: Row) -> Article:
        return article_from_row(row, _ordered(row["paragraphs_json"]), _ordered(row["tags_json"]))

    async def _list(
        self, where: str, params: tuple[object, ...], order: str, limit: int = 1000
    ) -> list[Article]:
        """One statement on a reader.  The page of ids is chosen first (an index scan and a
        sort of bare rows), so the paragraphs and tags are gathered for its rows only."""
        rows = await self._db.fetch_all(
            f"WITH page AS MATERIALIZED (SELECT a.id FROM articles a WHERE {where} "
            f"ORDER BY {order} LIMIT ?) "
            f"{_COLUMNS} FROM page JOIN articles a ON a.id = page.id ORDER BY {order}",
            (*params, limit),
        )
        return [self._hydrate(row) for row in rows]

    async def list_unpublished(self, limit: int = 50) -> list[Article]:
        """Drafts and everything an editor still has to act on, newest first."""
        statuses = tuple(
            s.value for s in (*EDITABLE, ArticleStatus.UNCERTAIN, ArticleStatus.PUBLISHING)
        )
        return await self._list(
            f"a.status IN ({_placeholders(statuses)})",
            statuses,
            "a.updated_at DESC, a.id DESC",
            limit,
        )

    async def latest_published(self, limit: int = 5) -> list[Article]:
        return await self._list(
            "a.status = ? AND a.withdrawn_at IS NULL",
            (ArticleStatus.PUBLISHED.value,),
            "a.published_at DESC, a.id DESC",
            limit,
        )

    async def list_scheduled(self) -> list[Article]:
        return await self._list(
            "a.status = ?", (ArticleStatus.SCHEDULED.value,), "a.scheduled_at, a.id"
        )

    async def due_scheduled(self, now: datetime) -> list[Article]:
        return await self._list(
            "a.status = ? AND a.scheduled_at <= ?",
            (ArticleStatus.SCHEDULED.value, now.astimezone(UTC).isoformat()),
            "a.scheduled_at, a.id",
        )

    async def next_scheduled_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(scheduled_at) AS t FROM articles WHERE status = ?",
            (ArticleStatus.SCHEDULED.value,),
        )
        return parse_time(row["t"]) if row else None

    # --- writing -------------------------------------------------------------------

    async def create(
        self,
        content: ArticleContent,
        author_id: int,
        *,
        photo_file_id: str | None = None,
        poll: PollSpec | None = None,
    ) -> Article:
        now = utc_now().isoformat()
        async with self._db.transaction() as tx:
            article_id = await tx.insert(
                """
                INSERT INTO articles (title, summary, dateline, source, original_published_at,
                                      views, photo_credit, poll_question, poll_intro,
                                      author_id, status, created_at, updated_at, photo_file_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)
                """,
                (
                    content.title,
                    content.summary,
                    content.dateline,
                    content.source,
                    _ts(content.original_published_at),
                    content.views,
                    content.photo_credit,
                    content.poll_question,
                    content.poll_intro,
                    author_id,
                    now,
                    now,
                    photo_file_id,
                ),
            )
            await self._write_children(tx, article_id, content)
            if poll is not None:
                await insert_poll(tx, poll, author_id, article_id=article_id)
            article = await self._get(tx, article_id)
        assert article is not None
        return article

    async def _write_children(
        self, tx: Transaction, article_id: int, content: ArticleContent
    ) -> None:
        await tx.execute("DELETE FROM article_paragraphs WHERE article_id = ?", (article_id,))
        await tx.execute("DELETE FROM article_tags WHERE article_id = ?", (article_id,))
        await tx.execute_many(
            "INSERT INTO article_paragraphs (article_id, position, body) VALUES (?, ?, ?)",
            [(article_id, i, body) for i, body in enumerate(content.paragraphs)],
        )
        await tx.execute_many(
            "INSERT INTO article_tags (article_id, position, tag) VALUES (?, ?, ?)",
            [(article_id, i, tag) for i, tag in enumerate(content.tags)],
        )

    async def revise(
        self,
        article_id: int,
        change: Callable[[ArticleContent], ArticleContent],
        *,
        allow_published: bool = False,
    ) -> Article | None:
        """Apply ``change`` to the current content in one transaction, so two editors
        changing different fields at once both keep their change."""
        allowed = (*EDITABLE, ArticleStatus.PUBLISHED) if allow_published else EDITABLE
        statuses = tuple(s.value for s in allowed)
        async with self._db.transaction() as tx:
            current = await self._get(tx, article_id)
            if current is None or current.status not in allowed:
                return None
            content = change(current.content)
            changed = await tx.execute(
                f"""
                UPDATE articles
                   SET title = ?, summary = ?, dateline = ?, source = ?, photo_credit = ?,
                       poll_question = ?, poll_intro = ?, original_published_at = ?,
                       views = ?, updated_at = ?
                 WHERE id = ? AND status IN ({_placeholders(statuses)})
                   AND withdrawn_at IS NULL
                """,
                (
                    content.title,
                    content.summary,
                    content.dateline,
                    content.source,
                    content.photo_credit,
                    content.poll_question,
                    content.poll_intro,
                    _ts(content.original_published_at),
                    content.views,
                    utc_now().isoformat(),
                    article_id,
                    *statuses,
                ),
            )
            if not changed:
                return None
            await self._write_children(tx, article_id, content)
            return await self._get(tx, article_id)

    async def _set(
        self,
        article_id: int,
        assignments: str,
        params: tuple[object, ...],
        allowed: tuple[str, ...],
        *,
        also: str = "",
        also_params: tuple[object, ...] = (),
    ) -> Article | None:
        """Apply ``assignments`` if the article is in one of ``allowed`` statuses (and
        the extra condition ``also`` holds)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE articles SET {assignments}, updated_at = ? "
                f"WHERE id = ? AND status IN ({_placeholders(allowed)}) {also}",
                (*params, utc_now().isoformat(), article_id, *allowed, *also_params),
            )
            if not changed:
                return None
            return await self._get(tx, article_id)

    async def set_photo(self, article_id: int, file_id: str) -> Article | None:
        return await self._set(
            article_id, "photo_file_id = ?", (file_id,), tuple(s.value for s in EDITABLE)
        )

    async def claim(
        self,
        article_id: int,
        *,
        from_statuses: tuple[ArticleStatus, ...] = PUBLISHABLE,
        attempt: int | None = None,
    ) -> Article | None:
        return await self._set(
            article_id,
            "status = 'publishing', failure_reason = NULL, "
            "publish_attempt = publish_attempt + 1, claimed_at = ?",
            (utc_now().isoformat(),),
            tuple(s.value for s in from_statuses),
            also="" if attempt is None else "AND publish_attempt = ?",
            also_params=() if attempt is None else (attempt,),
        )

    async def claim_scheduled(self, article_id: int, due_by: datetime) -> Article | None:
        """The scheduler's claim: only if still scheduled, and for no later than ``due_by``
        (an editor may have unscheduled or moved it since the scheduler looked)."""
        return await self._set(
            article_id,
            "status = 'publishing', failure_reason = NULL, "
            "publish_attempt = publish_attempt + 1, claimed_at = ?",
            (utc_now().isoformat(),),
            (ArticleStatus.SCHEDULED.value,),
            also="AND scheduled_at <= ?",
            also_params=(due_by.astimezone(UTC).isoformat(),),
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
            "status = 'published', channel_chat_id = ?, channel_message_id = ?, "
            "published_at = ?, scheduled_at = NULL, failure_reason = NULL",
            (chat_id, message_id, utc_now().isoformat()),
            tuple(s.value for s in from_statuses),
            also="AND publish_attempt = ?",
            also_params=(attempt,),
        )

    async def _end_attempt(
        self, article_id: int, attempt: int, status: ArticleStatus, reason: str | None
    ) -> Article | None:
        """End publishing attempt ``attempt`` in ``status``, if it is still the current one."""
        return await self._set(
            article_id,
            "status = ?, failure_reason = COALESCE(?, failure_reason)",
            (status.value, reason),
            (ArticleStatus.PUBLISHING.value,),
            also="AND publish_attempt = ?",
            also_params=(attempt,),
        )

    async def mark_failed(self, article_id: int, attempt: int, reason: str) -> Article | None:
        return await self._end_attempt(article_id, attempt, ArticleStatus.FAILED, reason)

    async def mark_uncertain(self, article_id: int, attempt: int, reason: str) -> Article | None:
        return await self._end_attempt(article_id, attempt, ArticleStatus.UNCERTAIN, reason)

    async def release(self, article_id: int, attempt: int, to: ArticleStatus) -> Article | None:
        return await self._end_attempt(article_id, attempt, to, None)

    async def settle_interrupted(self, reason: str, claimed_before: datetime) -> list[Article]:
        """Each article left "publishing" since before ``claimed_before`` becomes
        "uncertain", by one statement that names the attempt it saw."""
        rows = await self._db.fetch_all(
            "SELECT id, publish_attempt FROM articles WHERE status = ? "
            "AND (claimed_at IS NULL OR claimed_at < ?)",
            (ArticleStatus.PUBLISHING.value, claimed_before.astimezone(UTC).isoformat()),
        )
        settled = []
        for row in rows:
            article = await self.mark_uncertain(row["id"], row["publish_attempt"], reason)
            if article is not None:
                settled.append(article)
        return settled

    async def schedule(self, article_id: int, when: datetime) -> Article | None:
        return await self._set(
            article_id,
            "status = 'scheduled', scheduled_at = ?",
            (when.astimezone(UTC).isoformat(),),
            (ArticleStatus.DRAFT.value, ArticleStatus.SCHEDULED.value, ArticleStatus.FAILED.value),
        )

    async def unschedule(self, article_id: int) -> Article | None:
        return await self._set(
            article_id,
            "status = 'draft', scheduled_at = NULL",
            (),
            (ArticleStatus.SCHEDULED.value,),
        )

    async def withdraw(self, article_id: int) -> Article | None:
        """Take a published article down, once: two /delete at once, one gets the row."""
        now = utc_now().isoformat()
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE articles SET withdrawn_at = ?, updated_at = ? "
                "WHERE id = ? AND status = 'published' AND withdrawn_at IS NULL",
                (now, now, article_id),
            )
            if not changed:
                return None
            return await self._get(tx, article_id)

    async def record_read(self, article_id: int, reader_id: int) -> bool:
        """Count a reader once per article; True when this is their first read."""
        changed = await self._db.execute(
            "INSERT INTO article_reads (article_id, reader_id, first_read_at) VALUES (?, ?, ?) "
            "ON CONFLICT (article_id, reader_id) DO NOTHING",
            (article_id, reader_id, utc_now().isoformat()),
        )
        return changed > 0

    async def remember_preview(self, chat_id: int, message_id: int, article_id: int) -> None:
        await self._db.execute(
            "INSERT INTO draft_previews (chat_id, message_id, article_id) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id, message_id) DO UPDATE SET article_id = excluded.article_id",
            (chat_id, message_id, article_id),
        )

    async def article_for_preview(self, chat_id: int, message_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT article_id FROM draft_previews WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(row["article_id"]) if row else None
