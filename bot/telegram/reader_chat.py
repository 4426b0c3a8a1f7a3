"""A reader's private chat, as the reading service sends to it (``ReaderChat``).

Turns aiogram's answers to a rich send into what the service decides on: the server does
not know the method (``RichUnsupported``), or refused this message (``RichRefused``).
Anything else (a timeout, a 5xx) propagates: the outcome is unknown, and a full text is
never sent again in another form behind a send that may have arrived.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound
from aiogram.types import InlineKeyboardMarkup, InputRichMessage, LinkPreviewOptions

from bot.articles.reading import RichRefused, RichUnsupported

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def is_unknown_method(exc: TelegramBadRequest | TelegramNotFound) -> bool:
    """An old telegram-bot-api answers an unknown method with 404 "Not Found" (aiogram:
    TelegramNotFound); some proxies say 400 "method not found"."""
    if isinstance(exc, TelegramNotFound):
        return True
    text = exc.message.lower()
    return "method" in text and ("not found" in text or "unknown" in text)


class ReaderChat:
    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id

    async def send_rich(
        self, message: InputRichMessage, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await self.bot.send_rich_message(
                self.chat_id, rich_message=message, reply_markup=keyboard
            )
        except (TelegramNotFound, TelegramBadRequest) as exc:
            if is_unknown_method(exc):
                raise RichUnsupported(exc.message) from exc
            raise RichRefused(exc.message) from exc

    async def send_html(self, html: str, keyboard: InlineKeyboardMarkup | None) -> None:
        await self.bot.send_message(
            self.chat_id, html, link_preview_options=_NO_PREVIEW, reply_markup=keyboard
        )
