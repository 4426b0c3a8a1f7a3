"""Readers in the bot's private chat: deep links to full texts, the latest headlines."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.articles.discovery import Discovery
from bot.articles.reading import Reading
from bot.models import Article, Headline
from bot.telegram.limits import CALLBACK_ANSWER_LIMIT
from bot.telegram.links import article_id_from_payload
from bot.telegram.menu import EDITOR_COMMANDS
from bot.text.html import plain
from bot.texts import Texts

from .replies import NO_PREVIEW

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


async def send_full_text(
    message: Message, article: Article, reading: Reading, discovery: Discovery, texts: Texts
) -> None:
    """The article's messages; the last one carries buttons to related articles."""
    parts = reading.full_text_html(article)
    related = headlines_keyboard(await discovery.related(article.id), texts)
    for number, part in enumerate(parts, 1):
        markup = related if number == len(parts) else None
        await message.answer(part, link_preview_options=NO_PREVIEW, reply_markup=markup)


def _button_label(title: str) -> str:
    if len(title) <= BUTTON_TITLE_CHARS:
        return title
    return title[: BUTTON_TITLE_CHARS - 1].rstrip() + "…"


def setup() -> Router:
    router = Router(name="reading")
    router.message.filter(F.chat.type == ChatType.PRIVATE)

    @router.message(
        CommandStart(deep_link=True, magic=F.args.func(article_id_from_payload).as_("article_id"))
    )
    async def start_article(
        message: Message,
        article_id: int,
        reading: Reading,
        discovery: Discovery,
        texts: Texts,
        editor_ids: frozenset[int],
    ) -> None:
        """``/start a12`` from the "Читать полностью" button: the whole article."""
        assert message.from_user is not None
        reader = message.from_user.id
        article = await reading.open(article_id, reader, is_editor=reader in editor_ids)
        if article is None:
            await message.answer(plain(texts.article_not_found))
            return
        await send_full_text(message, article, reading, discovery, texts)

    @router.message(CommandStart(deep_link=True))
    async def start_unknown_payload(message: Message, texts: Texts) -> None:
        """A deep link that is not ours (forged, truncated, another bot's)."""
        await message.answer(plain(texts.article_not_found))

    @router.message(CommandStart())
    async def start_bare(message: Message, discovery: Discovery, texts: Texts) -> None:
        """The latest headlines, then the week's most read, as buttons that open them."""
        front = await discovery.front_page()
        if not front.latest:
            await message.answer(plain(texts.greeting + "\n\n" + texts.no_articles_yet))
            return
        await message.answer(
            plain(texts.greeting + "\n\n" + texts.latest_headlines),
            reply_markup=headlines_keyboard(front.latest, texts),
        )
        if front.most_read:
            await message.answer(
                plain(texts.most_read_headlines),
                reply_markup=headlines_keyboard(front.most_read, texts, counts=True),
            )

    @router.callback_query(ReadArticle.filter())
    async def read_button(
        callback: CallbackQuery,
        callback_data: ReadArticle,
        reading: Reading,
        discovery: Discovery,
        texts: Texts,
        editor_ids: frozenset[int],
    ) -> None:
        reader = callback.from_user.id
        article = await reading.open(
            callback_data.article_id, reader, is_editor=reader in editor_ids
        )
        if article is None or not isinstance(callback.message, Message):
            await callback.answer(texts.article_not_found[:CALLBACK_ANSWER_LIMIT], show_alert=True)
            return
        await callback.answer()
        await send_full_text(callback.message, article, reading, discovery, texts)

    @router.message(Command("help"))
    async def reader_help(message: Message, texts: Texts, editor_ids: frozenset[int]) -> None:
        is_editor = message.from_user is not None and message.from_user.id in editor_ids
        await message.answer(plain(texts.editor_help if is_editor else texts.reader_help))

    @router.message(Command(*EDITOR_COMMANDS))
    async def editors_only(message: Message, texts: Texts) -> None:
        await message.answer(plain(texts.editors_only))

    @router.message()
    async def anything_else(message: Message, texts: Texts) -> None:
        await message.answer(plain(texts.reader_help))

    return router
