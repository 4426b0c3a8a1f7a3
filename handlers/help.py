"""/help in the bot's private chat: editors get the editors' guide, readers the readers'."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.services import Services
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

router = Router(name="help")


@router.message(Command("help"))
async def cmd_help(message: Message, services: Services, texts: Texts) -> None:
    user = message.from_user
    is_editor = user is not None and await services.editors.is_editor(user.id)
    await message.answer(escaped_html(texts.editor_help if is_editor else texts.reader_help))
