"""Small pieces every handler module uses."""

from __future__ import annotations

from typing import Any

from aiogram.types import LinkPreviewOptions, Message
from aiogram.utils.formatting import Text

from bot.articles.formatting import MESSAGE_LIMIT
from bot.articles.intake import InputError
from bot.models import Article, Poll
from bot.telegram.channel import Channel
from bot.text.splitting import split_text
from bot.texts import Texts
from storage.sqlite.articles import ArticleRepository


def plain(template: str, **values: Any) -> str:
    """A user-facing message as HTML: every character, values included, shown literally."""
    return Text(template.format(**values) if values else template).as_html()


def explain(error: InputError, texts: Texts) -> str:
    return plain(getattr(texts, error.key), **error.params)


async def answer_long(message: Message, text: str) -> None:
    """A listing of any length, as as many messages as Telegram's limit needs."""
    for part in split_text(Text(text), MESSAGE_LIMIT):
        await message.answer(
            part.as_html(), link_preview_options=LinkPreviewOptions(is_disabled=True)
        )


async def refuse(
    message: Message, article_id: int, articles: ArticleRepository, texts: Texts
) -> None:
    """An action on an article was not applied: say whether it is missing or in the way."""
    existing = await articles.get(article_id)
    if existing is None:
        await message.answer(plain(texts.not_found, id=article_id))
    else:
        await message.answer(
            plain(
                texts.publish_not_allowed,
                id=article_id,
                status=texts.status_name(existing.status),
            )
        )


async def send_preview(
    message: Message,
    article: Article,
    *,
    channel: Channel,
    articles: ArticleRepository,
    texts: Texts,
    notice: str | None = None,
    poll: Poll | None = None,
) -> None:
    """Show the draft exactly as the channel will, then what the editor can do with it."""
    post = await channel.render(article, preview=True)
    preview_id = await channel.send_rendered(message.chat.id, post)
    await articles.remember_preview(message.chat.id, preview_id, article.id)
    lines = [texts.draft_actions.format(id=article.id, title=article.title)]
    if poll is not None:
        lines.append(texts.draft_has_poll.format(poll_id=poll.id, question=poll.question))
    elif article.content.poll_question:
        lines.append(
            texts.draft_poll_offer.format(question=article.content.poll_question, id=article.id)
        )
    if notice:
        lines.insert(0, notice)
    await message.answer(plain("\n\n".join(lines)))
