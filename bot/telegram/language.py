"""Each person gets the interface in their language: an outer middleware puts their
``texts`` into the handler data by the Telegram language of the user behind the update
(English for ``en*``, else the newsroom's LANGUAGE).  Updates without a user (channel
posts, reaction counts) keep the newsroom's texts that ``workflow_data`` holds."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.telegram.updates import NextHandler
from bot.texts import texts_for_user


class UserTexts(BaseMiddleware):
    """Registered on ``dispatcher.update``: it runs after aiogram's own middleware that
    finds the user (``event_from_user``), and the errors router sees its texts too."""

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        user = data.get("event_from_user")
        if isinstance(user, User):
            data["texts"] = texts_for_user(user.language_code, self.default_language)
        return await handler(event, data)
