"""Revising an article after it was submitted: a draft is simply replaced; a published
article is updated in the database (readers get the new full text) and its channel post
is edited to match.  Every change keeps the content it replaced as a numbered version
(stored in the same transaction), and ``/restore`` brings one back the same way, so
that a restore is a change like any other and can itself be undone."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.articles.intake import MAX_SUMMARY_CHARS, clean_credit, parse_tags
from bot.articles.parsing import parse_article
from bot.desk.history import NO_HISTORY, ActionLog, acting
from bot.errors import InputError
from bot.failures import failure_of
from bot.models import Article, ArticleContent, ArticleStatus, ArticleVersion
from bot.outcomes import Result
from bot.repositories import EDITABLE, ArticleStore, Change, Revision
from bot.telegram_text.cleaning import clean_line

logger = logging.getLogger(__name__)


class PostEditor(Protocol):
    async def edit_post(self, article: Article) -> None: ...

    def message_lock(self, message_id: int) -> AbstractAsyncContextManager[None]: ...

    def post_link(self, message_id: int, chat: str | None = None) -> str: ...


class EditOutcome(StrEnum):
    DRAFT_UPDATED = "draft_updated"
    POST_UPDATED = "post_updated"
    POST_NOT_UPDATED = "post_not_updated"  # stored, but Telegram refused the edit
    NOT_FOUND = "not_found"
    BUSY = "busy"
    WITHDRAWN = "withdrawn"  # taken down by /delete: its post is gone or a stub
    NO_VERSION = "no_version"  # /restore: the article has no such version
    # Uncertain (settled first), rejected, or from the site's archive: nothing to edit.
    NOT_EDITABLE = "not_editable"


@dataclass(frozen=True, slots=True)
class EditResult(Result[EditOutcome]):
    """What an edit did; it has nothing to add to the common record."""


def merge_import(old: ArticleContent, new: ArticleContent) -> ArticleContent:
    """A re-imported text replaces the text; what it does not say is kept."""
    return dataclasses.replace(
        new,
        summary=old.summary,
        tags=new.tags or old.tags,
        photo_credit=new.photo_credit or old.photo_credit,
        source=new.source or old.source,
        dateline=new.dateline or old.dateline,
        original_published_at=new.original_published_at or old.original_published_at,
        views=new.views if new.views is not None else old.views,
        poll_question=new.poll_question or old.poll_question,
        poll_intro=new.poll_intro or old.poll_intro,
    )


def summary_change(value: str) -> Change:
    summary = clean_line(value)
    if not summary:
        raise InputError("edit_usage")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise InputError("summary_too_long", limit=MAX_SUMMARY_CHARS)
    return lambda old: dataclasses.replace(old, summary=summary)


def tags_change(value: str) -> Change:
    tags = parse_tags(value)
    return lambda old: dataclasses.replace(old, tags=tags)


def credit_change(value: str) -> Change:
    credit = clean_credit(value)
    return lambda old: dataclasses.replace(old, photo_credit=credit)


# One-field commands (/summary, /tags, /credit): validate the value, return the change.
FIELD_CHANGES: dict[str, Callable[[str], Change]] = {
    "summary": summary_change,
    "tags": tags_change,
    "credit": credit_change,
}


class Revisions:
    def __init__(
        self, articles: ArticleStore, channel: PostEditor, *, history: ActionLog = NO_HISTORY
    ) -> None:
        self._articles = articles
        self._channel = channel
        self._history = history

    async def replace_text(self, article_id: int, raw: str) -> EditResult:
        """``/edit``: a re-imported text replaces the text; what it does not say is kept
        (raises ParseError when it is not an article)."""
        new = parse_article(raw)
        result = await self.revise(article_id, lambda old: merge_import(old, new))
        return await self._record(result, article_id, "text")

    async def set_field(self, name: str, article_id: int, value: str) -> EditResult:
        """``/summary``, ``/tags``, ``/credit``: one field (InputError when invalid)."""
        result = await self.revise(article_id, FIELD_CHANGES[name](value))
        return await self._record(result, article_id, name)

    async def restore(self, article_id: int, number: int) -> EditResult:
        """``/restore``: version ``number`` becomes the content again; the content it
        replaces becomes a version too."""
        version = await self._articles.version(article_id, number)
        if version is None:
            current = await self._articles.get(article_id)
            outcome = EditOutcome.NOT_FOUND if current is None else EditOutcome.NO_VERSION
            return EditResult(outcome, current)
        result = await self.revise(article_id, lambda _: version.content)
        return await self._record(result, article_id, str(number), action="restore")

    async def versions(self, article_id: int) -> list[ArticleVersion]:
        """The article's earlier versions, oldest first."""
        return await self._articles.versions(article_id)

    async def _record(
        self, result: EditResult, article_id: int, what: str, *, action: str = "edit"
    ) -> EditResult:
        changed = result.outcome not in (
            EditOutcome.NOT_FOUND,
            EditOutcome.BUSY,
            EditOutcome.NO_VERSION,
            EditOutcome.NOT_EDITABLE,
        )
        if changed:
            await self._history.record(action, article_id=article_id, detail=what)
        return result

    async def revise(self, article_id: int, change: Change) -> EditResult:
        current = await self._articles.get(article_id)
        if current is None:
            return EditResult(EditOutcome.NOT_FOUND, None)
        if current.status is ArticleStatus.PUBLISHING:
            return EditResult(EditOutcome.BUSY, current)
        if current.status is ArticleStatus.WITHDRAWN:
            return EditResult(EditOutcome.WITHDRAWN, current)
        if current.status not in (*EDITABLE, ArticleStatus.PUBLISHED):
            return EditResult(EditOutcome.NOT_EDITABLE, current)
        updated = await self._articles.revise(
            article_id, Revision(change, acting.get(), allow_published=True)
        )
        if updated is None:  # it changed state under us
            return EditResult(EditOutcome.BUSY, current)
        if updated.status is not ArticleStatus.PUBLISHED or updated.channel_message_id is None:
            return EditResult(EditOutcome.DRAFT_UPDATED, updated)
        link = self._channel.post_link(updated.channel_message_id, updated.channel_chat_id)
        try:
            async with self._channel.message_lock(updated.channel_message_id):
                # The newest version, read under the lock: edits land in order.
                latest = await self._articles.get(article_id) or updated
                if latest.status is ArticleStatus.WITHDRAWN:
                    # Withdrawn while this edit waited: its post is gone or a stub now.
                    return EditResult(EditOutcome.WITHDRAWN, latest)
                await self._channel.edit_post(latest)
        except Exception as exc:
            logger.warning("Could not edit the post of article %s: %s", article_id, exc)
            return EditResult(EditOutcome.POST_NOT_UPDATED, updated, link, failure_of(exc))
        return EditResult(EditOutcome.POST_UPDATED, updated, link)
