"""Editors' scheduling commands: /schedule, /unschedule, /scheduled."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.intake import InputError, parse_id
from bot.articles.scheduling import Scheduler, parse_schedule
from bot.models import ArticleStatus
from bot.settings import Settings
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository

from .replies import answer_long, explain, plain, refuse

WHEN_FORMAT = "%Y-%m-%d %H:%M"


async def cmd_schedule(
    message: Message,
    command: CommandObject,
    articles: ArticleRepository,
    scheduler: Scheduler,
    settings: Settings,
    texts: Texts,
) -> None:
    try:
        article_id, when = parse_schedule(command.args, settings.tz, datetime.now(UTC))
    except InputError as exc:
        await message.answer(
            explain(exc, texts)
            if exc.key != "schedule_usage"
            else plain(texts.schedule_usage, timezone=settings.timezone)
        )
        return
    article = await articles.schedule(article_id, when)
    if article is None:
        await refuse(message, article_id, articles, texts)
        return
    scheduler.wake()
    await message.answer(
        plain(
            texts.scheduled_ok,
            id=article_id,
            when=when.strftime(WHEN_FORMAT),
            timezone=settings.timezone,
        )
    )


async def cmd_unschedule(
    message: Message, command: CommandObject, articles: ArticleRepository, texts: Texts
) -> None:
    article_id = parse_id(command.args)
    if article_id is None:
        await message.answer(plain(texts.unschedule_usage))
        return
    if await articles.unschedule(article_id) is not None:
        await message.answer(plain(texts.unscheduled_ok, id=article_id))
    elif await articles.get(article_id) is None:
        await message.answer(plain(texts.not_found, id=article_id))
    else:
        await message.answer(plain(texts.not_scheduled, id=article_id))


async def cmd_scheduled(
    message: Message, articles: ArticleRepository, settings: Settings, texts: Texts
) -> None:
    scheduled = await articles.with_status(ArticleStatus.SCHEDULED)
    if not scheduled:
        await message.answer(plain(texts.scheduled_empty))
        return
    scheduled.sort(key=lambda a: (a.scheduled_at or datetime.max.replace(tzinfo=UTC), a.id))
    lines = [texts.scheduled_header.format(timezone=settings.timezone)]
    lines += [
        texts.scheduled_line.format(
            id=a.id,
            when=a.scheduled_at.astimezone(settings.tz).strftime(WHEN_FORMAT)
            if a.scheduled_at
            else "?",
            title=a.title,
        )
        for a in scheduled
    ]
    await answer_long(message, "\n".join(lines))


def setup(editor_ids: frozenset[int]) -> Router:
    router = Router(name="schedules")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    router.message.register(cmd_schedule, Command("schedule"))
    router.message.register(cmd_unschedule, Command("unschedule"))
    router.message.register(cmd_scheduled, Command("scheduled"))
    return router
