"""The one place every outgoing request passes: pacing within Telegram's limits, retries.

aiogram has no rate limiter and no retry of its own, so this request middleware does
both.  Pacing uses GCRA ("virtual scheduling"): each send reserves the next free slot of
its chat and of the whole bot, so bursts queue instead of being dropped and the bot
stays under the limits instead of learning them from 429s.

Retries: ``429 retry_after`` is always safe to repeat (Telegram did nothing).  Server and
network errors are repeated only where a repeat cannot double a message: edits, answers,
reads, and sends to a private chat.  A send to a channel or group whose outcome is
unknown is raised to the caller, which records it as uncertain rather than guessing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

logger = logging.getLogger(__name__)

# Methods that put a message in a chat or change one: what Telegram's limits count.
_PACED_PREFIXES = ("send", "edit", "copy", "forward", "stop")
# Methods that create a new message: repeating one after an unknown outcome may double it.
_CREATING_PREFIXES = ("send", "copy", "forward")


@dataclass
class _Slot:
    """GCRA state for one key: the theoretical arrival time of the next request."""

    interval: float
    burst: int
    tat: float = 0.0

    def reserve(self, now: float) -> float:
        """Reserve the next slot; returns how long to wait before using it."""
        tat = max(self.tat, now)
        wait = max(0.0, tat - (self.burst - 1) * self.interval - now)
        self.tat = tat + self.interval
        return wait

    def push_back(self, until: float) -> None:
        """Telegram said to wait: nothing goes out on this key before ``until``."""
        self.tat = max(self.tat, until + (self.burst - 1) * self.interval)


@dataclass
class RateLimits:
    global_per_second: float = 25.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 1


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    _global: _Slot | None = None
    _chats: dict[str, _Slot] = field(default_factory=dict)

    def _global_slot(self) -> _Slot:
        if self._global is None:
            self._global = _Slot(1.0 / self.limits.global_per_second, burst=1)
        return self._global

    def _chat_slot(self, chat_id: int | str) -> _Slot:
        key = str(chat_id)
        slot = self._chats.get(key)
        if slot is None:
            if is_private_chat(chat_id):
                # A 5% margin keeps clock jitter from tipping a steady flow over the limit.
                slot = _Slot(1.05 / self.limits.chat_per_second, self.limits.chat_burst)
            else:
                # 20 per minute, with a 5% margin so a sliding minute never sees 21.
                slot = _Slot(60.0 / self.limits.group_per_minute * 1.05, self.limits.group_burst)
            self._chats[key] = slot
        return slot

    async def acquire(self, chat_id: int | str) -> None:
        wait = self._chat_slot(chat_id).reserve(self.clock())
        if wait > 0:
            await asyncio.sleep(wait)
        wait = self._global_slot().reserve(self.clock())
        if wait > 0:
            await asyncio.sleep(wait)

    def back_off(self, chat_id: int | str | None, seconds: float) -> None:
        until = self.clock() + seconds
        if chat_id is not None:
            self._chat_slot(chat_id).push_back(until)


def is_private_chat(chat_id: int | str) -> bool:
    """User ids are positive; groups and channels are negative or ``@name``."""
    return isinstance(chat_id, int) and chat_id > 0


def _chat_of(method: TelegramMethod[Any]) -> int | str | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) else None


def _is_paced(api_method: str) -> bool:
    return api_method.startswith(_PACED_PREFIXES)


def is_safe_to_repeat(method: TelegramMethod[Any]) -> bool:
    """Can this request be sent again when we don't know whether the first one landed?"""
    api_method = method.__api_method__
    if not api_method.startswith(_CREATING_PREFIXES):
        return True
    chat_id = _chat_of(method)
    return chat_id is not None and is_private_chat(chat_id)


# Set by ``PacingRetryMiddleware.wait_turn``: the next request of this task to that chat
# has its slot already and is not paced again.
_reserved: contextvars.ContextVar[str | None] = contextvars.ContextVar("reserved", default=None)


@dataclass
class RequestStats:
    sent: int = 0
    retried_after_429: int = 0
    retried_after_error: int = 0


class PacingRetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        limiter: RateLimiter | None = None,
        *,
        max_retries: int = 5,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.limiter = limiter or RateLimiter()
        self.max_retries = max_retries
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.stats = RequestStats()

    async def wait_turn(self, chat_id: int | str) -> None:
        """Wait for a send slot to ``chat_id`` now, before the request is built; the
        task's next request to that chat uses it.  Nothing is sent while waiting, so a
        caller cancelled here knows for certain that nothing went out."""
        await self.limiter.acquire(chat_id)
        _reserved.set(str(chat_id))

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        api_method = method.__api_method__
        if api_method == "getUpdates":
            return await make_request(bot, method)
        chat_id = _chat_of(method) if _is_paced(api_method) else None
        attempt = 0
        if chat_id is not None and _reserved.get() == str(chat_id):
            _reserved.set(None)
            attempt_paced = True
        else:
            attempt_paced = False
        while True:
            if chat_id is not None and not attempt_paced:
                await self.limiter.acquire(chat_id)
            attempt_paced = False
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
                self.limiter.back_off(chat_id, exc.retry_after)
                if chat_id is None:
                    await asyncio.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt >= self.max_retries or not is_safe_to_repeat(method):
                    raise
                self.stats.retried_after_error += 1
                delay = min(self.max_backoff, self.base_backoff * 2**attempt)
                logger.warning(
                    "%s failed (%s); retrying in %.1f s", api_method, type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
            attempt += 1
