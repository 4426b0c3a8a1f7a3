"""What a reader may open, counting who read what, and delivering the full text.

The full text goes out as one rich message (``sendRichMessage``, Bot API 10.1) unless
the setting says "classic", the article is over a rich message's limits, or the Bot API
server turned out not to know the method: then as split HTML messages.  A server that
does not know it (a self-hosted telegram-bot-api older than 10.1 answers 404) is
remembered for the life of the process, so later readers do not pay for the failed try.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Protocol, TypeVar

from aiogram.types import InlineKeyboardMarkup, InputRichMessage

from bot.articles.formatting import full_text
from bot.articles.rich import rich_full_text
from bot.models import Article, ArticleStatus
from bot.repositories import READABLE, ArticleStore
from bot.texts import Texts

logger = logging.getLogger(__name__)

T = TypeVar("T")
CacheKey = tuple[int, datetime, int]  # article, its version, the reader's language


class FullTextForm(StrEnum):
    RICH = "rich"  # one rich message
    CLASSIC = "classic"  # HTML messages, split at the message limit


class ReadOutcome(StrEnum):
    SENT = "sent"
    NOT_FOUND = "not_found"  # or not readable by this reader (a draft)
    WITHDRAWN = "withdrawn"


class RichUnsupported(Exception):
    """The Bot API server does not know sendRichMessage: nothing was sent."""


class RichRefused(Exception):
    """This rich message was refused (400): certainly not sent."""


class ReaderChat(Protocol):
    """A reader's private chat (the Telegram reader chat implements it)."""

    async def send_rich(
        self, message: InputRichMessage, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        """Raises RichUnsupported or RichRefused when certainly not sent."""

    async def send_html(self, html: str, keyboard: InlineKeyboardMarkup | None) -> None: ...


class Reading:
    # Splitting a long article costs milliseconds; a viral post is opened by thousands.
    CACHE_SIZE = 256

    def __init__(
        self,
        articles: ArticleStore,
        texts: Texts,
        tz: tzinfo,
        form: FullTextForm = FullTextForm.RICH,
    ) -> None:
        self._articles = articles
        self._texts = texts
        self._tz = tz
        self.form = form
        # Process-wide: False once the server answered that it does not know the method.
        self.rich_available = True
        self._parts: OrderedDict[CacheKey, list[str]] = OrderedDict()
        self._rich: OrderedDict[CacheKey, InputRichMessage | None] = OrderedDict()

    def _cached(
        self,
        cache: OrderedDict[CacheKey, T],
        article: Article,
        texts: Texts,
        build: Callable[[], T],
    ) -> T:
        # Each language's Texts is one module-level object: its id names the language.
        key = (article.id, article.updated_at, id(texts))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = cache[key] = build()
        if len(cache) > self.CACHE_SIZE:
            cache.popitem(last=False)
        return value

    def full_text_html(self, article: Article, texts: Texts | None = None) -> list[str]:
        """The reader's messages for an article in the reader's ``texts`` (labels and the
        date line), cached until the article changes."""
        texts = texts or self._texts

        def build() -> list[str]:
            rendered = full_text(
                article.content, texts=texts, published=article.published_at, tz=self._tz
            )
            return [part.as_html() for part in rendered]

        return self._cached(self._parts, article, texts, build)

    def full_text_rich(
        self, article: Article, texts: Texts | None = None
    ) -> InputRichMessage | None:
        """The article as one rich message; None when over a rich message's limits."""
        texts = texts or self._texts
        return self._cached(
            self._rich,
            article,
            texts,
            lambda: rich_full_text(
                article.content,
                texts=texts,
                published=article.published_at,
                tz=self._tz,
                photo_file_id=article.photo_file_id,
            ),
        )

    async def deliver(
        self,
        article: Article,
        chat: ReaderChat,
        keyboard: InlineKeyboardMarkup | None = None,
        texts: Texts | None = None,
    ) -> FullTextForm:
        """Send the full text in the form that fits; returns the form used.

        ``keyboard`` (e.g. related news) goes under the rich message, or under the last
        classic part.  Falls back to classic only when the rich send certainly did not go
        out; a send with an unknown outcome raises and is never repeated in another form.
        """
        if self.form is FullTextForm.RICH and self.rich_available:
            rich = self.full_text_rich(article, texts)
            if rich is not None:
                try:
                    await chat.send_rich(rich, keyboard)
                except RichUnsupported:
                    logger.warning(
                        "The Bot API server does not know sendRichMessage: full texts go "
                        "out in the classic form from now on"
                    )
                    self.rich_available = False
                except RichRefused as exc:
                    logger.warning("Article %s: rich message refused: %s", article.id, exc)
                else:
                    return FullTextForm.RICH
        parts = self.full_text_html(article, texts)
        for index, part in enumerate(parts):
            await chat.send_html(part, keyboard if index == len(parts) - 1 else None)
        return FullTextForm.CLASSIC

    async def read(
        self,
        article_id: int,
        reader_id: int,
        chat: ReaderChat,
        *,
        is_editor: bool,
        keyboard: InlineKeyboardMarkup | None = None,
        texts: Texts | None = None,
    ) -> ReadOutcome:
        """A reader asked for an article (deep link or button): send it if they may."""
        article = await self.open(article_id, reader_id, is_editor=is_editor)
        if article is None:
            return ReadOutcome.NOT_FOUND
        if article.status is ArticleStatus.WITHDRAWN and not is_editor:
            return ReadOutcome.WITHDRAWN
        await self.deliver(article, chat, keyboard, texts)
        return ReadOutcome.SENT

    async def open(self, article_id: int, reader_id: int, *, is_editor: bool) -> Article | None:
        """The article if this reader may read it; a first read of a readable one counts.

        Readers see published and archived articles only.  Editors may also read the
        others (to proof the full text); no read of an editor counts, so the newsroom
        proofing its own articles does not move /top or the digest.
        A withdrawn article is returned as it is (status WITHDRAWN), uncounted: the reader
        is told it was withdrawn; an editor may still read it.
        """
        article = await self._articles.get(article_id)
        if article is None:
            return None
        if article.status is ArticleStatus.WITHDRAWN:
            return article
        if article.status in READABLE:
            if not is_editor:
                await self._articles.record_read(article_id, reader_id)
            return article
        # Anything else never reached the channel, or may not have (uncertain, still
        # publishing): ids are sequential, so readers could guess them.
        return article if is_editor else None

    async def latest(self, limit: int = 5) -> list[Article]:
        return await self._articles.latest_published(limit)
