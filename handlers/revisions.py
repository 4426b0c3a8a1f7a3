"""Editors revise articles: /edit (the whole text), /summary, /tags, /credit, and
/restore (an earlier version back)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.drafts import Drafts
from bot.articles.parsing import ParseError
from bot.articles.revisions import FIELD_CHANGES, EditOutcome, EditResult
from bot.errors import InputError
from bot.services import Services
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import answer_result, explain

router = Router(name="revisions")


@router.message(Command("edit"))
async def cmd_edit(
    message: Message,
    command: CommandObject,
    services: Services,
    texts: Texts,
) -> None:
    head, _, raw = (command.args or "").partition("\n")
    article_id = parse_id(head)
    if article_id is None or not raw.strip():
        await message.answer(escaped_html(texts.edit_usage))
        return
    try:
        result = await services.revisions.replace_text(article_id, raw)
    except ParseError as exc:
        await message.answer(escaped_html(texts.import_error(exc.code)))
        return
    await answer_edit(message, result, article_id, services.drafts, texts)


@router.message(Command(*FIELD_CHANGES))
async def cmd_field(
    message: Message,
    command: CommandObject,
    services: Services,
    texts: Texts,
) -> None:
    """``/summary 12 …``, ``/tags 12 …``, ``/credit 12 …``: one field of an article."""
    name = command.command.lower()
    head, _, value = (command.args or "").strip().partition(" ")
    article_id = parse_id(head)
    if article_id is None or not value.strip():
        await message.answer(escaped_html(texts.field_usage, command=name))
        return
    try:
        result = await services.revisions.set_field(name, article_id, value)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await answer_edit(message, result, article_id, services.drafts, texts)


@router.message(Command("restore"))
async def cmd_restore(
    message: Message,
    command: CommandObject,
    services: Services,
    texts: Texts,
) -> None:
    """``/restore 12 3``: version 3 of article 12 becomes its content again."""
    parts = (command.args or "").split()
    ids = [parse_id(part) for part in parts]
    if len(ids) != 2 or None in ids:
        await message.answer(escaped_html(texts.restore_usage))
        return
    article_id, number = (value for value in ids if value is not None)
    result = await services.revisions.restore(article_id, number)
    notice = texts.restore_draft_updated.format(id=article_id, version=number)
    await answer_edit(message, result, article_id, services.drafts, texts, notice, version=number)


async def answer_edit(
    message: Message,
    result: EditResult,
    article_id: int,
    drafts: Drafts,
    texts: Texts,
    notice: str | None = None,
    *,
    version: int = 0,
) -> None:
    """A revised draft is shown as its new preview (with ``notice``, or the edit's);
    anything else, in words."""
    if result.outcome is EditOutcome.DRAFT_UPDATED and result.article is not None:
        notice = notice or texts.edit_draft_updated.format(id=article_id)
        await message.answer(
            await drafts.preview(message.chat.id, result.article, notice, texts=texts)
        )
        return
    template = texts.outcome(texts.edit_outcomes, result.outcome, texts.not_found)
    status = texts.status_name(result.article.status) if result.article else ""
    await answer_result(
        message, template, result, texts, id=article_id, version=version, status=status
    )
