"""LOG_FORMAT=json: one JSON object per line, the update id while one is handled, secrets
redacted in the message and the exception alike."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.types import Message, Update

from bot.logs import current_update_id, log_handler
from bot.telegram.updates import TrackingDispatcher

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
PASSWORD = "db-pass-word"


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = log_handler([TOKEN, PASSWORD], "json", stream=stream)
    logger = logging.getLogger("test.json_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_secrets_redacted(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = lines
    logger.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    token = current_update_id.set(42)
    try:
        raise RuntimeError(f"postgresql://bot:{PASSWORD}@db/news failed\nsecond line")
    except RuntimeError:
        logger.exception("update failed: %s", "boom")
    finally:
        current_update_id.reset(token)
    first, second = parsed(stream)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "test.json_logs"
    assert first["message"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert first["time"].endswith("+00:00")
    assert second["update_id"] == 42
    assert second["level"] == "ERROR" and second["message"] == "update failed: boom"
    assert "RuntimeError" in second["exception"] and "<token>" in second["exception"]
    assert TOKEN not in stream.getvalue() and PASSWORD not in stream.getvalue()
    assert TOKEN.partition(":")[2] not in stream.getvalue()


def test_text_format_stays_the_default(lines: tuple[logging.Logger, io.StringIO]) -> None:
    stream = io.StringIO()
    handler = log_handler([TOKEN], stream=stream)
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "token %s", (TOKEN,), None)
    handler.handle(record)
    assert stream.getvalue().rstrip().endswith("WARNING x: token <token>")


async def test_lines_logged_while_an_update_is_handled_name_it(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = lines
    router = Router()

    @router.message()
    async def handle(message: Message) -> None:
        logger.info("handling %s", message.text)

    dispatcher = TrackingDispatcher()
    dispatcher.include_router(router)
    update = Update.model_validate(
        {
            "update_id": 777,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "R"},
                "text": "hello",
            },
        }
    )
    bot = Bot(TOKEN)
    try:
        await dispatcher.feed_update(bot, update)
    finally:
        await bot.session.close()
    logger.info("after")
    during, after = parsed(stream)
    assert during["message"] == "handling hello" and during["update_id"] == 777
    assert "update_id" not in after
