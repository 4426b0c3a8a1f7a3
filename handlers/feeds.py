"""The site's feeds: /feed add|remove, /feeds, /reject, /apply, and the cards' buttons
(in an editor's chat or the desk group; editors only)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.articles.drafts import describe_action
from bot.articles.publishing import describe_publish
from bot.feeds.cards import CardAction, CardVerb
from bot.feeds.desk import AddOutcome, AddResult, ApplyOutcome
from bot.models import FeedMode
from bot.services import Services
from bot.settings import Settings
from bot.telegram_text.html import escaped_html
from bot.texts import Texts

from .replies import answer_listing, named_id
from .revisions import answer_edit

router = Router(name="feeds")
# The cards' buttons: in private chats and in the desk group alike.
buttons = Router(name="feed_cards")


def _add_reply(result: AddResult, url: str, texts: Texts) -> str:
    if result.outcome is AddOutcome.FAILED:
        reason = texts.feed_error(result.error or "", result.error_params)
        return escaped_html(texts.feed_add_failed, reason=reason)
    assert result.feed is not None or result.outcome is AddOutcome.EXISTS
    if result.outcome is AddOutcome.EXISTS:
        return escaped_html(texts.feed_exists, id=result.feed.id if result.feed else "?")
    feed = result.feed
    assert feed is not None
    template = texts.feed_added_auto if feed.mode is FeedMode.AUTO else texts.feed_added
    lines = [
        template.format(
            id=feed.id, url=url, total=result.seen + len(result.drafted), seen=result.seen
        )
    ]
    if result.drafted:
        lines.append(texts.feed_added_drafted.format(count=len(result.drafted)))
    if result.skipped:
        lines.append(
            texts.feed_added_skipped.format(
                count=len(result.skipped), reasons=texts.feed_skips(result.skipped)
            )
        )
    if result.error:
        lines.append(texts.feed_error(result.error, result.error_params))
    return escaped_html("\n".join(lines))


@router.message(Command("feed"))
async def cmd_feed(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    """``/feed add <url> [N | auto]``, ``/feed remove <id>``."""
    assert message.from_user is not None
    words = (command.args or "").split()
    verb = words[0].lower() if words else ""
    if verb == "remove" and len(words) == 2:
        feed_id = await named_id(message, words[1], texts.feed_remove_usage)
        if feed_id is None:
            return
        removed = await services.feeds.remove(feed_id)
        await message.answer(
            escaped_html(texts.feed_removed if removed else texts.feed_not_found, id=feed_id)
        )
        return
    option = words[2].lower() if len(words) == 3 else None
    newest = int(option) if option is not None and option.isdigit() else 0
    if verb != "add" or len(words) not in (2, 3) or (option not in (None, "auto") and not newest):
        await message.answer(escaped_html(texts.feed_usage))
        return
    mode = FeedMode.AUTO if option == "auto" else FeedMode.REVIEW
    result = await services.feeds.add(words[1], mode, newest, message.from_user.id)
    await message.answer(_add_reply(result, words[1], texts))
    await services.feeds.announce(result)  # the cards of the drafts, after the answer


def _when(moment: datetime | None, settings: Settings, texts: Texts) -> str:
    if moment is None:
        return texts.feeds_never
    return moment.astimezone(settings.tz).strftime("%d.%m %H:%M")


@router.message(Command("feeds"))
async def cmd_feeds(
    message: Message, services: Services, settings: Settings, texts: Texts
) -> None:
    listed = await services.feeds.feeds()
    lines = [
        texts.feeds_line.format(
            id=feed.id,
            url=feed.url,
            mode=texts.feed_mode(feed.mode),
            checked=_when(feed.last_checked_at, settings, texts),
            new=_when(feed.last_new_item_at, settings, texts),
            error=feed.last_error or texts.feeds_never,
        )
        for feed in listed
    ]
    await answer_listing(message, texts.feeds_header, lines, texts.feeds_empty)


@router.message(Command("reject"))
async def cmd_reject(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    article_id = await named_id(message, command.args, texts.reject_usage)
    if article_id is None:
        return
    result = await services.feeds.reject(article_id)
    await message.answer(describe_action(result, texts, texts.rejected))


@router.message(Command("apply"))
async def cmd_apply(
    message: Message, command: CommandObject, services: Services, texts: Texts
) -> None:
    article_id = await named_id(message, command.args, texts.apply_usage)
    if article_id is None:
        return
    result = await services.feeds.apply(article_id)
    if result.outcome is ApplyOutcome.NOTHING or result.edit is None:
        await message.answer(escaped_html(texts.apply_nothing, id=article_id))
        return
    await answer_edit(message, result.edit, article_id, services.drafts, texts)


@buttons.callback_query(CardAction.filter(), F.message)
async def card_button(
    callback: CallbackQuery,
    callback_data: CardAction,
    bot: Bot,
    services: Services,
    settings: Settings,
    texts: Texts,
) -> None:
    """A card's "Опубликовать" / "Отклонить": for editors only (the desk group has
    others in it); the cards themselves are edited by the services once it is done."""
    if not await services.editors.is_editor(callback.from_user.id):
        await callback.answer(texts.card_editors_only, show_alert=True)
        return
    await callback.answer(texts.card_done)
    article_id = callback_data.article_id
    assert callback.message is not None
    chat_id = callback.message.chat.id
    if callback_data.verb is CardVerb.PUBLISH:
        result = await services.publisher.publish(article_id)
        text = describe_publish(result, article_id, settings.channel_id, texts)
    else:
        text = describe_action(await services.feeds.reject(article_id), texts, texts.rejected)
    await bot.send_message(chat_id, text)
