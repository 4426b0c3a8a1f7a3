"""Reader polls: editors create, attach, close and count them; readers press buttons."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.articles.intake import InputError, parse_id
from bot.models import ArticleStatus
from bot.polls.board import PollBoard, PreviewVote, Vote
from bot.polls.rules import parse_poll_spec, results_report, spec_for_draft
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository

from .replies import explain, plain

logger = logging.getLogger(__name__)


async def cmd_poll(
    message: Message, command: CommandObject, board: PollBoard, texts: Texts
) -> None:
    """``/poll [intro]\\n<question>\\n<option>\\n<option>…``: a standalone poll, posted now."""
    if not command.args:
        await message.answer(plain(texts.poll_usage))
        return
    try:
        spec = parse_poll_spec(command.args)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    assert message.from_user is not None
    try:
        poll, link = await board.post_standalone(spec, message.from_user.id)
    except TelegramAPIError as exc:
        await message.answer(plain(texts.poll_post_failed, reason=exc.message))
        return
    await message.answer(plain(texts.poll_posted, id=poll.id, link=link))


async def cmd_addpoll(
    message: Message,
    command: CommandObject,
    board: PollBoard,
    articles: ArticleRepository,
    texts: Texts,
) -> None:
    """``/addpoll <draft>\\n…``: a poll whose buttons go under the article's post."""
    head, _, rest = (command.args or "").partition("\n")
    article_id = parse_id(head)
    if article_id is None:
        await message.answer(plain(texts.poll_addpoll_usage))
        return
    article = await articles.get(article_id)
    if article is None:
        await message.answer(plain(texts.not_found, id=article_id))
        return
    # Uncertain: its post (with the current poll's buttons) may already be in the channel.
    if article.status in (
        ArticleStatus.PUBLISHED,
        ArticleStatus.PUBLISHING,
        ArticleStatus.UNCERTAIN,
    ):
        await message.answer(
            plain(
                texts.publish_not_allowed, id=article_id, status=texts.status_name(article.status)
            )
        )
        return
    try:
        spec = spec_for_draft(rest, article.content)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    assert message.from_user is not None
    poll = await board.polls.create(
        spec.question,
        spec.options,
        message.from_user.id,
        intro=spec.intro,
        article_id=article_id,
    )
    await message.answer(plain(texts.poll_attached, id=poll.id, article_id=article_id))


async def cmd_closepoll(
    message: Message, command: CommandObject, board: PollBoard, texts: Texts
) -> None:
    poll_id = parse_id(command.args)
    if poll_id is None:
        await message.answer(plain(texts.poll_id_usage, command=command.command))
        return
    closed, poll = await board.close(poll_id)
    if poll is None:
        await message.answer(plain(texts.poll_not_found, id=poll_id))
    elif not closed:
        await message.answer(plain(texts.poll_already_closed, id=poll_id))
    else:
        link = (
            board.channel.post_link(poll.channel_message_id)
            if poll.channel_message_id is not None
            else ""
        )
        await message.answer(plain(texts.poll_closed, id=poll_id, link=link))


async def cmd_results(
    message: Message, command: CommandObject, board: PollBoard, texts: Texts
) -> None:
    poll_id = parse_id(command.args)
    if poll_id is None:
        await message.answer(plain(texts.poll_id_usage, command=command.command))
        return
    poll = await board.polls.get(poll_id)
    if poll is None:
        await message.answer(plain(texts.poll_not_found, id=poll_id))
        return
    await message.answer(plain(results_report(poll, texts)))


async def on_vote(callback: CallbackQuery, callback_data: Vote, board: PollBoard) -> None:
    toast = await board.vote(callback_data.poll, callback.from_user.id, callback_data.option)
    await callback.answer(toast)


async def on_preview_vote(callback: CallbackQuery, texts: Texts) -> None:
    await callback.answer(texts.vote_preview)


async def on_unknown_callback(callback: CallbackQuery, texts: Texts) -> None:
    """Forged, stale or foreign callback data: answered, and nothing else happens."""
    await callback.answer(texts.vote_unknown)


POLL_EDITOR_COMMANDS = ("poll", "addpoll", "closepoll", "results")


def setup_editors(editor_ids: frozenset[int]) -> Router:
    router = Router(name="poll_editors")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    router.message.register(cmd_poll, Command("poll"))
    router.message.register(cmd_addpoll, Command("addpoll"))
    router.message.register(cmd_closepoll, Command("closepoll"))
    router.message.register(cmd_results, Command("results"))
    return router


def setup_votes() -> Router:
    router = Router(name="poll_votes")
    router.callback_query.register(on_vote, Vote.filter())
    router.callback_query.register(on_preview_vote, PreviewVote.filter())
    return router


def setup_fallback() -> Router:
    router = Router(name="callback_fallback")
    router.callback_query.register(on_unknown_callback)
    return router
