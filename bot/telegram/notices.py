"""Messages the bot sends on its own: notices to editors, reports to admins.

Nobody is waiting for these, so a failure to deliver one is logged and never raised.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, tzinfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.articles.publishing import Outcome, PublishResult, describe_publish
from bot.failures import Failure
from bot.logs import redact
from bot.models import Article
from bot.telegram.pacing.priorities import Priority, send_priority
from bot.telegram_text.html import escaped_html
from bot.texts import WHEN_FORMAT, Texts

logger = logging.getLogger(__name__)

# Exception texts in a report are cut to this (a message holds 4096).
REPORT_CHARS = 3500


class Notifier:
    def __init__(
        self,
        bot: Bot,
        texts: Texts,
        *,
        editor_ids: Callable[[], Awaitable[frozenset[int]]],
        admin_ids: frozenset[int],
        channel: str,
        tz: tzinfo,
        secrets: Iterable[str] = (),
        report_interval: float = 60.0,
    ) -> None:
        self._bot = bot
        self._texts = texts
        # Asked each time: editors added in chat get what those in the settings get.
        self._editor_ids = editor_ids
        self.admin_ids = admin_ids
        self._channel = channel
        self._tz = tz
        # Exception texts can carry URLs with the token in them (file downloads).
        self._secrets = [s for s in secrets if s]
        self.report_interval = report_interval
        # Per kind of error: when its last report went out, and how many were held back.
        self._last_report: dict[str, float] = {}
        self.held_back: Counter[str] = Counter()

    async def _send(self, chat_ids: Iterable[int], html: str) -> None:
        for chat_id in sorted(chat_ids):
            try:
                with send_priority(Priority.BACKGROUND):
                    await self._bot.send_message(chat_id, html)
            except TelegramAPIError as exc:
                logger.info("Could not notify %s: %s", chat_id, exc.message)

    async def interrupted_publications(
        self, articles: list[Article], *, while_running: bool = False
    ) -> None:
        """Articles whose publication a crash interrupted (found at start-up), or whose
        outcome the database could not take (found while running)."""
        editors = await self._editor_ids()
        texts = self._texts
        template = texts.publish_not_saved if while_running else texts.publish_uncertain_at_start
        for article in articles:
            await self._send(
                editors,
                escaped_html(
                    template,
                    id=article.id,
                    title=article.title,
                    channel=self._channel,
                ),
            )

    async def editors(self, html: str) -> None:
        """A notice for every editor (a feed that fails, a correction from the site)."""
        await self._send(await self._editor_ids(), html)

    async def cannot_post(self, problem: Failure) -> None:
        """At start-up: the bot lacks the rights to post in the channel."""
        reason = self._texts.failure(problem)
        await self._send(
            self.admin_ids,
            escaped_html(self._texts.channel_cannot_post, channel=self._channel, reason=reason),
        )

    async def scheduled(
        self, author_id: int, result: PublishResult, when: datetime, late: bool
    ) -> None:
        """Tell the author what became of their scheduled article (all editors if the
        author is no longer one)."""
        article_id = result.article.id if result.article else 0
        if result.outcome is Outcome.PUBLISHED:
            t = self._texts
            text = escaped_html(
                t.scheduled_published_late if late else t.scheduled_published,
                id=article_id,
                link=result.link or "",
                when=when.astimezone(self._tz).strftime(WHEN_FORMAT),
            )
        else:
            text = describe_publish(result, article_id, self._channel, self._texts)
        editors = await self._editor_ids()
        recipients = {author_id} if author_id in editors else editors
        await self._send(recipients, text)

    async def error(self, kind: str, text: str) -> None:
        """An update failed: tell the admins, at most once per ``report_interval`` for
        each kind of error; the next report of a kind says how many were held back."""
        now = time.monotonic()
        if now - self._last_report.get(kind, float("-inf")) < self.report_interval:
            self.held_back[kind] += 1
            return
        self._last_report[kind] = now
        held = self.held_back.pop(kind, 0)
        if held:
            text += "\n" + self._texts.admin_errors_held_back.format(count=held)
        await self._send(self.admin_ids, escaped_html(redact(text, self._secrets)[:REPORT_CHARS]))
