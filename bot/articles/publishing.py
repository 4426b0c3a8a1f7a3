"""Publishing: the persisted state machine around one channel send.

The state is written before the request ("publishing", claimed by one caller only) and
after the answer ("published" with the message id, or "failed" with the reason).  When
the answer never comes, the article becomes "uncertain" and an editor decides: nothing
is ever re-sent behind their back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.models import Article, ArticleStatus
from storage.sqlite.articles import ArticleRepository

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
    """What publishing needs from the channel (aiogram side: bot/telegram/channel.py)."""

    chat_id: str

    async def prepare(self, article: Article) -> Any:
        """Everything that can fail before anything is sent (rendering, links)."""

    async def send_prepared(self, prepared: Any) -> int:
        """Send; raises ChannelRefused or ChannelUncertain."""

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
        # Articles this process is publishing right now; anything else left "publishing"
        # was interrupted and may be settled by an editor.
        self._in_flight: set[int] = set()

    def link_for(self, article: Article) -> str | None:
        if article.channel_message_id is None:
            return None
        return self._channel.post_link(article.channel_message_id)

    async def publish(
        self, article_id: int, *, force: bool = False, due_by: datetime | None = None
    ) -> PublishResult:
        """Post the article to the channel once.

        ``force`` publishes an "uncertain" article anyway (the editor has checked the
        channel and found the post missing), or one stuck in "publishing" that no task of
        this process is publishing.  ``due_by`` is the scheduler's claim: only an article
        still scheduled for no later than that moment.
        """
        if due_by is not None:
            claimed = await self._articles.claim_scheduled(article_id, due_by)
        elif force:
            stuck = () if article_id in self._in_flight else (ArticleStatus.PUBLISHING,)
            claimed = await self._articles.begin_publishing(
                article_id, from_statuses=(ArticleStatus.UNCERTAIN, *stuck)
            )
        else:
            claimed = await self._articles.begin_publishing(article_id)
        if claimed is None:
            return await self._why_not(article_id)
        self._in_flight.add(article_id)
        try:
            return await self._send(claimed)
        finally:
            self._in_flight.discard(article_id)

    async def _send(self, claimed: Article) -> PublishResult:
        article_id = claimed.id
        sending = False  # until the request is on its way, a failure means "not posted"
        try:
            prepared = await self._channel.prepare(claimed)
            sending = True
            message_id = await self._channel.send_prepared(prepared)
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
        except BaseException as exc:
            if not sending:
                # Nothing was sent: back to an editable, publishable state.
                await asyncio.shield(
                    self._articles.mark_failed(article_id, f"{type(exc).__name__}: {exc}"[:300])
                )
                raise
            # Cancelled or crashed mid-send: we cannot know whether the post went out.
            await asyncio.shield(self._articles.mark_uncertain(article_id, "interrupted"))
            raise
        try:
            published = await self._articles.mark_published(
                article_id, self._channel_chat(claimed), message_id
            )
        except BaseException:
            # The post is out but could not be recorded: leave a trail for the editors.
            logger.exception(
                "Article %s posted as message %s but not recorded", article_id, message_id
            )
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._articles.mark_uncertain(
                        article_id, f"posted as message {message_id}, not recorded"
                    )
                )
            raise
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
        stuck = current.status is ArticleStatus.PUBLISHING and article_id not in self._in_flight
        if current.status is not ArticleStatus.UNCERTAIN and not stuck:
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
            if article_id in self._in_flight:
                return PublishResult(Outcome.IN_PROGRESS, article)
            # Left "publishing" by a step that failed after the send: the editor decides.
            return PublishResult(Outcome.UNCERTAIN, article, reason=article.failure_reason)
        if article.status is ArticleStatus.UNCERTAIN:
            return PublishResult(Outcome.UNCERTAIN, article, reason=article.failure_reason)
        return PublishResult(Outcome.NOT_PUBLISHABLE, article)
