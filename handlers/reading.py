"""Readers in the bot's private chat: deep links to full texts, the latest headlines."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.articles.reading import Reading, article_id_from_payload
from bot.models import Article
from bot.texts import Texts

from .replies import plain


class ReadArticle(CallbackData, prefix="read"):
    article_id: int = Field(ge=1, lt=2**63)


async def send_full_text(message: Message, article: Article, reading: Reading) -> None:
    for part in reading.full_text_html(article):
        await message.answer(part, link_preview_options=LinkPreviewOptions(is_disabled=True))


async def start_with_payload(
    message: Message,
    command: CommandObject,
    reading: Reading,
    texts: Texts,
    editor_ids: frozenset[int],
) -> None:
    assert message.from_user is not None
    article_id = article_id_from_payload(command.args)
    article = (
        await reading.open(
            article_id, message.from_user.id, is_editor=message.from_user.id in editor_ids
        )
        if article_id is not None
        else None
    )
    if article is None:
        await message.answer(plain(texts.article_not_found))
        return
    await send_full_text(message, article, reading)


async def start_bare(message: Message, reading: Reading, texts: Texts) -> None:
    latest = await reading.latest()
    if not latest:
        await message.answer(plain(texts.greeting + "\n\n" + texts.no_articles_yet))
        return
    builder = InlineKeyboardBuilder()
    for article in latest:
        builder.button(
            text=_button_label(article.title), callback_data=ReadArticle(article_id=article.id)
        )
    builder.adjust(1)
    await message.answer(
        plain(texts.greeting + "\n\n" + texts.latest_headlines), reply_markup=builder.as_markup()
    )


def _button_label(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


async def read_button(
    callback: CallbackQuery,
    callback_data: ReadArticle,
    reading: Reading,
    texts: Texts,
    editor_ids: frozenset[int],
) -> None:
    article = await reading.open(
        callback_data.article_id,
        callback.from_user.id,
        is_editor=callback.from_user.id in editor_ids,
    )
    if article is None or not isinstance(callback.message, Message):
        await callback.answer(texts.article_not_found[:200], show_alert=True)
        return
    await callback.answer()
    await send_full_text(callback.message, article, reading)


async def reader_help(message: Message, texts: Texts, editor_ids: frozenset[int]) -> None:
    is_editor = message.from_user is not None and message.from_user.id in editor_ids
    await message.answer(plain(texts.editor_help if is_editor else texts.reader_help))


async def editors_only(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.editors_only))


EDITOR_COMMANDS = (
    *("new", "import", "drafts", "photo", "publish", "forcepublish", "markpublished"),
    *("cancel", "done", "skip", "poll", "addpoll", "closepoll", "results"),
    *("schedule", "unschedule", "scheduled", "edit", "summary", "tags", "credit"),
    *("published",),
)


def setup() -> Router:
    router = Router(name="readers")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(start_with_payload, CommandStart(deep_link=True))
    router.message.register(start_bare, CommandStart())
    router.message.register(reader_help, Command("help"))
    router.message.register(editors_only, Command(*EDITOR_COMMANDS))
    router.message.register(reader_help)
    router.callback_query.register(read_button, ReadArticle.filter())
    return router
