"""The composition root: settings → storage, Telegram, services, dispatcher; and ``run``.

The one module of ``bot`` that knows the storage backends and the handlers: everything
else depends on protocols and receives its collaborators through constructors.
``create_app`` builds everything without starting it, so the tests run the real
dispatcher against a fake Bot API server exactly as ``python -m bot`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.articles.claims import ClaimWatch
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
from bot.feeds.archive import Archive, ImportState, Progress, import_archive
from bot.feeds.cards import Cards
from bot.feeds.desk import FeedDesk
from bot.feeds.fetching import Fetcher
from bot.feeds.imports import ArchiveImports
from bot.lifecycle import longest_publish, on_shutdown, on_startup, run_webhook, start_polling
from bot.metrics import Metrics
from bot.models import Article
from bot.monitoring import MonitoringServer
from bot.polls.board import PollBoard
from bot.repositories import ArticleStore, PollStore, UpdateLedger
from bot.services import Services
from bot.settings import DatabaseSettings, Settings
from bot.telegram.channel import Channel
from bot.telegram.forwards import ForwardedAreNotCommands
from bot.telegram.lanes import UpdateLanes
from bot.telegram.language import UserTexts
from bot.telegram.measuring import RequestMetrics, UpdateMetrics, turned_away_counter
from bot.telegram.menu import CommandMenu
from bot.telegram.notices import Notifier
from bot.telegram.pacing.limiter import RateLimiter, RateLimits
from bot.telegram.pacing.middleware import PacingRetryMiddleware
from bot.telegram.pacing.priorities import Priority
from bot.telegram.pacing.shared import SharedRateLimiter
from bot.telegram.progress import ProgressMessages
from bot.telegram.responses import ResponseModels
from bot.telegram.updates import TrackingDispatcher
from bot.telegram.webhook import MemoryUpdateLedger
from bot.texts import get_texts
from handlers import router_tree
from storage import Stores, database_answers, open_stores
from storage.database import Database
from storage.redis.connection import open_redis, redis_answers
from storage.redis.gates import RedisRefreshGate
from storage.redis.leases import LEASE_SECONDS
from storage.redis.ledger import RedisUpdateLedger
from storage.redis.limits import RedisBuckets
from storage.redis.locks import RedisDialogIsolation, RedisPostLocks
from storage.transfer import TableCount, TransferError, copy_sqlite_to_postgres

# The command line's ``migrate-to-postgres`` reaches the storage layer through here.
__all__ = [
    "App",
    "TableCount",
    "TransferError",
    "copy_sqlite_to_postgres",
    "create_app",
    "create_bot",
    "import_archive_file",
    "run",
]


@dataclass
class App:
    """The built bot: what start-up, the run loops and shutdown need."""

    settings: Settings
    bot: Bot
    dispatcher: TrackingDispatcher
    services: Services
    requests: PacingRetryMiddleware
    menu: CommandMenu
    stores: Stores
    # Settles publishing claims a database failure left behind, while the bot runs.
    claims: ClaimWatch
    # Several instances: shared dialogs, limits, live-count gates and handled updates.
    redis: Redis | None = None
    # Webhook mode: ids of handled updates (in Redis when REDIS_URL is set).
    ledger: UpdateLedger | None = None
    collector: Collector = field(default_factory=Collector)
    # METRICS_PORT set: what this instance measures, and the port that serves it.
    metrics: Metrics | None = None
    monitoring: MonitoringServer | None = None

    @property
    def db(self) -> Database:
        return self.stores.db

    @property
    def articles(self) -> ArticleStore:
        return self.stores.articles

    @property
    def polls(self) -> PollStore:
        return self.stores.polls

    async def health(self) -> dict[str, bool]:
        """What ``GET /healthz`` reports: does each store this instance needs answer?"""
        checks = {"database": await database_answers(self.db)}
        if self.redis is not None:
            checks["redis"] = await redis_answers(self.redis)
        return checks

    async def close(self) -> None:
        """Release the connections (aiogram closes its own session only after a
        successful start-up)."""
        if self.monitoring is not None:
            await self.monitoring.stop()
        await self.bot.session.close()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


def create_bot(
    settings: Settings, redis: Redis | None = None, metrics: Metrics | None = None
) -> tuple[Bot, PacingRetryMiddleware]:
    """The Bot API client, paced and retried (across instances when Redis is shared), and
    measured when metrics are on."""
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
    if metrics is not None:
        # Inside the pacing: each try is counted (a 429 waited out too), slots not timed.
        session.middleware(RequestMetrics(metrics))
        requests.slot_waits = metrics.slot_waited
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    return bot, requests


def create_menu(settings: Settings) -> CommandMenu:
    """The command menus: readers' for everyone, editors' for each editor."""
    others = {code: get_texts(code) for code in ("en",) if code != settings.language}
    return CommandMenu(settings.all_editor_ids, get_texts(settings.language), others)


def create_services(
    settings: Settings,
    stores: Stores,
    bot: Bot,
    requests: PacingRetryMiddleware,
    menu: CommandMenu,
    redis: Redis | None,
    metrics: Metrics | None = None,
) -> Services:
    """The domain services, each given its collaborators."""
    texts = get_texts(settings.language)
    articles, polls, desk = stores.articles, stores.polls, stores.desk
    history = ActionLog(desk)
    channel = Channel(
        bot,
        settings.channel_chat_id,
        texts,
        polls,
        pacer=requests,
        shared_locks=RedisPostLocks(redis, settings.redis_prefix, lease=LEASE_SECONDS)
        if redis
        else None,
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
        counted=metrics.vote if metrics else None,
    )
    cards_ref: list[Cards] = []

    async def after_publish(article: Article) -> None:
        await board.article_published(article)
        for cards in cards_ref:  # a feed's draft: its cards say it is published now
            await cards.settle(article)

    publisher = Publisher(
        articles,
        channel,
        after_publish=after_publish,
        history=history,
        counted=metrics.publication if metrics else None,
    )
    editors = Editors(
        desk,
        frozenset(settings.editor_ids),
        frozenset(settings.admin_ids),
        on_added=lambda user_id: menu.grant(bot, user_id),
        on_removed=lambda user_id: menu.revoke(bot, user_id),
    )
    notifier = Notifier(
        bot,
        texts,
        editor_ids=editors.current,
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
    drafts = Drafts(articles, polls, channel, texts, history=history)
    revisions = Revisions(articles, channel, history=history)
    cards = Cards(
        bot,
        stores.feeds,
        articles,
        drafts,
        texts,
        editor_ids=editors.current,
        link_for=publisher.link_for,
        desk_chat_id=settings.desk_chat_id,
    )
    cards_ref.append(cards)
    feeds = FeedDesk(
        stores.feeds,
        articles,
        Fetcher(allow_private=settings.feed_allow_private, max_bytes=settings.feed_max_bytes),
        cards,
        publisher,
        revisions,
        texts,
        interval=settings.feed_interval_seconds,
        notify=notifier.editors,
        history=history,
        counted=metrics.feed_check if metrics else None,
    )
    return Services(
        drafts=drafts,
        revisions=revisions,
        publisher=publisher,
        scheduler=scheduler,
        withdrawal=Withdrawal(articles, channel),
        reading=Reading(articles, texts, settings.tz, FullTextForm(settings.full_text_form)),
        discovery=Discovery(articles, stores.search, stores.readership),
        digest=Digest(stores.readership, channel, settings.tz, settings.digest_time),
        board=board,
        editors=editors,
        history=history,
        stats=Stats(
            articles,
            polls,
            desk,
            stores.readership,
            channel.chat_id,
            settings.tz,
            channel.texts,
        ),
        notifier=notifier,
        channel=channel,
        progress=ProgressMessages(bot),
        imports=ArchiveImports(bot, stores.archive, settings.tz),
        feeds=feeds,
    )


def create_dispatcher(
    settings: Settings,
    stores: Stores,
    services: Services,
    menu: CommandMenu,
    redis: Redis | None,
    metrics: Metrics | None = None,
) -> TrackingDispatcher:
    """The dispatcher with its dialogs, middlewares and router tree; the handlers get
    ``services``, ``settings`` and ``texts`` (see ``Services``)."""
    dialogs: BaseStorage = stores.dialogs
    isolation: BaseEventIsolation = SimpleEventIsolation()
    if redis is not None:
        keys = DefaultKeyBuilder(prefix=f"{settings.redis_prefix}:fsm", with_destiny=True)
        dialogs = RedisStorage(redis, key_builder=keys)
        # Renewed while an update runs: a killed instance's dialogs are free within the
        # lease, not after aiogram's fixed lock timeout.
        isolation = RedisDialogIsolation(redis, keys, lease=LEASE_SECONDS)
    dispatcher = TrackingDispatcher(storage=dialogs, events_isolation=isolation)
    dispatcher.update.outer_middleware(UserTexts(settings.language))
    dispatcher.lanes = UpdateLanes(
        services.editors.known, settings.update_concurrency, language=settings.language
    )
    if metrics is not None:
        dispatcher.update.outer_middleware(UpdateMetrics(metrics))
        dispatcher.turned_away = turned_away_counter(metrics)
        metrics.watch_lanes(dispatcher.lanes)
    dispatcher.message.outer_middleware(ForwardedAreNotCommands())
    dispatcher.message.outer_middleware(menu)
    dispatcher.include_router(router_tree())
    dispatcher.workflow_data.update(
        services=services, settings=settings, texts=get_texts(settings.language)
    )
    return dispatcher


def create_ledger(settings: Settings, redis: Redis | None) -> UpdateLedger:
    """Webhook mode: the ids of handled updates, shared by the instances through Redis."""
    if redis is None:
        return MemoryUpdateLedger(settings.webhook_dedupe_seconds)
    return RedisUpdateLedger(
        redis,
        settings.redis_prefix,
        ttl=settings.webhook_dedupe_seconds,
        lease=LEASE_SECONDS,
    )


def create_claim_watch(settings: Settings, stores: Stores, services: Services) -> ClaimWatch:
    longest = longest_publish(settings)

    async def notify(articles: list[Article]) -> None:
        await services.notifier.interrupted_publications(articles, while_running=True)

    # Looked at a few times within the longest publication, at least once a minute.
    every = min(max(longest.total_seconds() / 4, 0.2), 60.0)
    return ClaimWatch(stores.articles, notify, older_than=longest, every=every)


def timed_stores(stores: Stores, metrics: Metrics) -> Stores:
    """The same stores, each repository call timed (``newsroom_database_seconds``)."""
    return replace(
        stores,
        articles=metrics.timed("articles", stores.articles),
        polls=metrics.timed("polls", stores.polls),
        desk=metrics.timed("desk", stores.desk),
        search=metrics.timed("search", stores.search),
        readership=metrics.timed("readership", stores.readership),
        feeds=metrics.timed("feeds", stores.feeds),
        archive=metrics.timed("archive", stores.archive),
    )


async def create_app(settings: Settings) -> App:
    """Build everything, collaborators through constructors, nothing started."""
    metrics = Metrics() if settings.metrics_port is not None else None
    stores = await open_stores(settings)  # SQLite, or PostgreSQL when DATABASE_URL is set
    if metrics is not None:
        stores = timed_stores(stores, metrics)
    redis = open_redis(settings.redis_url.get_secret_value()) if settings.redis_url else None
    bot, requests = create_bot(settings, redis, metrics)
    menu = create_menu(settings)
    services = create_services(settings, stores, bot, requests, menu, redis, metrics)
    app = App(
        settings=settings,
        bot=bot,
        dispatcher=create_dispatcher(settings, stores, services, menu, redis, metrics),
        services=services,
        requests=requests,
        menu=menu,
        stores=stores,
        claims=create_claim_watch(settings, stores, services),
        redis=redis,
        ledger=create_ledger(settings, redis),
        metrics=metrics,
    )
    if metrics is not None and settings.metrics_port is not None:
        app.monitoring = MonitoringServer(
            metrics, app.health, host=settings.metrics_host, port=settings.metrics_port
        )

    async def startup() -> None:
        await on_startup(app)

    async def shutdown() -> None:
        await on_shutdown(app)

    app.dispatcher.startup.register(startup)
    app.dispatcher.shutdown.register(shutdown)
    return app


async def run(settings: Settings, *, handle_signals: bool = True) -> None:
    app = await create_app(settings)
    try:
        if settings.webhook_url:
            await run_webhook(app, handle_signals=handle_signals)
        else:
            await start_polling(app, handle_signals=handle_signals)
    finally:
        await app.close()


async def import_archive_file(
    settings: DatabaseSettings, archive: Archive, progress: Progress, *, author_id: int = 0
) -> ImportState:
    """The command line's ``import-archive``: ``archive`` into the configured database,
    as the bot imports one sent in chat (``author_id`` 0: nobody in Telegram)."""
    stores = await open_stores(settings)
    try:
        return await import_archive(
            archive, stores.archive, author_id, settings.tz, progress=progress
        )
    finally:
        await stores.close()
