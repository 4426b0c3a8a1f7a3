"""The command menu: readers see /start and /help; each editor, in their own chat, the
editor commands too (per-chat command scopes).

Telegram refuses a per-chat scope for a user who has never opened the bot, so editors
who had no chat at start-up get their menu the first time they write.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Message,
    TelegramObject,
)

from bot.texts import Texts

logger = logging.getLogger(__name__)


class CommandMenu(BaseMiddleware):
    def __init__(self, editor_ids: frozenset[int], texts: Texts) -> None:
        self.editor_ids = editor_ids
        self.pending: set[int] = set(editor_ids)
        t = texts
        self.reader = [
            BotCommand(command="start", description=t.cmd_start),
            BotCommand(command="help", description=t.cmd_help),
        ]
        self.editor = [
            *self.reader,
            BotCommand(command="new", description=t.cmd_new),
            BotCommand(command="import", description=t.cmd_import),
            BotCommand(command="drafts", description=t.cmd_drafts),
            BotCommand(command="published", description=t.cmd_published),
            BotCommand(command="edit", description=t.cmd_edit),
            BotCommand(command="publish", description=t.cmd_publish),
            BotCommand(command="photo", description=t.cmd_photo),
            BotCommand(command="schedule", description=t.cmd_schedule),
            BotCommand(command="scheduled", description=t.cmd_scheduled),
            BotCommand(command="unschedule", description=t.cmd_unschedule),
            BotCommand(command="poll", description=t.cmd_poll),
            BotCommand(command="addpoll", description=t.cmd_addpoll),
            BotCommand(command="closepoll", description=t.cmd_closepoll),
            BotCommand(command="results", description=t.cmd_results),
            BotCommand(command="cancel", description=t.cmd_cancel),
        ]

    async def install(self, bot: Bot) -> None:
        await bot.set_my_commands(self.reader, scope=BotCommandScopeDefault())
        for editor_id in sorted(self.pending):
            await self._install_for(bot, editor_id)

    async def _install_for(self, bot: Bot, editor_id: int) -> None:
        try:
            await bot.set_my_commands(self.editor, scope=BotCommandScopeChat(chat_id=editor_id))
        except TelegramAPIError as exc:
            logger.info("Editor %s has no chat with the bot yet: %s", editor_id, exc.message)
        else:
            self.pending.discard(editor_id)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """An editor without a menu writes to the bot: give them their menu now."""
        if isinstance(event, Message) and event.chat.type == "private":
            user = event.from_user
            if user is not None and user.id in self.pending:
                await self._install_for(data["bot"], user.id)
        return await handler(event, data)
