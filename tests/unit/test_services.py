"""The domain services on the real repositories (a SQLite of their own) and a fake channel:
no Telegram."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.articles.drafts import ActionOutcome, DialogDraft, Drafts
from bot.articles.publishing import ChannelRefused, ChannelUncertain, Outcome, Publisher
from bot.articles.revisions import EditOutcome, Revisions
from bot.articles.scheduling import Scheduler, UnscheduleOutcome
from bot.errors import InputError
from bot.failures import Failure, FailureKind
from bot.models import Article, ArticleContent, ArticleStatus, PollSpec
from bot.repositories import ArticleStore
from bot.telegram.links import channel_post_link, message_id_from_link
from bot.texts import RU
from storage import Stores
from storage.articles import ArticleRepository

CONTENT = ArticleContent(title="Заголовок", paragraphs=("Первый абзац.", "Второй."))
CHANNEL = "-1001234567890"


class FakeChannel:
    """The channel port: records sends; can refuse, lose the answer, or hold the slot."""

    chat_id = CHANNEL

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.fail: Exception | None = None
        self.slot = asyncio.Event()
        self.slot.set()
        self.waiting = asyncio.Event()
        self.sending = asyncio.Event()
        self.release_send = asyncio.Event()
        self.release_send.set()

    async def prepare(self, article: Article) -> Any:
        return article.id

    async def wait_turn(self) -> None:
        self.waiting.set()
        await self.slot.wait()

    async def send_prepared(self, prepared: Any) -> int:
        self.sending.set()
        await self.release_send.wait()
        if self.fail is not None:
            raise self.fail
        self.sent.append(int(prepared))
        return 100 + len(self.sent)

    def post_link(self, message_id: int, chat: str | None = None) -> str:
        return channel_post_link(chat or CHANNEL, message_id)

    def message_id_from_link(self, link: str) -> int | None:
        return message_id_from_link(link, int(CHANNEL))

    async def render(self, article: Article, *, preview: bool = False) -> Any:
        return article.id

    async def send_rendered(self, chat_id: int | str, post: Any) -> int:
        return 500 + int(post)


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def articles(sqlite_stores: Stores) -> ArticleStore:
    return sqlite_stores.articles


async def test_publish_once_then_already_published(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    first = await publisher.publish(draft.id)
    assert first.outcome is Outcome.PUBLISHED and first.link == channel.post_link(101)
    second = await publisher.publish(draft.id)
    assert second.outcome is Outcome.ALREADY_PUBLISHED and not second.claimed
    assert channel.sent == [draft.id]


@pytest.mark.parametrize(
    ("error", "outcome", "status"),
    [
        (
            ChannelRefused(Failure(FailureKind.NO_RIGHTS, "Forbidden")),
            Outcome.FAILED,
            ArticleStatus.FAILED,
        ),
        (
            ChannelUncertain(Failure(FailureKind.NO_ANSWER, "timeout")),
            Outcome.UNCERTAIN,
            ArticleStatus.UNCERTAIN,
        ),
    ],
)
async def test_a_refused_send_fails_and_an_unknown_one_is_left_to_the_editor(
    articles: ArticleStore,
    channel: FakeChannel,
    error: Exception,
    outcome: Outcome,
    status: ArticleStatus,
) -> None:
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    channel.fail = error
    result = await publisher.publish(draft.id)
    assert result.outcome is outcome
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is status


async def test_cancelled_while_waiting_for_the_send_slot_goes_back_to_draft(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    channel.slot.clear()
    task = asyncio.create_task(publisher.publish(draft.id))
    await channel.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.DRAFT
    assert channel.sent == []


async def test_cancelled_mid_send_is_uncertain(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    channel.release_send.clear()
    task = asyncio.create_task(publisher.publish(draft.id))
    await channel.sending.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.UNCERTAIN


async def _uncertain(articles: ArticleStore, channel: FakeChannel) -> Article:
    draft = await articles.create(CONTENT, 1)
    channel.fail = ChannelUncertain(Failure(FailureKind.NO_ANSWER, "timeout"))
    await Publisher(articles, channel).publish(draft.id)
    channel.fail = None
    channel.sending.clear()
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.UNCERTAIN
    return stored


async def test_two_editors_force_publishing_at_once_post_once(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    article = await _uncertain(articles, channel)
    publisher = Publisher(articles, channel)
    channel.release_send.clear()
    first = asyncio.create_task(publisher.force_publish(article.id))
    await channel.sending.wait()
    second = await publisher.force_publish(article.id)
    assert second.outcome is Outcome.IN_PROGRESS and not second.claimed
    channel.release_send.set()
    assert (await first).outcome is Outcome.PUBLISHED
    assert channel.sent == [article.id]


async def test_markpublished_racing_forcepublish_does_not_record_the_wrong_post(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    article = await _uncertain(articles, channel)
    publisher = Publisher(articles, channel)
    channel.release_send.clear()
    forcing = asyncio.create_task(publisher.force_publish(article.id))
    await channel.sending.wait()
    marked = await publisher.mark_published(article.id, channel.post_link(7))
    assert marked.outcome is Outcome.IN_PROGRESS
    channel.release_send.set()
    forced = await forcing
    assert forced.outcome is Outcome.PUBLISHED
    stored = await articles.get(article.id)
    assert stored is not None and stored.channel_message_id == 101


async def test_markpublished_takes_only_a_link_into_the_channel(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    article = await _uncertain(articles, channel)
    publisher = Publisher(articles, channel)
    other = await publisher.mark_published(article.id, "https://t.me/other_channel/5")
    assert other.outcome is Outcome.BAD_LINK
    done = await publisher.mark_published(article.id, "t.me/c/1234567890/5?single")
    assert done.outcome is Outcome.PUBLISHED and done.article is not None
    assert done.article.channel_message_id == 5


async def test_restart_settles_only_claims_older_than_the_cut_off(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    draft = await articles.create(CONTENT, 1)
    await articles.claim(draft.id)
    assert await articles.settle_interrupted("x", datetime.now(UTC) - timedelta(hours=1)) == []
    settled = await articles.settle_interrupted("x", datetime.now(UTC) + timedelta(seconds=1))
    assert [a.id for a in settled] == [draft.id]


# --- scheduling ----------------------------------------------------------------------


async def test_unschedule_says_what_happened(articles: ArticleStore, channel: FakeChannel) -> None:
    scheduler = Scheduler(articles, Publisher(articles, channel), report=_no_report)
    draft = await articles.create(CONTENT, 1)
    assert await scheduler.unschedule(99) is UnscheduleOutcome.NOT_FOUND
    assert await scheduler.unschedule(draft.id) is UnscheduleOutcome.NOT_SCHEDULED
    assert await scheduler.schedule(draft.id, datetime.now(UTC) + timedelta(hours=1))
    assert await scheduler.unschedule(draft.id) is UnscheduleOutcome.UNSCHEDULED


async def _no_report(*_: object) -> None:
    return None


async def test_a_scheduled_article_published_by_hand_is_not_reported_again(
    sqlite_stores: Stores, articles: ArticleStore, channel: FakeChannel
) -> None:
    reports: list[Outcome] = []

    async def report(author: int, result: Any, when: datetime, late: bool) -> None:
        reports.append(result.outcome)

    publisher = Publisher(articles, channel)
    now = datetime.now(UTC)
    scheduler = Scheduler(articles, publisher, report=report, clock=lambda: now)
    draft = await articles.create(CONTENT, 1)
    await articles.schedule(draft.id, now - timedelta(seconds=1))
    due = await articles.due_scheduled(now)
    await publisher.publish(draft.id)  # an editor, at the scheduled minute

    class Stale(ArticleRepository):
        async def due_scheduled(self, now: datetime) -> list[Article]:
            return due  # what the scheduler read just before the editor acted

    stale = Stale(sqlite_stores.db)
    await Scheduler(stale, publisher, report=report, clock=lambda: now).run_due()
    assert reports == []
    assert channel.sent == [draft.id]
    assert await scheduler.run_due() == 0


async def test_a_schedule_set_during_the_schedulers_read_is_not_lost(
    sqlite_stores: Stores, channel: FakeChannel
) -> None:
    """The wake-up of a schedule set while a pass reads the database is kept."""
    reading = asyncio.Event()
    proceed = asyncio.Event()

    class SlowRead(ArticleRepository):
        async def next_scheduled_at(self) -> datetime | None:
            reading.set()
            await proceed.wait()
            return await super().next_scheduled_at()

    store = SlowRead(sqlite_stores.db)
    scheduler = Scheduler(store, Publisher(store, channel), report=_no_report, max_sleep=3600)
    scheduler.start()
    try:
        await reading.wait()
        draft = await store.create(CONTENT, 1)
        await scheduler.schedule(draft.id, datetime.now(UTC) + timedelta(milliseconds=50))
        reading.clear()
        proceed.set()
        # The next pass starts at once (not an hour later) and publishes the draft.
        await asyncio.wait_for(_until(lambda: channel.sent == [draft.id]), timeout=5)
    finally:
        await scheduler.stop()


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)


# --- drafts and revisions ------------------------------------------------------------


async def test_dialog_draft_and_its_poll_are_stored_together(
    sqlite_stores: Stores, channel: FakeChannel
) -> None:
    articles, polls = sqlite_stores.articles, sqlite_stores.polls
    drafts = Drafts(articles, polls, channel, RU)
    draft = DialogDraft(title="Заголовок", paragraphs=("Текст.",), tags=("Казахстан",))
    spec = PollSpec(question="Да или нет?", options=("Да", "Нет"))
    article = await drafts.create_from_dialog(draft, spec, author_id=7)
    poll = await polls.for_article(article.id)
    assert poll is not None and poll.question == "Да или нет?"
    assert article.content.tags == ("Казахстан",)
    actions = await drafts.preview(42, article)
    assert f"№{poll.id}" in actions
    assert await articles.article_for_preview(42, 500 + article.id) == article.id


async def test_photo_on_a_published_article_is_refused_with_its_status(
    sqlite_stores: Stores, articles: ArticleStore, channel: FakeChannel
) -> None:
    drafts = Drafts(articles, sqlite_stores.polls, channel, RU)
    draft = await articles.create(CONTENT, 1)
    await Publisher(articles, channel).publish(draft.id)
    refused = await drafts.attach_photo(draft.id, "photo")
    assert refused.outcome is ActionOutcome.NOT_ALLOWED
    assert (await drafts.attach_photo(999, "photo")).outcome is ActionOutcome.NOT_FOUND
    assert await drafts.attach_photo_to_preview(1, 12345, "photo") is None


class Editor:
    def __init__(self) -> None:
        self.edited: list[Article] = []

    async def edit_post(self, article: Article) -> None:
        self.edited.append(article)

    def message_lock(self, message_id: int) -> asyncio.Lock:
        return asyncio.Lock()

    def post_link(self, message_id: int, chat: str | None = None) -> str:
        return channel_post_link(chat or CHANNEL, message_id)


async def test_revising_a_published_article_edits_its_post(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    editor = Editor()
    revisions = Revisions(articles, editor)
    draft = await articles.create(CONTENT, 1)
    updated = await revisions.set_field("summary", draft.id, "Кратко.")
    assert updated.outcome is EditOutcome.DRAFT_UPDATED
    await Publisher(articles, channel).publish(draft.id)
    result = await revisions.set_field("tags", draft.id, "Казахстан, Китай")
    assert result.outcome is EditOutcome.POST_UPDATED
    assert [a.content.tags for a in editor.edited] == [("Казахстан", "Китай")]
    with pytest.raises(InputError):
        await revisions.set_field("tags", draft.id, "###")
    assert (await revisions.set_field("credit", 99, "Фото: X")).outcome is EditOutcome.NOT_FOUND


async def test_a_send_that_outlives_another_instances_restart_check_is_still_recorded(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    """Another instance's start-up settled the claim as uncertain while the send was
    waiting out flood control; the send then succeeded: its own attempt records it."""
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    channel.release_send.clear()
    publishing = asyncio.create_task(publisher.publish(draft.id))
    await channel.sending.wait()
    settled = await articles.settle_interrupted("restart", datetime.now(UTC) + timedelta(1))
    assert [a.id for a in settled] == [draft.id]
    channel.release_send.set()
    result = await publishing
    assert result.outcome is Outcome.PUBLISHED
    stored = await articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.PUBLISHED
    assert stored.channel_message_id == 101


async def test_a_send_overtaken_by_a_forced_one_is_reported_not_recorded(
    articles: ArticleStore, channel: FakeChannel
) -> None:
    publisher = Publisher(articles, channel)
    draft = await articles.create(CONTENT, 1)
    channel.release_send.clear()
    first = asyncio.create_task(publisher.publish(draft.id))
    await channel.sending.wait()
    await articles.settle_interrupted("restart", datetime.now(UTC) + timedelta(1))
    channel.sending.clear()
    forced = asyncio.create_task(publisher.force_publish(draft.id))
    await channel.sending.wait()
    channel.release_send.set()
    results = [await first, await forced]
    assert [r.outcome for r in results] == [Outcome.UNCERTAIN, Outcome.PUBLISHED]
    stored = await articles.get(draft.id)
    assert stored is not None and stored.channel_message_id == 102  # the forced post
