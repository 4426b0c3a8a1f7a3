"""Reader polls, the use cases: posting, attaching to a draft, voting, live counts, closing.

The post under a poll shows the committed counts: the live-count ``Refresher``
coalesces the edits, and the database remembers which counts the post shows
(``rendered_version``), so refreshes left pending at a crash are done after the restart,
and none is sent when nothing changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
)
from aiogram.types import Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message
from aiogram.utils.formatting import Text

from bot.desk.history import NO_HISTORY, ActionLog
from bot.errors import MessageTaken
from bot.failures import REQUEST_ERRORS, Failure, FailureKind, failure_of, refused
from bot.models import Article, ArticleStatus, ChannelPost, Poll, PollStatus, VoteOutcome
from bot.outcomes import Result
from bot.polls.callbacks import vote_rows
from bot.polls.refresher import Refresher, RefreshGate
from bot.polls.rules import (
    parse_poll_spec,
    question_text,
    results_text,
    spec_for_draft,
    vote_toast,
)
from bot.repositories import ArticleStore, PollStore
from bot.telegram.channel import RenderedPost, is_not_modified
from bot.telegram.pacing.priorities import Priority, send_priority
from bot.texts import Texts

logger = logging.getLogger(__name__)


class PollOutcome(StrEnum):
    POSTED = "posted"
    ATTACHED = "attached"
    FAILED = "failed"  # certainly not in the channel
    UNCERTAIN = "uncertain"  # the send's outcome is unknown: the editor checks the channel
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"  # the article's post is (or may be) in the channel already
    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    POLL_NOT_FOUND = "poll_not_found"


@dataclass(frozen=True, slots=True)
class PollResult(Result[PollOutcome]):
    poll: Poll | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """Where a reader pressed a poll button: the chat and message Telegram reports, and
    whether that message (when Telegram shows it) carries the pressed button."""

    chat: Chat
    message_id: int
    carries_button: bool


class PollChannel(Protocol):
    """What polls need from the channel: where it is, its links, its posts' locks, and
    an article's post as the channel shows it."""

    chat_id: str
    chat_ref: int | str

    def chat_for(self, stored: str | None) -> int | str: ...

    def post_link(self, message_id: int, chat: str | None = None) -> str: ...

    def is_this_channel(self, chat: Chat) -> bool: ...

    def message_lock(self, message_id: int) -> AbstractAsyncContextManager[None]: ...

    async def render(self, article: Article, *, preview: bool = False) -> RenderedPost: ...

    async def edit_post(self, article: Article) -> None: ...


class PollMessages(Protocol):
    """The Bot API calls polls make themselves: the standalone poll's post, and the edits
    of a post's text and buttons (aiogram's ``Bot`` is one)."""

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = ...,
        link_preview_options: LinkPreviewOptions | None = ...,
    ) -> Message: ...

    async def edit_message_text(
        self,
        text: str,
        *,
        chat_id: int | str | None = ...,
        message_id: int | None = ...,
        reply_markup: InlineKeyboardMarkup | None = ...,
        link_preview_options: LinkPreviewOptions | None = ...,
    ) -> Message | bool: ...

    async def edit_message_reply_markup(
        self,
        *,
        chat_id: int | str | None = ...,
        message_id: int | None = ...,
        reply_markup: InlineKeyboardMarkup | None = ...,
    ) -> Message | bool: ...


class PollBoard:
    """Everything editors and readers do with polls."""

    def __init__(
        self,
        bot: PollMessages,
        polls: PollStore,
        articles: ArticleStore,
        channel: PollChannel,
        texts: Texts,
        refresh_interval: float,
        budget_wait: Callable[[], float] | None = None,
        *,
        history: ActionLog = NO_HISTORY,
        refresh_gate: RefreshGate | None = None,
        counted: Callable[[VoteOutcome], None] | None = None,
    ) -> None:
        self.history = history
        self._counted = counted  # each press's outcome, for the metrics
        self.bot = bot
        self.polls = polls
        self.articles = articles
        self.channel = channel
        self.texts = texts
        # Live counts stretch their interval while the channel's send budget is short.
        # With several instances the gate (in Redis) lets one edit per interval through
        # in total, whichever instance received the votes.
        self.refresher = Refresher(
            self.render, refresh_interval, backlog=budget_wait, gate=refresh_gate
        )

    # --- editors ---------------------------------------------------------------------

    async def post_standalone(self, text: str | None, editor_id: int) -> PollResult:
        """``/poll``: validate (InputError), store, post to the channel now."""
        spec = parse_poll_spec(text)
        poll = await self.polls.create_standalone(spec, editor_id)
        try:
            message = await self.bot.send_message(
                self.channel.chat_ref,
                question_text(poll).as_html(),
                reply_markup=InlineKeyboardMarkup(inline_keyboard=vote_rows(poll, self.texts)),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except REQUEST_ERRORS as exc:
            if refused(exc):
                await self.polls.mark_failed(poll.id)
                return await self._record(
                    "poll", PollResult(PollOutcome.FAILED, poll=poll, reason=failure_of(exc))
                )
            # It may be in the channel: its buttons work if it is (the first press
            # records where), and the editor is asked to look.
            return await self._uncertain(poll, failure_of(exc))
        try:
            posted = await self.polls.mark_posted(
                poll.id, ChannelPost(self.channel.chat_id, message.message_id)
            )
        except MessageTaken:
            # A new message on record for another (an editor named a post that did not
            # exist yet): its post cannot be this poll's, the editor is asked to look.
            logger.error("Poll %s: its post %s is another's", poll.id, message.message_id)
            link = self.channel.post_link(message.message_id)
            return await self._uncertain(poll, Failure(FailureKind.NOT_RECORDED, link))
        return await self._record(
            "poll",
            PollResult(
                PollOutcome.POSTED,
                poll=posted or poll,
                link=self.channel.post_link(message.message_id),
            ),
        )

    async def _uncertain(self, poll: Poll, reason: Failure) -> PollResult:
        """A standalone poll whose post is not known to be its own: the editor looks."""
        await self.polls.mark_uncertain(poll.id)
        return await self._record(
            "poll", PollResult(PollOutcome.UNCERTAIN, poll=poll, reason=reason)
        )

    async def _record(self, action: str, result: PollResult) -> PollResult:
        if result.poll is not None:
            await self.history.record(
                action,
                poll_id=result.poll.id,
                article_id=result.poll.article_id,
                detail=result.outcome,
            )
        return result

    async def attach_to_draft(self, article_id: int, text: str, editor_id: int) -> PollResult:
        """``/addpoll``: a poll whose buttons go under the article's post (InputError for
        bad options).  The article's state is checked by the statement that stores it."""
        article = await self.articles.get(article_id)
        if article is None:
            return PollResult(PollOutcome.NOT_FOUND)
        spec = spec_for_draft(text, article.content)
        poll = await self.polls.attach(spec, editor_id, article_id)
        if poll is None:
            current = await self.articles.get(article_id)
            if current is None:
                return PollResult(PollOutcome.NOT_FOUND)
            return PollResult(PollOutcome.NOT_ALLOWED, article=current)
        return await self._record(
            "addpoll", PollResult(PollOutcome.ATTACHED, poll=poll, article=article)
        )

    async def close(self, poll_id: int) -> PollResult:
        """Freeze the poll and show its final results in the channel."""
        closed, poll = await self.polls.close(poll_id)
        if poll is None:
            return PollResult(PollOutcome.POLL_NOT_FOUND)
        if not closed:
            return PollResult(PollOutcome.ALREADY_CLOSED, poll=poll)
        try:
            await self.render(poll_id)
        except TelegramAPIError as exc:
            # Closed in the database; the post catches up at the next refresh.
            logger.warning("Poll %s closed, post not yet updated: %s", poll_id, exc)
            self.refresher.mark_dirty(poll_id)
        link = (
            self.channel.post_link(poll.channel_message_id, poll.channel_chat_id)
            if poll.channel_message_id is not None
            else None
        )
        return await self._record(
            "closepoll", PollResult(PollOutcome.CLOSED, poll=poll, link=link)
        )

    async def results(self, poll_id: int) -> Poll | None:
        return await self.polls.get(poll_id)

    async def for_article(self, article_id: int) -> Poll | None:
        return await self.polls.for_article(article_id)

    async def article_published(self, article: Article) -> None:
        """The article's post now carries the poll: it is open and refreshable."""
        poll = await self.polls.for_article(article.id)
        if poll is not None and article.channel_message_id is not None:
            chat = article.channel_chat_id or self.channel.chat_id
            await self.polls.mark_posted(poll.id, ChannelPost(chat, article.channel_message_id))
            # Votes may have come in between the send and now: show them.
            self.refresher.mark_dirty(poll.id)

    # --- readers ---------------------------------------------------------------------

    async def vote(
        self,
        poll_id: int,
        reader_id: int,
        option: int,
        press: Press | None,
        *,
        texts: Texts | None = None,
    ) -> str:
        """Record the press (committed before this returns); returns the toast to show.

        Counted only under the poll's own post in the channel: callback data is the
        client's to choose, the message it came from is Telegram's.  A press under a
        poll whose send had an unknown outcome proves where the post is, when the
        message really carries this poll's button.
        """
        t = texts or self.texts  # the reader's language; the post keeps the channel's
        if press is None or not self.channel.is_this_channel(press.chat):
            self._count(VoteOutcome.NOT_HERE)
            return t.vote_unknown
        result = await self.polls.vote(poll_id, reader_id, option, press.message_id)
        if (
            result.outcome is VoteOutcome.NOT_HERE
            and result.poll is not None
            and result.poll.status is PollStatus.UNCERTAIN
            and press.carries_button
        ):
            try:
                post = ChannelPost(self.channel.chat_id, press.message_id)
                await self.polls.mark_posted(poll_id, post)
            except MessageTaken:
                return t.vote_unknown  # that post is another article's or poll's
            result = await self.polls.vote(poll_id, reader_id, option, press.message_id)
        self._count(result.outcome)
        if result.outcome in (VoteOutcome.UNKNOWN, VoteOutcome.NOT_HERE) or result.poll is None:
            return t.vote_unknown
        if result.outcome is VoteOutcome.CLOSED:
            return t.vote_poll_closed
        assert result.position is not None
        if result.outcome is VoteOutcome.RECORDED:
            self.refresher.mark_dirty(poll_id)
        return vote_toast(
            result.poll,
            result.position,
            changed=result.outcome is VoteOutcome.RECORDED,
            texts=t,
        )

    def _count(self, outcome: VoteOutcome) -> None:
        if self._counted is not None:
            self._counted(outcome)

    # --- the channel post --------------------------------------------------------------

    async def render(self, poll_id: int) -> None:
        """Bring the channel post up to the committed counts, if it lags behind.

        One edit per poll at a time: a slow live-count edit must not land after the
        closing edit and put the voting buttons back.
        """
        poll = await self.polls.get(poll_id)
        if poll is None or poll.channel_message_id is None:
            return
        async with self.channel.message_lock(poll.channel_message_id):
            # Below a publish and a person's action in the send budget.
            with send_priority(Priority.LIVE):
                await self._render_locked(poll_id)

    async def _render_locked(self, poll_id: int) -> None:
        poll = await self.polls.get(poll_id)
        if poll is None or poll.channel_message_id is None:
            return
        if poll.rendered_version >= poll.counts_version:
            return
        version = poll.counts_version
        try:
            await self._edit(poll)
        except TelegramBadRequest as exc:
            if not is_not_modified(exc):
                logger.warning(
                    "Poll %s: the channel post cannot be edited: %s", poll_id, exc.message
                )
        await self.polls.mark_rendered(poll_id, version)

    async def _edit(self, poll: Poll) -> None:
        assert poll.channel_message_id is not None
        chat = self.channel.chat_for(poll.channel_chat_id)
        if poll.article_id is None:
            if poll.is_closed:
                text = Text(question_text(poll), "\n\n", results_text(poll, self.texts))
                await self.bot.edit_message_text(
                    text=text.as_html(),
                    chat_id=chat,
                    message_id=poll.channel_message_id,
                    reply_markup=None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                return
            await self.bot.edit_message_reply_markup(
                chat_id=chat,
                message_id=poll.channel_message_id,
                reply_markup=InlineKeyboardMarkup(inline_keyboard=vote_rows(poll, self.texts)),
            )
            return
        article = await self.articles.get(poll.article_id)
        if article is None or article.status is ArticleStatus.WITHDRAWN:
            return  # deleted, or a stub that must not get the article back
        if not poll.is_closed:
            markup = (await self.channel.render(article)).markup
            await self.bot.edit_message_reply_markup(
                chat_id=chat, message_id=poll.channel_message_id, reply_markup=markup
            )
            return
        await self.channel.edit_post(article)

    async def resume(self) -> None:
        """After a restart: refresh every post that lags behind its committed counts."""
        for poll_id in await self.polls.stale():
            self.refresher.mark_dirty(poll_id)
