"""Editors publish: /publish; /forcepublish, /markpublished and /notposted (settling an
article whose publication was interrupted), /published (recent posts and their readers)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.publishing import describe_publish
from bot.services import Services
from bot.settings import Settings
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import answer_listing, named_id

PUBLISHED_LISTED = 20

router = Router(name="publishing")


@router.message(Command("publish", "forcepublish", "notposted"))
async def cmd_publish(
    message: Message, command: CommandObject, services: Services, settings: Settings, texts: Texts
) -> None:
    """``/publish 12``; for an article whose outcome is unknown, ``/forcepublish 12``
    (the post is not in the channel: send it) or ``/notposted 12`` (back to draft)."""
    article_id = await named_id(message, command.args, texts.publish_usage)
    if article_id is None:
        return
    publisher = services.publisher
    actions = {"forcepublish": publisher.force_publish, "notposted": publisher.not_posted}
    result = await actions.get(command.command.lower(), publisher.publish)(article_id)
    await message.answer(describe_publish(result, article_id, settings.channel_id, texts))


@router.message(Command("markpublished"))
async def cmd_mark_published(
    message: Message, command: CommandObject, services: Services, settings: Settings, texts: Texts
) -> None:
    """``/markpublished 12 https://t.me/channel/345``: the editor found the post."""
    parts = (command.args or "").split()
    article_id = parse_id(parts[0]) if len(parts) == 2 else None
    if article_id is None:
        await message.answer(escaped_html(texts.markpublished_usage))
        return
    result = await services.publisher.mark_published(article_id, parts[1])
    await message.answer(describe_publish(result, article_id, settings.channel_id, texts))


@router.message(Command("published"))
async def cmd_published(
    message: Message, services: Services, settings: Settings, texts: Texts
) -> None:
    publisher = services.publisher
    published = await publisher.latest(PUBLISHED_LISTED)
    lines = [
        texts.published_line.format(
            id=a.id,
            when=a.published_at.astimezone(settings.tz).strftime("%d.%m %H:%M")
            if a.published_at
            else "",
            reads=a.reads,
            title=a.title,
            link=publisher.link_for(a) or "",
        )
        for a in published
    ]
    await answer_listing(message, texts.published_header, lines, texts.published_empty)
