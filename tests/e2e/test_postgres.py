"""The whole bot on PostgreSQL (``DATABASE_URL`` set): a dialog survives a restart, a
draft is published and found by /search, and readers' votes are counted exactly,
against the fake Bot API."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import CHANNEL_ID, Newsroom, body_of, exchange
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

POLL = "/poll Поддерживаете ли Вы проект?\nДа\nНет"


@pytest.fixture
async def pg_newsroom(
    telegram: FakeBotAPI, tmp_path: Path, empty_pg_database: str
) -> AsyncIterator[Newsroom]:
    room = Newsroom(telegram, tmp_path, database_url=empty_pg_database)
    app = await room.start()
    assert app.db.dialect == "postgresql"
    try:
        yield room
    finally:
        await room.stop()
    assert not room.database_path.exists()  # SQLite was never opened


async def test_dialog_survives_a_restart_and_the_draft_is_published(
    pg_newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser, reader: FakeUser
) -> None:
    assert "заголовок" in await exchange(telegram, editor, "/new")
    assert "текст статьи" in await exchange(telegram, editor, "Мост через Иртыш")
    await pg_newsroom.restart()  # the dialog is in PostgreSQL, not in memory
    assert "абзацев: 1" in await exchange(telegram, editor, "Первый абзац о мосте.")
    assert "фото" in await exchange(telegram, editor, "/done")
    assert "Теги" in await exchange(telegram, editor, "/skip")
    assert "опрос" in await exchange(telegram, editor, "/skip")
    assert "Черновик №1" in await exchange(telegram, editor, "/skip")
    editor.sends("/publish 1")
    await telegram.wait_for(lambda: "Опубликовано" in body_of(editor.last()))
    [post] = telegram.chat_messages(CHANNEL_ID)
    assert post["text"].startswith("Мост через Иртыш")
    assert pg_newsroom.app is not None
    stored = await pg_newsroom.app.articles.get(1)
    assert stored is not None and stored.channel_message_id == post["message_id"]
    # Found by another word form, through PostgreSQL's index.
    answer = await exchange(telegram, reader, "/search мостом")
    assert "Нашлось по запросу «мостом»" in answer
    keyboard = reader.last()["reply_markup"]["inline_keyboard"]
    assert [button["text"] for row in keyboard for button in row] == ["Мост через Иртыш"]


async def test_votes_are_counted_exactly(
    pg_newsroom: Newsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    assert "Опрос №1 опубликован" in await exchange(telegram, editor, POLL)
    [post] = telegram.chat_messages(CHANNEL_ID)
    rows = post["reply_markup"]["inline_keyboard"]
    rng = random.Random(7)
    readers = [telegram.user(20_000 + i, f"Reader {i}") for i in range(40)]
    final: dict[int, int] = {}
    presses: list[dict[str, Any]] = []
    for _ in range(2):
        for reader in readers:
            choice = rng.randrange(2)
            final[reader.id] = choice
            presses.append(reader.clicks_data(post, str(rows[choice][0]["callback_data"])))
    ids = [press["callback_query"]["id"] for press in presses]
    await telegram.wait_for(
        lambda: all(telegram.callback_answer(i) is not None for i in ids), timeout=60
    )
    expected = (sum(1 for c in final.values() if c == 0), sum(1 for c in final.values() if c == 1))
    assert pg_newsroom.app is not None
    poll = await pg_newsroom.app.polls.get(1)
    assert poll is not None and poll.counts == expected
