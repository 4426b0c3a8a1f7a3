"""A channel message belongs to at most one article or poll, decided by the database: on
both backends (tests/backends.py), for every path that records a post, for two processes
claiming one message at once, and for the rows an older release left behind."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from bot.articles.publishing import Outcome, Publisher
from bot.errors import MessageTaken
from bot.failures import FailureKind
from bot.models import (
    Article,
    ArticleContent,
    ArticleStatus,
    Attempt,
    ChannelPost,
    PollSpec,
    PollStatus,
)
from bot.repositories import DraftExtras
from storage import Stores
from storage.tables import articles, channel_messages, polls
from tests.backends import Backend
from tests.unit.test_services import FakeChannel

CHAT = "-1001234567890"
CONTENT = ArticleContent(title="Заголовок", paragraphs=("Текст.",))
SPEC = PollSpec("Вопрос?", ("Да", "Нет"))


async def uncertain(stores: Stores, title: str = "Заголовок") -> Article:
    """An article whose send had an unknown outcome: the editor may /markpublished it."""
    draft = await stores.articles.create(ArticleContent(title=title, paragraphs=("Т.",)), 1)
    claimed = await stores.articles.claim(draft.id)
    assert claimed is not None
    stored = await stores.articles.mark_uncertain(claimed.attempt, "restart:")
    assert stored is not None
    return stored


async def published(stores: Stores, message_id: int, title: str = "Заголовок") -> Article:
    draft = await stores.articles.create(ArticleContent(title=title, paragraphs=("Т.",)), 1)
    claimed = await stores.articles.claim(draft.id)
    assert claimed is not None
    done = await stores.articles.mark_published(claimed.attempt, ChannelPost(CHAT, message_id))
    assert done is not None
    return done


async def mark(stores: Stores, article: Article, message_id: int) -> Article | None:
    """/markpublished's statement: an uncertain article recorded at ``message_id``."""
    return await stores.articles.mark_published(
        article.attempt, ChannelPost(CHAT, message_id), from_statuses=(ArticleStatus.UNCERTAIN,)
    )


async def test_another_articles_post_is_refused_and_nothing_changes(stores: Stores) -> None:
    owner = await published(stores, 7)
    other = await uncertain(stores)
    with pytest.raises(MessageTaken) as taken:
        await mark(stores, other, 7)
    assert (taken.value.article_id, taken.value.poll_id) == (owner.id, None)
    assert await stores.articles.get(other.id) == other
    # Its own post is taken; the same record again changes nothing and is no refusal.
    done = await mark(stores, other, 8)
    assert done is not None and done.channel_message_id == 8
    again = await stores.articles.mark_published(
        other.attempt, ChannelPost(CHAT, 8), from_statuses=(ArticleStatus.PUBLISHED,)
    )
    assert again is not None and again.channel_message_id == 8


async def test_a_polls_post_is_refused_to_an_article_and_an_articles_to_a_poll(
    stores: Stores,
) -> None:
    poll = await stores.polls.create_standalone(SPEC, created_by=1)
    assert await stores.polls.mark_posted(poll.id, ChannelPost(CHAT, 9)) is not None
    article = await uncertain(stores)
    with pytest.raises(MessageTaken) as taken:
        await mark(stores, article, 9)
    assert (taken.value.article_id, taken.value.poll_id) == (None, poll.id)
    # A poll of its own cannot take an article's post either.
    owner = await published(stores, 10)
    stray = await stores.polls.create_standalone(SPEC, created_by=1)
    with pytest.raises(MessageTaken) as taken:
        await stores.polls.mark_posted(stray.id, ChannelPost(CHAT, 10))
    assert taken.value.article_id == owner.id
    left = await stores.polls.get(stray.id)
    assert left is not None and left.status is PollStatus.PENDING
    assert left.channel_message_id is None


async def test_an_articles_own_poll_shares_its_post_and_no_other_poll_does(
    stores: Stores,
) -> None:
    draft = await stores.articles.create(CONTENT, 1, DraftExtras(poll=SPEC))
    other = await stores.articles.create(CONTENT, 1, DraftExtras(poll=SPEC))
    claimed = await stores.articles.claim(draft.id)
    assert claimed is not None
    await stores.articles.mark_published(claimed.attempt, ChannelPost(CHAT, 11))
    own = await stores.polls.for_article(draft.id)
    assert own is not None
    posted = await stores.polls.mark_posted(own.id, ChannelPost(CHAT, 11))
    assert posted is not None and posted.status is PollStatus.OPEN
    foreign = await stores.polls.for_article(other.id)
    assert foreign is not None
    with pytest.raises(MessageTaken):
        await stores.polls.mark_posted(foreign.id, ChannelPost(CHAT, 11))
    # The same message number in another chat is another message.
    assert await stores.polls.mark_posted(foreign.id, ChannelPost("-100999", 11)) is not None


async def test_two_processes_recording_one_post_for_two_articles_record_it_once(
    backend: Backend,
) -> None:
    """Two connection pools (as two instances), each recording message 12 for its own
    article at the same moment: the key lets one of them through."""
    first, second = await backend.open(), await backend.open()
    one, two = await uncertain(first, "Первая"), await uncertain(first, "Вторая")
    results = await asyncio.gather(
        mark(first, one, 12), mark(second, two, 12), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, Article)]
    lost = [r for r in results if isinstance(r, MessageTaken)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].article_id == won[0].id
    loser = one if won[0].id == two.id else two
    assert await first.articles.get(loser.id) == loser  # still uncertain, no post
    async with first.db.read() as conn:
        owners = (await conn.execute(select(channel_messages))).all()
    assert [(row.message_id, row.article_id) for row in owners] == [(12, won[0].id)]


async def test_the_upgrade_gives_each_recorded_post_to_its_first_owner(
    backend: Backend,
) -> None:
    """Rows of a release before the key: a post recorded for two articles (the later
    one marked at the earlier one's post) and an article marked at a poll's post."""
    stores = await backend.open()
    first = await published(stores, 20, "Первая")
    poll = await stores.polls.create_standalone(SPEC, created_by=1)
    await stores.polls.mark_posted(poll.id, ChannelPost(CHAT, 21))
    with_poll = await stores.articles.create(CONTENT, 1, DraftExtras(poll=SPEC))
    await stores.articles.claim(with_poll.id)
    await stores.articles.mark_published(Attempt(with_poll.id, 1), ChannelPost(CHAT, 22))
    own = await stores.polls.for_article(with_poll.id)
    assert own is not None
    await stores.polls.mark_posted(own.id, ChannelPost(CHAT, 22))
    second, third = await published(stores, 23, "Вторая"), await published(stores, 24, "Третья")
    async with stores.db.transaction() as conn:
        # As the /markpublished of an older release recorded them.
        await conn.execute(
            articles.update().where(articles.c.id == second.id).values(channel_message_id=20)
        )
        await conn.execute(
            articles.update().where(articles.c.id == third.id).values(channel_message_id=21)
        )
        # Back to the schema before revision 0004 (and the later revisions' tables).
        for table in ("archive_pages", "archive_imports", "channel_messages", "article_versions"):
            await conn.execute(text(f"DROP TABLE {table}"))
        await conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    await stores.close()
    backend.opened.remove(stores)
    upgraded = await backend.open()
    async with upgraded.db.read() as conn:
        owners = {
            row.message_id: (row.article_id, row.poll_id)
            for row in (await conn.execute(select(channel_messages))).all()
        }
        poll_rows = (await conn.execute(select(polls.c.id, polls.c.status))).all()
    assert owners == {20: (first.id, None), 21: (None, poll.id), 22: (with_poll.id, None)}
    assert {row.id: row.status for row in poll_rows} == {poll.id: "open", own.id: "open"}
    for loser in (second, third):
        stored = await upgraded.articles.get(loser.id)
        assert stored is not None and stored.status is ArticleStatus.UNCERTAIN
        assert stored.failure_reason is not None and stored.failure_reason.startswith("taken:")
    kept = await upgraded.articles.get(first.id)
    assert kept is not None and kept.status is ArticleStatus.PUBLISHED


async def test_a_send_given_a_message_on_record_for_another_is_left_to_the_editors(
    stores: Stores,
) -> None:
    """An editor marked an article at a post that did not exist yet (a link is not
    checked against the channel); the next send gets that very message: it is not
    recorded for the new article, which becomes uncertain for an editor to settle."""
    squatter = await uncertain(stores)
    await mark(stores, squatter, 101)  # FakeChannel's first send is message 101
    draft = await stores.articles.create(CONTENT, 1)
    result = await Publisher(stores.articles, FakeChannel()).publish(draft.id)
    assert result.outcome is Outcome.UNCERTAIN
    assert result.reason is not None and result.reason.kind is FailureKind.NOT_RECORDED
    stored = await stores.articles.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.UNCERTAIN
    assert stored.channel_message_id is None
