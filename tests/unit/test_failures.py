"""Why a send did not reach the channel: kinds from Telegram's errors, the stored form, and
the words each catalogue gives them (bot/failures.py)."""

from __future__ import annotations

import re

import pytest
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from bot.failures import MAX_DETAIL, MAX_STORED, Failure, FailureKind, failure_of, refused
from bot.texts import RU
from bot.texts_en import EN

METHOD = SendMessage(chat_id=-1001, text="x")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            TelegramRetryAfter(METHOD, "Too Many Requests: retry after 12", 12),
            Failure(FailureKind.FLOOD, "12"),
        ),
        (
            TelegramServerError(METHOD, "Bad Gateway"),
            Failure(FailureKind.NO_ANSWER, "Bad Gateway"),
        ),
        (
            TelegramNetworkError(METHOD, "Request timeout error"),
            Failure(FailureKind.NO_ANSWER, "Request timeout error"),
        ),
        (
            TelegramForbiddenError(METHOD, "Forbidden: bot was kicked from the channel chat"),
            Failure(FailureKind.NO_RIGHTS, "Forbidden: bot was kicked from the channel chat"),
        ),
        (
            TelegramBadRequest(METHOD, "Bad Request: not enough rights to send text messages"),
            Failure(FailureKind.NO_RIGHTS, "Bad Request: not enough rights to send text messages"),
        ),
        (
            TelegramBadRequest(METHOD, "Bad Request: message is too long"),
            Failure(FailureKind.TELEGRAM, "Bad Request: message is too long"),
        ),
        (
            TelegramNotFound(METHOD, "Not Found"),
            Failure(FailureKind.TELEGRAM, "Not Found"),
        ),
        (
            TelegramEntityTooLarge(METHOD, "Request Entity Too Large"),
            Failure(FailureKind.TELEGRAM, "Request Entity Too Large"),
        ),
        # A status aiogram does not know: no telling what happened.
        (TelegramAPIError(METHOD, "I'm a teapot"), Failure(FailureKind.NO_ANSWER, "I'm a teapot")),
        (KeyError("photo"), Failure(FailureKind.ERROR, "KeyError: 'photo'")),
    ],
)
def test_kinds_of_telegram_errors(exc: BaseException, expected: Failure) -> None:
    assert failure_of(exc) == expected


@pytest.mark.parametrize(
    ("exc", "certainly_not_run"),
    [
        (TelegramBadRequest(METHOD, "Bad Request: chat not found"), True),
        (TelegramForbiddenError(METHOD, "Forbidden"), True),
        (TelegramNotFound(METHOD, "Not Found"), True),
        (TelegramRetryAfter(METHOD, "Too Many Requests", 3), True),
        (TelegramEntityTooLarge(METHOD, "Request Entity Too Large"), True),
        (TelegramServerError(METHOD, "Bad Gateway"), False),
        (TelegramNetworkError(METHOD, "Request timeout error"), False),
        (TelegramAPIError(METHOD, "I'm a teapot"), False),
        (RuntimeError("?"), False),
    ],
)
def test_what_telegram_certainly_did_not_run(exc: BaseException, certainly_not_run: bool) -> None:
    assert refused(exc) is certainly_not_run


def test_details_are_short_and_carry_no_token() -> None:
    """Also for a detail quoted directly (the post could not be prepared)."""
    token = "123456789:AAEhBOweik9ai2o4ggDNmxGCt5ZZwHHE5uU"
    exc = TelegramNetworkError(METHOD, f"ClientError: https://api.telegram.org/bot{token}/x")
    failure = failure_of(exc)
    assert token not in failure.detail and "AAEhBOweik" not in failure.detail
    assert len(failure_of(RuntimeError("x" * 5000)).detail) == MAX_DETAIL
    quoted = Failure.quoting(FailureKind.PREPARE, f"bot{token}/getMe " + "y" * 500)
    assert token not in quoted.detail and len(quoted.detail) == MAX_DETAIL


def test_stored_form_round_trips_and_is_bounded() -> None:
    for failure in (
        Failure(FailureKind.RESTART),
        Failure(FailureKind.TELEGRAM, "Bad Request: chat not found"),  # a colon in the detail
        Failure(FailureKind.NOT_RECORDED, "https://t.me/news/12"),
    ):
        assert Failure.parse(failure.stored) == failure
    assert len(Failure(FailureKind.ERROR, "x" * 1000).stored) == MAX_STORED


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("Bad Gateway", Failure(FailureKind.NO_ANSWER, "Bad Gateway")),
        ("Request timeout error", Failure(FailureKind.NO_ANSWER, "Request timeout error")),
        ("interrupted", Failure(FailureKind.RESTART)),
        ("interrupted by a restart", Failure(FailureKind.RESTART)),
        ("posted as message 812, not recorded", Failure(FailureKind.NOT_SAVED, "812")),
        ("flood control: retry after 12 s", Failure(FailureKind.FLOOD, "12")),
        ("could not prepare the post: no photo", Failure(FailureKind.PREPARE, "no photo")),
    ],
)
def test_a_reason_stored_before_kinds_gets_its_kind(stored: str, expected: Failure) -> None:
    """Rows written by the bot before kinds existed (only an uncertain article's reason
    is shown): its own English phrases are recognised, the rest were a server's or the
    network's words about a send whose outcome is unknown."""
    assert Failure.parse(stored) == expected


def test_the_bots_status_in_the_channel_is_named_in_each_language() -> None:
    left = Failure(FailureKind.NOT_ADMIN, "left")
    assert "не участник" in RU.failure(left) and "not a member" in EN.failure(left)


@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_kind_has_words_in_each_catalogue(kind: FailureKind) -> None:
    failure = Failure(kind, "DETAIL")
    ru, en = RU.failure(failure), EN.failure(failure)
    assert ru and en and ru != en
    # Russian words around the detail, not English ones; the detail where it matters.
    assert re.search("[а-я]", ru) and not re.search("[а-я]", en)
    if kind is not FailureKind.RESTART:
        assert "DETAIL" in ru and "DETAIL" in en
    assert RU.failure(None) == "" == EN.failure(None)
