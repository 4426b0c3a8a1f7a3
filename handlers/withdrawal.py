"""Editors withdraw: /delete takes a published article out of the channel."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.withdrawal import describe_withdrawal
from bot.services import Services
from bot.texts import Texts

from .replies import named_id

router = Router(name="withdrawal")


@router.message(Command("delete"))
async def cmd_delete(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/delete 12``: take a published article out of the channel, keep it archived."""
    article_id = await named_id(message, command.args, texts.delete_usage)
    if article_id is None:
        return
    result = await services.withdrawal.withdraw(article_id)
    await message.answer(describe_withdrawal(result, article_id, texts))
