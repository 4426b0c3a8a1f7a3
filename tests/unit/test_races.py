"""Races decided by the database: two sets of stores on one database, each with its own
connection pool (two ``Database`` objects on one SQLite file, or on one PostgreSQL
database, as two processes would have), so nothing in Python serialises them.
Every test runs on both backends (tests/backends.py).

Each test fails if the guarantee is moved out of the SQL: drop ``status IN (…)`` from the
conditional UPDATE and both claims win; write a vote with ``INSERT OR REPLACE`` and the
counts drift.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import (
    ArticleContent,
    ArticleStatus,
    ChannelPost,
    PollSpec,
    PollStatus,
    VoteOutcome,
)
from storage import Stores
from tests.backends import Backend

CONTENT = ArticleContent(title="Заголовок", paragraphs=("Абзац.",))
READER = 777
# The channel post the polls are under.
POST = 77
OPTIONS = ("A", "B", "C")


@pytest.fixture
async def two(backend: Backend) -> tuple[Stores, Stores]:
    """Closed by the ``backend`` fixture."""
    return await backend.open(), await backend.open()


async def test_two_claims_of_one_draft_have_one_winner(two: tuple[Stores, Stores]) -> None:
    a, b = two[0].articles, two[1].articles
    drafts = [await a.create(CONTENT, 1) for _ in range(30)]
    for draft in drafts:
        # Alternate who asks first, so that either side can be the one that waits.
        first, second = (a, b) if draft.id % 2 else (b, a)
        won = await asyncio.gather(first.claim(draft.id), second.claim(draft.id))
        assert sum(w is not None for w in won) == 1, (draft.id, won)
    # Both sides read the same outcome back.
    for draft in drafts:
        seen_a, seen_b = await a.get(draft.id), await b.get(draft.id)
        assert seen_a is not None and seen_b is not None
        assert seen_a.status is seen_b.status is ArticleStatus.PUBLISHING


async def test_two_schedulers_claim_one_due_article_once(two: tuple[Stores, Stores]) -> None:
    a, b = two[0].articles, two[1].articles
    now = datetime.now(UTC)
    articles = [await a.create(CONTENT, 1) for _ in range(30)]
    for article in articles:
        assert await a.schedule(article.id, now - timedelta(minutes=1)) is not None
    for article in articles:
        won = await asyncio.gather(
            a.claim_scheduled(article.id, now), b.claim_scheduled(article.id, now)
        )
        assert sum(w is not None for w in won) == 1, (article.id, won)
    # An editor moved it later meanwhile: neither scheduler may take it.
    late = await a.create(CONTENT, 1)
    await b.schedule(late.id, now + timedelta(hours=1))
    won = await asyncio.gather(a.claim_scheduled(late.id, now), b.claim_scheduled(late.id, now))
    assert all(w is None for w in won), won


async def test_one_reader_voting_from_both_sides_counts_once(
    backend: Backend,
    two: tuple[Stores, Stores],
) -> None:
    a, b = two[0].polls, two[1].polls
    poll = await a.create_standalone(PollSpec("Вопрос?", OPTIONS), created_by=1)
    await a.mark_posted(poll.id, ChannelPost("-100", POST))
    rng = random.Random(2026)
    presses = [rng.randrange(len(OPTIONS)) for _ in range(200)]
    results = await asyncio.gather(
        *(
            (a if i % 2 else b).vote(poll.id, READER, choice, POST)
            for i, choice in enumerate(presses)
        )
    )
    assert all(r.outcome in (VoteOutcome.RECORDED, VoteOutcome.UNCHANGED) for r in results)

    rows = await backend.fetch_all(
        two[1], "SELECT reader_id, position FROM poll_votes WHERE poll_id = ?", poll.id
    )
    assert [r[0] for r in rows] == [READER]  # one vote row, whatever the order
    stored = await b.get(poll.id)
    assert stored is not None and stored.status is PollStatus.OPEN
    # The counts kept by the triggers are exact: one vote, on the stored option...
    expected = [0] * len(OPTIONS)
    expected[rows[0][1]] = 1
    assert list(stored.counts) == expected
    # ...and every press that said "recorded" moved the vote, and bumped the version once.
    recorded = sum(r.outcome is VoteOutcome.RECORDED for r in results)
    assert stored.counts_version == recorded
    # Each side's toast counts were a committed state: never more than one vote.
    assert all(r.poll is not None and sum(r.poll.counts) == 1 for r in results)


async def test_many_readers_from_both_sides_are_all_counted(
    two: tuple[Stores, Stores],
) -> None:
    a, b = two[0].polls, two[1].polls
    poll = await a.create_standalone(PollSpec("Вопрос?", OPTIONS), created_by=1)
    await a.mark_posted(poll.id, ChannelPost("-100", POST))
    rng = random.Random(7)
    final: dict[int, int] = {}
    calls = []
    for i in range(300):
        reader, choice = 1000 + rng.randrange(60), rng.randrange(len(OPTIONS))
        final[reader] = choice
        calls.append((a if i % 2 else b, reader, choice))
    # Presses of one reader are applied in order only within one side; make each reader's
    # last press the only one after a barrier so that the final state is known.
    await asyncio.gather(*(side.vote(poll.id, r, c, POST) for side, r, c in calls))
    await asyncio.gather(
        *((a if r % 2 else b).vote(poll.id, r, c, POST) for r, c in sorted(final.items()))
    )
    stored = await a.get(poll.id)
    assert stored is not None
    expected = [sum(1 for c in final.values() if c == o) for o in range(len(OPTIONS))]
    assert list(stored.counts) == expected
