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
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.articles.publishing import Publisher, PublishResult
from bot.desk.history import NO_HISTORY, ActionLog
from bot.errors import InputError
from bot.models import Article
from bot.repositories import ArticleStore
from bot.telegram_text.cleaning import parse_id

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


class UnscheduleOutcome(StrEnum):
    UNSCHEDULED = "unscheduled"
    NOT_FOUND = "not_found"
    NOT_SCHEDULED = "not_scheduled"


class Scheduler:
    """Publishes due articles once; several instances may run one each (the claim in the
    database lets exactly one of them publish a given article)."""

    def __init__(
        self,
        articles: ArticleStore,
        publisher: Publisher,
        report: Report,
        *,
        max_sleep: float = 30.0,
        stop_timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        history: ActionLog = NO_HISTORY,
    ) -> None:
        self._history = history
        self._articles = articles
        self._publisher = publisher
        self._report = report
        self._max_sleep = max_sleep
        self._stop_timeout = stop_timeout
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()

    # --- editors' commands -----------------------------------------------------------

    async def schedule(self, article_id: int, when: datetime) -> Article | None:
        """Schedule (or move) a draft; None when it is missing or not schedulable."""
        article = await self._articles.schedule(article_id, when)
        if article is not None:
            self.wake()
            detail = when.astimezone(UTC).isoformat()
            await self._history.record("schedule", article_id=article_id, detail=detail)
        return article

    async def unschedule(self, article_id: int) -> UnscheduleOutcome:
        if await self._articles.unschedule(article_id) is not None:
            await self._history.record("unschedule", article_id=article_id)
            return UnscheduleOutcome.UNSCHEDULED
        if await self._articles.get(article_id) is None:
            return UnscheduleOutcome.NOT_FOUND
        return UnscheduleOutcome.NOT_SCHEDULED

    async def upcoming(self) -> list[Article]:
        return await self._articles.list_scheduled()

    # --- the loop --------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        """Stop between publications; one still running after ``stop_timeout`` is
        cancelled (the publisher settles it: not sent, or uncertain)."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._busy.acquire(), self._stop_timeout)
        except TimeoutError:
            logger.warning("Scheduler: a publication is still running; cancelling it")
            self._task.cancel()
        else:
            self._task.cancel()
            self._busy.release()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def wake(self) -> None:
        """A schedule changed: look again now."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            # Cleared before the pass reads the database, so a schedule set while it
            # reads wakes the next pass at once instead of being lost.
            self._wake.clear()
            try:
                await self.run_due()
                delay = await self._until_next()
            except Exception:
                logger.exception("Scheduler pass failed")
                delay = self._max_sleep
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
                result = await self._publisher.publish_scheduled(article.id, due_by=now)
                late = now - article.scheduled_at > LATE_AFTER
                logger.info("Scheduled article %s: %s", article.id, result.outcome)
            if not result.claimed:
                # Published by hand, unscheduled, moved or deleted since this pass began:
                # whoever did that has told the editor already.
                continue
            try:
                await self._report(article.author_id, result, article.scheduled_at, late)
            except Exception:
                logger.exception("Could not report scheduled article %s", article.id)
        return len(due)
