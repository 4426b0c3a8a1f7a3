"""Small pieces every handler module uses to read an update and to answer it."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import LinkPreviewOptions, Message, PhotoSize
from aiogram.utils.formatting import Text

from bot.errors import InputError
from bot.telegram.limits import MESSAGE_LIMIT
from bot.telegram_text.cleaning import parse_id
from bot.telegram_text.html import escaped_html
from bot.telegram_text.splitting import split_text
from bot.texts import Texts

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def explain(error: InputError, texts: Texts) -> str:
    """Bad input, explained in the user's words."""
    return escaped_html(getattr(texts, error.key), **error.params)


def largest_photo(sizes: list[PhotoSize]) -> str:
    """The file id of the largest of the sizes Telegram sends for one photo."""
    return max(sizes, key=lambda size: size.width * size.height).file_id


async def answer_long(message: Message, text: str) -> None:
    """A listing of any length, as as many messages as Telegram's limit needs."""
    for part in split_text(Text(text), MESSAGE_LIMIT):
        await message.answer(part.as_html(), link_preview_options=NO_PREVIEW)


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
