"""Publishing: the persisted state machine around one channel send.

The state is written before the request ("publishing", claimed by one caller only, with
a new attempt number) and after the answer ("published" with the message id, or
"failed" with the reason), each step naming its attempt.  When the answer never comes,
the article becomes "uncertain" and an editor decides: nothing is ever re-sent behind
their back.  Every decision is one conditional statement in the database, so it holds
between editors, the scheduler and the restart check, in one process or in several.
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

from bot.articles.reports import report
from bot.desk.history import NO_HISTORY, ActionLog
from bot.errors import MessageTaken
from bot.failures import Failure, FailureKind, failure_of
from bot.models import Article, ArticleStatus, ChannelPost
from bot.outcomes import Result
from bot.repositories import ArticleStore
from bot.texts import Texts

logger = logging.getLogger(__name__)


class ChannelRefused(Exception):
    """The channel certainly did not get the post (no rights, bad request, flood)."""

    def __init__(self, reason: Failure) -> None:
        super().__init__(reason.stored)
        self.reason = reason

    @property
    def no_rights(self) -> bool:
        return self.reason.kind is FailureKind.NO_RIGHTS


class ChannelUncertain(Exception):
    """The send may or may not have reached the channel (timeout, 5xx, dropped link)."""

    def __init__(self, reason: Failure) -> None:
        super().__init__(reason.stored)
        self.reason = reason


class ChannelPort(Protocol):
    """What publishing needs from the channel (the aiogram side implements it)."""

    chat_id: str

    async def prepare(self, article: Article) -> Any:
        """Everything that can fail before anything is sent (rendering, links)."""

    async def wait_turn(self) -> None:
        """Wait for the channel's send budget; nothing is sent, so cancelling is safe."""

    async def send_prepared(self, prepared: Any) -> int:
        """Send; raises ChannelRefused or ChannelUncertain."""

    def post_link(self, message_id: int, chat: str | None = None) -> str: ...

    def message_id_from_link(self, link: str) -> int | None:
        """The post a link points to, if the link is into this channel."""


class Outcome(StrEnum):
    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already_published"
    IN_PROGRESS = "in_progress"
    UNCERTAIN = "uncertain"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    NOT_PUBLISHABLE = "not_publishable"
    BAD_LINK = "bad_link"
    NOT_POSTED = "not_posted"  # an editor settled an uncertain article: back to draft
    TAKEN = "taken"  # /markpublished named a post that is another article's or poll's


@dataclass(frozen=True, slots=True)
class PublishResult(Result[Outcome]):
    no_rights: bool = False
    # False when this call did not claim the article (someone else had it, or it is
    # not publishable): the outcome then describes the article as it is.
    claimed: bool = True
    # Outcome.TAKEN: whose the post is.
    owner: MessageTaken | None = None


class Publisher:
    def __init__(
        self,
        articles: ArticleStore,
        channel: ChannelPort,
        after_publish: Callable[[Article], Awaitable[None]] | None = None,
        *,
        history: ActionLog = NO_HISTORY,
        counted: Callable[[Outcome], None] | None = None,
    ) -> None:
        self._articles = articles
        self._channel = channel
        self._after_publish = after_publish
        self._history = history
        self._counted = counted  # each attempt's outcome, for the metrics

    async def _record(self, action: str, result: PublishResult, article_id: int) -> PublishResult:
        """A history line for an attempt this call made (refusals changed nothing)."""
        if result.claimed:
            if self._counted is not None:
                self._counted(result.outcome)
            await self._history.record(action, article_id=article_id, detail=result.outcome)
        return result

    def link_for(self, article: Article) -> str | None:
        """The post's link, in the chat the article was published in."""
        if article.channel_message_id is None:
            return None
        return self._channel.post_link(article.channel_message_id, article.channel_chat_id)

    async def latest(self, limit: int) -> list[Article]:
        """Recently published articles, newest first."""
        return await self._articles.latest_published(limit)

    async def publish(self, article_id: int) -> PublishResult:
        """Post a draft (or a failed or scheduled article) to the channel once."""
        claimed = await self._articles.claim(article_id)
        if claimed is None:
            return await self._why_not(article_id)
        result = await self._send(claimed, release_to=ArticleStatus.DRAFT)
        return await self._record("publish", result, article_id)

    async def publish_scheduled(self, article_id: int, due_by: datetime) -> PublishResult:
        """The scheduler's publish: only if still scheduled for no later than ``due_by``."""
        claimed = await self._articles.claim_scheduled(article_id, due_by)
        if claimed is None:
            return await self._why_not(article_id)
        result = await self._send(claimed, release_to=ArticleStatus.SCHEDULED)
        return await self._record("publish", result, article_id)

    async def force_publish(self, article_id: int) -> PublishResult:
        """Publish an "uncertain" article anyway: the editor checked the channel and found
        the post missing.  Two editors doing it at once: one claim wins."""
        claimed = await self._claim_uncertain(article_id)
        if claimed is None:
            return await self._why_not(article_id)
        result = await self._send(claimed, release_to=ArticleStatus.UNCERTAIN)
        return await self._record("forcepublish", result, article_id)

    async def _claim_uncertain(self, article_id: int) -> Article | None:
        """Claim an "uncertain" article at the attempt the editor saw (settling it), or
        None when it is not uncertain (any more)."""
        current = await self._articles.get(article_id)
        if current is None or current.status is not ArticleStatus.UNCERTAIN:
            return None
        return await self._articles.claim_uncertain(current.attempt)

    async def mark_published(self, article_id: int, link: str) -> PublishResult:
        """An editor found the "uncertain" post in the channel: record it as published.

        Only a link into the configured channel is taken.  Recorded only for the attempt
        the editor was looking at: a /forcepublish that started since has its own post,
        which this must not overwrite.
        """
        message_id = self._channel.message_id_from_link(link)
        if message_id is None:
            return PublishResult(Outcome.BAD_LINK, None, claimed=False)
        current = await self._articles.get(article_id)
        if current is None or current.status is not ArticleStatus.UNCERTAIN:
            return await self._why_not(article_id)
        post = ChannelPost(self._channel_chat(current), message_id)
        try:
            done = await self._articles.mark_published(
                current.attempt, post, from_statuses=(ArticleStatus.UNCERTAIN,)
            )
        except MessageTaken as taken:
            link = self._channel.post_link(message_id, post.chat_id)
            return PublishResult(Outcome.TAKEN, current, link, claimed=False, owner=taken)
        if done is None:
            return await self._why_not(article_id)
        await self._published(done)
        result = PublishResult(Outcome.PUBLISHED, done, self.link_for(done))
        return await self._record("markpublished", result, article_id)

    async def not_posted(self, article_id: int) -> PublishResult:
        """An editor checked the channel and found no post of an "uncertain" article: back
        to draft, for the attempt they were looking at (a claim and a release, each one
        conditional statement; a crash between them leaves it uncertain again)."""
        claimed = await self._claim_uncertain(article_id)
        if claimed is None:
            return await self._why_not(article_id)
        released = await self._articles.release(claimed.attempt, ArticleStatus.DRAFT)
        result = PublishResult(Outcome.NOT_POSTED, released or claimed)
        return await self._record("notposted", result, article_id)

    async def _send(self, claimed: Article, *, release_to: ArticleStatus) -> PublishResult:
        article_id, held = claimed.id, claimed.attempt
        sending = False  # until the request is on its way, a failure means "not posted"
        try:
            prepared = await self._channel.prepare(claimed)
            await self._channel.wait_turn()
            sending = True
            message_id = await self._channel.send_prepared(prepared)
        except ChannelRefused as exc:
            logger.warning("Article %s refused by the channel: %s", article_id, exc)
            failed = await self._articles.mark_failed(held, exc.reason.stored)
            return PublishResult(
                Outcome.FAILED, failed or claimed, reason=exc.reason, no_rights=exc.no_rights
            )
        except ChannelUncertain as exc:
            logger.error("Article %s: outcome of the channel send unknown: %s", article_id, exc)
            uncertain = await self._articles.mark_uncertain(held, exc.reason.stored)
            return PublishResult(Outcome.UNCERTAIN, uncertain or claimed, reason=exc.reason)
        except BaseException as exc:
            if not sending:
                # Nothing was sent (a shutdown while waiting for the send slot, a render
                # error): back where it was, as if the claim had never happened.
                await asyncio.shield(self._release(claimed, release_to, exc))
                raise
            # Cancelled or crashed mid-send: we cannot know whether the post went out.
            why = (
                Failure(FailureKind.RESTART)
                if isinstance(exc, asyncio.CancelledError)
                else failure_of(exc)
            )
            await asyncio.shield(self._articles.mark_uncertain(held, why.stored))
            raise
        try:
            # This attempt's own post: recorded even if a restart check of another
            # instance has meanwhile called the attempt "uncertain" (its number proves
            # which send this is; a /forcepublish would have moved to a new attempt).
            published = await self._articles.mark_published(
                held,
                ChannelPost(self._channel_chat(claimed), message_id),
                from_statuses=(ArticleStatus.PUBLISHING, ArticleStatus.UNCERTAIN),
            )
        except MessageTaken:
            # A message id Telegram just gave us is on record for another article or poll
            # (an editor named a post that did not exist yet): editors decide.
            return await self._not_recorded(claimed, message_id, claimed_now=True)
        except BaseException as exc:
            # The post is out but could not be recorded: leave a trail for the editors
            # (if the database takes even that; if not, the claim watch settles it).
            logger.exception(
                "Article %s posted as message %s but not recorded", article_id, message_id
            )
            link = self._channel.post_link(message_id, self._channel_chat(claimed))
            not_saved = Failure(FailureKind.NOT_SAVED, link)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._articles.mark_uncertain(held, not_saved.stored))
            if not isinstance(exc, Exception):
                raise
            # The truth for the editor: the post may well be in the channel.
            return PublishResult(Outcome.UNCERTAIN, claimed, link, reason=not_saved)
        if published is None:
            # A newer attempt (an editor's /forcepublish) or a withdrawal got there first:
            # this post is in the channel but not the one on record.  Editors decide.
            return await self._not_recorded(claimed, message_id, claimed_now=False)
        await self._published(published)
        return PublishResult(Outcome.PUBLISHED, published, self.link_for(published))

    async def _not_recorded(
        self, claimed: Article, message_id: int, *, claimed_now: bool
    ) -> PublishResult:
        """The attempt's post is in the channel but not the one on record: a newer attempt
        or a withdrawal got there first, or (``claimed_now``: the article is still this
        attempt's) its message is another's.  The latter becomes uncertain."""
        logger.error(
            "Article %s: attempt %s posted message %s, which is not recorded for it",
            claimed.id,
            claimed.publish_attempt,
            message_id,
        )
        link = self._channel.post_link(message_id, self._channel_chat(claimed))
        reason = Failure(FailureKind.NOT_RECORDED, link)
        if claimed_now:
            await self._articles.mark_uncertain(claimed.attempt, reason.stored)
        return PublishResult(Outcome.UNCERTAIN, claimed, link, reason=reason, claimed=claimed_now)

    async def _release(self, claimed: Article, to: ArticleStatus, exc: BaseException) -> None:
        if isinstance(exc, Exception):
            # A render failure: the editor sees why in /drafts.
            reason = failure_of(exc).stored
            await self._articles.mark_failed(claimed.attempt, reason)
            return
        await self._articles.release(claimed.attempt, to)

    async def _published(self, article: Article) -> None:
        if self._after_publish is not None:
            try:
                await self._after_publish(article)
            except Exception:
                # The post is out and recorded; a follow-up failing must not hide that.
                logger.exception("After-publish step failed for article %s", article.id)

    def _channel_chat(self, article: Article) -> str:
        return article.channel_chat_id or self._channel.chat_id

    async def _why_not(self, article_id: int) -> PublishResult:
        article = await self._articles.get(article_id)
        if article is None:
            return PublishResult(Outcome.NOT_FOUND, None, claimed=False)
        if article.status is ArticleStatus.PUBLISHED:
            return PublishResult(
                Outcome.ALREADY_PUBLISHED, article, self.link_for(article), claimed=False
            )
        if article.status is ArticleStatus.PUBLISHING:
            return PublishResult(Outcome.IN_PROGRESS, article, claimed=False)
        if article.status is ArticleStatus.UNCERTAIN:
            why = Failure.parse(article.failure_reason) if article.failure_reason else None
            return PublishResult(Outcome.UNCERTAIN, article, reason=why, claimed=False)
        return PublishResult(Outcome.NOT_PUBLISHABLE, article, claimed=False)


def describe_publish(result: PublishResult, article_id: int, channel: str, texts: Texts) -> str:
    """The editor's report of a publish attempt, in plain words (HTML)."""
    messages = {
        Outcome.PUBLISHED: texts.published,
        Outcome.ALREADY_PUBLISHED: texts.already_published,
        Outcome.IN_PROGRESS: texts.publish_in_progress,
        Outcome.UNCERTAIN: texts.publish_uncertain,
        Outcome.FAILED: texts.publish_no_rights if result.no_rights else texts.publish_failed,
        Outcome.NOT_FOUND: texts.not_found,
        Outcome.NOT_PUBLISHABLE: texts.publish_not_allowed,
        Outcome.BAD_LINK: texts.markpublished_usage,
        Outcome.NOT_POSTED: texts.not_posted_settled,
        Outcome.TAKEN: texts.markpublished_taken,
    }
    owner = ""
    if result.owner is not None:
        owner = (
            texts.owner_article.format(id=result.owner.article_id)
            if result.owner.article_id is not None
            else texts.owner_poll.format(id=result.owner.poll_id)
        )
    return report(
        messages[result.outcome], result, article_id, texts, channel=channel, owner=owner
    )
