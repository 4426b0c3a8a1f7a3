"""The command menu: readers see /start and /help; each editor, in their own chat, the
editor commands too (per-chat command scopes).

Telegram refuses a per-chat scope for a user who has never opened the bot, so editors
who had no chat at start-up get their menu the first time they write.
"""

from __future__ import annotations

import logging
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

from bot.telegram.updates import NextHandler
from bot.texts import Texts

logger = logging.getLogger(__name__)


# The commands each menu shows, with the ``Texts`` field that describes each one.
READER_MENU = (
    ("start", "cmd_start"),
    ("help", "cmd_help"),
    ("search", "cmd_search"),
    ("top", "cmd_top"),
)
EDITOR_MENU = (
    *READER_MENU,
    ("new", "cmd_new"),
    ("import", "cmd_import"),
    ("drafts", "cmd_drafts"),
    ("published", "cmd_published"),
    ("edit", "cmd_edit"),
    ("restore", "cmd_restore"),
    ("publish", "cmd_publish"),
    ("delete", "cmd_delete"),
    ("photo", "cmd_photo"),
    ("schedule", "cmd_schedule"),
    ("scheduled", "cmd_scheduled"),
    ("unschedule", "cmd_unschedule"),
    ("poll", "cmd_poll"),
    ("addpoll", "cmd_addpoll"),
    ("closepoll", "cmd_closepoll"),
    ("results", "cmd_results"),
    ("digest", "cmd_digest"),
    ("feed", "cmd_feed"),
    ("feeds", "cmd_feeds"),
    ("reject", "cmd_reject"),
    ("apply", "cmd_apply"),
    ("cancel", "cmd_cancel"),
    ("history", "cmd_history"),
    ("stats", "cmd_stats"),
)
# Editor commands the menu does not show (they follow from a message or the help).
EDITOR_UNLISTED: tuple[str, ...] = (
    "forcepublish",
    "markpublished",
    "notposted",
    "done",
    "skip",
    "summary",
    "tags",
    "credit",
)
# The admins' commands (the desk's admin router): not in the menu.
EDITOR_UNLISTED += ("editors", "addeditor", "removeeditor")
# Every command only editors may use: readers who send one are told so.
EDITOR_COMMANDS = (
    tuple(name for name, field in EDITOR_MENU if (name, field) not in READER_MENU)
    + EDITOR_UNLISTED
)


def _commands(menu: tuple[tuple[str, str], ...], texts: Texts) -> list[BotCommand]:
    return [BotCommand(command=name, description=getattr(texts, field)) for name, field in menu]


class CommandMenu(BaseMiddleware):
    """The menus in the newsroom's language, and in each of ``translations`` for people
    whose Telegram speaks it (``language_code``)."""

    def __init__(
        self,
        editor_ids: frozenset[int],
        texts: Texts,
        translations: dict[str, Texts] | None = None,
    ) -> None:
        self.editor_ids = editor_ids
        self.pending: set[int] = set(editor_ids)
        languages = {"": texts, **(translations or {})}
        self.reader = {code: _commands(READER_MENU, t) for code, t in languages.items()}
        self.editor = {code: _commands(EDITOR_MENU, t) for code, t in languages.items()}

    async def install(self, bot: Bot) -> None:
        for code, commands in self.reader.items():
            await bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=code or None
            )
        for editor_id in sorted(self.pending):
            await self._install_for(bot, editor_id)

    async def _install_for(self, bot: Bot, editor_id: int) -> None:
        try:
            for code, commands in self.editor.items():
                await bot.set_my_commands(
                    commands,
                    scope=BotCommandScopeChat(chat_id=editor_id),
                    language_code=code or None,
                )
        except TelegramAPIError as exc:
            logger.info("Editor %s has no chat with the bot yet: %s", editor_id, exc.message)
        else:
            self.pending.discard(editor_id)

    async def grant(self, bot: Bot, user_id: int) -> None:
        """A new editor (/addeditor): their menu now, or when they first write."""
        self.pending.add(user_id)
        await self._install_for(bot, user_id)

    async def revoke(self, bot: Bot, user_id: int) -> None:
        """A removed editor sees the readers' menu again (their chat scope is deleted)."""
        self.pending.discard(user_id)
        try:
            for code in self.editor:
                await bot.delete_my_commands(
                    scope=BotCommandScopeChat(chat_id=user_id), language_code=code or None
                )
        except TelegramAPIError as exc:
            logger.info("No menu to reset for %s: %s", user_id, exc.message)

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """An editor without a menu writes to the bot: give them their menu now."""
        if isinstance(event, Message) and event.chat.type == "private":
            user = event.from_user
            if user is not None and user.id in self.pending:
                await self._install_for(data["bot"], user.id)
        return await handler(event, data)
