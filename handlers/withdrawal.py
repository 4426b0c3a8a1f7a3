"""Editors withdraw: /delete takes a published article out of the channel."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.withdrawal import describe_withdrawal
from bot.services import Services
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

router = Router(name="withdrawal")


@router.message(Command("delete"))
async def cmd_delete(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/delete 12``: take a published article out of the channel, keep it archived."""
    article_id = parse_id(command.args)
    if article_id is None:
        await message.answer(escaped_html(texts.delete_usage))
        return
    result = await services.withdrawal.withdraw(article_id)
    await message.answer(describe_withdrawal(result, article_id, texts))
