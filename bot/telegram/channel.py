"""The channel, as aiogram sees it: rendering a post, sending it, checking our rights.

This is the adapter behind ``bot.articles.publishing.ChannelPort``: it turns aiogram's errors into
"certainly not posted" (``ChannelRefused``) or "maybe posted" (``ChannelUncertain``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.formatting import Text
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.articles.formatting import CAPTION_LIMIT, MESSAGE_LIMIT, channel_post
from bot.articles.publishing import ChannelRefused, ChannelUncertain
from bot.models import Article
from bot.texts import Texts

logger = logging.getLogger(__name__)

ARTICLE_PAYLOAD_PREFIX = "a"

# Extra keyboard rows under a post (a reader poll's buttons), supplied by the poll service.
ExtraRows = Callable[[Article, bool], Awaitable[list[list[InlineKeyboardButton]]]]
# A block appended to the post's text (a closed poll's results).
Appendix = Callable[[Article], Awaitable[Text | None]]


def article_payload(article_id: int) -> str:
    return f"{ARTICLE_PAYLOAD_PREFIX}{article_id}"


def channel_post_link(chat_id: int | str, message_id: int) -> str:
    """Public link to a channel message (``t.me/name/1`` or ``t.me/c/123/1``)."""
    chat = str(chat_id)
    if chat.startswith("@"):
        return f"https://t.me/{chat[1:]}/{message_id}"
    return f"https://t.me/c/{chat.removeprefix('-100')}/{message_id}"


@dataclass(frozen=True, slots=True)
class RenderedPost:
    html: str
    photo: str | None
    markup: InlineKeyboardMarkup


class Channel:
    def __init__(self, bot: Bot, chat_id: int | str, texts: Texts) -> None:
        self.bot = bot
        self.chat_ref = chat_id
        self.chat_id = str(chat_id)
        self.texts = texts
        self.extra_rows: ExtraRows | None = None
        self._message_locks: dict[int, asyncio.Lock] = {}
        self.appendix: Appendix | None = None

    def chat_for(self, stored: str | None) -> int | str:
        """The chat a post was published in (the setting may have changed since)."""
        if not stored:
            return self.chat_ref
        return int(stored) if stored.lstrip("-").isdigit() else stored

    def message_lock(self, message_id: int) -> asyncio.Lock:
        """One edit of a channel post at a time (article edits, live counts, closing a
        poll), so a slow edit can never land after a newer one and undo it."""
        return self._message_locks.setdefault(message_id, asyncio.Lock())

    def post_link(self, message_id: int) -> str:
        return channel_post_link(self.chat_ref, message_id)

    async def render(self, article: Article, *, preview: bool = False) -> RenderedPost:
        """The post exactly as the channel shows it; the editor's preview uses it too."""
        photo = article.photo_file_id
        limit = CAPTION_LIMIT if photo is not None else MESSAGE_LIMIT
        appendix = await self.appendix(article) if self.appendix is not None else None
        if appendix is not None and len(appendix) + 2 > limit // 2:
            appendix = None  # results that would crowd out the article itself are left off
        reserve = len(appendix) + 2 if appendix is not None else 0
        text = channel_post(
            article.content, with_photo=photo is not None, texts=self.texts, reserve=reserve
        )
        if appendix is not None and len(text) + reserve <= limit:
            text = Text(text, "\n\n", appendix)
        builder = InlineKeyboardBuilder()
        if self.extra_rows is not None:
            for row in await self.extra_rows(article, preview):
                builder.row(*row)
        link = await create_start_link(self.bot, article_payload(article.id))
        builder.row(InlineKeyboardButton(text=self.texts.read_more_button, url=link))
        return RenderedPost(html=text.as_html(), photo=photo, markup=builder.as_markup())

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
        try:
            if post.photo is not None:
                await self.bot.edit_message_caption(
                    chat_id=self.chat_for(article.channel_chat_id),
                    message_id=article.channel_message_id,
                    caption=post.html,
                    reply_markup=post.markup,
                )
            else:
                await self.bot.edit_message_text(
                    text=post.html,
                    chat_id=self.chat_for(article.channel_chat_id),
                    message_id=article.channel_message_id,
                    reply_markup=post.markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                raise

    async def prepare(self, article: Article) -> RenderedPost:
        """Render the post before anything is sent: its failures are "not posted"."""
        try:
            return await self.render(article)
        except TelegramAPIError as exc:
            raise ChannelRefused(f"could not prepare the post: {exc.message}") from exc

    async def send_prepared(self, prepared: RenderedPost) -> int:
        try:
            return await self.send_rendered(self.chat_ref, prepared)
        except TelegramForbiddenError as exc:
            raise ChannelRefused(exc.message, no_rights=True) from exc
        except TelegramBadRequest as exc:
            no_rights = any(
                phrase in exc.message
                for phrase in ("not enough rights", "need administrator rights", "chat not found")
            )
            raise ChannelRefused(exc.message, no_rights=no_rights) from exc
        except TelegramRetryAfter as exc:
            raise ChannelRefused(f"flood control: retry after {exc.retry_after} s") from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise ChannelUncertain(exc.message) from exc

    async def check_can_post(self) -> str | None:
        """None when the bot can post in the channel, else what is wrong, in plain words."""
        try:
            me = await self.bot.me()
            member = await self.bot.get_chat_member(self.chat_ref, me.id)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            return exc.message
        except (TelegramServerError, TelegramNetworkError) as exc:
            logger.warning("Could not check channel rights: %s", exc.message)
            return None
        if isinstance(member, ChatMemberOwner):
            return None
        if isinstance(member, ChatMemberAdministrator) and member.can_post_messages is not False:
            return None
        return f"status is {member.status!r}, not an administrator who can post messages"
