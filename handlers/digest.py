"""Editors preview the evening digest: /digest."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.services import Services
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import NO_PREVIEW

router = Router(name="digest")


@router.message(Command("digest"))
async def digest_preview(message: Message, services: Services, texts: Texts) -> None:
    """What the evening digest would post now; nothing is posted.  Counting a long day's
    readers can take a while: a progress message then shows it is under way."""
    digest = services.digest
    schedule = (
        escaped_html(texts.digest_schedule, time=digest.at.strftime("%H:%M"))
        if digest.at is not None
        else escaped_html(texts.digest_off)
    )
    progress = services.progress.start(message.chat.id)
    async with progress.ticking(
        lambda seconds: escaped_html(texts.digest_progress, seconds=seconds)
    ):
        post = await digest.preview()
    if post is None:
        await progress.finish(escaped_html(texts.digest_empty) + "\n" + schedule)
        return
    await progress.finish(
        escaped_html(texts.digest_preview) + "\n\n" + post + "\n\n" + schedule,
        link_preview_options=NO_PREVIEW,
    )
