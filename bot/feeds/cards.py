"""A feed's draft as a card for the desk: the post exactly as the channel will show it,
the source link, ``/publish <id>`` and two buttons; once the article is published or
rejected, every card of it is edited in place to say so (no editor acts on a stale one).

Cards go to every editor's private chat, or once to the desk group (``DESK_CHAT_ID``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, LinkPreviewOptions
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.articles.drafts import Drafts
from bot.models import Article, ArticleStatus
from bot.repositories import ArticleStore, FeedStore
from bot.telegram.pacing.priorities import Priority, send_priority
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class CardVerb(StrEnum):
    PUBLISH = "publish"
    REJECT = "reject"


class CardAction(CallbackData, prefix="card"):
    """A card's button: what to do with which article (forged data fails to unpack and
    is answered like any unknown button)."""

    verb: CardVerb
    article_id: int


def card_markup(article_id: int, texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.card_publish_button,
        callback_data=CardAction(verb=CardVerb.PUBLISH, article_id=article_id),
    )
    builder.button(
        text=texts.card_reject_button,
        callback_data=CardAction(verb=CardVerb.REJECT, article_id=article_id),
    )
    return builder.as_markup()


class Cards:
    def __init__(
        self,
        bot: Bot,
        store: FeedStore,
        articles: ArticleStore,
        drafts: Drafts,
        texts: Texts,
        *,
        editor_ids: Callable[[], Awaitable[frozenset[int]]],
        link_for: Callable[[Article], str | None],
        desk_chat_id: int | None = None,
    ) -> None:
        self._bot = bot
        self._store = store
        self._articles = articles
        self._drafts = drafts
        self._texts = texts
        self._editor_ids = editor_ids
        self._link_for = link_for
        self.desk_chat_id = desk_chat_id

    async def _chats(self) -> list[int]:
        if self.desk_chat_id is not None:
            return [self.desk_chat_id]
        return sorted(await self._editor_ids())

    async def send(
        self, article: Article, feed_id: int, *, link: str | None, from_item: bool
    ) -> int:
        """The card of a new draft to the desk; returns how many chats got it."""
        t = self._texts
        notice = t.feed_card.format(
            feed_id=feed_id, id=article.id, title=article.title, link=link or t.feeds_never
        )
        if from_item:
            notice = f"{notice}\n{t.feed_card_from_item}"
        sent = 0
        for chat_id in await self._chats():
            try:
                with send_priority(Priority.BACKGROUND):
                    html = await self._drafts.preview(chat_id, article, notice)
                    card = await self._bot.send_message(
                        chat_id,
                        html,
                        reply_markup=card_markup(article.id, t),
                        link_preview_options=NO_PREVIEW,
                    )
            except TelegramAPIError as exc:
                logger.info("Could not send the card of %s to %s: %s", article.id, chat_id, exc)
                continue
            await self._store.save_card(article.id, chat_id, card.message_id)
            sent += 1
        return sent

    async def attach_photo(self, article: Article, photo: bytes) -> Article:
        """Upload the page's photo once (to the desk, captioned with its credit) and keep
        its file id on the draft: the cards and the channel post reuse it."""
        chats = await self._chats()
        if not chats:
            return article
        caption = self._texts.feed_photo_caption.format(
            id=article.id, credit=article.content.photo_credit or ""
        ).strip()
        try:
            with send_priority(Priority.BACKGROUND):
                sent = await self._bot.send_photo(
                    chats[0],
                    BufferedInputFile(photo, filename=f"article-{article.id}.jpg"),
                    caption=escaped_html(caption),
                )
        except TelegramAPIError as exc:  # not an image Telegram takes: no photo, say so
            logger.info("Photo of %s not uploaded: %s", article.id, exc)
            return article
        if not sent.photo:
            return article
        file_id = max(sent.photo, key=lambda size: size.width * size.height).file_id
        return await self._articles.set_photo(article.id, file_id) or article

    async def settle(self, article: Article) -> None:
        """Every card of an article that was published or rejected says so now."""
        t = self._texts
        if article.status is ArticleStatus.PUBLISHED:
            text = escaped_html(
                t.card_published,
                id=article.id,
                title=article.title,
                link=self._link_for(article) or "",
            )
        elif article.status is ArticleStatus.REJECTED:
            text = escaped_html(t.card_rejected, id=article.id, title=article.title)
        else:
            return
        for chat_id, message_id in await self._store.cards(article.id):
            try:
                with send_priority(Priority.BACKGROUND):
                    await self._bot.edit_message_text(
                        text=text,
                        chat_id=chat_id,
                        message_id=message_id,
                        reply_markup=None,
                        link_preview_options=NO_PREVIEW,
                    )
            except TelegramAPIError as exc:  # "not modified", a deleted chat: nothing to do
                logger.info("Card %s/%s not edited: %s", chat_id, message_id, exc)
