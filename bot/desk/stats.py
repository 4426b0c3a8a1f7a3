"""/stats: readers, poll results and reactions of one article; the day's and the week's
totals.  Reaction counts come from ``message_reaction_count`` updates (Telegram sends
them, grouped and up to minutes late, only to a bot that is an admin of the channel and
asks for them in ``allowed_updates``); the database keeps the newest per post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.desk.charts import ChartWorker, article_panels, overview_panels
from bot.models import Article, PeriodStats, Poll, PostReactions
from bot.polls.rules import results_report
from bot.repositories import ArticleStore, PollStore, Readership, StatsStore
from bot.texts import Texts

TOP_ARTICLES = 5
# The article's chart: readers per hour over its first hours in the channel.
CHART_HOURS = 48
# The overview's chart: readers per day over the last days, today included.
CHART_DAYS = 14


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
    """The numbers of /stats, and their charts, drawn in ``chart_texts`` (the channel's
    language)."""

    def __init__(
        self,
        articles: ArticleStore,
        polls: PollStore,
        store: StatsStore,
        readership: Readership,
        channel_chat: str,
        tz: tzinfo,
        chart_texts: Texts,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        charts: ChartWorker | None = None,
    ) -> None:
        self.charts = charts or ChartWorker()
        self._articles = articles
        self._polls = polls
        self._store = store
        self._readership = readership
        self._channel_chat = channel_chat
        self._tz = tz
        self._chart_texts = chart_texts
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

    async def article_chart(self, found: ArticleStats) -> bytes | None:
        """A PNG of the article's new readers per hour over its first ``CHART_HOURS`` in
        the channel (and its poll's results); None when no one has read it."""
        published = found.article.published_at
        if published is None or found.readers == 0:
            return None
        bounds = [published + timedelta(hours=hour) for hour in range(CHART_HOURS + 1)]
        per_hour = await self._readership.readers_per_period(bounds, found.article.id)
        panels = article_panels(found.article.id, per_hour, found.poll, self._chart_texts)
        return await self.charts.draw(panels)

    async def overview_chart(self, overview: Overview) -> bytes | None:
        """A PNG of the readers per day over the last ``CHART_DAYS`` days (midnight to
        midnight in the newsroom's zone) and the week's most read; None when no one
        read anything in those days."""
        today = self._clock().astimezone(self._tz).date()
        days = [today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
        per_day = await self._readership.readers_per_period(
            [_midnight(day, self._tz) for day in [*days, today + timedelta(days=1)]]
        )
        if not any(per_day) and not overview.week.top:
            return None
        readers = list(zip(days, per_day, strict=True))
        return await self.charts.draw(
            overview_panels(readers, overview.week.top, self._chart_texts)
        )


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


# Stored reaction labels for what is not a plain emoji.
CUSTOM_PREFIX = "custom:"
PAID = "paid"


def _reaction_label(label: str, texts: Texts) -> str:
    if label.startswith(CUSTOM_PREFIX):
        return texts.stats_reaction_custom
    if label == PAID:
        return texts.stats_reaction_paid
    return label


def article_report(found: ArticleStats, texts: Texts) -> str:
    article = found.article
    lines = [
        texts.stats_article_header.format(
            id=article.id, title=article.title, status=texts.status_name(article.status)
        )
    ]
    if article.channel_message_id is None:
        lines.append(texts.stats_not_in_channel)
    else:
        lines.append(texts.stats_readers.format(readers=found.readers))
        if found.reactions is None or not found.reactions.counts:
            lines.append(texts.stats_no_reactions)
        else:
            shown = " · ".join(
                f"{_reaction_label(label, texts)} {count}"
                for label, count in found.reactions.counts
            )
            lines.append(
                texts.stats_reactions.format(total=found.reactions.total, reactions=shown)
            )
    lines.append("")
    lines.append(results_report(found.poll, texts) if found.poll else texts.stats_no_poll)
    return "\n".join(lines)


def overview_report(overview: Overview, texts: Texts) -> str:
    def period(label: str, stats: PeriodStats) -> str:
        return texts.stats_period.format(
            label=label, published=stats.published, readers=stats.readers, votes=stats.votes
        )

    lines = [period(texts.stats_today, overview.today), period(texts.stats_week, overview.week)]
    lines += ["", texts.stats_top_header if overview.week.top else texts.stats_top_empty]
    lines += [
        texts.stats_top_line.format(id=top.article_id, readers=top.readers, title=top.title)
        for top in overview.week.top
    ]
    return "\n".join(lines)
