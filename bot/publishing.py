"""Publishing: the persisted state machine around one channel send.

The state is written before the request ("publishing", claimed by one caller only) and
after the answer ("published" with the message id, or "failed" with the reason).  When
the answer never comes, the article becomes "uncertain" and an editor decides: nothing
is ever re-sent behind their back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.models import Article, ArticleStatus
from storage.articles import PUBLISHABLE, ArticleRepository

logger = logging.getLogger(__name__)


class ChannelRefused(Exception):
    """The channel certainly did not get the post (no rights, bad request, flood)."""

    def __init__(self, reason: str, *, no_rights: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.no_rights = no_rights


class ChannelUncertain(Exception):
    """The send may or may not have reached the channel (timeout, 5xx, dropped link)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelPort(Protocol):
    """What publishing needs from the channel; the aiogram side lives in bot/channel.py."""

    chat_id: str

    async def send_post(self, article: Article) -> int: ...

    def post_link(self, message_id: int) -> str: ...


class Outcome(StrEnum):
    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already_published"
    IN_PROGRESS = "in_progress"
    UNCERTAIN = "uncertain"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    NOT_PUBLISHABLE = "not_publishable"


@dataclass(frozen=True, slots=True)
class PublishResult:
    outcome: Outcome
    article: Article | None
    link: str | None = None
    reason: str | None = None
    no_rights: bool = False


class Publisher:
    def __init__(
        self,
        articles: ArticleRepository,
        channel: ChannelPort,
        after_publish: Callable[[Article], Awaitable[None]] | None = None,
    ) -> None:
        self._articles = articles
        self._channel = channel
        self._after_publish = after_publish

    def link_for(self, article: Article) -> str | None:
        if article.channel_message_id is None:
            return None
        return self._channel.post_link(article.channel_message_id)

    async def publish(self, article_id: int, *, force: bool = False) -> PublishResult:
        """Post the article to the channel once.

        ``force`` publishes an "uncertain" article anyway: the editor has checked the
        channel and found the post missing.
        """
        claimed = await self._articles.begin_publishing(
            article_id, from_statuses=(ArticleStatus.UNCERTAIN,) if force else PUBLISHABLE
        )
        if claimed is None:
            return await self._why_not(article_id)
        try:
            message_id = await self._channel.send_post(claimed)
        except ChannelRefused as exc:
            logger.warning("Article %s refused by the channel: %s", article_id, exc.reason)
            failed = await self._articles.mark_failed(article_id, exc.reason)
            return PublishResult(
                Outcome.FAILED, failed or claimed, reason=exc.reason, no_rights=exc.no_rights
            )
        except ChannelUncertain as exc:
            logger.error(
                "Article %s: outcome of the channel send unknown: %s", article_id, exc.reason
            )
            uncertain = await self._articles.mark_uncertain(article_id, exc.reason)
            return PublishResult(Outcome.UNCERTAIN, uncertain or claimed, reason=exc.reason)
        except BaseException:
            # Cancelled or crashed mid-send: we cannot know whether the post went out.
            await self._articles.mark_uncertain(article_id, "interrupted")
            raise
        published = await self._articles.mark_published(
            article_id, self._channel_chat(claimed), message_id
        )
        article = published or claimed
        await self._published(article)
        return PublishResult(Outcome.PUBLISHED, article, self._channel.post_link(message_id))

    async def _published(self, article: Article) -> None:
        if self._after_publish is not None:
            try:
                await self._after_publish(article)
            except Exception:
                # The post is out and recorded; a follow-up failing must not hide that.
                logger.exception("After-publish step failed for article %s", article.id)

    def _channel_chat(self, article: Article) -> str:
        return article.channel_chat_id or self._channel.chat_id

    async def mark_published(self, article_id: int, message_id: int) -> PublishResult:
        """An editor found the "uncertain" post in the channel: record it as published."""
        current = await self._articles.get(article_id)
        if current is None:
            return PublishResult(Outcome.NOT_FOUND, None)
        if current.status is not ArticleStatus.UNCERTAIN:
            return await self._why_not(article_id)
        done = await self._articles.mark_published(
            article_id, self._channel_chat(current), message_id
        )
        if done is None:
            return await self._why_not(article_id)
        await self._published(done)
        return PublishResult(Outcome.PUBLISHED, done, self._channel.post_link(message_id))

    async def _why_not(self, article_id: int) -> PublishResult:
        article = await self._articles.get(article_id)
        if article is None:
            return PublishResult(Outcome.NOT_FOUND, None)
        if article.status is ArticleStatus.PUBLISHED:
            return PublishResult(Outcome.ALREADY_PUBLISHED, article, self.link_for(article))
        if article.status is ArticleStatus.PUBLISHING:
            return PublishResult(Outcome.IN_PROGRESS, article)
        if article.status is ArticleStatus.UNCERTAIN:
            return PublishResult(Outcome.UNCERTAIN, article, reason=article.failure_reason)
        return PublishResult(Outcome.NOT_PUBLISHABLE, article)
