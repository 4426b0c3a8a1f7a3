"""A forwarded message is never a command.

The way to add an editor is to forward their message and answer it with /addeditor; if
that message reads "/delete 7", aiogram's command filters would run it with the
forwarder's rights.  So a forwarded message that looks like a command stops here: in a
private chat the sender is told how forwards are used; anywhere else nothing happens.
"""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Message, TelegramObject

from bot.telegram.updates import NextHandler
from bot.telegram_text.html import escaped_html
from bot.texts import Texts


def looks_like_command(message: Message) -> bool:
    return (message.text or message.caption or "").lstrip().startswith("/")


class ForwardedAreNotCommands(BaseMiddleware):
    """Registered as an outer middleware of ``dispatcher.message``."""

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        if (
            isinstance(event, Message)
            and event.forward_origin is not None
            and looks_like_command(event)
        ):
            texts: Texts = data["texts"]
            if event.chat.type == ChatType.PRIVATE:
                await event.answer(escaped_html(texts.forwarded_not_command))
            return None
        return await handler(event, data)
