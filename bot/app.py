"""Wiring: settings → database, bot, dispatcher, services; start-up and shutdown.

``create_app`` builds everything without starting it, so the tests can run the real
dispatcher against a fake Bot API server exactly as ``python -m bot`` runs it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.articles.publishing import Outcome, Publisher, PublishResult
from bot.articles.reading import Reading
from bot.articles.revisions import Revisions
from bot.articles.scheduling import Scheduler
from bot.polls.board import PollBoard
from bot.settings import Settings
from bot.telegram.channel import Channel
from bot.telegram.menu import CommandMenu
from bot.telegram.pacing import PacingRetryMiddleware, RateLimiter, RateLimits
from bot.texts import Texts, get_texts
from handlers import setup_routers
from handlers.drafts import describe_publish
from handlers.errors import AdminReporter
from handlers.replies import plain
from storage.sqlite.articles import ArticleRepository
from storage.sqlite.db import Database
from storage.sqlite.dialogs import SqliteDialogStorage
from storage.sqlite.polls import PollRepository

logger = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    texts: Texts
    db: Database
    bot: Bot
    dispatcher: Dispatcher
    articles: ArticleRepository
    channel: Channel
    publisher: Publisher
    board: PollBoard
    requests: PacingRetryMiddleware
    scheduler: Scheduler
    menu: CommandMenu


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
    texts = get_texts(settings.language)
    db = await Database.open(
        settings.database_path, busy_timeout_ms=settings.database_busy_timeout_ms
    )
    bot, requests = create_bot(settings)
    articles = ArticleRepository(db)
    channel = Channel(bot, settings.channel_chat_id, texts)
    polls = PollRepository(db)
    board = PollBoard(bot, polls, articles, channel, texts, settings.poll_refresh_seconds)
    channel.extra_rows = board.rows_for_article
    channel.appendix = board.appendix_for_article
    publisher = Publisher(articles, channel, after_publish=board.article_published)
    scheduler = Scheduler(articles, publisher, report=lambda *a: report_scheduled(app, *a))
    editor_ids = settings.all_editor_ids
    dispatcher = Dispatcher(
        storage=SqliteDialogStorage(db), events_isolation=SimpleEventIsolation()
    )
    menu = CommandMenu(editor_ids, texts)
    dispatcher.message.outer_middleware(menu)
    dispatcher.include_router(setup_routers(editor_ids))
    dispatcher.workflow_data.update(
        settings=settings,
        texts=texts,
        articles=articles,
        channel=channel,
        publisher=publisher,
        board=board,
        scheduler=scheduler,
        revisions=Revisions(articles, channel),
        reading=Reading(articles, texts, settings.tz),
        editor_ids=editor_ids,
        reporter=AdminReporter(
            frozenset(settings.admin_ids), secrets=[settings.bot_token.get_secret_value()]
        ),
    )
    app = App(
        settings=settings,
        texts=texts,
        db=db,
        bot=bot,
        dispatcher=dispatcher,
        articles=articles,
        channel=channel,
        publisher=publisher,
        board=board,
        requests=requests,
        scheduler=scheduler,
        menu=menu,
    )

    async def startup() -> None:
        await on_startup(app)

    async def shutdown() -> None:
        await on_shutdown(app)

    dispatcher.startup.register(startup)
    dispatcher.shutdown.register(shutdown)
    return app


async def notify_editors(app: App, text: str) -> None:
    for editor_id in sorted(app.settings.all_editor_ids):
        try:
            await app.bot.send_message(editor_id, plain(text))
        except TelegramAPIError as exc:
            logger.info("Could not notify editor %s: %s", editor_id, exc.message)


async def report_scheduled(
    app: App, author_id: int, result: PublishResult, when: datetime, late: bool
) -> None:
    """Tell the author what became of their scheduled article."""
    article_id = result.article.id if result.article else 0
    if result.outcome is Outcome.PUBLISHED:
        template = app.texts.scheduled_published_late if late else app.texts.scheduled_published
        text = plain(
            template,
            id=article_id,
            link=result.link or "",
            when=when.astimezone(app.settings.tz).strftime("%Y-%m-%d %H:%M"),
        )
    else:
        text = describe_publish(result, article_id, app.channel, app.texts)
    recipients = {author_id} if author_id in app.settings.all_editor_ids else set()
    for editor_id in recipients or app.settings.all_editor_ids:
        try:
            await app.bot.send_message(editor_id, text)
        except TelegramAPIError as exc:
            logger.info("Could not tell editor %s about a scheduled post: %s", editor_id, exc)


async def on_startup(app: App) -> None:
    me = await app.bot.me()
    logger.info("Bot @%s started; channel %s", me.username, app.settings.channel_id)
    await app.menu.install(app.bot)
    problem = await app.channel.check_can_post()
    if problem is not None:
        logger.error("The bot cannot post in %s: %s", app.settings.channel_id, problem)
        for admin_id in app.settings.admin_ids:
            try:
                await app.bot.send_message(
                    admin_id,
                    plain(
                        app.texts.channel_cannot_post, channel=app.channel.chat_id, reason=problem
                    ),
                )
            except TelegramAPIError as exc:
                logger.info("Could not warn admin %s: %s", admin_id, exc.message)
    await app.board.resume()
    for article in await app.articles.settle_interrupted("interrupted by a restart"):
        await notify_editors(
            app,
            app.texts.publish_uncertain_at_start.format(
                id=article.id, title=article.title, channel=app.channel.chat_id
            ),
        )
    # Only after interrupted publications are settled: the scheduler publishes too.
    app.scheduler.start()


SHUTDOWN_GRACE_SECONDS = 5.0


async def on_shutdown(app: App) -> None:
    """Polling has stopped: finish the updates in hand, then show every pending vote."""
    await app.scheduler.stop()
    # aiogram's polling does not await the update tasks still running when it stops
    # (including those queued behind an editor's dialog lock): finish them here, before
    # the database closes under them.
    running = {t for t in app.dispatcher._handle_update_tasks if t is not asyncio.current_task()}
    if running:
        _, late = await asyncio.wait(running, timeout=SHUTDOWN_GRACE_SECONDS)
        if late:
            logger.warning("Shutdown: %d updates still running after the grace period", len(late))
    logger.info("Shutting down: flushing %d pending poll refreshes", app.board.refresher.pending)
    await app.board.refresher.flush()


async def run(settings: Settings, *, handle_signals: bool = True) -> None:
    app = await create_app(settings)
    try:
        await app.dispatcher.start_polling(
            app.bot,
            handle_signals=handle_signals,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    finally:
        # aiogram closes its HTTP session only after a successful start-up.
        await app.bot.session.close()
        await app.db.close()
