"""Fixtures for end-to-end tests: the fake Telegram, the running bot, its people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    ADMIN_ID,
    BOT_USERNAME,
    CHANNEL_ID,
    CHANNEL_USERNAME,
    EDITOR_ID,
    SECOND_EDITOR_ID,
    TOKEN,
    Newsroom,
)
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(token=TOKEN, bot_username=BOT_USERNAME)
    server.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Kazakhstan Today (test)")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    # Every request the bot made must have been one real Telegram accepts.
    assert server.errors == [], server.summary()


@pytest.fixture
async def newsroom(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Newsroom]:
    room = Newsroom(telegram, tmp_path)
    await room.start()
    try:
        yield room
    finally:
        await room.stop()


@pytest.fixture
def editor(telegram: FakeBotAPI) -> FakeUser:
    return telegram.user(EDITOR_ID, "Айгерим", "editor_aigerim", started=True)


@pytest.fixture
def second_editor(telegram: FakeBotAPI) -> FakeUser:
    return telegram.user(SECOND_EDITOR_ID, "Ерлан", "editor_erlan", started=True)


@pytest.fixture
def admin(telegram: FakeBotAPI) -> FakeUser:
    return telegram.user(ADMIN_ID, "Admin", "newsroom_admin", started=True)


@pytest.fixture
def reader(telegram: FakeBotAPI) -> FakeUser:
    return telegram.user(5001, "Читатель", "reader_one")


@pytest.fixture
def seed_text() -> str:
    return (FIXTURES / "seed_article.txt").read_text(encoding="utf-8")
