"""Scheduled publishing: a loop that publishes due articles once, through the Publisher.

Schedules live in the database (status "scheduled" + ``scheduled_at``), so a restart
loses none: the loop's first pass publishes whatever fell due while the bot was down,
and tells the author it was late.  Publishing goes through the same claim as
``/publish``, so a scheduled article can never be posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.articles.intake import InputError, parse_id
from bot.articles.publishing import Outcome, Publisher, PublishResult
from storage.sqlite.articles import ArticleRepository

logger = logging.getLogger(__name__)

MAX_AHEAD = timedelta(days=366)
# A post later than this after its time is "late" and its author is told so.
LATE_AFTER = timedelta(minutes=2)
_WHEN_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$")

Report = Callable[[int, PublishResult, datetime, bool], Awaitable[None]]


def parse_schedule(args: str | None, tz: ZoneInfo, now: datetime) -> tuple[int, datetime]:
    """``"12 2026-12-01 09:30"`` → (12, that moment in ``tz``); InputError otherwise."""
    parts = (args or "").split(maxsplit=1)
    article_id = parse_id(parts[0]) if parts else None
    if article_id is None or len(parts) < 2:
        raise InputError("schedule_usage")
    match = _WHEN_RE.match(parts[1].strip())
    if match is None:
        raise InputError("schedule_bad_date", value=parts[1].strip()[:40])
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError as exc:
        raise InputError("schedule_bad_date", value=parts[1].strip()[:40]) from exc
    if when.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != when.replace(tzinfo=None):
        # A wall-clock time skipped by a daylight-saving change does not exist.
        raise InputError("schedule_bad_date", value=parts[1].strip()[:40])
    if when <= now:
        raise InputError("schedule_in_past", when=when.strftime("%Y-%m-%d %H:%M"))
    if when - now > MAX_AHEAD:
        raise InputError("schedule_too_far")
    return article_id, when


class Scheduler:
    def __init__(
        self,
        articles: ArticleRepository,
        publisher: Publisher,
        report: Report,
        *,
        max_sleep: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._articles = articles
        self._publisher = publisher
        self._report = report
        self._max_sleep = max_sleep
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        """Stop between publications, never in the middle of one."""
        if self._task is None:
            return
        async with self._busy:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def wake(self) -> None:
        """A schedule changed: look again now."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
                delay = await self._until_next()
            except Exception:
                logger.exception("Scheduler pass failed")
                delay = self._max_sleep
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _until_next(self) -> float:
        upcoming = await self._articles.next_scheduled_at()
        if upcoming is None:
            return self._max_sleep
        seconds = (upcoming - self._clock()).total_seconds()
        return min(self._max_sleep, max(0.05, seconds))

    async def run_due(self) -> int:
        """Publish every article that is due; returns how many were attempted."""
        now = self._clock()
        due = await self._articles.due_scheduled(now)
        for article in due:
            async with self._busy:
                assert article.scheduled_at is not None
                result = await self._publisher.publish(article.id, due_by=now)
                late = now - article.scheduled_at > LATE_AFTER
                logger.info("Scheduled article %s: %s", article.id, result.outcome)
            if result.outcome in (Outcome.NOT_PUBLISHABLE, Outcome.NOT_FOUND):
                continue  # unscheduled, moved or deleted since this pass began
            try:
                await self._report(article.author_id, result, article.scheduled_at, late)
            except Exception:
                logger.exception("Could not report scheduled article %s", article.id)
        return len(due)
