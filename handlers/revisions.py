"""Editors revise articles: /edit (the whole text), /summary, /tags, /credit."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.intake import InputError, parse_id
from bot.articles.parsing import ParseError, parse_article
from bot.articles.revisions import FIELD_CHANGES, EditOutcome, EditResult, Revisions, merge_import
from bot.polls.board import PollBoard
from bot.telegram.channel import Channel
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository

from .replies import explain, plain, send_preview


async def _report(
    message: Message,
    result: EditResult,
    article_id: int,
    *,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    if result.outcome is EditOutcome.NOT_FOUND:
        await message.answer(plain(texts.not_found, id=article_id))
    elif result.outcome is EditOutcome.BUSY:
        await message.answer(plain(texts.edit_busy, id=article_id))
    elif result.outcome is EditOutcome.DRAFT_UPDATED:
        assert result.article is not None
        await send_preview(
            message,
            result.article,
            channel=channel,
            articles=articles,
            texts=texts,
            notice=texts.edit_draft_updated.format(id=article_id),
            poll=await board.polls.for_article(article_id),
        )
    elif result.outcome is EditOutcome.POST_UPDATED:
        await message.answer(plain(texts.edit_post_updated, id=article_id, link=result.link))
    else:
        await message.answer(
            plain(
                texts.edit_post_not_updated, id=article_id, link=result.link, reason=result.reason
            )
        )


async def cmd_edit(
    message: Message,
    command: CommandObject,
    revisions: Revisions,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    head, _, raw = (command.args or "").partition("\n")
    article_id = parse_id(head)
    if article_id is None or not raw.strip():
        await message.answer(plain(texts.edit_usage))
        return
    try:
        new = parse_article(raw)
    except ParseError as exc:
        await message.answer(plain(texts.import_error(exc.code)))
        return
    result = await revisions.revise(article_id, lambda old: merge_import(old, new))
    await _report(
        message, result, article_id, channel=channel, articles=articles, board=board, texts=texts
    )


async def cmd_field(
    message: Message,
    command: CommandObject,
    revisions: Revisions,
    channel: Channel,
    articles: ArticleRepository,
    board: PollBoard,
    texts: Texts,
) -> None:
    """``/summary 12 …``, ``/tags 12 …``, ``/credit 12 …``: one field of an article."""
    name = command.command.lower()
    head, _, value = (command.args or "").strip().partition(" ")
    article_id = parse_id(head)
    if article_id is None or not value.strip():
        await message.answer(plain(texts.field_usage, command=name))
        return
    try:
        change = FIELD_CHANGES[name](value)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    result = await revisions.revise(article_id, change)
    await _report(
        message, result, article_id, channel=channel, articles=articles, board=board, texts=texts
    )


def setup(editor_ids: frozenset[int]) -> Router:
    router = Router(name="editing")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    router.message.register(cmd_edit, Command("edit"))
    router.message.register(cmd_field, Command(*FIELD_CHANGES))
    return router
