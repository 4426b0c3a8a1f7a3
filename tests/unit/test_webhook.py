"""The webhook handler: acknowledged only after the effect, once per update id, refused
without the secret, 503 while starting or stopping; /healthz reports the stores."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.types import Message
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.repositories import Claim
from bot.settings import Settings
from bot.telegram.lanes import UpdateLanes
from bot.telegram.updates import TrackingDispatcher
from bot.telegram.webhook import (
    MemoryUpdateLedger,
    WebhookHandler,
    build_web_app,
    ensure_webhook,
)
from storage.redis.connection import open_redis
from storage.redis.ledger import RedisUpdateLedger
from tests.fakes.botapi_server import SECRET_HEADER, FakeBotAPI
from tests.redis_support import RedisSpace, closed_port_url

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SECRET = "the-secret_1-of-the-webhook-0123456789"
PATH = "/hook"
HOOK = "https://x.example/hook"


def update(update_id: int, text: str = "hello") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": 5001, "type": "private", "first_name": "R"},
            "from": {"id": 5001, "is_bot": False, "first_name": "R"},
            "text": text,
        },
    }


@dataclass
class Rig:
    client: TestClient[Any, Any]
    handler: WebhookHandler
    effects: list[int] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    fail_next: list[bool] = field(default_factory=list)
    healthy: dict[str, bool] = field(default_factory=lambda: {"database": True})

    async def post(self, body: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        answer = await self.client.post(PATH, json=body, headers=headers)
        return answer.status


class WatchedLedger(MemoryUpdateLedger):
    """The in-process ledger, telling which updates it was asked to claim."""

    def __init__(self, ttl: float) -> None:
        super().__init__(ttl)
        self.claims: list[int] = []

    async def claim(self, update_id: int) -> Claim:
        self.claims.append(update_id)
        return await super().claim(update_id)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    router = Router()
    holder: list[Rig] = []

    @router.message()
    async def on_message(message: Message) -> None:
        rig = holder[0]
        if message.text == "slow":
            await rig.gate.wait()
        if rig.fail_next:
            rig.fail_next.pop()
            raise RuntimeError("the database said no")
        rig.effects.append(message.message_id)

    dispatcher = TrackingDispatcher()
    dispatcher.include_router(router)
    # One reader's update at a time: the second waits for the first's slot.
    dispatcher.lanes = UpdateLanes(lambda user_id: False, reader_slots=1)
    bot = Bot(TOKEN)
    handler = WebhookHandler(
        dispatcher,
        bot,
        secret_token=SECRET,
        ledger=WatchedLedger(60),
    )
    handler.ready = True

    async def checks() -> dict[str, bool]:
        return holder[0].healthy

    client: TestClient[Any, Any] = TestClient(TestServer(build_web_app(handler, PATH, checks)))
    await client.start_server()
    rig = Rig(client, handler)
    holder.append(rig)
    try:
        yield rig
    finally:
        await client.close()
        await bot.session.close()


async def test_acknowledged_after_the_effect_and_only_once(rig: Rig) -> None:
    assert await rig.post(update(1)) == 200
    assert rig.effects == [1]  # the effect was there when 200 came
    assert await rig.post(update(1)) == 200  # Telegram redelivers: acknowledged …
    assert rig.effects == [1]  # … not handled again
    assert rig.handler.duplicates == 1


async def test_wrong_or_missing_secret_gets_401_and_changes_nothing(rig: Rig) -> None:
    assert await rig.post(update(2), secret="nope") == 401
    assert await rig.post(update(2), secret=None) == 401
    assert rig.effects == []
    assert await rig.post(update(2)) == 200  # not remembered as handled
    assert rig.effects == [2]


@pytest.mark.parametrize("header", ["пароль".encode(), b"\xe9t\xe9", b"\xff" * 40])
async def test_a_secret_header_that_is_not_ascii_gets_401(rig: Rig, header: bytes) -> None:
    """Raw bytes on the wire, as a client may send them (aiohttp's own client would
    encode them): never a 500 with a traceback."""
    server = rig.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    body = json.dumps(update(3)).encode()
    head = [
        f"POST {PATH} HTTP/1.1".encode(),
        b"Host: x",
        b"Content-Type: application/json",
        SECRET_HEADER.encode() + b": " + header,
        f"Content-Length: {len(body)}".encode(),
        b"Connection: close",
    ]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"401"
    assert rig.effects == []


async def test_a_failed_update_is_not_marked_handled(rig: Rig) -> None:
    rig.fail_next.append(True)
    assert await rig.post(update(3)) == 500
    assert rig.effects == []
    assert await rig.post(update(3)) == 200  # the redelivery does the work
    assert rig.effects == [3]


async def test_a_redelivery_while_in_hand_is_asked_again(rig: Rig) -> None:
    first = asyncio.create_task(rig.post(update(4, "slow")))
    while not rig.handler.dispatcher.in_progress:  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
    assert await rig.post(update(4, "slow")) == 503
    rig.gate.set()
    assert await first == 200
    assert rig.effects == [4]


async def test_stopping_answers_503(rig: Rig) -> None:
    rig.handler.stopping = True
    assert await rig.post(update(5)) == 503
    assert rig.effects == []
    assert (await rig.client.get("/healthz")).status == 503


async def test_an_update_waiting_for_its_slot_when_the_stop_begins_is_handed_back(
    rig: Rig,
) -> None:
    """It gets 503 (Telegram keeps it for another instance) and is not handled here,
    while the one in hand finishes; its redelivery is handled normally."""
    first = asyncio.create_task(rig.post(update(6, "slow")))
    while not rig.handler.dispatcher.in_progress:  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
    second = asyncio.create_task(rig.post(update(7)))
    ledger = rig.handler.ledger
    assert isinstance(ledger, WatchedLedger)
    # Claimed, so it is past its checks and waits for the slot (the claim never suspends).
    while 7 not in ledger.claims:
        await asyncio.sleep(0.01)
    rig.handler.stopping = True
    rig.gate.set()
    assert await first == 200
    assert await second == 503
    assert rig.effects == [6]
    rig.handler.stopping = False
    assert await rig.post(update(7)) == 200  # not remembered as handled or in hand
    assert rig.effects == [6, 7]


async def test_bad_body_is_400(rig: Rig) -> None:
    assert await rig.post({"nonsense": True}) == 400


async def test_healthz_reports_each_store(rig: Rig) -> None:
    answer = await rig.client.get("/healthz")
    assert answer.status == 200
    rig.healthy = {"database": True, "redis": False}
    answer = await rig.client.get("/healthz")
    assert answer.status == 503
    assert await answer.json() == {"database": True, "redis": False, "stopping": False}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "channel_id": "-1001234567890",
        "database_path": tmp_path / "n.sqlite3",
        "telegram_api_url": "http://127.0.0.1:9",
        "webhook_url": "http://127.0.0.1:8080/hook",
        "webhook_secret": SECRET,
    }
    return Settings(_env_file=None, **{**values, **overrides})


@pytest.mark.parametrize("redis_up", [True, False])
async def test_health_of_the_real_app(tmp_path: Path, redis: RedisSpace, redis_up: bool) -> None:
    """Redis "stopped" (REDIS_URL pointing at a closed port): /healthz says 503."""
    url = redis.url if redis_up else closed_port_url()
    app = await create_app(settings_for(tmp_path, redis_url=url, redis_prefix=redis.prefix))
    try:
        assert await app.health() == {"database": True, "redis": redis_up}
    finally:
        await app.bot.session.close()
        await app.db.close()
        assert app.redis is not None
        await app.redis.aclose()


async def test_set_webhook_survives_429_from_instances_starting_together() -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        bot = server.make_bot()
        ledger = MemoryUpdateLedger(60)
        server.fail_next("setWebhook", status=429, retry_after=1)
        try:

            async def setter() -> bool:
                return await ensure_webhook(
                    bot, ledger, url=HOOK, secret=SECRET, allowed_updates=["message"]
                )

            assert await asyncio.wait_for(setter(), timeout=10) is True
            assert server.webhook_url == HOOK
            assert await setter() is False  # same settings: left alone
            assert len(server.calls("setWebhook")) == 2  # the 429 and the one that took
        finally:
            await bot.session.close()


async def test_a_redis_outage_is_two_log_lines_not_a_traceback_per_update(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stops answering during a burst: every update gets 503 (Telegram delivers it
    again), one line says the outage began, one that it ended, with the count."""
    working = rig.handler.ledger
    down = RedisUpdateLedger(open_redis(closed_port_url()), "t", ttl=60, lease=5)
    rig.handler.ledger = down
    try:
        with caplog.at_level(logging.DEBUG):
            statuses = [await rig.post(update(100 + i)) for i in range(20)]
            rig.handler.ledger = working  # Redis is back
            assert await rig.post(update(200)) == 200
    finally:
        await down.redis.aclose()
    assert set(statuses) == {503}
    assert rig.effects == [200]  # nothing half-done while it was away
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.exc_info for r in loud] == [None, None]
    assert "Redis does not answer" in loud[0].getMessage()
    assert "20 updates were refused meanwhile" in loud[1].getMessage()
