"""The last line of defence: an update that raised is logged, answered, and reported.

The log names the update id and the exception, never the token (the log filter in
bot/logs.py redacts it anyway).  Admins get a short report in chat, at most one per
``report_interval`` seconds so a failing loop cannot flood them.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import ErrorEvent

from bot.logs import redact
from bot.texts import Texts
from storage.sqlite.db import StorageError

from .replies import plain

logger = logging.getLogger(__name__)


class AdminReporter:
    def __init__(
        self,
        admin_ids: frozenset[int],
        report_interval: float = 60.0,
        secrets: list[str] | None = None,
    ) -> None:
        self.admin_ids = admin_ids
        # Exception texts can carry URLs with the token in them (file downloads).
        self.secrets = secrets or []
        self.report_interval = report_interval
        self._last = float("-inf")
        self.suppressed = 0

    async def report(self, bot: Bot, text: str) -> None:
        now = time.monotonic()
        if now - self._last < self.report_interval:
            self.suppressed += 1
            return
        self._last = now
        for admin_id in self.admin_ids:
            try:
                await bot.send_message(admin_id, plain(redact(text, self.secrets)[:3500]))
            except TelegramAPIError as exc:
                logger.warning("Could not report an error to admin %s: %s", admin_id, exc)


async def on_error(event: ErrorEvent, bot: Bot, texts: Texts, reporter: AdminReporter) -> bool:
    exc = event.exception
    update = event.update
    if isinstance(exc, TelegramForbiddenError):
        # The user blocked the bot or left: nobody is there to tell.
        logger.info("Update %s: user unreachable (%s)", update.update_id, exc.message)
        return True
    storage_down = isinstance(exc, StorageError | sqlite3.Error)
    logger.error(
        "Update %s failed: %s: %s",
        update.update_id,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    answer = texts.storage_unavailable if storage_down else texts.internal_error
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(answer[:200], show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(plain(answer))
    except TelegramAPIError as send_exc:
        logger.warning("Could not apologise for update %s: %s", update.update_id, send_exc)
    await reporter.report(
        bot,
        texts.admin_error_report.format(
            update_id=update.update_id, error=f"{type(exc).__name__}: {exc}"
        ),
    )
    return True


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
