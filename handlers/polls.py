"""Reader polls: editors create, attach, close and count them (``router``, under the
editors' filter); readers press buttons (``votes``); a press of any button nobody
recognises is answered last (``unknown_callbacks``)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.errors import InputError
from bot.polls.board import PollOutcome, Press
from bot.polls.callbacks import PreviewVote, Vote
from bot.polls.rules import results_report
from bot.services import Services
from bot.settings import Settings
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import answer_result, explain

router = Router(name="poll_editors")


@router.message(Command("poll"))
async def cmd_poll(
    message: Message, command: CommandObject, services: Services, settings: Settings, texts: Texts
) -> None:
    """``/poll [intro]\\n<question>\\n<option>\\n<option>…``: a standalone poll, now."""
    if not command.args:
        await message.answer(escaped_html(texts.poll_usage))
        return
    assert message.from_user is not None
    try:
        result = await services.board.post_standalone(command.args, message.from_user.id)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    poll_id = result.poll.id if result.poll else 0
    template = texts.outcome(texts.poll_post_outcomes, result.outcome, texts.internal_error)
    await answer_result(message, template, result, texts, id=poll_id, channel=settings.channel_id)


@router.message(Command("addpoll"))
async def cmd_addpoll(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/addpoll <draft>\\n…``: a poll whose buttons go under the article's post."""
    head, _, rest = (command.args or "").partition("\n")
    article_id = parse_id(head)
    if article_id is None:
        await message.answer(escaped_html(texts.poll_addpoll_usage))
        return
    assert message.from_user is not None
    try:
        result = await services.board.attach_to_draft(article_id, rest, message.from_user.id)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    if result.outcome is PollOutcome.ATTACHED and result.poll is not None:
        await message.answer(
            escaped_html(texts.poll_attached, id=result.poll.id, article_id=article_id)
        )
    elif result.outcome is PollOutcome.NOT_ALLOWED and result.article is not None:
        status = texts.status_name(result.article.status)
        await message.answer(escaped_html(texts.publish_not_allowed, id=article_id, status=status))
    else:
        await message.answer(escaped_html(texts.not_found, id=article_id))


@router.message(Command("closepoll", "results"))
async def cmd_poll_by_id(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/closepoll 3`` freezes poll 3 with final results; ``/results 3`` shows them."""
    poll_id = parse_id(command.args)
    if poll_id is None:
        await message.answer(escaped_html(texts.poll_id_usage, command=command.command))
        return
    if command.command.lower() == "results":
        poll = await services.board.results(poll_id)
        if poll is None:
            await message.answer(escaped_html(texts.poll_not_found, id=poll_id))
        else:
            await message.answer(escaped_html(results_report(poll, texts)))
        return
    result = await services.board.close(poll_id)
    template = texts.outcome(texts.poll_close_outcomes, result.outcome, texts.poll_not_found)
    await answer_result(message, template, result, texts, id=poll_id)


votes = Router(name="poll_votes")


@votes.callback_query(Vote.filter())
async def on_vote(
    callback: CallbackQuery, callback_data: Vote, services: Services, texts: Texts
) -> None:
    message = callback.message
    press = None
    if message is not None:
        markup = message.reply_markup if isinstance(message, Message) else None
        buttons = [b for row in (markup.inline_keyboard if markup else []) for b in row]
        press = Press(
            message.chat,
            message.message_id,
            any(button.callback_data == callback.data for button in buttons),
        )
    toast = await services.board.vote(
        callback_data.poll, callback.from_user.id, callback_data.option, press, texts=texts
    )
    await callback.answer(toast)


@votes.callback_query(PreviewVote.filter())
async def on_preview_vote(callback: CallbackQuery, texts: Texts) -> None:
    await callback.answer(texts.vote_preview)


unknown_callbacks = Router(name="callback_fallback")


@unknown_callbacks.callback_query()
async def on_unknown_callback(callback: CallbackQuery, texts: Texts) -> None:
    """Forged, stale or foreign callback data: answered, and nothing else happens."""
    await callback.answer(texts.vote_unknown)
