"""Schedule parsing and the log filter that keeps the token out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.articles.scheduling import parse_schedule
from bot.errors import InputError
from bot.logs import RedactSecrets, redact

ALMATY = ZoneInfo("Asia/Almaty")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_parse_schedule_in_the_newsroom_time_zone() -> None:
    article_id, when = parse_schedule("12 2026-12-01 09:30", ALMATY, NOW)
    assert article_id == 12
    assert when == datetime(2026, 12, 1, 9, 30, tzinfo=ALMATY)
    assert when.astimezone(UTC).hour == 4  # Almaty is UTC+5


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (None, "schedule_usage"),
        ("12", "schedule_usage"),
        ("x 2026-12-01 09:30", "schedule_usage"),
        ("12 01.12.2026 09:30", "schedule_bad_date"),
        ("12 2026-13-01 09:30", "schedule_bad_date"),
        ("12 2026-12-01 25:00", "schedule_bad_date"),
        ("12 2026-11-28 16:59", "schedule_in_past"),
        ("12 2028-01-01 00:00", "schedule_too_far"),
    ],
)
def test_parse_schedule_errors(args: str | None, key: str) -> None:
    with pytest.raises(InputError) as info:
        parse_schedule(args, ALMATY, NOW)
    assert info.value.key == key


def test_token_is_redacted_from_messages_args_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecrets([token]))
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("url https://api.telegram.org/bot%s/getMe", token)
            try:
                raise RuntimeError(f"failed at /bot{token}/sendMessage")
            except RuntimeError:
                logger.exception("boom")
    finally:
        logger.filters.clear()
    assert token not in caplog.text
    assert "<token>" in caplog.text


def test_redact_covers_the_token_and_its_secret_half() -> None:
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
    text = (
        f"url='http://127.0.0.1/file/bot{token}/documents/a.txt' "
        "and the secret alone ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
    )
    cleaned = redact(text, [token])
    assert "ABCdefGHIjklMNOpqrSTUvwxYZ" not in cleaned
    assert cleaned.count("<token>") == 2


def test_a_time_skipped_by_daylight_saving_is_refused() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(InputError) as info:
        parse_schedule("1 2026-03-29 02:30", berlin, now)
    assert info.value.key == "schedule_bad_date"
    _, when = parse_schedule("1 2026-03-29 03:30", berlin, now)
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
