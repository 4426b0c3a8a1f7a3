"""Running the built bot: start-up, shutdown, long polling and the webhook server.

Nothing here builds anything: the composition root hands over an ``App``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.failures import Failure, FailureKind
from bot.settings import Settings
from bot.telegram.pacing.retries import MAX_RETRY_AFTER_SECONDS
from bot.telegram.webhook import WebhookHandler, ensure_webhook, serve

if TYPE_CHECKING:
    # Only for the annotation: the composition root imports this module, not the reverse.
    from bot.app import App

logger = logging.getLogger(__name__)


def longest_publish(settings: Settings) -> timedelta:
    """The longest a publication can take: every try of the send may time out, every
    429 in between may be waited out, then the shutdown grace."""
    longest = settings.request_timeout_seconds * (settings.request_retries + 1)
    longest += MAX_RETRY_AFTER_SECONDS * settings.request_retries
    return timedelta(seconds=longest + settings.shutdown_grace_seconds)


def interrupted_before(settings: Settings) -> datetime:
    """Claims older than this were interrupted.  One process owns a SQLite file, so at
    its start everything left "publishing" was; on a shared PostgreSQL database another
    instance may be publishing right now, so only claims older than the longest a
    publication can take count."""
    now = datetime.now(UTC)
    if settings.database_url is None:
        return now
    return now - longest_publish(settings)


async def on_startup(app: App) -> None:
    services = app.services
    if app.monitoring is not None:
        await app.monitoring.start()  # first: /healthz answers while the rest starts
    app.collector.tune()
    me = await app.bot.me()
    logger.info("Bot @%s started; channel %s", me.username, app.settings.channel_id)
    await services.editors.load()
    app.menu.pending.update(services.editors.stored)  # editors added in chat get their menu too
    await app.menu.install(app.bot)
    problem = await services.channel.check_can_post()
    if problem is not None:
        logger.error("The bot cannot post in %s: %s", app.settings.channel_id, problem.stored)
        await services.notifier.cannot_post(problem)
    await services.board.resume()
    settled = await app.articles.settle_interrupted(
        Failure(FailureKind.RESTART).stored, claimed_before=interrupted_before(app.settings)
    )
    await services.notifier.interrupted_publications(settled)
    # Only after interrupted publications are settled: the scheduler publishes too.
    services.scheduler.start()
    app.claims.start()
    # Articles published before the search index existed (or changed while it was down).
    indexed = await app.stores.search.sync()
    if indexed:
        logger.info("Search index: %d articles (re)indexed", indexed)
    services.digest.start()
    services.feeds.start()


async def on_shutdown(app: App) -> None:
    """Polling has stopped: finish the updates in hand, then show every pending vote."""
    services = app.services
    await services.scheduler.stop()
    await services.digest.stop()
    await services.feeds.stop()
    await app.claims.stop()
    await services.imports.stop(app.settings.shutdown_grace_seconds)
    await app.dispatcher.drain(app.settings.shutdown_grace_seconds)
    logger.info(
        "Shutting down: flushing %d pending poll refreshes", services.board.refresher.pending
    )
    await services.board.refresher.flush()
    services.stats.charts.close()
    await services.feeds.close()
    app.collector.restore()
    if app.monitoring is not None:
        await app.monitoring.stop()


async def start_polling(
    app: App, *, handle_signals: bool = True, polling_timeout: int = 10
) -> None:
    """Long polling, bounded: past ``updates_in_hand`` unfinished updates it stops
    fetching; the update lanes decide which of them run; Telegram is told only of what
    was handled (bot/telegram/polling.py)."""
    await app.dispatcher.start_polling(
        app.bot,
        handle_signals=handle_signals,
        polling_timeout=polling_timeout,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        tasks_concurrency_limit=app.settings.updates_in_hand,
    )


def webhook_handler(app: App) -> WebhookHandler:
    assert app.settings.webhook_secret is not None and app.ledger is not None
    return WebhookHandler(
        app.dispatcher,
        app.bot,
        secret_token=app.settings.webhook_secret.get_secret_value(),
        ledger=app.ledger,
    )


async def run_webhook(
    app: App,
    *,
    handle_signals: bool = True,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    handler: WebhookHandler | None = None,
) -> None:
    """Webhook mode: serve WEBHOOK_URL's path until SIGTERM/SIGINT (or ``stop``).

    Never deletes the webhook at stop: the other instances go on receiving updates.
    """
    settings = app.settings
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    stop = stop or asyncio.Event()
    handler = handler or webhook_handler(app)
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

    async def startup() -> None:
        await app.dispatcher.emit_startup(bot=app.bot)
        await ensure_webhook(
            app.bot,
            handler.ledger,
            url=settings.webhook_url or "",
            secret=handler.secret_token or "",
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )

    async def shutdown() -> None:
        await app.dispatcher.emit_shutdown(bot=app.bot)

    await serve(
        handler,
        settings.webhook_path,
        app.health,
        host=settings.web_server_host,
        port=settings.web_server_port,
        startup=startup,
        shutdown=shutdown,
        stop=stop,
        ready=ready,
    )
