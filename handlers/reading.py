"""Readers in the bot's private chat: deep links to full texts, the latest headlines.

The router answers private chats only: the router tree puts it under a filter that says so.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.articles.reading import ReadOutcome
from bot.models import Headline
from bot.services import Services
from bot.telegram.limits import CALLBACK_ANSWER_LIMIT
from bot.telegram.links import article_id_from_payload, article_payload
from bot.telegram.menu import EDITOR_COMMANDS
from bot.telegram.reader_chat import ReaderChat
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

# A headline on a button: long titles are cut to stay readable on a phone.
BUTTON_TITLE_CHARS = 60


class ReadArticle(CallbackData, prefix="read"):
    article_id: int = Field(ge=1, lt=2**63)


def headlines_keyboard(
    headlines: list[Headline], texts: Texts, *, counts: bool = False
) -> InlineKeyboardMarkup | None:
    """One button per headline (with its count, for the most read) that opens it here."""
    if not headlines:
        return None
    builder = InlineKeyboardBuilder()
    for item in headlines:
        label = _button_label(item.title)
        if counts:
            label = texts.top_button.format(title=label, count=item.count)
        builder.button(text=label, callback_data=ReadArticle(article_id=item.id))
    builder.adjust(1)
    return builder.as_markup()


def _button_label(title: str) -> str:
    if len(title) <= BUTTON_TITLE_CHARS:
        return title
    return title[: BUTTON_TITLE_CHARS - 1].rstrip() + "…"


router = Router(name="reading")


@router.message(
    CommandStart(deep_link=True, magic=F.args.func(article_id_from_payload).as_("article_id"))
)
async def start_article(
    message: Message,
    article_id: int,
    services: Services,
    texts: Texts,
) -> None:
    """``/start a12`` from the "Читать полностью" button: the whole article, with
    related articles as buttons under it."""
    assert message.from_user is not None and message.bot is not None
    reader = message.from_user.id
    outcome = await services.reading.read(
        article_id,
        reader,
        ReaderChat(message.bot, message.chat.id),
        is_editor=await services.editors.is_editor(reader),
        keyboard=headlines_keyboard(await services.discovery.related(article_id), texts),
        texts=texts,
    )
    if outcome is ReadOutcome.NOT_FOUND:
        await message.answer(escaped_html(texts.article_not_found))
    elif outcome is ReadOutcome.WITHDRAWN:
        await message.answer(escaped_html(texts.article_withdrawn))


@router.message(CommandStart(deep_link=True))
async def start_unknown_payload(message: Message, texts: Texts) -> None:
    """A deep link that is not ours (forged, truncated, another bot's)."""
    await message.answer(escaped_html(texts.article_not_found))


@router.message(CommandStart())
async def start_bare(message: Message, services: Services, texts: Texts) -> None:
    """The latest headlines, then the week's most read, as buttons that open them."""
    front = await services.discovery.front_page()
    if not front.latest:
        await message.answer(escaped_html(texts.greeting + "\n\n" + texts.no_articles_yet))
        return
    await message.answer(
        escaped_html(texts.greeting + "\n\n" + texts.latest_headlines),
        reply_markup=headlines_keyboard(front.latest, texts),
    )
    if front.most_read:
        await message.answer(
            escaped_html(texts.most_read_headlines),
            reply_markup=headlines_keyboard(front.most_read, texts, counts=True),
        )


@router.callback_query(ReadArticle.filter())
async def read_button(
    callback: CallbackQuery,
    callback_data: ReadArticle,
    services: Services,
    texts: Texts,
) -> None:
    reader = callback.from_user.id
    if callback.bot is None:
        await callback.answer(texts.article_not_found[:CALLBACK_ANSWER_LIMIT], show_alert=True)
        return
    if callback.message is None or callback.message.chat.id != reader:
        # Pressed anywhere but the reader's own chat with the bot (a button forged under
        # a channel post, an inline message): the text never goes there; Telegram opens
        # the bot on the article's deep link instead.
        link = await create_start_link(callback.bot, article_payload(callback_data.article_id))
        await callback.answer(texts.article_open_in_bot[:CALLBACK_ANSWER_LIMIT], url=link)
        return
    outcome = await services.reading.read(
        callback_data.article_id,
        reader,
        ReaderChat(callback.bot, reader),
        is_editor=await services.editors.is_editor(reader),
        keyboard=headlines_keyboard(
            await services.discovery.related(callback_data.article_id), texts
        ),
        texts=texts,
    )
    if outcome is ReadOutcome.NOT_FOUND:
        await callback.answer(texts.article_not_found[:CALLBACK_ANSWER_LIMIT], show_alert=True)
    elif outcome is ReadOutcome.WITHDRAWN:
        await callback.answer(texts.article_withdrawn[:CALLBACK_ANSWER_LIMIT], show_alert=True)
    else:
        await callback.answer()


@router.message(Command(*EDITOR_COMMANDS))
async def editors_only(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.editors_only))


@router.message()
async def anything_else(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.reader_help))
