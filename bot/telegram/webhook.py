"""Webhook mode: Telegram posts each update to our HTTPS URL; several instances can serve it.

The update is handled inside the request (aiogram's default answers 200 first and handles in
the background, so a crash would lose it): Telegram's 200 means the update's effects are
stored.  Telegram redelivers anything not answered 200, and may redeliver an update whose
200 was lost, so the ids of handled updates are kept for a while (``UpdateLedger``, in
Redis when several instances share the work) and a redelivered update is acknowledged
without being handled again.  An update is marked handled only after it succeeded; one
that raised is released, answered 500, and handled again at its redelivery.

While starting (before start-up work is done) and while stopping, the server answers 503:
Telegram delivers the update again, to another instance behind the proxy or to this one
after its restart.  ``GET /healthz`` says whether the database and Redis answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.errors import is_storage_failure
from bot.monitoring import HEALTH_PATH, HealthCheck, health_response
from bot.repositories import Claim, UpdateLedger
from bot.telegram.lanes import Admission
from bot.telegram.outages import OutageLog
from bot.telegram.updates import TrackingDispatcher

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class MemoryUpdateLedger:
    """One instance without Redis: the ledger lives in the process (lost at a restart, when
    Telegram's redelivery of an update answered 200 just before is very unlikely)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._done: dict[int, float] = {}  # update id → when it may be forgotten
        self._busy: set[int] = set()
        self._fingerprint: str | None = None

    async def claim(self, update_id: int) -> Claim:
        now = self.clock()
        if len(self._done) > 10_000:
            self._done = {k: v for k, v in self._done.items() if v > now}
        if self._done.get(update_id, -1.0) > now:
            return Claim.DONE
        if update_id in self._busy:
            return Claim.BUSY
        self._busy.add(update_id)
        return Claim.NEW

    async def done(self, update_id: int) -> None:
        self._busy.discard(update_id)
        self._done[update_id] = self.clock() + self.ttl

    async def release(self, update_id: int) -> None:
        self._busy.discard(update_id)

    def renewing(self, update_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """One process: a claim lasts as long as the process."""
        return contextlib.nullcontext()

    async def webhook_fingerprint(self) -> str | None:
        return self._fingerprint

    async def remember_webhook(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler for one bot, handling in the request, with dedupe and a stop."""

    def __init__(
        self,
        dispatcher: TrackingDispatcher,
        bot: Bot,
        *,
        secret_token: str,
        ledger: UpdateLedger,
    ) -> None:
        super().__init__(
            dispatcher=dispatcher, bot=bot, handle_in_background=False, secret_token=secret_token
        )
        self.ledger = ledger
        self.ready = False  # start-up work done
        self.stopping = False
        # A burst waits for its slots here, in order, the desk's updates in their own
        # line (the update lanes); Telegram's connections bound how many wait.
        self.lanes = dispatcher.lanes
        self.handled = 0
        self.duplicates = 0
        self.outage = OutageLog()

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # The base class accepts anything when no secret is set; webhook mode requires one.
        try:
            given = telegram_secret_token.encode("ascii")
        except UnicodeEncodeError:  # a header no secret of ours can match
            return False
        return bool(self.secret_token) and secrets.compare_digest(
            given, str(self.secret_token).encode()
        )

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.Response(text="Unauthorized", status=401)
        if self.stopping or not self.ready:
            return _unavailable()
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, ValidationError):
            return web.Response(text="Bad Request", status=400)
        try:
            return await self._handle(bot, update)
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            # Telegram delivers it again, here or to another instance, once it answers.
            self.outage.refused_one(exc)
            with contextlib.suppress(Exception):
                await self.ledger.release(update.update_id)
            return _unavailable()

    async def _handle(self, bot: Bot, update: Update) -> web.Response:
        claim = await self.ledger.claim(update.update_id)
        if claim is Claim.DONE:
            self.duplicates += 1
            return web.json_response({})
        if claim is Claim.BUSY:
            return _unavailable()
        try:
            # The claim is renewed while the update waits for its slot too: a wait behind
            # slow sends must not let another instance take it over meanwhile.
            async with self.ledger.renewing(update.update_id), self._slot(update) as admission:
                if self.stopping:
                    # Stopping began while this waited for a slot: let another instance
                    # have it rather than run it after the shutdown work.
                    await self.ledger.release(update.update_id)
                    return _unavailable()
                result = await self.dispatcher.feed_update(bot, update, admission=admission)
                if isinstance(result, TelegramMethod):
                    await self.dispatcher.silent_call_request(bot, result)
        except BaseException:
            await self.ledger.release(update.update_id)
            raise
        await self.ledger.done(update.update_id)
        self.handled += 1
        self.outage.answered()
        return web.json_response({})

    def _slot(self, update: Update) -> contextlib.AbstractAsyncContextManager[Admission | None]:
        return contextlib.nullcontext() if self.lanes is None else self.lanes.slot(update)


def _unavailable() -> web.Response:
    return web.Response(text="Service Unavailable", status=503, headers={"Retry-After": "1"})


def build_web_app(handler: WebhookHandler, path: str, health: HealthCheck) -> web.Application:
    """The webhook at ``path`` and ``GET /healthz`` on the same port."""

    async def healthz(request: web.Request) -> web.Response:
        return await health_response(health, stopping=handler.stopping)

    app = web.Application()
    app.router.add_post(path, handler.handle)
    app.router.add_get(HEALTH_PATH, healthz)
    return app


def webhook_fingerprint(url: str, secret: str, allowed_updates: list[str]) -> str:
    """Telegram does not tell which secret a webhook has: remember a hash of what we set."""
    raw = "\n".join([url, secret, ",".join(sorted(allowed_updates))])
    return hashlib.sha256(raw.encode()).hexdigest()


async def ensure_webhook(
    bot: Bot,
    ledger: UpdateLedger,
    *,
    url: str,
    secret: str,
    allowed_updates: list[str],
    attempts: int = 5,
) -> bool:
    """Set the webhook only if it differs from what Telegram has; True if it was set.

    Several instances starting together would each call setWebhook and get 429: after a
    429 the webhook is looked at again, since another instance has probably set it.
    """
    fingerprint = webhook_fingerprint(url, secret, allowed_updates)
    for _ in range(attempts):
        info = await bot.get_webhook_info()
        same = (
            info.url == url
            and sorted(info.allowed_updates or []) == sorted(allowed_updates)
            and await ledger.webhook_fingerprint() == fingerprint
        )
        if same:
            logger.info("Webhook already set to %s", url)
            return False
        try:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=allowed_updates)
        except TelegramRetryAfter as exc:
            logger.warning("setWebhook: flood control, looking again in %s s", exc.retry_after)
            await asyncio.sleep(exc.retry_after)
            continue
        await ledger.remember_webhook(fingerprint)
        logger.info("Webhook set to %s", url)
        return True
    raise RuntimeError("could not set the webhook: Telegram kept answering 429")


async def serve(
    handler: WebhookHandler,
    path: str,
    health: HealthCheck,
    *,
    host: str,
    port: int,
    startup: Callable[[], Awaitable[Any]],
    shutdown: Callable[[], Awaitable[Any]],
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Listen, run start-up, take updates until ``stop`` is set, then stop cleanly.

    The port is open (answering 503) before start-up work, so a proxy's health check and
    Telegram's deliveries get an answer; on stop new updates get 503 while those in hand
    finish (``shutdown`` drains the dispatcher), and only then is the port closed.
    """
    runner = web.AppRunner(build_web_app(handler, path, health), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        logger.info("Webhook server listening on %s:%s%s", host, port, path)
        await startup()
        handler.ready = True
        if ready is not None:
            ready.set()
        await stop.wait()
        logger.info("Stopping: new updates get 503, finishing those in hand")
        handler.stopping = True
        await shutdown()
    finally:
        handler.stopping = True
        await runner.cleanup()
