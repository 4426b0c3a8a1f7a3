"""Reader polls, the Telegram side: buttons, votes, coalesced live counts, closing.

Telegram allows about 20 edits a minute in a channel, so the post is not edited per
vote.  ``Refresher`` keeps at most one pending refresh per poll, fired no sooner than
``interval`` after the previous edit of that poll; it reads the counts committed at
that moment, so the latest counts reach the post within one interval of the last vote.
The database remembers which counts the post shows (``rendered_version``), so refreshes
left pending at a crash are done after the restart, and none is sent when nothing
changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from aiogram.utils.formatting import Text
from pydantic import Field

from bot.models import Article, Poll, PollStatus, VoteOutcome
from bot.polls.rules import PollSpec, option_button_label, question_text, results_text, vote_toast
from bot.telegram.channel import Channel
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository
from storage.sqlite.polls import PollRepository

logger = logging.getLogger(__name__)


class Vote(CallbackData, prefix="v"):
    """A reader's press: ``v:<poll>:<option>``, far below the 64-byte limit."""

    poll: int = Field(ge=0, lt=2**31)
    option: int = Field(ge=0, lt=100)


class PreviewVote(CallbackData, prefix="pv"):
    """A press on a poll button in an editor's preview: answered, never counted."""

    poll: int = Field(ge=0, lt=2**31)
    option: int = Field(ge=0, lt=100)


def _not_modified(exc: TelegramBadRequest) -> bool:
    return "message is not modified" in exc.message


class Refresher:
    def __init__(
        self,
        render: Callable[[int], Awaitable[None]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._render = render
        self.interval = interval
        self._clock = clock
        self._last: dict[int, float] = {}
        self._pending: dict[int, asyncio.Task[None]] = {}
        # Refreshes already past their wait and talking to Telegram: flush() awaits them,
        # so none of them outlives the bot's HTTP session or the database.
        self._running: set[asyncio.Task[None]] = set()

    def mark_dirty(self, poll_id: int) -> None:
        if poll_id in self._pending:
            return  # the pending refresh will read the newest counts when it fires
        last = self._last.get(poll_id)
        delay = 0.0 if last is None else max(0.0, last + self.interval - self._clock())
        self._pending[poll_id] = asyncio.create_task(self._fire(poll_id, delay))

    async def _fire(self, poll_id: int, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
        finally:
            self._pending.pop(poll_id, None)
        self._last[poll_id] = self._clock()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            await self._render(poll_id)
        except (TelegramServerError, TelegramNetworkError, TelegramRetryAfter) as exc:
            # Telegram is having trouble: try again one interval later.
            logger.warning("Refreshing poll %s failed (%s); will retry", poll_id, exc)
            self.mark_dirty(poll_id)
        except Exception:
            logger.exception("Refreshing poll %s failed", poll_id)

    async def flush(self) -> None:
        """Do every pending refresh now (shutdown): no vote's count is left unshown."""
        pending = list(self._pending.items())
        for _, task in pending:
            task.cancel()
        for _, task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        for poll_id, _ in pending:
            try:
                await self._render(poll_id)
            except Exception:
                # Shutdown goes on; the counts are committed and shown after the restart.
                logger.exception("Flushing poll %s failed", poll_id)

    @property
    def pending(self) -> int:
        return len(self._pending)


class PollBoard:
    """Everything about polls that talks to Telegram."""

    def __init__(
        self,
        bot: Bot,
        polls: PollRepository,
        articles: ArticleRepository,
        channel: Channel,
        texts: Texts,
        refresh_interval: float,
    ) -> None:
        self.bot = bot
        self.polls = polls
        self.articles = articles
        self.channel = channel
        self.texts = texts
        self.refresher = Refresher(self.render, refresh_interval)
        self.edits = 0

    # --- buttons ---------------------------------------------------------------------

    def vote_rows(self, poll: Poll, *, preview: bool = False) -> list[list[InlineKeyboardButton]]:
        """One button per option; in an editor's preview they look the same but count
        nothing (``PreviewVote``)."""
        if poll.is_closed:
            return []
        factory: type[Vote] | type[PreviewVote] = PreviewVote if preview else Vote
        return [
            [
                InlineKeyboardButton(
                    text=option_button_label(poll, i, self.texts),
                    callback_data=factory(poll=poll.id, option=i).pack(),
                )
            ]
            for i in range(len(poll.options))
        ]

    async def rows_for_article(
        self, article: Article, preview: bool
    ) -> list[list[InlineKeyboardButton]]:
        """Given to ``Channel.extra_rows``: the poll's buttons above "Читать полностью"."""
        poll = await self.polls.for_article(article.id)
        if poll is None or poll.status is PollStatus.FAILED:
            return []
        return self.vote_rows(poll, preview=preview)

    async def article_published(self, article: Article) -> None:
        """The article's post now carries the poll: it is open and refreshable."""
        poll = await self.polls.for_article(article.id)
        if poll is not None and article.channel_message_id is not None:
            await self.polls.mark_posted(
                poll.id,
                article.channel_chat_id or self.channel.chat_id,
                article.channel_message_id,
            )
            # Votes may have come in between the send and now: show them.
            self.refresher.mark_dirty(poll.id)

    # --- standalone polls --------------------------------------------------------------

    async def post_standalone(self, spec: PollSpec, editor_id: int) -> tuple[Poll, str]:
        """Create and post a poll; raises TelegramAPIError (and marks it failed) if refused."""
        poll = await self.polls.create(spec.question, spec.options, editor_id, intro=spec.intro)
        try:
            message = await self.bot.send_message(
                self.channel.chat_ref,
                question_text(poll).as_html(),
                reply_markup=InlineKeyboardMarkup(inline_keyboard=self.vote_rows(poll)),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramAPIError:
            await self.polls.mark_failed(poll.id)
            raise
        posted = await self.polls.mark_posted(poll.id, self.channel.chat_id, message.message_id)
        assert posted is not None
        return posted, self.channel.post_link(message.message_id)

    # --- votes -------------------------------------------------------------------------

    async def vote(self, poll_id: int, reader_id: int, option: int) -> str:
        """Record the press (committed before this returns) and the toast to show."""
        result = await self.polls.vote(poll_id, reader_id, option)
        if result.outcome is VoteOutcome.UNKNOWN or result.poll is None:
            return self.texts.vote_unknown
        if result.outcome is VoteOutcome.CLOSED:
            return self.texts.vote_poll_closed
        assert result.position is not None
        if result.outcome is VoteOutcome.RECORDED:
            self.refresher.mark_dirty(poll_id)
        return vote_toast(
            result.poll,
            result.position,
            changed=result.outcome is VoteOutcome.RECORDED,
            texts=self.texts,
        )

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
            if not _not_modified(exc):
                logger.warning(
                    "Poll %s: the channel post cannot be edited: %s", poll_id, exc.message
                )
        self.edits += 1
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
                reply_markup=InlineKeyboardMarkup(inline_keyboard=self.vote_rows(poll)),
            )
            return
        article = await self.articles.get(poll.article_id)
        if article is None:
            return
        markup = (await self.channel.render(article)).markup
        if not poll.is_closed:
            await self.bot.edit_message_reply_markup(
                chat_id=chat, message_id=poll.channel_message_id, reply_markup=markup
            )
            return
        await self.channel.edit_post(article)

    async def appendix_for_article(self, article: Article) -> Text | None:
        """Given to ``Channel.appendix``: a closed poll's results under the post."""
        poll = await self.polls.for_article(article.id)
        if poll is None or not poll.is_closed:
            return None
        return results_text(poll, self.texts)

    async def close(self, poll_id: int) -> tuple[bool, Poll | None]:
        closed, poll = await self.polls.close(poll_id)
        if closed:
            try:
                await self.render(poll_id)
            except TelegramAPIError as exc:
                # Closed in the database; the post catches up at the next refresh.
                logger.warning("Poll %s closed, post not yet updated: %s", poll_id, exc)
                self.refresher.mark_dirty(poll_id)
        return closed, poll

    async def resume(self) -> None:
        """After a restart: refresh every post that lags behind its committed counts."""
        for poll_id in await self.polls.stale():
            self.refresher.mark_dirty(poll_id)
