"""The editor's desk: admins manage editors (/editors, /addeditor, /removeeditor), editors
read an article's history (/history) and statistics (/stats); reaction counts of channel
posts arrive as ``message_reaction_count`` updates."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
    MessageReactionCountUpdated,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    TelegramObject,
    User,
)

from bot.desk.editors import parse_user_id
from bot.desk.history import acting, history_lines, version_lines
from bot.desk.stats import (
    CHART_DAYS,
    CUSTOM_PREFIX,
    PAID,
    ArticleStats,
    Stats,
    article_report,
    overview_report,
)
from bot.models import Actor, EditorSource
from bot.services import Services
from bot.settings import Settings
from bot.telegram.updates import NextHandler
from bot.telegram_text.html import escaped_html
from bot.texts import WHEN_FORMAT, Texts

from .replies import answer_long, answer_outcome, named_id

ADMIN_COMMANDS = ("editors", "addeditor", "removeeditor")
CHART_FILE = "stats.png"


class IsEditor(BaseFilter):
    """The editor filter of the editors' router: asks the current set of editors, so an
    editor added or removed in chat is one at once."""

    async def __call__(self, message: Message, services: Services) -> bool:
        return message.from_user is not None and await services.editors.is_editor(
            message.from_user.id
        )


class IsAdmin(BaseFilter):
    async def __call__(self, message: Message, services: Services) -> bool:
        return message.from_user is not None and services.editors.is_admin(message.from_user.id)


class ActingEditor(BaseMiddleware):
    """Inner middleware of the editors' router: the services record who acts (in the
    articles' history) for the update an editor's handler handles."""

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        user = data.get("event_from_user")
        if not isinstance(user, User):
            return await handler(event, data)
        token = acting.set(Actor(user.id, user.full_name))
        try:
            return await handler(event, data)
        finally:
            acting.reset(token)


def _actor(message: Message) -> tuple[int, str | None]:
    assert message.from_user is not None
    return message.from_user.id, message.from_user.full_name


def _forwarded_user(message: Message, texts: Texts) -> int | str:
    """The id of the person a replied-to forward came from, or what to answer instead."""
    reply = message.reply_to_message
    origin = reply.forward_origin if reply is not None else None
    if isinstance(origin, MessageOriginUser):
        if origin.sender_user.is_bot:
            return escaped_html(texts.addeditor_bot)
        return origin.sender_user.id
    if isinstance(origin, MessageOriginHiddenUser):
        return escaped_html(texts.addeditor_hidden_forward)
    return escaped_html(texts.addeditor_usage)


# Admins only: the router tree puts this router under the admin filter, and the refusal
# (``not_admins``) after it, so editors who are not admins are told so.
admins = Router(name="desk_admins_only")


@admins.message(Command("editors"))
async def cmd_editors(
    message: Message, services: Services, settings: Settings, texts: Texts
) -> None:
    lines = [texts.editors_header]
    for entry in await services.editors.listing():
        if entry.source is EditorSource.ADMIN:
            lines.append(texts.editors_line_admin.format(id=entry.user_id))
        elif entry.source is EditorSource.SETTINGS:
            lines.append(texts.editors_line_settings.format(id=entry.user_id))
        else:
            added = entry.added_at
            when = added.astimezone(settings.tz).strftime(WHEN_FORMAT) if added else ""

            lines.append(
                texts.editors_line_database.format(
                    id=entry.user_id, added_by=entry.added_by, when=when
                )
            )
    lines += ["", texts.editors_footer]
    await answer_long(message, "\n".join(lines))


@admins.message(Command("addeditor"))
async def cmd_addeditor(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/addeditor 123``, or ``/addeditor`` in reply to a message forwarded from them."""
    target: int | str | None = parse_user_id(command.args)
    if target is None:
        target = (
            escaped_html(texts.addeditor_usage)
            if command.args
            else _forwarded_user(message, texts)
        )
    if isinstance(target, str):
        await message.answer(target)
        return
    outcome = await services.editors.add(target, *_actor(message))
    await answer_outcome(message, texts, texts.editor_add_outcomes, outcome, target)


@admins.message(Command("removeeditor"))
async def cmd_removeeditor(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    target = await named_id(message, command.args, texts.removeeditor_usage, parse_user_id)
    if target is None:
        return
    outcome = await services.editors.remove(target, *_actor(message))
    await answer_outcome(message, texts, texts.editor_remove_outcomes, outcome, target)


not_admins = Router(name="desk_not_admins")


@not_admins.message(Command(*ADMIN_COMMANDS))
async def not_admin(message: Message, texts: Texts) -> None:
    await message.answer(escaped_html(texts.admins_only))


async def _named_article(
    message: Message, command: CommandObject, stats: Stats, texts: Texts, usage: str
) -> ArticleStats | None:
    """The article a command names; None once the editor has been told why there is none."""
    article_id = await named_id(message, command.args, usage)
    if article_id is None:
        return None
    found = await stats.article(article_id)
    if found is None:
        await message.answer(escaped_html(texts.not_found, id=article_id))
    return found


router = Router(name="desk")


@router.message(Command("history"))
async def cmd_history(
    message: Message, command: CommandObject, services: Services, settings: Settings, texts: Texts
) -> None:
    found = await _named_article(message, command, services.stats, texts, texts.history_usage)
    if found is None:
        return
    article_id = found.article.id
    actions = await services.history.article(article_id)
    versions = await services.revisions.versions(article_id)
    if not actions and not versions:
        await message.answer(escaped_html(texts.history_empty, id=article_id))
        return
    header = texts.history_header.format(
        id=article_id, title=found.article.title, timezone=settings.timezone
    )
    lines = [header, *history_lines(actions, settings.tz, texts)]
    if versions:
        lines += ["", texts.versions_header.format(id=article_id)]
        lines += version_lines(versions, settings.tz, texts)
    await answer_long(message, "\n".join(lines))


@router.message(Command("stats"))
async def cmd_stats(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """Today's text, then the chart (or why there is none)."""
    stats = services.stats
    if not command.args:
        overview = await stats.overview()
        await answer_long(message, overview_report(overview, texts))
        no_chart = escaped_html(texts.stats_chart_no_readers_period, days=CHART_DAYS)
        await _answer_chart(message, await stats.overview_chart(overview), no_chart)
        return
    found = await _named_article(message, command, stats, texts, texts.stats_usage)
    if found is not None:
        await answer_long(message, article_report(found, texts))
        no_chart = escaped_html(texts.stats_chart_no_readers)
        await _answer_chart(message, await stats.article_chart(found), no_chart)


async def _answer_chart(message: Message, chart: bytes | None, no_chart: str) -> None:
    """The chart as a photo; words when there was nothing to draw."""
    if chart is None:
        await message.answer(no_chart)
    else:
        await message.answer_photo(BufferedInputFile(chart, CHART_FILE))


def reaction_key(reaction: Any) -> str:
    """How a reaction type is stored: the emoji itself, or a label for the others."""
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return CUSTOM_PREFIX + reaction.custom_emoji_id
    return PAID


reactions = Router(name="reactions")


@reactions.message_reaction_count()
async def on_reaction_count(update: MessageReactionCountUpdated, services: Services) -> None:
    """Telegram's latest counts for a post; posts of other chats are not ours."""
    if not services.channel.is_this_channel(update.chat):
        return
    counts = tuple((reaction_key(r.type), r.total_count) for r in update.reactions)
    await services.stats.record_reactions(update.message_id, counts, update.date)
