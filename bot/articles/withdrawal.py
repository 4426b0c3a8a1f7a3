"""Withdrawing a published article (/delete): out of the channel, kept in the archive.

The database decides first, in one conditional statement, so two /delete at once
withdraw once and only the winner touches the channel.  Then the post is deleted while
Telegram allows it (48 hours); an older post, which a bot can no longer delete, is edited
into a short "withdrawn" stub instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.articles.reports import report
from bot.failures import failure_of
from bot.models import Article, ArticleStatus
from bot.outcomes import Result
from bot.repositories import ArticleStore
from bot.telegram.limits import DELETE_WINDOW_HOURS
from bot.texts import Texts

logger = logging.getLogger(__name__)


class PostTooOld(Exception):
    """Telegram no longer lets the bot delete this post (older than 48 hours)."""


class PostRemover(Protocol):
    """What withdrawal needs from the channel (the channel adapter implements it)."""

    def post_link(self, message_id: int, chat: str | None = None) -> str: ...

    def message_lock(self, message_id: int) -> AbstractAsyncContextManager[None]: ...

    async def delete_post(self, article: Article) -> None:
        """Delete the post (a post already gone counts as deleted); PostTooOld if it
        cannot be deleted any more."""

    async def stub_post(self, article: Article) -> None:
        """Replace the post's text (or caption) with the stub and drop its buttons."""


class WithdrawOutcome(StrEnum):
    DELETED = "deleted"
    STUBBED = "stubbed"
    POST_UNCHANGED = "post_unchanged"  # withdrawn in the archive; the channel refused
    ALREADY_WITHDRAWN = "already_withdrawn"
    NOT_PUBLISHED = "not_published"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class WithdrawResult(Result[WithdrawOutcome]):
    """What a withdrawal did; it has nothing to add to the common record."""


class Withdrawal:
    def __init__(
        self,
        articles: ArticleStore,
        channel: PostRemover,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._articles = articles
        self._channel = channel
        self._now = now

    async def withdraw(self, article_id: int) -> WithdrawResult:
        withdrawn = await self._articles.withdraw(article_id)
        if withdrawn is None:
            return await self._why_not(article_id)
        assert withdrawn.channel_message_id is not None  # published: the CHECK holds it
        message_id = withdrawn.channel_message_id
        link = self._channel.post_link(message_id, withdrawn.channel_chat_id)
        try:
            # After any edit in flight (a poll's counts), so none lands over the stub.
            async with self._channel.message_lock(message_id):
                if self._deletable(withdrawn):
                    try:
                        await self._channel.delete_post(withdrawn)
                    except PostTooOld:
                        pass  # the clock said yes, Telegram says no: the stub it is
                    else:
                        return WithdrawResult(WithdrawOutcome.DELETED, withdrawn, link)
                await self._channel.stub_post(withdrawn)
        except Exception as exc:
            logger.warning("Article %s withdrawn, its post not changed: %s", article_id, exc)
            return WithdrawResult(
                WithdrawOutcome.POST_UNCHANGED, withdrawn, link, reason=failure_of(exc)
            )
        return WithdrawResult(WithdrawOutcome.STUBBED, withdrawn, link)

    def _deletable(self, article: Article) -> bool:
        if article.published_at is None:
            return True  # unknown: try, Telegram answers PostTooOld when it is too late
        return self._now() - article.published_at < timedelta(hours=DELETE_WINDOW_HOURS)

    async def _why_not(self, article_id: int) -> WithdrawResult:
        article = await self._articles.get(article_id)
        if article is None:
            return WithdrawResult(WithdrawOutcome.NOT_FOUND, None)
        if article.status is ArticleStatus.WITHDRAWN:
            return WithdrawResult(WithdrawOutcome.ALREADY_WITHDRAWN, article)
        return WithdrawResult(WithdrawOutcome.NOT_PUBLISHED, article)


def describe_withdrawal(result: WithdrawResult, article_id: int, texts: Texts) -> str:
    """The editor's report of a /delete, in plain words (HTML)."""
    messages = {
        WithdrawOutcome.DELETED: texts.withdrawn_deleted,
        WithdrawOutcome.STUBBED: texts.withdrawn_stubbed,
        WithdrawOutcome.POST_UNCHANGED: texts.withdrawn_post_unchanged,
        WithdrawOutcome.ALREADY_WITHDRAWN: texts.withdraw_already,
        WithdrawOutcome.NOT_PUBLISHED: texts.withdraw_not_published,
        WithdrawOutcome.NOT_FOUND: texts.not_found,
    }
    return report(messages[result.outcome], result, article_id, texts)
