"""The request middleware every outgoing request passes: it waits for the request's slot
(by the task's priority), repeats what the retry rules allow, and counts what it did.

``PacingRetryMiddleware.wait_turn(chat_id)`` takes the slot *before* a request is built
(with ``PUBLISH`` priority by default) and marks it in a context variable, so the next paced
request of the same task to that chat goes out without queueing again.  The publisher uses
it so that a cancellation while waiting means "certainly not sent".
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot.telegram.pacing.limiter import RateLimiter
from bot.telegram.pacing.priorities import Priority, current_priority
from bot.telegram.pacing.retries import MAX_RETRY_AFTER_SECONDS, may_repeat
from bot.telegram.request_types import Method, Next, Response, T

logger = logging.getLogger(__name__)

# Methods that put a message in a chat or change one: what Telegram's limits count.
_PACED_PREFIXES = ("send", "edit", "copy", "forward", "stop")
# The chat key whose slot ``wait_turn`` already took for this task's next request.
_prepaid: ContextVar[str | None] = ContextVar("prepaid_turn", default=None)


def _chat_of(method: Method[Any]) -> int | str | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) else None


def _is_paced(api_method: str) -> bool:
    return api_method.startswith(_PACED_PREFIXES)


@dataclass
class RequestStats:
    sent: int = 0
    retried_after_429: int = 0
    retried_after_error: int = 0
    not_repeated: int = 0  # failures with an unknown outcome raised to the caller


class PacingRetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        limiter: RateLimiter | None = None,
        *,
        max_retries: int = 5,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        self.limiter = limiter or RateLimiter()
        self.max_retries = max_retries
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.stats = RequestStats()

    async def wait_turn(self, chat_id: int | str, priority: Priority = Priority.PUBLISH) -> None:
        """Take a slot for ``chat_id`` now, before the request exists.

        The next paced request of this task to that chat uses the slot instead of queueing
        again.  Cancelled while waiting: nothing was sent.  Await it directly (not through
        ``asyncio.wait_for`` or a new task): the mark lives in this task's context.  Pass the
        same chat reference the request will carry (``-100…`` and ``@name`` are two keys).
        """
        await self.limiter.acquire(chat_id, priority)
        _prepaid.set(str(chat_id))

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        api_method = method.__api_method__
        if api_method == "getUpdates":
            return await make_request(bot, method)
        chat_id = _chat_of(method) if _is_paced(api_method) else None
        priority = current_priority()
        arrival = self.limiter.next_arrival()
        prepaid = chat_id is not None and _prepaid.get() == str(chat_id)
        if prepaid:
            _prepaid.set(None)
        attempt = 0
        while True:
            if chat_id is not None and not (prepaid and attempt == 0):
                await self.limiter.acquire(chat_id, priority, arrival=arrival)
            try:
                self.stats.sent += 1
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.max_retries or exc.retry_after > self.max_retry_after:
                    raise
                self.stats.retried_after_429 += 1
                logger.warning(
                    "Flood control on %s (chat %s): waiting %s s",
                    api_method,
                    chat_id,
                    exc.retry_after,
                )
                if chat_id is not None:
                    await self.limiter.hold_back(chat_id, exc.retry_after)
                else:
                    await self.limiter.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if not may_repeat(method, exc):
                    self.stats.not_repeated += 1
                    raise
                if attempt >= self.max_retries:
                    raise
                self.stats.retried_after_error += 1
                delay = min(self.max_backoff, self.base_backoff * 2**attempt)
                logger.warning(
                    "%s failed (%s); retrying in %.1f s", api_method, type(exc).__name__, delay
                )
                await self.limiter.sleep(delay)
            attempt += 1
