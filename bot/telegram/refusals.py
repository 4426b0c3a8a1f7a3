"""Telegram's expected refusals: answers that say "no" to something that was fine to try.

A press redelivered after a restart whose query is too old to answer, an edit that
changes nothing, a reader who blocked the bot or whose chat is gone: none of these is
the bot's failure.  They are counted by kind and logged in one line, never with a
traceback, and never reported to the admins.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError


class Refusal(StrEnum):
    QUERY_TOO_OLD = "query_too_old"
    NOT_MODIFIED = "not_modified"
    BLOCKED = "blocked"
    CHAT_NOT_FOUND = "chat_not_found"


# What Telegram's description says, lower-cased, for each refusal it words.
_DESCRIPTIONS = (
    ("query is too old", Refusal.QUERY_TOO_OLD),
    ("query id is invalid", Refusal.QUERY_TOO_OLD),
    ("message is not modified", Refusal.NOT_MODIFIED),
    ("chat not found", Refusal.CHAT_NOT_FOUND),
)

# How many of each this process has met.
counted: Counter[Refusal] = Counter()


def expected_refusal(exc: BaseException) -> Refusal | None:
    """The kind of refusal ``exc`` is, or None when it is a real failure."""
    if isinstance(exc, TelegramForbiddenError):
        return Refusal.BLOCKED
    if isinstance(exc, TelegramBadRequest):
        message = exc.message.lower()
        for words, refusal in _DESCRIPTIONS:
            if words in message:
                return refusal
    return None


def count(refusal: Refusal) -> int:
    counted[refusal] += 1
    return counted[refusal]
