"""The last line of defence: an update that raised is logged, answered, and reported.

The log names the update id and the exception, never the token (the log filter
redacts it anyway).  Admins get a short report in chat, at most one per minute so a
failing loop cannot flood them.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.errors import is_storage_failure
from bot.services import Services
from bot.settings import Settings
from bot.telegram.limits import CALLBACK_ANSWER_LIMIT
from bot.telegram.refusals import count, expected_refusal
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

logger = logging.getLogger(__name__)

router = Router(name="errors")


@router.errors()
async def on_error(
    event: ErrorEvent, texts: Texts, services: Services, settings: Settings
) -> bool:
    exc = event.exception
    update = event.update
    refusal = expected_refusal(exc)
    if refusal is not None:
        # Telegram said no to something fine to try (a query too old to answer, a user
        # who blocked the bot): nobody to apologise to, nothing to report.
        logger.info(
            "Update %s: Telegram refused (%s, %d so far): %s",
            update.update_id,
            refusal,
            count(refusal),
            exc,
        )
        return True
    storage_down = is_storage_failure(exc)
    if storage_down and settings.webhook_url is not None:
        # Nothing half-done is acknowledged: the webhook answers 500 and Telegram
        # delivers the update again (to this or another instance) once it is back.
        # The webhook logs the outage once, not once per update.
        logger.debug("Update %s not handled, storage unavailable: %s", update.update_id, exc)
        raise exc
    logger.error(
        "Update %s failed: %s: %s", update.update_id, type(exc).__name__, exc, exc_info=exc
    )
    answer = texts.storage_unavailable if storage_down else texts.internal_error
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(answer[:CALLBACK_ANSWER_LIMIT], show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(escaped_html(answer))
    except TelegramAPIError as send_exc:
        logger.warning("Could not apologise for update %s: %s", update.update_id, send_exc)
    await services.notifier.error(
        type(exc).__name__,
        texts.admin_error_report.format(
            update_id=update.update_id, error=f"{type(exc).__name__}: {exc}"
        ),
    )
    return True
