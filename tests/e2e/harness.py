"""Runs the real bot (``bot.app.create_app`` + ``Dispatcher.start_polling``) against the
fake Bot API server, and stops or restarts it the way the process would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.app import App, create_app
from bot.lifecycle import start_polling
from bot.models import Article, Poll
from bot.settings import Settings
from storage import StorageSettings, Stores, open_stores
from storage.database import Database
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.rich import rich_plain
from tests.fakes.users import FakeUser

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "newsroom_test_bot"
CHANNEL_ID = -1001234567890
CHANNEL_USERNAME = "kt_news_test"
EDITOR_ID = 1001
SECOND_EDITOR_ID = 1002
ADMIN_ID = 1003


def body_of(message: dict[str, Any]) -> str:
    """What a person sees of a message: its text or its caption (a rich message's
    blocks, one paragraph each)."""
    if "rich_message" in message:
        blocks = message["rich_message"]["blocks"]
        return "\n\n".join(rich_plain(block) for block in blocks)
    return str(message.get("text") or message.get("caption") or "")


def last_text(user: FakeUser) -> str:
    received = user.received()
    return body_of(received[-1]) if received else ""


async def exchange(telegram: FakeBotAPI, user: FakeUser, text: str) -> str:
    """The user sends ``text``; returns the bot's last answer once it has settled."""
    before = len(user.received())
    user.sends(text)
    await telegram.wait_for(lambda: len(user.received()) > before)
    await telegram.wait_idle(quiet=0.05)
    return last_text(user)


async def expect_answers(
    telegram: FakeBotAPI, user: FakeUser, cases: list[tuple[str, str]]
) -> None:
    """For each (what the user sends, what the answer must contain), in order."""
    for text, expected in cases:
        answer = await exchange(telegram, user, text)
        assert expected in answer, (text, answer)


async def answer_to(telegram: FakeBotAPI, press: dict[str, Any]) -> str:
    """The toast the bot answered a button press with (waits for the answer)."""
    query_id = press["callback_query"]["id"]
    answer: dict[str, Any] = await telegram.wait_for(lambda: telegram.callback_answer(query_id))
    return str(answer.get("text", ""))


@contextlib.asynccontextmanager
async def opened(settings: StorageSettings) -> AsyncIterator[Stores]:
    """The bot's database on connections of its own, as an operator's tool opens it."""
    stores = await open_stores(settings)
    try:
        yield stores
    finally:
        await stores.close()


class Newsroom:
    """The bot process, as a test sees it."""

    def __init__(self, server: FakeBotAPI, tmp_path: Path, **overrides: Any) -> None:
        self.server = server
        self.database_path = tmp_path / "newsroom.sqlite3"
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "channel_id": str(CHANNEL_ID),
            "editor_ids": [EDITOR_ID, SECOND_EDITOR_ID],
            "admin_ids": [ADMIN_ID],
            "database_path": self.database_path,
            "telegram_api_url": server.base_url,
            "poll_refresh_seconds": 0.3,
            # Tests run far faster than a newsroom: a generous pace keeps them quick,
            # while the fake still enforces Telegram's limits where a test turns them on.
            "rate_chat_per_second": 50.0,
            "rate_group_per_minute": 6000.0,
            # The stories written before rich messages read the classic form; the rich
            # form (the product's default) has its own full-text stories.
            "full_text_form": "classic",
        }
        values.update(overrides)
        self.settings = Settings(_env_file=None, **values)
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> App:
        # Ready once its first long poll has arrived (not ended: that takes its timeout).
        polls_before = self.server.polls_begun
        self.app = await create_app(self.settings)
        self._task = asyncio.create_task(
            start_polling(self.app, handle_signals=False, polling_timeout=1)
        )
        await self.server.wait_for(
            lambda: (
                self.server.polls_begun > polls_before
                or (self._task is not None and self._task.done())
            ),
            timeout=10,
        )
        if self._task.done():
            self._task.result()  # raise what stopped it
        return self.app

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        if not self._task.done():
            with contextlib.suppress(RuntimeError):  # "polling is not started" race
                await self.app.dispatcher.stop_polling()
        try:
            await asyncio.wait_for(self._task, timeout=10)
        finally:
            await self.app.db.close()
            self.app = None
            self._task = None

    async def kill(self) -> None:
        """Die without any shutdown work, like SIGKILL: nothing is flushed or closed."""
        assert self.app is not None and self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        await self.app.bot.session.close()
        await self.app.db.close()
        self.app = None
        self._task = None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    # --- looking into the database the way an operator would ---------------------------

    async def articles(self) -> list[Article]:
        async with opened(self.settings) as stores:
            repo = stores.articles
            found = []
            for status_list in [
                await repo.list_unpublished(1000),
                await repo.latest_published(1000),
            ]:
                found.extend(status_list)
            return sorted(found, key=lambda a: a.id)

    async def poll(self, poll_id: int) -> Poll | None:
        async with opened(self.settings) as stores:
            return await stores.polls.get(poll_id)


async def set_read_only(db: Database, on: bool) -> None:
    """Turn a running bot's one writer connection read-only (the disk "fails"), or back:
    on the driver's connection itself, since no write transaction can even begin while
    it is read-only."""
    async with db.writer.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")
