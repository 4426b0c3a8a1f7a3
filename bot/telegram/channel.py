"""The channel, as aiogram sees it: rendering a post, sending it, checking our rights.

This is the adapter behind the publisher's ``ChannelPort``: it turns aiogram's
errors into "certainly not posted" (``ChannelRefused``) or "maybe posted"
(``ChannelUncertain``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.types import (
    Chat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.formatting import Text
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.articles.formatting import channel_post
from bot.articles.publishing import ChannelRefused, ChannelUncertain
from bot.articles.withdrawal import PostTooOld
from bot.failures import REQUEST_ERRORS, Failure, FailureKind, failure_of, refused
from bot.models import Article, Headline
from bot.polls.callbacks import vote_rows
from bot.polls.rules import results_text
from bot.repositories import PollStore
from bot.telegram.limits import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.telegram.links import (
    article_payload,
    channel_post_link,
    chat_ref,
    message_id_from_link,
)
from bot.telegram.pacing.priorities import Priority, send_priority
from bot.texts import Texts

logger = logging.getLogger(__name__)


class SlotWaiter(Protocol):
    async def wait_turn(self, chat_id: int | str) -> None: ...


class SharedLocks(Protocol):
    """A lock per key across every instance (the Redis post locks, ``RedisPostLocks``)."""

    def hold(self, key: str) -> contextlib.AbstractAsyncContextManager[None]: ...


def is_not_modified(exc: TelegramBadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing: the post already shows it."""
    return "message is not modified" in exc.message


@dataclass(frozen=True, slots=True)
class RenderedPost:
    html: str
    photo: str | None
    markup: InlineKeyboardMarkup


class Channel:
    """The channel: rendering an article's post (with its poll's buttons, or a closed
    poll's results), sending and editing it, and checking the bot's rights there."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int | str,
        texts: Texts,
        polls: PollStore,
        pacer: SlotWaiter | None = None,
        shared_locks: SharedLocks | None = None,
    ) -> None:
        self.bot = bot
        self.chat_ref = chat_ref(chat_id)
        self.chat_id = str(chat_id)
        self.texts = texts
        self._polls = polls
        self._pacer = pacer
        self._shared_locks = shared_locks
        # A lock per post being edited, with how many hold or wait for it (then dropped).
        self._message_locks: dict[int, tuple[asyncio.Lock, int]] = {}
        # A public channel's @username, learnt at start-up: "Copy link" gives t.me/name/1
        # even when the channel is configured by its numeric id.
        self.username: str | None = None

    def chat_for(self, stored: str | None) -> int | str:
        """The chat a post was published in (the setting may have changed since)."""
        return chat_ref(stored) if stored else self.chat_ref

    @property
    def posts_being_edited(self) -> int:
        """Posts whose edit lock is held or awaited (the others' locks are dropped)."""
        return len(self._message_locks)

    @contextlib.asynccontextmanager
    async def message_lock(self, message_id: int) -> AsyncIterator[None]:
        """One edit of a channel post at a time (article edits, live counts, closing a
        poll), so a slow edit can never land after a newer one and undo it: in this
        process an ``asyncio.Lock`` (first come, first served), and across instances the
        shared lock when there is one (several instances share Redis)."""
        lock, users = self._message_locks.get(message_id, (asyncio.Lock(), 0))
        self._message_locks[message_id] = (lock, users + 1)
        try:
            async with lock:
                if self._shared_locks is None:
                    yield
                else:
                    async with self._shared_locks.hold(f"{self.chat_id.lower()}:{message_id}"):
                        yield
        finally:
            lock, users = self._message_locks[message_id]
            if users == 1:
                del self._message_locks[message_id]
            else:
                self._message_locks[message_id] = (lock, users - 1)

    def post_link(self, message_id: int, chat: str | None = None) -> str:
        return channel_post_link(self.chat_for(chat), message_id)

    def link_to(self, item: Headline) -> str | None:
        """The link to a headline's channel post, if it has one."""
        if item.channel_message_id is None:
            return None
        return self.post_link(item.channel_message_id, item.channel_chat_id)

    async def post_digest(self, html: str) -> tuple[str, int]:
        """Post a text (the evening digest) to the channel; returns (chat, message id)."""
        with send_priority(Priority.BACKGROUND):
            message = await self.bot.send_message(
                self.chat_ref, html, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        return self.chat_id, message.message_id

    def is_this_channel(self, chat: Chat) -> bool:
        """Is ``chat`` (of a message a reader pressed a button under) our channel?"""
        if chat.type != ChatType.CHANNEL:
            return False
        if isinstance(self.chat_ref, int):
            return chat.id == self.chat_ref
        return chat.username is not None and f"@{chat.username}".lower() == self.chat_id.lower()

    def message_id_from_link(self, link: str) -> int | None:
        """The id of the post a link points to, if it is a post in this channel."""
        aliases = [self.chat_ref] + ([f"@{self.username}"] if self.username else [])
        return message_id_from_link(link, *aliases)

    async def render(self, article: Article, *, preview: bool = False) -> RenderedPost:
        """The post exactly as the channel shows it; the editor's preview uses it too."""
        photo = article.photo_file_id
        limit = CAPTION_LIMIT if photo is not None else MESSAGE_LIMIT
        poll = await self._polls.for_article(article.id)
        appendix = results_text(poll, self.texts) if poll is not None and poll.is_closed else None
        if appendix is not None and len(appendix) + 2 > limit // 2:
            appendix = None  # results that would crowd out the article itself are left off
        reserve = len(appendix) + 2 if appendix is not None else 0
        text = channel_post(
            article.content, with_photo=photo is not None, texts=self.texts, reserve=reserve
        )
        if appendix is not None and len(text) + reserve <= limit:
            text = Text(text, "\n\n", appendix)
        builder = InlineKeyboardBuilder()
        if poll is not None:
            for row in vote_rows(poll, self.texts, preview=preview):
                builder.row(*row)
        link = await create_start_link(self.bot, article_payload(article.id))
        builder.row(InlineKeyboardButton(text=self.texts.read_more_button, url=link))
        return RenderedPost(html=text.as_html(), photo=photo, markup=builder.as_markup())

    async def wait_turn(self) -> None:
        if self._pacer is not None:
            await self._pacer.wait_turn(self.chat_ref)

    async def send_rendered(self, chat_id: int | str, post: RenderedPost) -> int:
        if post.photo is not None:
            message = await self.bot.send_photo(
                chat_id, photo=post.photo, caption=post.html, reply_markup=post.markup
            )
        else:
            message = await self.bot.send_message(
                chat_id,
                text=post.html,
                reply_markup=post.markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return message.message_id

    async def edit_post(self, article: Article) -> None:
        """Bring a published post in line with the article (text, photo caption, buttons).

        "message is not modified" means it already is: not an error.
        """
        assert article.channel_message_id is not None
        post = await self.render(article)
        await self._edit(
            self.chat_for(article.channel_chat_id),
            article.channel_message_id,
            post.html,
            caption=post.photo is not None,
            markup=post.markup,
        )

    async def _edit(
        self,
        chat: int | str,
        message_id: int,
        html: str,
        *,
        caption: bool,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        """Edit a post's caption (a photo post) or text; "not modified" is no error.
        Without ``markup`` the post loses its buttons."""
        try:
            if caption:
                await self.bot.edit_message_caption(
                    chat_id=chat, message_id=message_id, caption=html, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(
                    text=html,
                    chat_id=chat,
                    message_id=message_id,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except TelegramBadRequest as exc:
            if not is_not_modified(exc):
                raise

    async def delete_post(self, article: Article) -> None:
        """Delete a withdrawn article's post; one already gone counts as deleted."""
        assert article.channel_message_id is not None
        try:
            await self.bot.delete_message(
                self.chat_for(article.channel_chat_id), article.channel_message_id
            )
        except TelegramBadRequest as exc:
            if "message to delete not found" in exc.message:
                return
            if "can't be deleted" in exc.message:
                raise PostTooOld(exc.message) from exc
            raise

    async def stub_post(self, article: Article) -> None:
        """A post too old to delete says it was withdrawn, without its buttons."""
        assert article.channel_message_id is not None
        stub = Text(self.texts.withdrawn_stub).as_html()
        await self._edit(
            self.chat_for(article.channel_chat_id),
            article.channel_message_id,
            stub,
            caption=article.photo_file_id is not None,
        )

    async def prepare(self, article: Article) -> RenderedPost:
        """Render the post before anything is sent: its failures are "not posted"."""
        try:
            return await self.render(article)
        except TelegramAPIError as exc:
            raise ChannelRefused(Failure.quoting(FailureKind.PREPARE, exc.message)) from exc

    async def send_prepared(self, prepared: RenderedPost) -> int:
        try:
            return await self.send_rendered(self.chat_ref, prepared)
        except REQUEST_ERRORS as exc:
            # Refused (no rights, a bad request, flood control): certainly not posted.
            # Anything else (a server error, a lost connection): it may be in the channel.
            failure = failure_of(exc)
            if refused(exc):
                raise ChannelRefused(failure) from exc
            raise ChannelUncertain(failure) from exc

    async def check_can_post(self) -> Failure | None:
        """None when the bot can post in the channel, else what is wrong."""
        try:
            me = await self.bot.me()
            member = await self.bot.get_chat_member(self.chat_ref, me.id)
            chat = await self.bot.get_chat(self.chat_ref)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            return failure_of(exc)
        except (TelegramServerError, TelegramNetworkError) as exc:
            logger.warning("Could not check channel rights: %s", exc.message)
            return None
        if chat.username:
            self.username = chat.username
        if isinstance(member, ChatMemberOwner):
            return None
        if isinstance(member, ChatMemberAdministrator) and member.can_post_messages is not False:
            return None
        status = member.status
        return Failure(FailureKind.NOT_ADMIN, status.value if isinstance(status, Enum) else status)
