"""What a reader may open, and counting who read what."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, tzinfo

from bot.articles.formatting import full_text
from bot.models import Article, ArticleStatus
from bot.repositories import ArticleStore
from bot.texts import Texts


class Reading:
    # Splitting a long article costs milliseconds; a viral post is opened by thousands.
    CACHE_SIZE = 256

    def __init__(self, articles: ArticleStore, texts: Texts, tz: tzinfo) -> None:
        self._articles = articles
        self._texts = texts
        self._tz = tz
        self._parts: OrderedDict[tuple[int, datetime], list[str]] = OrderedDict()

    def full_text_html(self, article: Article) -> list[str]:
        """The reader's messages for an article, cached until the article changes."""
        key = (article.id, article.updated_at)
        parts = self._parts.get(key)
        if parts is None:
            rendered = full_text(
                article.content, texts=self._texts, published=article.published_at, tz=self._tz
            )
            parts = [part.as_html() for part in rendered]
            self._parts[key] = parts
            if len(self._parts) > self.CACHE_SIZE:
                self._parts.popitem(last=False)
        else:
            self._parts.move_to_end(key)
        return parts

    async def open(self, article_id: int, reader_id: int, *, is_editor: bool) -> Article | None:
        """The article if this reader may read it; a first read of a published one counts.

        Editors may also read drafts (to proof the full text); no read of an editor counts,
        so the newsroom proofing its own articles does not move /top or the digest.
        """
        article = await self._articles.get(article_id)
        if article is None:
            return None
        if article.status is ArticleStatus.PUBLISHED:
            if not is_editor:
                await self._articles.record_read(article_id, reader_id)
            return article
        if article.status in (ArticleStatus.UNCERTAIN, ArticleStatus.PUBLISHING):
            # Its post may already be in the channel: a reader who tapped it gets the text.
            return article
        return article if is_editor else None

    async def latest(self, limit: int = 5) -> list[Article]:
        return await self._articles.latest_published(limit)
