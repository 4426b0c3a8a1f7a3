"""Publishing races decided by the database: two Publishers, each with its own connection
pool to one database (two ``Database`` objects on one SQLite file, or on one PostgreSQL
database, as two processes would have), act on one article at the same moment.  Every
test runs on both backends (tests/backends.py).

The channel holds every send until both sides have made their claim, so the two really
overlap; whatever the interleaving, the database lets exactly one of them post.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.articles.publishing import ChannelUncertain, Outcome, Publisher, PublishResult
from bot.failures import Failure, FailureKind
from bot.models import Article, ArticleContent, ArticleStatus
from bot.telegram.links import channel_post_link, message_id_from_link
from storage.articles import ArticleRepository
from tests.backends import Backend

CHANNEL = "-1001234567890"
CONTENT = ArticleContent(title="Заголовок", paragraphs=("Текст.",))


class HeldChannel:
    """Sends are held until ``release`` is set; each send gets its own message id."""

    chat_id = CHANNEL

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def prepare(self, article: Article) -> Any:
        return article.id

    async def wait_turn(self) -> None:
        return None

    async def send_prepared(self, prepared: Any) -> int:
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        self.sent.append(int(prepared))
        return 100 + len(self.sent)

    def post_link(self, message_id: int, chat: str | None = None) -> str:
        return channel_post_link(chat or CHANNEL, message_id)

    def message_id_from_link(self, link: str) -> int | None:
        return message_id_from_link(link, int(CHANNEL))


class Interleaved(ArticleRepository):
    """Reads wait at a barrier shared with the other process's repository, so that both
    sides have seen the article before either acts: the worst interleaving, every time."""

    barrier: asyncio.Barrier | None = None

    async def get(self, article_id: int) -> Article | None:
        article = await super().get(article_id)
        barrier, self.barrier = self.barrier, None  # the first read only
        if barrier is not None:
            await barrier.wait()
        return article


@pytest.fixture
async def two(backend: Backend) -> tuple[Interleaved, Interleaved]:
    """Closed by the ``backend`` fixture."""
    first, second = await backend.open(), await backend.open()
    assert first.db is not second.db
    return Interleaved(first.db), Interleaved(second.db)


async def _uncertain(repo: ArticleRepository) -> Article:
    draft = await repo.create(CONTENT, 1)
    channel = HeldChannel()
    channel.fail = ChannelUncertain(Failure(FailureKind.NO_ANSWER, "timeout"))
    channel.release.set()
    await Publisher(repo, channel).publish(draft.id)
    stored = await repo.get(draft.id)
    assert stored is not None and stored.status is ArticleStatus.UNCERTAIN
    return stored


async def _race(*calls: Any) -> list[PublishResult]:
    return list(await asyncio.gather(*calls))


async def test_two_processes_publishing_one_draft_post_it_once(
    two: tuple[Interleaved, Interleaved],
) -> None:
    a, b = two
    draft = await a.create(CONTENT, 1)
    channel = HeldChannel()
    tasks = [asyncio.create_task(Publisher(repo, channel).publish(draft.id)) for repo in (a, b)]
    await asyncio.wait(tasks, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    channel.release.set()
    results = [await t for t in tasks]
    assert {r.outcome for r in results} == {Outcome.PUBLISHED, Outcome.IN_PROGRESS}
    assert channel.sent == [draft.id]


async def test_two_editors_forcepublishing_from_two_processes_post_once(
    two: tuple[Interleaved, Interleaved],
) -> None:
    a, b = two
    article = await _uncertain(a)
    channel = HeldChannel()
    a.barrier = b.barrier = asyncio.Barrier(2)
    tasks = [
        asyncio.create_task(Publisher(repo, channel).force_publish(article.id)) for repo in (a, b)
    ]
    # One claim wins; the other finds the article taken and returns at once.
    await asyncio.wait(tasks, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    channel.release.set()
    results = [await t for t in tasks]
    assert {r.outcome for r in results} == {Outcome.PUBLISHED, Outcome.IN_PROGRESS}
    assert channel.sent == [article.id]
    stored = await b.get(article.id)
    assert stored is not None and stored.channel_message_id == 101


async def test_markpublished_racing_forcepublish_keeps_the_forced_post(
    two: tuple[Interleaved, Interleaved],
) -> None:
    a, b = two
    article = await _uncertain(a)
    channel = HeldChannel()
    forcing = asyncio.create_task(Publisher(a, channel).force_publish(article.id))
    # The editor who found an old post marks it while the forced send is under way.
    while (await b.get(article.id)).status is not ArticleStatus.PUBLISHING:  # type: ignore[union-attr]
        await asyncio.sleep(0)
    marked = await Publisher(b, channel).mark_published(article.id, channel.post_link(7))
    channel.release.set()
    forced = await forcing
    assert marked.outcome is Outcome.IN_PROGRESS
    assert forced.outcome is Outcome.PUBLISHED
    stored = await a.get(article.id)
    assert stored is not None and stored.channel_message_id == 101
