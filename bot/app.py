"""Wiring: settings → database, bot, dispatcher, services; start-up and shutdown.

``create_app`` builds everything without starting it, so the tests can run the real
dispatcher against a fake Bot API server exactly as ``python -m bot`` runs it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

from aiogram import Bot, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from bot.articles.digest import Digest
from bot.articles.discovery import Discovery
from bot.articles.drafts import Drafts
from bot.articles.publishing import Publisher
from bot.articles.reading import FullTextForm, Reading
from bot.articles.revisions import Revisions
from bot.articles.scheduling import Scheduler
from bot.articles.withdrawal import Withdrawal
from bot.collector import Collector
from bot.desk.editors import Editors
from bot.desk.history import ActionLog
from bot.desk.stats import Stats
from bot.failures import Failure, FailureKind
from bot.polls.board import PollBoard
from bot.repositories import ArticleStore, PollStore, SearchIndex, UpdateLedger
from bot.settings import Settings
from bot.telegram.channel import Channel
from bot.telegram.lanes import UpdateLanes
from bot.telegram.language import UserTexts
from bot.telegram.menu import CommandMenu
from bot.telegram.notices import Notifier
from bot.telegram.pacing.limiter import RateLimiter, RateLimits
from bot.telegram.pacing.middleware import PacingRetryMiddleware
from bot.telegram.pacing.priorities import Priority
from bot.telegram.pacing.retries import MAX_RETRY_AFTER_SECONDS
from bot.telegram.pacing.shared import SharedRateLimiter
from bot.telegram.responses import ResponseModels
from bot.telegram.updates import TrackingDispatcher
from bot.telegram.webhook import (
    MemoryUpdateLedger,
    WebhookHandler,
    ensure_webhook,
    serve,
)
from bot.texts import Texts, get_texts
from storage import database_answers, open_stores
from storage.database import Database
from storage.redis.connection import open_redis, redis_answers
from storage.redis.gates import RedisRefreshGate
from storage.redis.ledger import RedisUpdateLedger
from storage.redis.limits import RedisBuckets
from storage.redis.locks import RedisPostLocks
from storage.transfer import TableCount, TransferError, copy_sqlite_to_postgres

logger = logging.getLogger(__name__)

# For bot/cli.py (``migrate-to-postgres``): only this module of bot/ imports storage/.
__all__ = ["App", "TableCount", "TransferError", "copy_sqlite_to_postgres", "create_app", "run"]


@dataclass
class App:
    settings: Settings
    texts: Texts
    db: Database
    bot: Bot
    dispatcher: TrackingDispatcher
    articles: ArticleStore
    polls: PollStore
    channel: Channel
    publisher: Publisher
    board: PollBoard
    requests: PacingRetryMiddleware
    scheduler: Scheduler
    menu: CommandMenu
    notifier: Notifier
    editors: Editors
    search_index: SearchIndex
    discovery: Discovery
    digest: Digest
    # Several instances: shared dialogs, limits, live-count gates and handled updates.
    redis: Redis | None = None
    # Webhook mode: ids of handled updates (in Redis when REDIS_URL is set).
    ledger: UpdateLedger | None = None
    collector: Collector = field(default_factory=Collector)


def create_bot(
    settings: Settings, redis: Redis | None = None
) -> tuple[Bot, PacingRetryMiddleware]:
    timeout = settings.request_timeout_seconds
    session = (
        AiohttpSession(
            api=TelegramAPIServer.from_base(
                settings.telegram_api_url, is_local=settings.telegram_api_local
            ),
            timeout=timeout,
        )
        if settings.telegram_api_url
        else AiohttpSession(timeout=timeout)
    )
    limits = RateLimits(
        global_per_second=settings.rate_global_per_second,
        chat_per_second=settings.rate_chat_per_second,
        group_per_minute=settings.rate_group_per_minute,
    )
    limiter = (
        SharedRateLimiter(RedisBuckets(redis, settings.redis_prefix), limits)
        if redis is not None
        else RateLimiter(limits)
    )
    requests = PacingRetryMiddleware(limiter, max_retries=settings.request_retries)
    session.middleware(ResponseModels())
    session.middleware(requests)
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    return bot, requests


# Packages that plug routers into the bot name a ``() -> Router`` here (pyproject.toml).
ROUTERS_GROUP = "newsroom.routers"


def load_routers() -> list[Router]:
    """The router trees of the installed handler packages (``handlers/``), built fresh
    for this dispatcher.  The dependency points one way: handlers know the services,
    the services and the wiring do not know the handlers."""
    found = sorted(entry_points(group=ROUTERS_GROUP), key=lambda point: point.name)
    if not found:
        raise RuntimeError(
            f"no routers are installed (entry points {ROUTERS_GROUP!r}): "
            "install the package, e.g. pip install -e ."
        )
    return [point.load()() for point in found]


async def create_app(settings: Settings) -> App:
    """Build everything, collaborators through constructors, nothing started."""
    texts = get_texts(settings.language)
    stores = await open_stores(settings)  # SQLite, or PostgreSQL when DATABASE_URL is set
    db = stores.db
    redis = open_redis(settings.redis_url) if settings.redis_url else None
    bot, requests = create_bot(settings, redis)
    articles, polls, desk = stores.articles, stores.polls, stores.desk
    editor_ids = settings.all_editor_ids
    history = ActionLog(desk)
    # An instance that died mid-update frees what it held (the update's claim, a dialog
    # lock, a post's edit lock) for the others after this.
    lease = settings.shutdown_grace_seconds + settings.request_timeout_seconds
    channel = Channel(
        bot,
        settings.channel_chat_id,
        texts,
        polls,
        pacer=requests,
        shared_locks=RedisPostLocks(redis, settings.redis_prefix, lease=lease) if redis else None,
    )
    board = PollBoard(
        bot,
        polls,
        articles,
        channel,
        texts,
        settings.poll_refresh_seconds,
        budget_wait=lambda: requests.limiter.estimated_wait(channel.chat_ref, Priority.LIVE),
        history=history,
        refresh_gate=RedisRefreshGate(redis, settings.redis_prefix) if redis else None,
    )
    publisher = Publisher(
        articles, channel, after_publish=board.article_published, history=history
    )
    notifier = Notifier(
        bot,
        texts,
        editor_ids=editor_ids,
        admin_ids=frozenset(settings.admin_ids),
        channel=settings.channel_id,
        tz=settings.tz,
        secrets=settings.secrets,
    )
    scheduler = Scheduler(
        articles,
        publisher,
        report=notifier.scheduled,
        history=history,
        # A publication still running at shutdown gets as long as an update in hand.
        stop_timeout=settings.shutdown_grace_seconds,
    )
    dialogs: BaseStorage = stores.dialogs
    isolation: BaseEventIsolation = SimpleEventIsolation()
    ledger: UpdateLedger = MemoryUpdateLedger(settings.webhook_dedupe_seconds)
    if redis is not None:
        keys = DefaultKeyBuilder(prefix=f"{settings.redis_prefix}:fsm", with_destiny=True)
        dialogs = RedisStorage(redis, key_builder=keys)
        # The same bound for the dialog lock: aiogram's default (60 s) would hold a killed
        # instance's readers and editors up for a minute (tests/e2e/test_instances.py).
        isolation = RedisEventIsolation(redis, key_builder=keys, lock_kwargs={"timeout": lease})
        ledger = RedisUpdateLedger(
            redis, settings.redis_prefix, ttl=settings.webhook_dedupe_seconds, lease=lease
        )
    dispatcher = TrackingDispatcher(storage=dialogs, events_isolation=isolation)
    discovery = Discovery(articles, stores.search, stores.stats)
    digest = Digest(
        stores.stats,
        texts,
        settings.tz,
        settings.digest_time,
        channel.post_digest,
        channel.link_to,
    )
    menu = CommandMenu(
        editor_ids, texts, {code: get_texts(code) for code in ("en",) if code != settings.language}
    )
    editors = Editors(
        desk,
        frozenset(settings.editor_ids),
        frozenset(settings.admin_ids),
        on_added=lambda user_id: menu.grant(bot, user_id),
        on_removed=lambda user_id: menu.revoke(bot, user_id),
    )
    dispatcher.update.outer_middleware(UserTexts(settings.language))
    dispatcher.lanes = UpdateLanes(editors.known, settings.update_concurrency)
    dispatcher.message.outer_middleware(menu)
    dispatcher.include_routers(*load_routers())
    dispatcher.workflow_data.update(
        settings=settings,
        texts=texts,
        publisher=publisher,
        board=board,
        scheduler=scheduler,
        drafts=Drafts(articles, polls, channel, texts, history=history),
        revisions=Revisions(articles, channel, history=history),
        reading=Reading(articles, texts, settings.tz, FullTextForm(settings.full_text_form)),
        withdrawal=Withdrawal(articles, channel),
        notifier=notifier,
        editors=editors,
        history=history,
        stats=Stats(articles, polls, desk, channel.chat_id, settings.tz),
        channel=channel,
        discovery=discovery,
        digest=digest,
    )
    app = App(
        settings=settings,
        texts=texts,
        db=db,
        bot=bot,
        dispatcher=dispatcher,
        articles=articles,
        polls=polls,
        channel=channel,
        publisher=publisher,
        board=board,
        requests=requests,
        scheduler=scheduler,
        menu=menu,
        notifier=notifier,
        editors=editors,
        search_index=stores.search,
        discovery=discovery,
        digest=digest,
        redis=redis,
        ledger=ledger,
    )

    async def startup() -> None:
        await on_startup(app)

    async def shutdown() -> None:
        await on_shutdown(app)

    dispatcher.startup.register(startup)
    dispatcher.shutdown.register(shutdown)
    return app


def interrupted_before(settings: Settings) -> datetime:
    """Claims older than this were interrupted.  One process owns a SQLite file, so at
    its start everything left "publishing" was; on a shared PostgreSQL database another
    instance may be publishing right now, so only claims older than the longest a
    publication can take (every retry of its send, then the shutdown grace) count."""
    now = datetime.now(UTC)
    if settings.database_url is None:
        return now
    # Every try of the send may time out, and every 429 in between may be waited out.
    longest = settings.request_timeout_seconds * (settings.request_retries + 1)
    longest += MAX_RETRY_AFTER_SECONDS * settings.request_retries
    return now - timedelta(seconds=longest + settings.shutdown_grace_seconds)


async def on_startup(app: App) -> None:
    app.collector.tune()
    me = await app.bot.me()
    logger.info("Bot @%s started; channel %s", me.username, app.settings.channel_id)
    await app.editors.load()
    app.menu.pending.update(app.editors.stored)  # editors added in chat get their menu too
    await app.menu.install(app.bot)
    problem = await app.channel.check_can_post()
    if problem is not None:
        logger.error("The bot cannot post in %s: %s", app.settings.channel_id, problem.stored)
        await app.notifier.cannot_post(problem)
    await app.board.resume()
    settled = await app.articles.settle_interrupted(
        Failure(FailureKind.RESTART).stored, claimed_before=interrupted_before(app.settings)
    )
    await app.notifier.interrupted_publications(settled)
    # Only after interrupted publications are settled: the scheduler publishes too.
    app.scheduler.start()
    # Articles published before the search index existed (or changed while it was down).
    indexed = await app.search_index.sync()
    if indexed:
        logger.info("Search index: %d articles (re)indexed", indexed)
    app.digest.start()


async def on_shutdown(app: App) -> None:
    """Polling has stopped: finish the updates in hand, then show every pending vote."""
    await app.scheduler.stop()
    await app.digest.stop()
    await app.dispatcher.drain(app.settings.shutdown_grace_seconds)
    logger.info("Shutting down: flushing %d pending poll refreshes", app.board.refresher.pending)
    await app.board.refresher.flush()
    app.collector.restore()


async def start_polling(
    app: App, *, handle_signals: bool = True, polling_timeout: int = 10
) -> None:
    """Long polling, bounded: past ``updates_in_hand`` unfinished updates it stops
    fetching; the lanes (bot/telegram/lanes.py) decide which of them run."""
    await app.dispatcher.start_polling(
        app.bot,
        handle_signals=handle_signals,
        polling_timeout=polling_timeout,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        tasks_concurrency_limit=app.settings.updates_in_hand,
    )


async def run(settings: Settings, *, handle_signals: bool = True) -> None:
    app = await create_app(settings)
    try:
        if settings.webhook_url:
            await run_webhook(app, handle_signals=handle_signals)
            return
        await start_polling(app, handle_signals=handle_signals)
    finally:
        # aiogram closes its HTTP session only after a successful start-up.
        await app.bot.session.close()
        await app.db.close()
        if app.redis is not None:
            await app.redis.aclose()


async def health(app: App) -> dict[str, bool]:
    """What ``GET /healthz`` reports: does each store this instance needs answer?"""
    checks = {"database": await database_answers(app.db)}
    if app.redis is not None:
        checks["redis"] = await redis_answers(app.redis)
    return checks


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

    async def checks() -> dict[str, bool]:
        return await health(app)

    await serve(
        handler,
        settings.webhook_path,
        checks,
        host=settings.web_server_host,
        port=settings.web_server_port,
        startup=startup,
        shutdown=shutdown,
        stop=stop,
        ready=ready,
    )
