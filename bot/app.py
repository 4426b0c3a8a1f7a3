"""Wiring: settings → database, bot, dispatcher, services; start-up and shutdown.

``create_app`` builds everything without starting it, so the tests can run the real
dispatcher against a fake Bot API server exactly as ``python -m bot`` runs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import LinkPreviewOptions

from bot.articles.digest import Digest
from bot.articles.discovery import Discovery
from bot.articles.drafts import Drafts
from bot.articles.publishing import Publisher
from bot.articles.reading import Reading
from bot.articles.revisions import Revisions
from bot.articles.scheduling import Scheduler
from bot.models import Headline
from bot.polls.board import PollBoard
from bot.repositories import ArticleStore, PollStore, SearchIndex
from bot.settings import Settings
from bot.telegram.channel import Channel
from bot.telegram.menu import CommandMenu
from bot.telegram.notices import Notifier
from bot.telegram.pacing import PacingRetryMiddleware, Priority, RateLimiter, RateLimits
from bot.telegram.updates import TrackingDispatcher
from bot.texts import Texts, get_texts
from handlers import setup_routers
from storage.sqlite.articles import ArticleRepository
from storage.sqlite.db import Database
from storage.sqlite.dialogs import SqliteDialogStorage
from storage.sqlite.polls import PollRepository
from storage.sqlite.search import SqliteSearchIndex
from storage.sqlite.stats import SqliteArticleStats

logger = logging.getLogger(__name__)


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
    search_index: SearchIndex
    discovery: Discovery
    digest: Digest


def create_bot(settings: Settings) -> tuple[Bot, PacingRetryMiddleware]:
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
    requests = PacingRetryMiddleware(RateLimiter(limits), max_retries=settings.request_retries)
    session.middleware(requests)
    bot = Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    return bot, requests


async def create_app(settings: Settings) -> App:
    """Build everything, collaborators through constructors, nothing started."""
    texts = get_texts(settings.language)
    db = await Database.open(
        settings.database_path, busy_timeout_ms=settings.database_busy_timeout_ms
    )
    bot, requests = create_bot(settings)
    articles = ArticleRepository(db)
    polls = PollRepository(db)
    editor_ids = settings.all_editor_ids
    channel = Channel(bot, settings.channel_chat_id, texts, polls, pacer=requests)
    board = PollBoard(
        bot,
        polls,
        articles,
        channel,
        texts,
        settings.poll_refresh_seconds,
        budget_wait=lambda: requests.limiter.estimated_wait(channel.chat_ref, Priority.LIVE),
    )
    publisher = Publisher(articles, channel, after_publish=board.article_published)
    notifier = Notifier(
        bot,
        texts,
        editor_ids=editor_ids,
        admin_ids=frozenset(settings.admin_ids),
        channel=settings.channel_id,
        tz=settings.tz,
        secrets=[settings.bot_token.get_secret_value()],
    )
    scheduler = Scheduler(articles, publisher, report=notifier.scheduled)
    search_index = SqliteSearchIndex(db)
    stats = SqliteArticleStats(db)
    discovery = Discovery(articles, search_index, stats)

    async def send_digest(html: str) -> tuple[str, int]:
        message = await bot.send_message(
            channel.chat_ref, html, link_preview_options=LinkPreviewOptions(is_disabled=True)
        )
        return channel.chat_id, message.message_id

    def digest_link(item: Headline) -> str | None:
        if item.channel_message_id is None:
            return None
        return channel.post_link(item.channel_message_id, item.channel_chat_id)

    digest = Digest(stats, texts, settings.tz, settings.digest_time, send_digest, digest_link)
    dispatcher = TrackingDispatcher(
        storage=SqliteDialogStorage(db), events_isolation=SimpleEventIsolation()
    )
    menu = CommandMenu(editor_ids, texts)
    dispatcher.message.outer_middleware(menu)
    dispatcher.include_router(setup_routers(editor_ids))
    dispatcher.workflow_data.update(
        settings=settings,
        texts=texts,
        publisher=publisher,
        board=board,
        scheduler=scheduler,
        drafts=Drafts(articles, polls, channel, texts),
        revisions=Revisions(articles, channel),
        reading=Reading(articles, texts, settings.tz),
        editor_ids=editor_ids,
        notifier=notifier,
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
        search_index=search_index,
        discovery=discovery,
        digest=digest,
    )

    async def startup() -> None:
        await on_startup(app)

    async def shutdown() -> None:
        await on_shutdown(app)

    dispatcher.startup.register(startup)
    dispatcher.shutdown.register(shutdown)
    return app


async def on_startup(app: App) -> None:
    me = await app.bot.me()
    logger.info("Bot @%s started; channel %s", me.username, app.settings.channel_id)
    await app.menu.install(app.bot)
    problem = await app.channel.check_can_post()
    if problem is not None:
        logger.error("The bot cannot post in %s: %s", app.settings.channel_id, problem)
        await app.notifier.cannot_post(problem)
    await app.board.resume()
    # One process owns this database: whatever it left "publishing" was interrupted.
    settled = await app.articles.settle_interrupted(
        "interrupted by a restart", claimed_before=datetime.now(UTC)
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


async def run(settings: Settings, *, handle_signals: bool = True) -> None:
    app = await create_app(settings)
    try:
        await app.dispatcher.start_polling(
            app.bot,
            handle_signals=handle_signals,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
            tasks_concurrency_limit=settings.update_concurrency,
        )
    finally:
        # aiogram closes its HTTP session only after a successful start-up.
        await app.bot.session.close()
        await app.db.close()
