"""Editors' scheduling commands: /schedule, /unschedule, /scheduled."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.drafts import describe_action
from bot.articles.scheduling import parse_schedule
from bot.errors import InputError
from bot.services import Services
from bot.settings import Settings
from bot.telegram_text.html import escaped_html
from bot.texts import WHEN_FORMAT, Texts

from .replies import answer_listing, answer_outcome, explain, named_id

router = Router(name="schedules")


@router.message(Command("schedule"))
async def cmd_schedule(
    message: Message, command: CommandObject, services: Services, settings: Settings, texts: Texts
) -> None:
    try:
        article_id, when = parse_schedule(command.args, settings.tz, datetime.now(UTC))
    except InputError as exc:
        await message.answer(
            escaped_html(texts.schedule_usage, timezone=settings.timezone)
            if exc.key == "schedule_usage"
            else explain(exc, texts)
        )
        return
    if await services.scheduler.schedule(article_id, when) is None:
        await message.answer(describe_action(await services.drafts.refusal(article_id), texts, ""))
        return
    await message.answer(
        escaped_html(
            texts.scheduled_ok,
            id=article_id,
            when=when.strftime(WHEN_FORMAT),
            timezone=settings.timezone,
        )
    )


@router.message(Command("unschedule"))
async def cmd_unschedule(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    article_id = await named_id(message, command.args, texts.unschedule_usage)
    if article_id is None:
        return
    outcome = await services.scheduler.unschedule(article_id)
    await answer_outcome(
        message, texts, texts.unschedule_outcomes, outcome, article_id, texts.not_found
    )


@router.message(Command("scheduled"))
async def cmd_scheduled(
    message: Message, services: Services, settings: Settings, texts: Texts
) -> None:
    scheduled = await services.scheduler.upcoming()
    lines = [
        texts.scheduled_line.format(
            id=a.id,
            when=a.scheduled_at.astimezone(settings.tz).strftime(WHEN_FORMAT)
            if a.scheduled_at
            else "?",
            title=a.title,
        )
        for a in scheduled
    ]
    header = texts.scheduled_header.format(timezone=settings.timezone)
    await answer_listing(message, header, lines, texts.scheduled_empty)
