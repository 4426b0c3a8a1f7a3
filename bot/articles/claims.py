"""Publishing claims left behind while the bot runs.

A publish claims its article ("publishing") and records the outcome after the send.  If
the database fails after the post went out, neither "published" nor "uncertain" can be
recorded, and the claim would stay until a restart, every /publish answering "being
published, wait".  This watch settles such claims while the bot runs: a claim older than
the longest a publication can take (every try of its send, every wait Telegram asks
for, the shutdown grace) cannot belong to a publish still under way, on this instance or
another, so it becomes "uncertain" for an editor to settle, and the editors are told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.background import BackgroundLoop
from bot.failures import Failure, FailureKind
from bot.models import Article
from bot.repositories import ArticleStore

logger = logging.getLogger(__name__)

Notify = Callable[[list[Article]], Awaitable[None]]


class ClaimWatch:
    def __init__(
        self,
        articles: ArticleStore,
        notify: Notify,
        *,
        older_than: timedelta,
        every: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._articles = articles
        self._notify = notify
        self.older_than = older_than
        self.every = every
        self._clock = clock
        self._background = BackgroundLoop("claim-watch", self._loop)

    async def check(self) -> list[Article]:
        """Settle every claim older than ``older_than``; the editors hear of each."""
        settled = await self._articles.settle_interrupted(
            Failure(FailureKind.NOT_SAVED).stored,
            claimed_before=self._clock() - self.older_than,
        )
        if settled:
            logger.warning("Settled %d publishing claims left behind", len(settled))
            await self._notify(settled)
        return settled

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except Exception as exc:  # the database may still be down: next time
                logger.warning("Could not check publishing claims: %s", exc)
