"""The outlet's archive: ``/import`` with a ``.zip`` of pages, and its stop button.

The import runs in the background (``services.imports``): the handler only downloads the
zip and starts it; the progress message is the answer.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.feeds.archive import MAX_ARCHIVE_BYTES, MB, ArchiveRefused
from bot.feeds.imports import CancelImport, CancelOutcome, StartOutcome
from bot.services import Services
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import downloaded

router = Router(name="archive")

_IS_ZIP = F.document.file_name.lower().endswith(".zip") | (
    F.document.mime_type.in_({"application/zip", "application/x-zip-compressed"})
)


@router.message(Command("import"), _IS_ZIP)
async def archive_import(message: Message, bot: Bot, services: Services, texts: Texts) -> None:
    document = message.document
    assert document is not None and message.from_user is not None
    editor = message.from_user.id
    imports = services.imports
    if imports.busy(editor):
        await message.answer(escaped_html(texts.archive_busy))
        return
    # Unknown size: refused too (a local Bot API server serves files of up to 2 GB).
    if document.file_size is None or document.file_size > MAX_ARCHIVE_BYTES:
        await message.answer(
            escaped_html(texts.archive_refusal("too_big", MAX_ARCHIVE_BYTES // MB))
        )
        return
    data = await downloaded(message, bot, document, texts)
    if data is None:
        return
    try:
        outcome = await imports.start(message.chat.id, editor, data, texts)
    except ArchiveRefused as refused:
        await message.answer(escaped_html(texts.archive_refusal(refused.code, refused.limit)))
        return
    if outcome is StartOutcome.BUSY:
        await message.answer(escaped_html(texts.archive_busy))


_CANCEL_ANSWERS = {
    CancelOutcome.CANCELLING: "archive_cancelling",
    CancelOutcome.NOT_YOURS: "archive_not_yours",
    CancelOutcome.NOT_RUNNING: "archive_not_running",
}


@router.callback_query(CancelImport.filter())
async def cancel_import(
    query: CallbackQuery, callback_data: CancelImport, services: Services, texts: Texts
) -> None:
    chat_id = query.message.chat.id if query.message is not None else None
    outcome = await services.imports.cancel(chat_id, callback_data.editor, query.from_user.id)
    await query.answer(getattr(texts, _CANCEL_ANSWERS[outcome]))
