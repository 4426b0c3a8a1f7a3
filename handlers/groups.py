"""Commands sent in groups: the bot works in private chats only, and says so.

The router answers group chats only: the router tree puts it under a filter that says so.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.menu import EDITOR_COMMANDS, READER_MENU
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

router = Router(name="groups")


# Command() ignores commands addressed to other bots (/start@other_bot).
@router.message(Command(*(name for name, _ in READER_MENU), *EDITOR_COMMANDS))
async def private_only(message: Message, texts: Texts) -> None:
    await message.reply(escaped_html(texts.private_only))
