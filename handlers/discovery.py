"""Finding articles: /search and /top in the bot's chat, search in inline mode
(``@bot words`` in any chat)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.formatting import Bold, Text

from bot.models import Headline
from bot.services import Services
from bot.telegram.links import article_payload
from bot.telegram_text.cleaning import parse_offset
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .reading import headlines_keyboard
from .replies import NO_PREVIEW

SEARCH_RESULTS = 10
# answerInlineQuery takes at most 50 results; a page of 20 with next_offset for more.
INLINE_PAGE = 20
INLINE_MAX_OFFSET = 200
# Results depend on the query only (not on who asks), and articles appear within minutes.
INLINE_CACHE_SECONDS = 60
INLINE_LEAD_CHARS = 300
INLINE_DESCRIPTION_CHARS = 120
QUOTED_QUERY_CHARS = 60


def _cut(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def inline_result(bot: Bot, item: Headline, texts: Texts) -> InlineQueryResultArticle:
    """The headline and its lead, with a button that opens the full text in the bot."""
    link = await create_start_link(bot, article_payload(item.id))
    lead = _cut(item.lead, INLINE_LEAD_CHARS)
    body = Text(Bold(item.title), "\n\n", lead) if lead else Text(Bold(item.title))
    return InlineQueryResultArticle(
        id=str(item.id),
        title=item.title,
        description=_cut(item.lead, INLINE_DESCRIPTION_CHARS) or None,
        input_message_content=InputTextMessageContent(
            message_text=body.as_html(),
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=texts.inline_read_button, url=link)]]
        ),
    )


router = Router(name="discovery")


@router.message(Command("search"), F.chat.type == ChatType.PRIVATE)
async def search(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    discovery = services.discovery
    query = discovery.clean_query(command.args)
    if not query:
        await message.answer(escaped_html(texts.search_usage))
        return
    found = await discovery.search(query, SEARCH_RESULTS)
    shown = _cut(query, QUOTED_QUERY_CHARS)
    if not found:
        await message.answer(escaped_html(texts.search_nothing, query=shown))
        return
    await message.answer(
        escaped_html(texts.search_results, query=shown),
        reply_markup=headlines_keyboard(found, texts),
    )


@router.message(Command("top"), F.chat.type == ChatType.PRIVATE)
async def top(message: Message, services: Services, texts: Texts) -> None:
    found = await services.discovery.top()
    if not found:
        await message.answer(escaped_html(texts.top_empty))
        return
    await message.answer(
        escaped_html(texts.top_title), reply_markup=headlines_keyboard(found, texts, counts=True)
    )


@router.inline_query()
async def inline_search(query: InlineQuery, bot: Bot, services: Services, texts: Texts) -> None:
    discovery = services.discovery
    offset = parse_offset(query.offset)
    found = []
    if offset <= INLINE_MAX_OFFSET:
        found = await discovery.search(query.query, INLINE_PAGE, offset)
    results = [await inline_result(bot, item, texts) for item in found]
    more = len(found) == INLINE_PAGE and bool(discovery.clean_query(query.query))
    await query.answer(
        results,  # type: ignore[arg-type]  # a list of one result type is fine
        cache_time=INLINE_CACHE_SECONDS,
        is_personal=False,
        next_offset=str(offset + len(found)) if more else "",
    )
