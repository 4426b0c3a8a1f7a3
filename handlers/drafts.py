"""Editors' commands about existing drafts: import, list, photo, publish."""

from __future__ import annotations

import io
import logging

import aiohttp
from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.articles.intake import MAX_DOCUMENT_BYTES, InputError, decode_document, parse_id
from bot.articles.parsing import ParseError, parse_article
from bot.articles.publishing import Outcome, Publisher, PublishResult
from bot.settings import Settings
from bot.telegram.channel import Channel
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository

from .replies import answer_long, explain, plain, refuse, send_preview

logger = logging.getLogger(__name__)


async def cmd_help(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.editor_help))


async def _import_text(
    message: Message, raw: str, *, channel: Channel, articles: ArticleRepository, texts: Texts
) -> None:
    try:
        content = parse_article(raw)
    except ParseError as exc:
        await message.answer(plain(texts.import_error(exc.code)))
        return
    assert message.from_user is not None
    article = await articles.create(content, message.from_user.id)
    await send_preview(message, article, channel=channel, articles=articles, texts=texts)


async def cmd_import(
    message: Message,
    command: CommandObject,
    channel: Channel,
    articles: ArticleRepository,
    texts: Texts,
) -> None:
    """``/import`` with the text on the following lines, or as a reply to the text."""
    raw = command.args
    if not raw and message.reply_to_message is not None:
        replied = message.reply_to_message
        raw = replied.text or replied.caption
    if not raw or not raw.strip():
        await message.answer(plain(texts.import_usage))
        return
    await _import_text(message, raw, channel=channel, articles=articles, texts=texts)


async def document_import(
    message: Message, bot: Bot, channel: Channel, articles: ArticleRepository, texts: Texts
) -> None:
    """A ``.txt`` file sent with the caption ``/import``."""
    document = message.document
    assert document is not None
    if document.file_size is not None and document.file_size > MAX_DOCUMENT_BYTES:
        await message.answer(plain(texts.import_file_too_big, limit=MAX_DOCUMENT_BYTES // 1000))
        return
    buffer = io.BytesIO()
    try:
        await bot.download(document, destination=buffer)
    except (TelegramAPIError, aiohttp.ClientError, OSError) as exc:
        # aiohttp's errors name the file URL, which holds the token: log the type only.
        logger.warning("Could not download an import file: %s", type(exc).__name__)
        await message.answer(plain(texts.import_download_failed))
        return
    try:
        raw = decode_document(buffer.getvalue(), document.file_name)
    except InputError as exc:
        await message.answer(explain(exc, texts))
        return
    await _import_text(message, raw, channel=channel, articles=articles, texts=texts)


async def cmd_drafts(message: Message, articles: ArticleRepository, texts: Texts) -> None:
    drafts = await articles.list_unpublished()
    if not drafts:
        await message.answer(plain(texts.drafts_empty))
        return
    lines = [texts.drafts_header]
    lines += [
        texts.drafts_line.format(id=a.id, status=texts.status_name(a.status), title=a.title)
        for a in drafts
    ]
    await answer_long(message, "\n".join(lines))


async def cmd_published(
    message: Message,
    articles: ArticleRepository,
    publisher: Publisher,
    settings: Settings,
    texts: Texts,
) -> None:
    published = await articles.latest_published(20)
    if not published:
        await message.answer(plain(texts.published_empty))
        return
    lines = [texts.published_header]
    lines += [
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
    await answer_long(message, "\n".join(lines))


async def _attach_photo(
    message: Message, article_id: int, articles: ArticleRepository, texts: Texts
) -> None:
    assert message.photo
    largest = max(message.photo, key=lambda size: size.width * size.height)
    article = await articles.set_photo(article_id, largest.file_id)
    if article is None:
        await refuse(message, article_id, articles, texts)
        return
    await message.answer(plain(texts.photo_attached, id=article_id))


async def photo_with_command(
    message: Message, command: CommandObject, articles: ArticleRepository, texts: Texts
) -> None:
    article_id = parse_id(command.args)
    if article_id is None:
        await message.answer(plain(texts.photo_bad_id))
        return
    await _attach_photo(message, article_id, articles, texts)


async def photo_reply(message: Message, articles: ArticleRepository, texts: Texts) -> None:
    """A photo sent as a reply to a draft's preview attaches to that draft."""
    assert message.reply_to_message is not None
    article_id = await articles.article_for_preview(
        message.chat.id, message.reply_to_message.message_id
    )
    if article_id is None:
        await message.answer(plain(texts.photo_usage))
        return
    await _attach_photo(message, article_id, articles, texts)


async def photo_without_command(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.photo_usage))


async def cmd_photo_without_photo(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.photo_usage))


async def no_dialog(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.no_dialog))


def describe_publish(
    result: PublishResult, article_id: int, channel: Channel, texts: Texts
) -> str:
    """The editor's report of a publish attempt, in plain words."""
    status = texts.status_name(result.article.status) if result.article else ""
    reason = result.reason or ""
    messages = {
        Outcome.PUBLISHED: texts.published,
        Outcome.ALREADY_PUBLISHED: texts.already_published,
        Outcome.IN_PROGRESS: texts.publish_in_progress,
        Outcome.UNCERTAIN: texts.publish_uncertain,
        Outcome.FAILED: texts.publish_no_rights if result.no_rights else texts.publish_failed,
        Outcome.NOT_FOUND: texts.not_found,
        Outcome.NOT_PUBLISHABLE: texts.publish_not_allowed,
    }
    return plain(
        messages[result.outcome],
        id=article_id,
        link=result.link or "",
        reason=reason,
        status=status,
        channel=channel.chat_id,
    )


async def cmd_publish(
    message: Message,
    command: CommandObject,
    publisher: Publisher,
    channel: Channel,
    texts: Texts,
) -> None:
    article_id = parse_id(command.args)
    if article_id is None:
        await message.answer(plain(texts.publish_usage))
        return
    force = command.command.lower() == "forcepublish"
    result = await publisher.publish(article_id, force=force)
    await message.answer(describe_publish(result, article_id, channel, texts))


async def cmd_mark_published(
    message: Message,
    command: CommandObject,
    publisher: Publisher,
    channel: Channel,
    texts: Texts,
) -> None:
    """``/markpublished 12 https://t.me/channel/345``: the editor found the post."""
    parts = (command.args or "").split()
    article_id = parse_id(parts[0]) if parts else None
    message_id = _message_id_from_link(parts[1]) if len(parts) == 2 else None
    if article_id is None or message_id is None:
        await message.answer(plain(texts.markpublished_usage))
        return
    result = await publisher.mark_published(article_id, message_id)
    await message.answer(describe_publish(result, article_id, channel, texts))


def _message_id_from_link(text: str) -> int | None:
    tail = text.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() and 0 < int(tail) < 2**31 else None


def setup(editor_ids: frozenset[int]) -> Router:
    router = Router(name="editors")
    router.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    router.message.register(cmd_help, Command("help"))
    router.message.register(document_import, Command("import"), F.document)
    router.message.register(cmd_import, Command("import"))
    router.message.register(cmd_drafts, Command("drafts"))
    router.message.register(cmd_published, Command("published"))
    router.message.register(photo_with_command, Command("photo"), F.photo)
    router.message.register(cmd_photo_without_photo, Command("photo"))
    router.message.register(photo_reply, F.photo, F.reply_to_message)
    router.message.register(cmd_publish, Command("publish", "forcepublish"))
    router.message.register(cmd_mark_published, Command("markpublished"))
    router.message.register(photo_without_command, F.photo)
    router.message.register(no_dialog, Command("done", "skip"))
    return router
