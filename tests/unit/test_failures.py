"""Why a send did not reach the channel: kinds from Telegram's errors, the stored form, and
the words each catalogue gives them (bot/failures.py)."""

from __future__ import annotations

import re

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage

from bot.failures import MAX_STORED, Failure, FailureKind, failure_of
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
        (KeyError("photo"), Failure(FailureKind.ERROR, "KeyError: 'photo'")),
    ],
)
def test_kinds_of_telegram_errors(exc: BaseException, expected: Failure) -> None:
    assert failure_of(exc) == expected


def test_stored_form_round_trips_and_is_bounded() -> None:
    for failure in (
        Failure(FailureKind.RESTART),
        Failure(FailureKind.TELEGRAM, "Bad Request: chat not found"),  # a colon in the detail
        Failure(FailureKind.NOT_RECORDED, "https://t.me/news/12"),
    ):
        assert Failure.parse(failure.stored) == failure
    assert len(Failure(FailureKind.ERROR, "x" * 1000).stored) == MAX_STORED


@pytest.mark.parametrize("stored", ["Forbidden", "Bad Request: chat not found", "interrupted"])
def test_a_reason_stored_before_kinds_is_shown_as_it_was(stored: str) -> None:
    assert Failure.parse(stored) == Failure(FailureKind.TELEGRAM, stored)


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
