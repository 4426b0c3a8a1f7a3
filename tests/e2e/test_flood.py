"""One account floods the bot: everyone else is still answered within a second, in
polling and in webhook mode, and the flooder is told once that the surplus was skipped
(bot/telegram/lanes.py: one running update per account, a bounded backlog each)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.lanes import ACCOUNT_BACKLOG
from bot.texts import RU
from tests.e2e.harness import Newsroom, body_of
from tests.e2e.test_metrics import Scrape, get
from tests.e2e.test_polls import post_poll
from tests.e2e.webhook_harness import WebhookNewsroom, free_port
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser

FLOOD = 60
PRESSES = 15
# Telegram's real pace for a private chat, and few slots, so that a flood fills them.
SETTINGS: dict[str, Any] = {
    "rate_chat_per_second": 1.0,
    "update_concurrency": 4,
    "update_backlog": 8,
}


@pytest.fixture(params=["polling", "webhook"])
async def room(
    request: pytest.FixtureRequest, telegram: FakeBotAPI, tmp_path: Path
) -> AsyncIterator[Newsroom | WebhookNewsroom]:
    bot: Newsroom | WebhookNewsroom
    if request.param == "polling":
        bot = Newsroom(telegram, tmp_path, **SETTINGS)
    else:
        bot = WebhookNewsroom(telegram, tmp_path / "newsroom.sqlite3", **SETTINGS)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def answer_time(telegram: FakeBotAPI, user: FakeUser, text: str) -> float:
    """Seconds from ``user`` sending ``text`` to the bot's first answer."""
    loop = asyncio.get_running_loop()
    before = len(user.received())
    start = loop.time()
    user.sends(text)
    await telegram.wait_for(lambda: len(user.received()) > before, timeout=10)
    return loop.time() - start


async def test_one_account_flooding_costs_nobody_else_their_turn(
    room: Newsroom | WebhookNewsroom, telegram: FakeBotAPI, editor: FakeUser
) -> None:
    flooder = telegram.user(6000, "Flooder", started=True)
    others = [telegram.user(6100 + i, f"Reader {i}", started=True) for i in range(3)]
    for i in range(FLOOD):
        flooder.sends(f"hello {i}")
    await telegram.wait_for(lambda: flooder.received(), timeout=5)  # the flood is in hand

    waits = [await answer_time(telegram, reader, "/help") for reader in others]
    desk = await answer_time(telegram, editor, "/drafts")
    assert max(waits) < 1.0, waits
    assert desk < 1.0, desk

    # The flooder gets the answers its backlog held, and one notice for the rest.
    await telegram.wait_idle(quiet=1.5, timeout=30)
    received = [body_of(message) for message in flooder.received()]
    assert received.count(RU.too_many_messages) == 1
    answered = [text for text in received if text != RU.too_many_messages]
    assert 1 < len(answered) < FLOOD / 2, len(answered)


async def test_presses_beyond_an_accounts_backlog_are_each_told_to_press_again(
    telegram: FakeBotAPI, tmp_path: Path, editor: FakeUser, reader: FakeUser
) -> None:
    """Never silently: each press turned away gets a toast (its vote was not counted), and
    the presses taken count as usual."""
    room = Newsroom(telegram, tmp_path, metrics_port=free_port())
    await room.start()
    try:
        post = await post_poll(telegram, editor)
        telegram.slow_next("answerCallbackQuery", 0.2, times=100)  # presses pile up
        presses = [reader.clicks(post, "Да · 0") for _ in range(PRESSES)]
        ids = [str(press["callback_query"]["id"]) for press in presses]
        await telegram.wait_for(lambda: all(telegram.callback_answer(i) for i in ids), 30)
        assert room.settings.metrics_port is not None
        exposition = (await get(f"http://127.0.0.1:{room.settings.metrics_port}/metrics"))[1]
    finally:
        await room.stop()
    toasts = [str((telegram.callback_answer(i) or {}).get("text", "")) for i in ids]
    turned_away = toasts.count(RU.too_many_presses)
    assert 0 < turned_away <= PRESSES - ACCOUNT_BACKLOG - 1, toasts
    # The metrics count them: they never reach the middlewares that count the others.
    counted = Scrape(exposition).total(
        "newsroom_updates_total", kind="callback_query", outcome="turned_away"
    )
    assert counted == turned_away
