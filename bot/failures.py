"""Why something did not reach the channel: as stored, and as an editor reads it.

An article's reason is stored with it (``failure_reason``) and shown later, perhaps to an
editor with another language, so it is kept as a kind and a detail (``"flood:12"``) and
each catalogue says what a kind means (``Texts.failure``).  The detail is data, not
words: Telegram's own description of an error (quoted as it came, an editor may need it
word for word), a number of seconds, a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)

from bot.logs import redact_tokens

# A detail is quoted from Telegram or an exception, never whole: it goes into a message.
MAX_DETAIL = 200
# The stored form's length.
MAX_STORED = 300
# Telegram's answers that say the method did not run (an error in its JSON, or a request
# too large to take): a send refused so is certainly not in the chat.  Anything else that
# fails (a server error, a lost connection, an answer that cannot be read, a status code
# aiogram does not know) leaves the outcome unknown.
REFUSALS = (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramMigrateToChat,
    TelegramEntityTooLarge,
)
# What a request to Telegram raises when it fails (an answer that cannot be read included).
REQUEST_ERRORS = (TelegramAPIError, ClientDecodeError)
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
    NOT_SAVED = "not_saved"  # posted, but the database did not take it; detail: link
    TAKEN = "taken"  # the post on record is another article's or poll's; detail: its number
    ERROR = "error"  # a fault of ours; detail: the exception


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    detail: str = ""

    @classmethod
    def quoting(cls, kind: FailureKind, text: str) -> Failure:
        """A failure whose detail quotes ``text`` (Telegram's words, an exception's): cut
        short, with anything shaped like a bot token removed (a request's address may be
        quoted)."""
        return cls(kind, redact_tokens(text)[:MAX_DETAIL])

    @property
    def stored(self) -> str:
        return f"{self.kind}:{self.detail}"[:MAX_STORED]

    @classmethod
    def parse(cls, stored: str) -> Failure:
        """The stored form back, including the plain English of reasons stored before
        kinds existed.  Only an uncertain article's reason is ever shown, and the rest of
        those old ones were a server's or the network's words: "no clear answer"."""
        kind, sep, detail = stored.partition(":")
        if sep and kind in _KINDS:
            return cls(FailureKind(kind), detail)
        for pattern, old_kind in _BEFORE_KINDS:
            found = pattern.fullmatch(stored)
            if found:
                return cls(old_kind, found.group(1) if pattern.groups else "")
        return cls(FailureKind.NO_ANSWER, stored)


_KINDS = frozenset(kind.value for kind in FailureKind)
# The reasons this bot stored in plain English before kinds existed.
_BEFORE_KINDS = (
    (re.compile(r"interrupted(?: by a restart)?"), FailureKind.RESTART),
    (re.compile(r"posted as message (\d+), not recorded"), FailureKind.NOT_SAVED),
    (re.compile(r"flood control: retry after (\d+) s"), FailureKind.FLOOD),
    (re.compile(r"could not prepare the post: (.*)"), FailureKind.PREPARE),
)


def refused(exc: BaseException) -> bool:
    """Did Telegram certainly not run the request that raised ``exc``?"""
    return isinstance(exc, REFUSALS)


def failure_of(exc: BaseException) -> Failure:
    """What an exception from a request to Telegram (or our own fault) means."""
    return Failure.quoting(*_classify(exc))


def _classify(exc: BaseException) -> tuple[FailureKind, str]:
    if isinstance(exc, TelegramRetryAfter):
        return FailureKind.FLOOD, str(exc.retry_after)
    if isinstance(exc, TelegramAPIError) and not refused(exc):
        return FailureKind.NO_ANSWER, exc.message  # a server error, a lost connection
    if isinstance(exc, ClientDecodeError):
        return FailureKind.NO_ANSWER, _described(exc)
    if isinstance(exc, TelegramForbiddenError) or (
        isinstance(exc, TelegramAPIError)
        and any(phrase in exc.message for phrase in NO_RIGHTS_PHRASES)
    ):
        return FailureKind.NO_RIGHTS, exc.message
    if isinstance(exc, TelegramAPIError):
        return FailureKind.TELEGRAM, exc.message
    return FailureKind.ERROR, _described(exc)


def _described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
