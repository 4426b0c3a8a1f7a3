"""Commands sent in groups: the bot works in private chats only, and says so."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message

from bot.texts import Texts

from .reading import EDITOR_COMMANDS
from .replies import plain


async def private_only(message: Message, texts: Texts) -> None:
    await message.reply(plain(texts.private_only))


def setup() -> Router:
    router = Router(name="groups")
    router.message.filter(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}))
    # Command() ignores commands addressed to other bots (/start@other_bot).
    router.message.register(private_only, Command("start", "help", *EDITOR_COMMANDS))
    return router
