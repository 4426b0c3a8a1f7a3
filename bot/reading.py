"""What a reader may open, and counting who read what."""

from __future__ import annotations

import re

from bot.models import Article, ArticleStatus
from storage.articles import ArticleRepository

_PAYLOAD_RE = re.compile(r"^a([1-9][0-9]{0,9})$")


def article_id_from_payload(payload: str | None) -> int | None:
    """``"a12"`` → 12; anything else (forged, truncated, another bot's) → None."""
    if not payload:
        return None
    match = _PAYLOAD_RE.match(payload.strip())
    return int(match.group(1)) if match else None


class Reading:
    def __init__(self, articles: ArticleRepository) -> None:
        self._articles = articles

    async def open(self, article_id: int, reader_id: int, *, is_editor: bool) -> Article | None:
        """The article if this reader may read it; a first read of a published one counts.

        Editors may also read drafts (to proof the full text); those reads are not counted.
        """
        article = await self._articles.get(article_id)
        if article is None:
            return None
        if article.status is ArticleStatus.PUBLISHED:
            await self._articles.record_read(article_id, reader_id)
            return article
        return article if is_editor else None

    async def latest(self, limit: int = 5) -> list[Article]:
        return await self._articles.latest_published(limit)
