"""Runs the real bot in webhook mode (``bot.lifecycle.run_webhook``) in-process: the fake Bot API
server posts updates to it over real HTTP, like Telegram after ``setWebhook``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

from bot.app import App, create_app
from bot.lifecycle import run_webhook, webhook_handler
from bot.settings import Settings
from bot.telegram.webhook import WebhookHandler
from tests.e2e.harness import ADMIN_ID, CHANNEL_ID, EDITOR_ID, SECOND_EDITOR_ID, TOKEN
from tests.fakes.botapi_server import FakeBotAPI

SECRET = "test_webhook-secret_0123456789-abcdefghij"
WEBHOOK_PATH = "/telegram/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebhookNewsroom:
    """One bot instance in webhook mode; several may share a database file and Redis."""

    def __init__(self, server: FakeBotAPI, database_path: Path, **overrides: Any) -> None:
        self.server = server
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "channel_id": str(CHANNEL_ID),
            "editor_ids": [EDITOR_ID, SECOND_EDITOR_ID],
            "admin_ids": [ADMIN_ID],
            "database_path": database_path,
            "telegram_api_url": server.base_url,
            "poll_refresh_seconds": 0.3,
            "rate_chat_per_second": 50.0,
            "rate_group_per_minute": 6000.0,
            "webhook_url": self.url,
            "webhook_secret": SECRET,
            "web_server_host": "127.0.0.1",
            "web_server_port": self.port,
        }
        values.update(overrides)
        self.settings = Settings(_env_file=None, **values)
        self.app: App | None = None
        self.handler: WebhookHandler | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> App:
        self.app = await create_app(self.settings)
        self.handler = webhook_handler(self.app)
        self._stop = asyncio.Event()
        ready = asyncio.Event()
        self._task = asyncio.create_task(
            run_webhook(
                self.app, handle_signals=False, stop=self._stop, ready=ready, handler=self.handler
            )
        )
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({waiter, self._task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()  # raise what stopped it
        assert ready.is_set(), "webhook server not ready within 15 s"
        return self.app

    def begin_stop(self) -> None:
        """Like SIGTERM: new updates get 503 from now on; those in hand finish."""
        self._stop.set()

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout=20)
        finally:
            await self.app.bot.session.close()
            await self.app.db.close()
            if self.app.redis is not None:
                await self.app.redis.aclose()
            self.app = None
            self._task = None

    async def wait_stopped(self) -> None:
        assert self._task is not None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout=20)
