"""Which failed requests may be sent again.

Only what Telegram provably did not take is repeated for every method: ``429`` (it did
nothing; the wait it names holds the chat's budget back for every request, not only this
one) and a connection that failed before the request was written (aiohttp's
``ClientConnectorError``: refused, DNS, TLS handshake).  After a server error or a network
error with an unknown outcome (a timeout, a dropped connection) only edits, answers, reads
and deletions are repeated: a repeated ``send*`` may double a message, in the channel as in
a reader's chat (part 2 of an article twice), so it is raised to the caller.
"""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiohttp import ClientConnectorError

# Methods that create a new message: repeating one after an unknown outcome may double it.
_CREATING_PREFIXES = ("send", "copy", "forward")
# A 429 asking to wait longer than this is not waited out: the request fails instead.
MAX_RETRY_AFTER_SECONDS = 120.0


def is_safe_to_repeat(method: TelegramMethod[Any]) -> bool:
    """Can this request be sent again when we don't know whether the first one landed?

    Edits, answers, reads and deletions: yes.  Anything that creates a message: no, in
    any chat — a reader would see a part of an article twice.
    """
    return not method.__api_method__.startswith(_CREATING_PREFIXES)


def never_reached_telegram(exc: BaseException) -> bool:
    """Did the request fail before it was written (refused, DNS, TLS handshake)?

    aiogram wraps aiohttp's errors in ``TelegramNetworkError`` (``raise ... from``); the
    original is its ``__cause__`` (or ``__context__``).  A connector error means no
    connection was made, so Telegram cannot have seen the request; a timeout or a dropped
    connection can come after Telegram acted.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ClientConnectorError | ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def may_repeat(method: TelegramMethod[Any], exc: BaseException) -> bool:
    """The retry rule: repeat what Telegram provably did not take, or what is harmless."""
    if isinstance(exc, TelegramRetryAfter):
        return True
    if isinstance(exc, TelegramNetworkError) and never_reached_telegram(exc):
        return True
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return is_safe_to_repeat(method)
    return False
