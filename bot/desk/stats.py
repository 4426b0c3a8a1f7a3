"""/stats: readers, poll results and reactions of one article; the day's and the week's
totals.  Reaction counts come from ``message_reaction_count`` updates (Telegram sends
them, grouped and up to minutes late, only to a bot that is an admin of the channel and
asks for them in ``allowed_updates``); the database keeps the newest per post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.models import Article, PeriodStats, Poll, PostReactions
from bot.repositories import ArticleStore, PollStore, StatsStore

TOP_ARTICLES = 5


@dataclass(frozen=True, slots=True)
class ArticleStats:
    article: Article
    poll: Poll | None
    reactions: PostReactions | None

    @property
    def readers(self) -> int:
        return self.article.reads


@dataclass(frozen=True, slots=True)
class Overview:
    today: PeriodStats
    week: PeriodStats


def period_starts(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Midnight today and midnight of this week's Monday, in the newsroom's time zone."""
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=local.weekday())
    return midnight, monday


class Stats:
    def __init__(
        self,
        articles: ArticleStore,
        polls: PollStore,
        store: StatsStore,
        channel_chat: str,
        tz: tzinfo,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._articles = articles
        self._polls = polls
        self._store = store
        self._channel_chat = channel_chat
        self._tz = tz
        self._clock = clock

    async def record_reactions(
        self, message_id: int, counts: tuple[tuple[str, int], ...], date: datetime
    ) -> bool:
        """Counts for a post in our channel; an update older than the stored one is
        ignored.  Largest first, so the listing shows the popular ones first."""
        ordered = tuple(sorted(counts, key=lambda pair: (-pair[1], pair[0])))
        return await self._store.save_reactions(self._channel_chat, message_id, ordered, date)

    async def article(self, article_id: int) -> ArticleStats | None:
        article = await self._articles.get(article_id)
        if article is None:
            return None
        poll = await self._polls.for_article(article_id)
        reactions = None
        if article.channel_message_id is not None:
            reactions = await self._store.reactions(
                article.channel_chat_id or self._channel_chat, article.channel_message_id
            )
        return ArticleStats(article, poll, reactions)

    async def overview(self) -> Overview:
        now = self._clock()
        today, week = period_starts(now, self._tz)
        until = now + timedelta(seconds=1)
        return Overview(
            today=await self._store.period_stats(today, until, TOP_ARTICLES),
            week=await self._store.period_stats(week, until, TOP_ARTICLES),
        )
