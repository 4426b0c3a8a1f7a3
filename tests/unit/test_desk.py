"""The editor's desk: the editors' set, the history the services record, statistics;
services with in-memory stores, then the store itself on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.articles.drafts import DialogDraft, Drafts
from bot.articles.publishing import Outcome, Publisher
from bot.articles.scheduling import Scheduler, UnscheduleOutcome
from bot.desk.editors import AddOutcome, Editors, RemoveOutcome, parse_user_id
from bot.desk.history import ActionLog, acting
from bot.desk.stats import Stats, period_starts
from bot.models import (
    ActionRecord,
    Actor,
    ArticleContent,
    ArticleStatus,
    ChannelPost,
    EditorSource,
    PeriodStats,
    PollSpec,
)
from bot.repositories import DraftExtras, EditorStore, HistoryStore, StatsStore
from bot.texts import RU
from storage import Stores
from storage.tables import editor_actions
from tests.fakes.stores import MemoryDesk, MemoryReadership, stores
from tests.unit.test_services import FakeChannel

CONTENT = ArticleContent(title="Заголовок", paragraphs=("Первый абзац.",))
ALMATY = ZoneInfo("Asia/Almaty")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_memory_desk_implements_the_protocols() -> None:
    desk = MemoryDesk()
    editors: EditorStore = desk
    history: HistoryStore = desk
    stats: StatsStore = desk
    assert editors is not None and history is not None and stats is not None


def test_user_ids() -> None:
    assert parse_user_id(" 7012345678 ") == 7012345678
    for bad in (None, "", "0", "-5", "abc", "12 34", "9" * 17):
        assert parse_user_id(bad) is None


# --- the editors' set -----------------------------------------------------------------


async def test_add_and_remove_follow_the_menu_and_keep_settings_editors() -> None:
    desk = MemoryDesk()
    followed: list[tuple[str, int]] = []

    async def added(user_id: int) -> None:
        followed.append(("added", user_id))

    async def removed(user_id: int) -> None:
        followed.append(("removed", user_id))

    editors = Editors(desk, frozenset({1, 2}), frozenset({3}), on_added=added, on_removed=removed)
    await editors.load()
    assert not await editors.is_editor(50)
    assert await editors.add(50, 3, "Admin") is AddOutcome.ADDED
    assert await editors.is_editor(50)
    assert await editors.add(50, 3) is AddOutcome.ALREADY
    assert await editors.add(1, 3) is AddOutcome.IN_SETTINGS
    assert await editors.add(3, 3) is AddOutcome.IN_SETTINGS
    assert await editors.remove(1, 3) is RemoveOutcome.IN_SETTINGS
    assert await editors.remove(3, 3) is RemoveOutcome.IN_SETTINGS
    assert [(e.user_id, e.source) for e in await editors.listing()] == [
        (3, EditorSource.ADMIN),
        (1, EditorSource.SETTINGS),
        (2, EditorSource.SETTINGS),
        (50, EditorSource.DATABASE),
    ]
    assert await editors.remove(50, 3) is RemoveOutcome.REMOVED
    assert await editors.remove(50, 3) is RemoveOutcome.NOT_EDITOR
    assert not await editors.is_editor(50)
    assert followed == [("added", 50), ("removed", 50)]
    assert [(a.action, a.editor_id, a.detail) for a in desk.actions] == [
        ("addeditor", 3, "50"),
        ("removeeditor", 3, "50"),
    ]
    assert editors.is_admin(3) and not editors.is_admin(1)


async def test_another_instances_change_is_seen_after_max_age_with_one_query() -> None:
    desk = MemoryDesk()
    clock = Clock()
    here = Editors(desk, frozenset({1}), frozenset(), max_age=5.0, clock=clock)
    there = Editors(desk, frozenset({1}), frozenset(), max_age=5.0, clock=clock)
    await here.load()
    await there.load()
    await there.add(60, 1)
    queries = desk.id_queries
    assert not await here.is_editor(60)  # still fresh: no query
    assert await here.is_editor(1)  # settings editors never need one
    assert desk.id_queries == queries
    clock.now += 5.0
    assert await here.is_editor(60)
    assert await here.is_editor(61) is False
    assert desk.id_queries == queries + 1  # one reload serves the checks of its period
    await there.remove(60, 1)
    clock.now += 5.0
    assert not await here.is_editor(60)


async def test_known_answers_from_the_last_load_without_a_query() -> None:
    """What the desk's line for updates asks (bot/telegram/lanes.py): never waits."""
    desk = MemoryDesk()
    clock = Clock()
    here = Editors(desk, frozenset({1}), frozenset({2}), max_age=5.0, clock=clock)
    there = Editors(desk, frozenset({1}), frozenset({2}), max_age=5.0, clock=clock)
    await here.load()
    await there.add(60, 2)
    queries = desk.id_queries
    clock.now += 60.0
    assert here.known(1) and here.known(2)  # settings editor, admin
    assert not here.known(60)  # added elsewhere, not reloaded here yet
    assert desk.id_queries == queries
    assert await here.is_editor(60)  # a rights check reloads ...
    assert here.known(60)  # ... and the line follows


# --- the history the services record ------------------------------------------------------


async def test_services_record_who_did_what() -> None:
    articles, polls = stores()
    desk = MemoryDesk()
    log = ActionLog(desk)
    channel = FakeChannel()
    drafts = Drafts(articles, polls, channel, RU, history=log)
    publisher = Publisher(articles, channel, history=log)
    scheduler = Scheduler(articles, publisher, report=_no_report, history=log)

    token = acting.set(Actor(1001, "Айгерим"))
    try:
        article = await drafts.import_text("Заголовок\n\nПервый абзац текста.", 1001)
        when = datetime.now(UTC) + timedelta(days=1)
        assert await scheduler.schedule(article.id, when) is not None
        assert await scheduler.unschedule(article.id) is UnscheduleOutcome.UNSCHEDULED
        assert await scheduler.unschedule(article.id) is UnscheduleOutcome.NOT_SCHEDULED
        assert (await publisher.publish(article.id)).outcome is Outcome.PUBLISHED
        # A refusal changed nothing: no history line.
        assert (await publisher.publish(article.id)).outcome is Outcome.ALREADY_PUBLISHED
    finally:
        acting.reset(token)
    other = await drafts.create_from_dialog(_dialog(), PollSpec("Вопрос?", ("Да", "Нет")), 1001)
    lines = [(a.action, a.editor_id, a.editor_name) for a in await log.article(article.id)]
    assert lines == [
        ("import", 1001, "Айгерим"),
        ("schedule", 1001, "Айгерим"),
        ("unschedule", 1001, "Айгерим"),
        ("publish", 1001, "Айгерим"),
    ]
    assert (await log.article(article.id))[1].detail == when.astimezone(UTC).isoformat()
    # Outside an editor's update (the scheduler, a test): the bot itself.
    assert [(a.action, a.editor_id) for a in await log.article(other.id)] == [("new", None)]


async def test_a_lost_history_line_does_not_undo_the_action(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(MemoryDesk):
        async def record_action(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

    articles, polls = stores()
    drafts = Drafts(articles, polls, FakeChannel(), RU, history=ActionLog(Broken()))
    article = await drafts.import_text("Заголовок\n\nПервый абзац текста.", 1)
    assert await articles.get(article.id) is not None
    assert "Could not record import" in caplog.text


async def _no_report(*_: object) -> None:
    return None


def _dialog() -> DialogDraft:
    return DialogDraft(title="Второй", paragraphs=("Текст.",))


# --- statistics ------------------------------------------------------------------------


def test_periods_start_at_local_midnight_and_monday() -> None:
    # Wednesday 2026-03-04 01:30 in Almaty is still Tuesday 19:30 in UTC.
    now = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
    today, week = period_starts(now, ALMATY)
    assert today == datetime(2026, 3, 4, tzinfo=ALMATY)
    assert week == datetime(2026, 3, 2, tzinfo=ALMATY)


async def test_article_stats_and_reactions_keep_the_newest() -> None:
    articles, polls = stores()
    desk = MemoryDesk()
    channel = FakeChannel()
    stats = Stats(articles, polls, desk, MemoryReadership(), channel.chat_id, ALMATY, RU)
    article = await articles.create(CONTENT, 1)
    assert (await stats.article(article.id)).reactions is None  # type: ignore[union-attr]
    published = await Publisher(articles, channel).publish(article.id)
    assert published.article is not None and published.article.channel_message_id is not None
    message_id = published.article.channel_message_id
    at = datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert await stats.record_reactions(message_id, (("👍", 2), ("🔥", 5)), at)
    assert not await stats.record_reactions(message_id, (("👍", 1),), at - timedelta(minutes=1))
    found = await stats.article(article.id)
    assert found is not None and found.reactions is not None
    assert found.reactions.counts == (("🔥", 5), ("👍", 2))
    assert found.reactions.total == 7
    assert await stats.article(999) is None


# --- the store, on both engines -------------------------------------------------------


async def test_store_editors_and_their_history_in_one_transaction(stores: Stores) -> None:
    desk = stores.desk
    assert await desk.add_editor(70, 3, "Admin")
    assert not await desk.add_editor(70, 4)  # the key decides: recorded once
    assert await desk.editor_ids() == {70}
    assert [(e.user_id, e.added_by) for e in await desk.list_editors()] == [(70, 3)]
    assert await desk.remove_editor(70, 3)
    assert not await desk.remove_editor(70, 3)
    lines = select(
        editor_actions.c.action,
        editor_actions.c.editor_id,
        editor_actions.c.editor_name,
        editor_actions.c.detail,
    ).order_by(editor_actions.c.id)
    async with stores.db.read() as conn:
        rows = (await conn.execute(lines)).all()
    assert [tuple(r) for r in rows] == [
        ("addeditor", 3, "Admin", "70"),
        ("removeeditor", 3, None, "70"),
    ]


async def test_store_history_reactions_and_period(stores: Stores) -> None:
    desk, articles, polls = stores.desk, stores.articles, stores.polls
    extras = DraftExtras(poll=PollSpec("Вопрос?", ("Да", "Нет")))
    article = await articles.create(CONTENT, 1, extras)
    await desk.record_action(
        ActionRecord("import", 1, editor_name="Айгерим", article_id=article.id)
    )
    await desk.record_action(
        ActionRecord("publish", None, article_id=article.id, detail="published")
    )
    await desk.record_action(ActionRecord("poll", 1, poll_id=9))
    history = await desk.article_history(article.id)
    assert [(h.action, h.editor_id, h.detail) for h in history] == [
        ("import", 1, None),
        ("publish", None, "published"),
    ]

    at = datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert await desk.save_reactions("-100", 5, (("🔥", 5), ("👍", 2)), at)
    assert not await desk.save_reactions("-100", 5, (("👍", 1),), at - timedelta(seconds=1))
    assert await desk.save_reactions("-100", 5, (("🔥", 6),), at + timedelta(seconds=1))
    stored = await desk.reactions("-100", 5)
    assert stored is not None and stored.counts == (("🔥", 6),) and stored.total == 6
    assert await desk.reactions("-100", 6) is None

    claimed = await articles.claim(article.id)
    assert claimed is not None
    await articles.mark_published(claimed.attempt, ChannelPost("-100", 5))
    for reader in (10, 11):
        await articles.record_read(article.id, reader)
    poll = await polls.for_article(article.id)
    assert poll is not None
    await polls.mark_posted(poll.id, ChannelPost("-100", 5))
    await polls.vote(poll.id, 10, 0, 5)
    now = datetime.now(UTC)
    period = await desk.period_stats(now - timedelta(hours=1), now + timedelta(hours=1), 5)
    assert (period.published, period.readers, period.votes) == (1, 2, 1)
    assert [(t.article_id, t.readers) for t in period.top] == [(article.id, 2)]
    earlier = await desk.period_stats(now - timedelta(days=2), now - timedelta(days=1), 5)
    assert earlier == PeriodStats(published=0, readers=0, votes=0)
    # A withdrawn article is no longer counted as published; its readers and votes stay.
    withdrawn = await articles.withdraw(article.id)
    assert withdrawn is not None and withdrawn.status is ArticleStatus.WITHDRAWN
    period = await desk.period_stats(now - timedelta(hours=1), now + timedelta(hours=1), 5)
    assert (period.published, period.readers, period.votes) == (0, 2, 1)
