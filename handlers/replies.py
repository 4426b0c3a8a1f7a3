"""Small pieces every handler module uses to read an update and to answer it."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Document, LinkPreviewOptions, Message, PhotoSize
from aiogram.utils.formatting import Text

from bot.errors import InputError
from bot.outcomes import Result
from bot.telegram.limits import MESSAGE_LIMIT
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.telegram_text.splitting import split_text
from bot.texts import Texts

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def downloaded(message: Message, bot: Bot, document: Document, texts: Texts) -> bytes | None:
    """The document's bytes; None when Telegram would not give them (the editor is told)."""
    buffer = io.BytesIO()
    try:
        await bot.download(document, destination=buffer)
    except (TelegramAPIError, aiohttp.ClientError, OSError) as exc:
        # aiohttp's errors name the file URL, which holds the token: log the type only.
        logger.warning("Could not download a document: %s", type(exc).__name__)
        await message.answer(escaped_html(texts.import_download_failed))
        return None
    return buffer.getvalue()


def explain(error: InputError, texts: Texts) -> str:
    """Bad input, explained in the user's words."""
    return escaped_html(getattr(texts, error.key), **error.params)


async def answer_result(
    message: Message, template: str, result: Result[Any], texts: Texts, **values: Any
) -> None:
    """What a service call did, in words: ``template`` (its outcome's) may name the link
    the call made or found and why it failed, besides ``values``."""
    link, reason = result.link or "", texts.failure(result.reason)
    await message.answer(escaped_html(template, link=link, reason=reason, **values))


async def answer_outcome(
    message: Message,
    texts: Texts,
    table: tuple[tuple[str, str], ...],
    outcome: str,
    target: int,
    fallback: str | None = None,
) -> None:
    """A service's outcome for one editor or article (``target``), in the words ``table``
    gives it; an outcome the table does not name is ``fallback``, or else our error."""
    template = texts.outcome(
        table, outcome, texts.internal_error if fallback is None else fallback
    )
    await message.answer(escaped_html(template, id=target))


def largest_photo(sizes: list[PhotoSize]) -> str:
    """The file id of the largest of the sizes Telegram sends for one photo."""
    return max(sizes, key=lambda size: size.width * size.height).file_id


async def answer_long(message: Message, text: str) -> None:
    """A listing of any length, as as many messages as Telegram's limit needs."""
    for part in split_text(Text(text), MESSAGE_LIMIT):
        await message.answer(part.as_html(), link_preview_options=NO_PREVIEW)


async def answer_listing(message: Message, header: str, lines: list[str], empty: str) -> None:
    """A listing under its header, however long; ``empty`` when there is nothing in it."""
    if not lines:
        await message.answer(escaped_html(empty))
        return
    await answer_long(message, "\n".join([header, *lines]))


async def named_id(
    message: Message,
    args: str | None,
    usage: str,
    parse: Callable[[str | None], int | None] = parse_id,
) -> int | None:
    """The id a command's arguments name; None once the usage text has been answered."""
    found = parse(args)
    if found is None:
        await message.answer(escaped_html(usage))
    return found
