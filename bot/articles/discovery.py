"""Finding articles: search, related articles after a full text, the most read.

Plain data in and out (``Headline``); the handlers turn them into buttons, inline results
and lines.  What matches and in which order is the SearchIndex's business (stems, ranking).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.models import Headline
from bot.repositories import ArticleStore, Readership, SearchIndex

# A query longer than this is cut: no one searches with a paragraph, and it bounds the work.
MAX_QUERY_CHARS = 256
TOP_WINDOW = timedelta(days=7)
RELATED_LIMIT = 3
# The week's most read moves slowly, and counting a week of reads costs milliseconds per
# ten thousand reads (the search benchmark): /top and every bare /start share one count a
# minute.
TOP_CACHE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class FrontPage:
    """What a bare /start shows: the latest headlines and the week's most read."""

    latest: list[Headline]
    most_read: list[Headline]


class Discovery:
    def __init__(
        self,
        articles: ArticleStore,
        index: SearchIndex,
        stats: Readership,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._articles = articles
        self._index = index
        self._stats = stats
        self.clock = clock
        self._top: tuple[datetime, int, list[Headline]] | None = None

    @staticmethod
    def clean_query(query: str | None) -> str:
        return " ".join((query or "").split())[:MAX_QUERY_CHARS]

    async def search(self, query: str | None, limit: int = 10, offset: int = 0) -> list[Headline]:
        """Best match first; an empty query lists the latest articles (inline mode)."""
        text = self.clean_query(query)
        if not text:
            if offset:
                return []
            return [Headline.of(a) for a in await self._articles.latest_published(limit)]
        return await self._index.search(text, limit, offset)

    async def related(self, article_id: int, limit: int = RELATED_LIMIT) -> list[Headline]:
        """Up to ``limit`` other published articles: sharing tags first, then similar text.
        For the buttons under a full text's last message."""
        return await self._index.related(article_id, limit)

    async def top(self, limit: int = 10, window: timedelta = TOP_WINDOW) -> list[Headline]:
        """Most read by distinct readers who first opened them within ``window``."""
        now = self.clock()
        cached = self._top
        if (
            window == TOP_WINDOW
            and cached is not None
            and cached[1] >= limit
            and timedelta(0) <= now - cached[0] < TOP_CACHE
        ):
            return cached[2][:limit]
        # Reads are stamped by the database's clock: a little slack at the end.
        found = await self._stats.most_read(now - window, now + timedelta(minutes=1), limit)
        if window == TOP_WINDOW:
            self._top = (now, limit, found)
        return found

    async def front_page(self, latest: int = 5, most_read: int = 5) -> FrontPage:
        newest = [Headline.of(a) for a in await self._articles.latest_published(latest)]
        return FrontPage(newest, await self.top(most_read))
