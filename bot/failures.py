"""Why something did not reach the channel: as stored, and as an editor reads it.

An article's reason is stored with it (``failure_reason``) and shown later, perhaps to an
editor with another language, so it is kept as a kind and a detail (``"flood:12"``) and
each catalogue says what a kind means (``Texts.failure``).  The detail is data, not
words: Telegram's own description of an error (quoted as it came, an editor may need it
word for word), a number of seconds, a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

# The stored form's length: a detail is quoted from Telegram or an exception, never whole.
MAX_STORED = 300
# Telegram's descriptions that mean "the bot may not post there".
NO_RIGHTS_PHRASES = ("not enough rights", "need administrator rights", "chat not found")


class FailureKind(StrEnum):
    TELEGRAM = "telegram"  # Telegram refused; detail: its description
    NO_RIGHTS = "no_rights"  # the bot may not post in the channel; detail: Telegram's words
    NOT_ADMIN = "not_admin"  # the bot is in the channel but not an admin; detail: its status
    FLOOD = "flood"  # Telegram asked to wait; detail: seconds
    NO_ANSWER = "no_answer"  # timeout, server error, dropped connection; detail: what
    PREPARE = "prepare"  # the post could not be made ready (its photo); detail: why
    RESTART = "restart"  # the bot was restarted in the middle
    NOT_RECORDED = "not_recorded"  # posted, but another attempt is on record; detail: link
    ERROR = "error"  # a fault of ours; detail: the exception


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    detail: str = ""

    @property
    def stored(self) -> str:
        return f"{self.kind}:{self.detail}"[:MAX_STORED]

    @classmethod
    def parse(cls, stored: str) -> Failure:
        """The stored form back; a reason stored before kinds existed is Telegram's words."""
        kind, sep, detail = stored.partition(":")
        if sep and kind in _KINDS:
            return cls(FailureKind(kind), detail)
        return cls(FailureKind.TELEGRAM, stored)


_KINDS = frozenset(kind.value for kind in FailureKind)


def failure_of(exc: BaseException) -> Failure:
    """What an exception from a request to Telegram (or our own fault) means."""
    if isinstance(exc, TelegramRetryAfter):
        return Failure(FailureKind.FLOOD, str(exc.retry_after))
    if isinstance(exc, (TelegramServerError, TelegramNetworkError)):
        return Failure(FailureKind.NO_ANSWER, exc.message)
    if isinstance(exc, TelegramForbiddenError) or (
        isinstance(exc, TelegramAPIError)
        and any(phrase in exc.message for phrase in NO_RIGHTS_PHRASES)
    ):
        return Failure(FailureKind.NO_RIGHTS, exc.message)
    if isinstance(exc, TelegramAPIError):
        return Failure(FailureKind.TELEGRAM, exc.message)
    return Failure(FailureKind.ERROR, f"{type(exc).__name__}: {exc}")
