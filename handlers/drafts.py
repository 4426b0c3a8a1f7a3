"""Editors' drafts: /import (text, reply or .txt file), /drafts, attaching photos."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.drafts import Drafts, describe_action
from bot.articles.intake import MAX_DOCUMENT_BYTES, decode_document
from bot.articles.parsing import ParseError
from bot.errors import InputError
from bot.services import Services
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import answer_listing, downloaded, explain, largest_photo

router = Router(name="drafts")


@router.message(Command("import"), F.document)
async def document_import(message: Message, bot: Bot, services: Services, texts: Texts) -> None:
    """A ``.txt`` file sent with the caption ``/import``."""
    document = message.document
    assert document is not None
    if document.file_size is not None and document.file_size > MAX_DOCUMENT_BYTES:
        await message.answer(
            escaped_html(texts.import_file_too_big, limit=MAX_DOCUMENT_BYTES // 1000)
        )
        return
    data = await downloaded(message, bot, document, texts)
    if data is None:
        return
    try:
        raw = decode_document(data, document.file_name)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await _import(message, raw, services.drafts, texts)


@router.message(Command("import"))
async def cmd_import(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/import`` with the text on the following lines, or as a reply to the text."""
    raw = command.args
    if not raw and message.reply_to_message is not None:
        raw = message.reply_to_message.text or message.reply_to_message.caption
    if not raw or not raw.strip():
        await message.answer(escaped_html(texts.import_usage))
        return
    await _import(message, raw, services.drafts, texts)


@router.message(Command("drafts"))
async def cmd_drafts(message: Message, services: Services, texts: Texts) -> None:
    listed = await services.drafts.unpublished()
    lines = [
        texts.drafts_line.format(id=a.id, status=texts.status_name(a.status), title=a.title)
        for a in listed
    ]
    await answer_listing(message, texts.drafts_header, lines, texts.drafts_empty)


@router.message(Command("photo"), F.photo)
async def photo_with_command(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    article_id = parse_id(command.args)
    if article_id is None or not message.photo:
        await message.answer(escaped_html(texts.photo_bad_id))
        return
    result = await services.drafts.attach_photo(article_id, largest_photo(message.photo))
    await message.answer(describe_action(result, texts, texts.photo_attached))


@router.message(Command("photo"))
async def cmd_photo_without_photo(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.photo_usage))


@router.message(F.photo, F.reply_to_message)
async def photo_reply(message: Message, services: Services, texts: Texts) -> None:
    """A photo sent as a reply to a draft's preview attaches to that draft."""
    assert message.reply_to_message is not None and message.photo
    result = await services.drafts.attach_photo_to_preview(
        message.chat.id, message.reply_to_message.message_id, largest_photo(message.photo)
    )
    if result is None:
        await message.answer(escaped_html(texts.photo_usage))
        return
    await message.answer(describe_action(result, texts, texts.photo_attached))


@router.message(F.photo)
async def photo_without_command(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.photo_usage))


@router.message(Command("done", "skip"))
async def no_dialog(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.no_dialog))


async def _import(message: Message, raw: str, drafts: Drafts, texts: Texts) -> None:
    assert message.from_user is not None
    try:
        article = await drafts.import_text(raw, message.from_user.id)
    except ParseError as exc:
        await message.answer(escaped_html(texts.import_error(exc.code)))
        return
    await message.answer(await drafts.preview(message.chat.id, article, texts=texts))
