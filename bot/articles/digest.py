"""The evening digest: once a day at ``DIGEST_TIME`` (in TIMEZONE) the channel gets one post
with the day's most read articles, each a link to its channel post.

Once per day across restarts and instances: the day is claimed in the database (its
primary key) before anything is sent, so a second instance or a restart finds it taken.
The price is at most once: if the send fails after the claim, that day has no digest
(logged), which beats a digest posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from aiogram.utils.formatting import Bold, Text, TextLink

from bot.background import BackgroundLoop
from bot.models import Headline
from bot.repositories import Readership
from bot.texts import Texts

logger = logging.getLogger(__name__)

DIGEST_LIMIT = 10
LinkFor = Callable[[Headline], str | None]


class DigestChannel(Protocol):
    """What the digest needs from the channel (the aiogram side implements it): the
    language of its posts, a post, and the links to the articles' posts."""

    texts: Texts

    async def post_digest(self, html: str) -> tuple[str, int]:
        """Post the digest; returns (chat id as stored, message id) of the post."""

    def link_to(self, item: Headline) -> str | None: ...


def digest_text(headlines: list[Headline], texts: Texts, link_for: LinkFor) -> Text:
    """Bold heading, then "1. <title as a link to its post> · N чит." per article."""
    parts: list[Text | str] = [Bold(texts.digest_title)]
    for number, item in enumerate(headlines, 1):
        link = link_for(item)
        title: Text | str = TextLink(item.title, url=link) if link else item.title
        readers = texts.digest_readers.format(count=item.count)
        parts += ["\n", f"{number}. ", title, f" · {readers}"]
    return Text(*parts)


class Digest:
    def __init__(
        self,
        stats: Readership,
        channel: DigestChannel,
        tz: tzinfo,
        at: time | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_sleep: float = 60.0,
        limit: int = DIGEST_LIMIT,
    ) -> None:
        self._stats = stats
        self._channel = channel
        self._tz = tz
        self.at = at
        # Settable, so tests drive the time instead of waiting for it.
        self.clock = clock
        self._max_sleep = max_sleep
        self._limit = limit
        self._wake = asyncio.Event()
        self._background = BackgroundLoop("digest", self._loop)
        # The last day this process saw settled (posted by it or by another instance):
        # spares the database a claim attempt on every pass until midnight.
        self._settled: date | None = None

    def _day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0), self._tz)
        return start, datetime.combine(day + timedelta(days=1), time(0), self._tz)

    async def _headlines(self, day: date) -> list[Headline]:
        start, end = self._day_bounds(day)
        return await self._stats.most_read(start, end, self._limit)

    async def preview(self) -> str | None:
        """The post the digest would make now (HTML), or None when nothing was read today."""
        headlines = await self._headlines(self.clock().astimezone(self._tz).date())
        if not headlines:
            return None
        return self._html(headlines)

    def _html(self, headlines: list[Headline]) -> str:
        return digest_text(headlines, self._channel.texts, self._channel.link_to).as_html()

    async def run_due(self) -> bool:
        """Post today's digest if its time has come and no one has posted it; True if
        this call posted it."""
        if self.at is None:
            return False
        local = self.clock().astimezone(self._tz)
        if local.time() < self.at or local.date() == self._settled:
            return False
        headlines = await self._headlines(local.date())
        if not headlines:
            return False  # nothing read yet today: look again later
        claimed = await self._stats.claim_digest(local.date())
        self._settled = local.date()
        if not claimed:
            return False
        chat_id, message_id = await self._channel.post_digest(self._html(headlines))
        await self._stats.digest_posted(local.date(), chat_id, message_id)
        logger.info("Digest of %s posted: message %s", local.date(), message_id)
        return True

    # --- the loop --------------------------------------------------------------------

    def start(self) -> None:
        if self.at is not None:
            self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    def wake(self) -> None:
        """Look again now (the clock was moved, in tests)."""
        self._wake.set()

    def _until_due(self) -> float:
        assert self.at is not None
        local = self.clock().astimezone(self._tz)
        due = datetime.combine(local.date(), self.at, self._tz)
        if due <= local:
            due += timedelta(days=1)
        return min(self._max_sleep, max(0.05, (due - local).total_seconds()))

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:
                logger.exception("Digest pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._until_due())
