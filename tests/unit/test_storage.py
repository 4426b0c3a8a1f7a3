"""Storage: reopening a SQLite file, an unusable file; and, on both backends (the
``stores`` fixture, tests/backends.py), the publishing state machine, reads, schedules,
previews, rollbacks, and a batch of votes that one bad vote cannot spoil."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.errors import StorageError
from bot.models import ArticleContent, ArticleStatus, Attempt, ChannelPost, PollSpec, VoteOutcome
from bot.repositories import Revision
from storage import Stores, migrations
from storage.articles import ArticleRepository
from storage.database import Database
from storage.tables import articles
from tests.backends import Backend

CONTENT = ArticleContent(
    title="Заголовок <b>&</b>",
    paragraphs=("Первый абзац.", "Второй абзац 🎉."),
    dateline="АЛМАТЫ. 3 МАЯ",
    source="KAZAKHSTAN TODAY",
    original_published_at=datetime(2022, 4, 29, 11, 38),  # noqa: DTZ001 - local, zone-less
    views=27061,
    photo_credit="Фото: Акорда",
    tags=("Казахстан", "Китай"),
    poll_question="Да или нет?",
    poll_intro="Вступление.",
)


async def test_reopening_keeps_the_data_and_migrates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    first = await Database.open_sqlite(path)
    await ArticleRepository(first).create(CONTENT, 1)
    await first.close()
    second = await Database.open_sqlite(path)
    try:
        async with second.read() as conn:
            stamped = (
                (await conn.execute(text("SELECT version_num FROM alembic_version")))
                .scalars()
                .all()
            )
        assert stamped == [migrations.newest_revision()]
        [kept] = await ArticleRepository(second).list_unpublished()
        assert kept.content == CONTENT
    finally:
        await second.close()


async def test_unusable_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError) as raised:
        await Database.open_sqlite(path)
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


async def test_article_round_trips_every_field(stores: Stores) -> None:
    repo = stores.articles
    created = await repo.create(CONTENT, author_id=42)
    loaded = await repo.get(created.id)
    assert loaded is not None
    assert loaded.content == CONTENT
    assert loaded.author_id == 42
    assert loaded.status is ArticleStatus.DRAFT
    assert loaded.reads == 0
    assert await repo.get(created.id + 1000) is None


async def test_publish_state_machine(stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    claimed = await repo.claim(article.id)
    assert claimed is not None and claimed.status is ArticleStatus.PUBLISHING
    assert claimed.publish_attempt == article.publish_attempt + 1
    # A second claim while publishing is refused.
    assert await repo.claim(article.id) is None
    # A step that names another attempt changes nothing.
    stale_attempt = Attempt(article.id, claimed.publish_attempt - 1)
    assert await repo.mark_published(stale_attempt, ChannelPost("@news", 1)) is None
    published = await repo.mark_published(claimed.attempt, ChannelPost("@news", 77))
    assert published is not None
    assert published.status is ArticleStatus.PUBLISHED
    assert published.channel_message_id == 77
    # Once published, it can neither be claimed again nor edited.
    assert await repo.claim(article.id) is None
    assert await repo.set_photo(article.id, "file") is None
    assert await repo.revise(article.id, Revision(lambda _: CONTENT)) is None


async def test_concurrent_claims_have_exactly_one_winner(stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    results = await asyncio.gather(*(repo.claim(article.id) for _ in range(20)))
    assert sum(r is not None for r in results) == 1


async def test_failed_publish_can_be_retried_and_interrupted_becomes_uncertain(
    stores: Stores,
) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    first = await repo.claim(article.id)
    assert first is not None
    failed = await repo.mark_failed(first.attempt, "Forbidden")
    assert failed is not None and failed.failure_reason == "Forbidden"
    second = await repo.claim(article.id)
    assert second is not None
    # A claim made after the cut-off is not "interrupted" (another process may hold it).
    assert await repo.settle_interrupted("restart", claimed_before=article.created_at) == []
    settled = await repo.settle_interrupted("restart", claimed_before=datetime.now(UTC))
    assert [a.id for a in settled] == [article.id]
    assert settled[0].status is ArticleStatus.UNCERTAIN
    # An uncertain article is not published again by an ordinary claim, nor by one that
    # names an attempt that is no longer current.
    assert await repo.claim(article.id) is None
    assert await repo.claim_uncertain(first.attempt) is None
    assert await repo.claim_uncertain(second.attempt) is not None


async def test_published_row_needs_a_message_id_at_the_database_level(
    backend: Backend, stores: Stores
) -> None:
    article = await stores.articles.create(CONTENT, 1)
    with pytest.raises(backend.integrity_error):
        await backend.execute(
            stores, "UPDATE articles SET status = 'published' WHERE id = ?", article.id
        )


async def test_reads_count_each_reader_once(stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    assert await repo.record_read(article.id, 100) is True
    assert await repo.record_read(article.id, 100) is False
    assert await repo.record_read(article.id, 101) is True
    loaded = await repo.get(article.id)
    assert loaded is not None and loaded.reads == 2


async def test_schedule_and_due(stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    now = datetime.now(UTC)
    assert await repo.schedule(article.id, now + timedelta(hours=1)) is not None
    assert await repo.due_scheduled(now) == []
    due = await repo.due_scheduled(now + timedelta(hours=2))
    assert [a.id for a in due] == [article.id]
    assert await repo.unschedule(article.id) is not None
    assert await repo.due_scheduled(now + timedelta(hours=2)) == []


async def test_transaction_rolls_back_on_error(stores: Stores) -> None:
    with pytest.raises(RuntimeError):
        async with stores.db.transaction() as conn:
            now = datetime.now(UTC)
            await conn.execute(
                articles.insert().values(title="x", author_id=1, created_at=now, updated_at=now)
            )
            raise RuntimeError("boom")
    assert await stores.articles.list_unpublished() == []


async def test_previews_map_messages_to_drafts(stores: Stores) -> None:
    repo = stores.articles
    article = await repo.create(CONTENT, 1)
    await repo.remember_preview(5, 10, article.id)
    assert await repo.article_for_preview(5, 10) == article.id
    assert await repo.article_for_preview(5, 11) is None


async def test_a_bad_vote_does_not_spoil_the_others_in_its_batch(stores: Stores) -> None:
    poll = await stores.polls.create_standalone(PollSpec("Вопрос?", ("А", "Б")), created_by=1)
    await stores.polls.mark_posted(poll.id, ChannelPost("-100", 7))
    calls = [stores.polls.vote(poll.id, 10 + i, i % 2, 7) for i in range(10)]
    calls.insert(5, stores.polls.vote(poll.id, 2**70, 0, 7))  # out of the id column's range
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    outcomes = [r.outcome for r in results if not isinstance(r, BaseException)]
    assert outcomes == [VoteOutcome.RECORDED] * 10
    stored = await stores.polls.get(poll.id)
    assert stored is not None and stored.counts == (5, 5)
    assert stored.counts_version == 10  # one bump per recorded vote: the refresher's cue
