"""One progress message for a chat command that may take a while (``/digest`` over a long
day, an archive import): sent once the work has taken longer than a moment, edited in
place at most every ``PROGRESS_INTERVAL`` seconds, and finally replaced by the result, so
the chat gets one message, not a stream of them.

The throttle is the point: every edit is a request under Telegram's per-chat limit, and
work that reports after each item would otherwise spend the chat's budget (and the
editor's patience) on edits nobody can read.  An edit that changes nothing ("message is
not modified") is no error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.telegram.refusals import Refusal, expected_refusal

logger = logging.getLogger(__name__)

# At most one edit of the progress message per this many seconds.
PROGRESS_INTERVAL = 2.0
# Work done within this long shows no progress message at all, only its result.
PROGRESS_DELAY = 2.0


class ChatProgress:
    """The progress message of one piece of work in one chat."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int | str,
        *,
        interval: float = PROGRESS_INTERVAL,
        delay: float = PROGRESS_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._interval = interval
        self._delay = delay
        self._clock = clock
        self._started = clock()
        self._message_id: int | None = None
        self._shown: str | None = None
        self._shown_at = 0.0
        # The newest report not shown yet (it came within the interval of the last edit).
        self.pending: str | None = None

    @property
    def message_id(self) -> int | None:
        return self._message_id

    async def show(self, html: str, **options: Any) -> None:
        """Report progress: the first report sends the message, a later one edits it if
        the last edit is ``interval`` old, else waits for the next report or the end."""
        now = self._clock()
        if self._message_id is not None and now - self._shown_at < self._interval:
            self.pending = html if html != self._shown else None
            return
        self.pending = None
        if html == self._shown:
            return
        self._shown_at = now
        self._shown = html
        if self._message_id is None:
            sent = await self._bot.send_message(self._chat_id, html, **options)
            self._message_id = sent.message_id
        else:
            await self._edit(self._message_id, html, **options)

    async def finish(self, html: str, **options: Any) -> None:
        """The result: it replaces the progress message, or comes as a message of its own
        when none was shown (or it has gone: the editor deleted it)."""
        self.pending = None
        if self._message_id is not None:
            try:
                await self._edit(self._message_id, html, **options)
                return
            except TelegramBadRequest:
                pass  # "message to edit not found": the result still reaches the chat
        await self._bot.send_message(self._chat_id, html, **options)

    async def _edit(self, message_id: int, html: str, **options: Any) -> None:
        try:
            await self._bot.edit_message_text(
                text=html, chat_id=self._chat_id, message_id=message_id, **options
            )
        except TelegramBadRequest as exc:
            if expected_refusal(exc) is not Refusal.NOT_MODIFIED:
                raise

    @contextlib.asynccontextmanager
    async def ticking(self, report: Callable[[int], str]) -> AsyncIterator[None]:
        """While the block runs, show ``report(seconds since the start)``: first after
        ``delay``, then every ``interval``; for work that cannot count its own steps (one
        long query).  A report on its way when the block ends is let finish, so the
        result then edits the message it made rather than adding a second one."""
        done = asyncio.Event()
        first_wait = self._delay - (self._clock() - self._started)
        if first_wait <= 0:  # no delay: shown before the work starts
            await self.show(report(round(self._clock() - self._started)))
            first_wait = self._interval

        async def tick() -> None:
            wait = first_wait
            while not await _set_within(done, wait):
                try:
                    await self.show(report(round(self._clock() - self._started)))
                except TelegramAPIError as exc:
                    # The work goes on without its progress; its result is still sent.
                    logger.warning("Progress message in chat %s failed: %s", self._chat_id, exc)
                    return
                wait = self._interval

        ticker = asyncio.create_task(tick(), name="chat-progress")
        try:
            yield
        finally:
            done.set()
            await ticker


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """True if ``event`` is set within ``seconds``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()


class ProgressMessages:
    """Makes the progress message of a command; ``interval`` and ``delay`` are settable so
    end-to-end tests see the progress of work that is quick there."""

    def __init__(
        self, bot: Bot, *, interval: float = PROGRESS_INTERVAL, delay: float = PROGRESS_DELAY
    ) -> None:
        self._bot = bot
        self.interval = interval
        self.delay = delay

    def start(self, chat_id: int | str) -> ChatProgress:
        return ChatProgress(self._bot, chat_id, interval=self.interval, delay=self.delay)
