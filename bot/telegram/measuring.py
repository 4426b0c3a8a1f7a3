"""The two places the metrics are taken on the Telegram side: each update handled, and
each request to the Bot API.

Both are installed by the composition root only when metrics are on, so a bot without
``METRICS_PORT`` pays nothing for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.errors import is_storage_failure
from bot.metrics import Children, Metrics
from bot.telegram.refusals import expected_refusal
from bot.telegram.request_types import Method, Next, Response, T


def request_outcome(exc: BaseException | None) -> str:
    """ok; 429; uncertain (Telegram may or may not have acted: a 5xx, a timeout, a dropped
    connection, a cancel mid-request); refused (any other answer saying no)."""
    if exc is None:
        return "ok"
    if isinstance(exc, TelegramRetryAfter):
        return "429"
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return "uncertain"
    if isinstance(exc, TelegramAPIError):
        return "refused"
    return "uncertain"


class RequestMetrics(BaseRequestMiddleware):
    """Counts and times each try of each request (inside the pacing middleware, so a 429
    that pacing waits out and repeats is seen, and a send slot's wait is not timed).

    ``getUpdates`` is left out: a long poll's time is Telegram's idle wait, not work.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.counted = Children(metrics.telegram_requests)
        self.timed = Children(metrics.telegram_seconds)

    async def __call__(self, make_request: Next[T], bot: Bot, method: Method[T]) -> Response[T]:
        api_method = method.__api_method__
        if api_method == "getUpdates":
            return await make_request(bot, method)
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            return await make_request(bot, method)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self.timed.of(api_method).observe(time.perf_counter() - started)
            self.counted.of(api_method, request_outcome(failure)).inc()


def update_kind(event: TelegramObject) -> str:
    """message, callback_query, …: one of the Bot API's update types (a bounded label)."""
    if not isinstance(event, Update):
        return "other"
    try:
        return event.event_type
    except UpdateTypeLookupError:  # a newer Bot API's update than aiogram knows
        return "unknown"


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def turned_away_counter(metrics: Metrics) -> Callable[[Update], None]:
    """Counts the updates the lanes turned away (outcome ``turned_away``): they never
    reach the middlewares."""
    counted = Children(metrics.updates)

    def count(update: Update) -> None:
        counted.of(update_kind(update), "turned_away").inc()

    return count


class UpdateMetrics(BaseMiddleware):
    """An outer update middleware: each update's kind, outcome and handling time.

    It runs inside aiogram's error middleware, so an update whose handler raised counts
    as ``error`` (``refused``: Telegram's expected "no", such as a reader who blocked the
    bot; ``unavailable``: a store was away) even when the errors router then answered.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.counted = Children(metrics.updates)
        self.timed = Children(metrics.handler_seconds)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = update_kind(event)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        except Exception as exc:
            if expected_refusal(exc) is not None:
                outcome = "refused"
            elif is_storage_failure(exc):
                outcome = "unavailable"
            raise
        finally:
            self.timed.of(kind).observe(time.perf_counter() - started)
            self.counted.of(kind, outcome).inc()
