"""Three real bot processes in webhook mode on one PostgreSQL database and one Redis prefix.

The fake Bot API server delivers each update round-robin to the three, again and again
until one answers 200 (as Telegram does behind a load balancer), and enforces Telegram's
flood limits (``rate_limits``): a 429 here is a request real Telegram would have refused.
What must hold is decided by the database and Redis, never by one process's memory:
every vote counted once, every post published once, a scheduled post published once.

Skipped (with the reason) without a reachable PostgreSQL or Redis, failed then in CI
(the ``empty_pg_database`` and ``redis`` fixtures, tests/backends.py and
tests/redis_support.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.models import ArticleContent, ArticleStatus
from storage import open_stores
from storage.tables import poll_votes
from tests.backends import StoreSettings
from tests.e2e.cluster import Cluster
from tests.e2e.harness import CHANNEL_ID, body_of
from tests.e2e.test_polls import shown_counts
from tests.fakes.botapi_server import FakeBotAPI
from tests.fakes.users import FakeUser
from tests.redis_support import RedisSpace

INSTANCES = 3
READERS = 300
PRESSES_EACH = 3
REFRESH_SECONDS = 3.0  # CLUSTER_SETTINGS["POLL_REFRESH_SECONDS"]
# The scheduled post falls due this long after the cluster is asked to start: long enough
# for three processes to start on a loaded two-core machine (checked, not assumed).
DUE_AFTER = timedelta(seconds=30)


@pytest.fixture
async def limited(telegram: FakeBotAPI) -> FakeBotAPI:
    """Telegram's flood limits on; redelivery backs off as Telegram's does (not 20/s)."""
    telegram.rate_limits = True
    telegram.redelivery_delay = 0.5
    return telegram


@pytest.fixture
async def cluster(
    limited: FakeBotAPI, tmp_path: Path, empty_pg_database: str, redis: RedisSpace
) -> AsyncIterator[Cluster]:
    group = Cluster(
        limited,
        tmp_path,
        n=INSTANCES,
        database_url=empty_pg_database,
        redis_url=redis.url,
        redis_prefix=redis.prefix,
    )
    try:
        yield group
    finally:
        await group.ensure_dead()  # whatever happened: no process outlives its test


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def answer_to(telegram: FakeBotAPI, user: FakeUser, count: int) -> list[str]:
    """Wait until ``user`` has ``count`` messages from the bot; their texts."""
    await telegram.wait_for(lambda: len(user.received()) >= count, timeout=30)
    return [body_of(m) for m in user.received()]


async def test_a_vote_storm_survives_a_killed_instance(
    cluster: Cluster, limited: FakeBotAPI, editor: FakeUser
) -> None:
    """300 readers × 3 presses, one instance SIGKILLed in the middle: exact counts, every
    press answered (the killed one's go to the live ones), no 429, paced live counts."""
    telegram = limited
    await cluster.start()
    editor.sends("/poll Вопрос?\nА\nБ\nВ")
    replies = await answer_to(telegram, editor, 1)
    assert "опубликован" in replies[-1], cluster.report()
    [post] = telegram.chat_messages(CHANNEL_ID)
    data = [str(row[0]["callback_data"]) for row in post["reply_markup"]["inline_keyboard"]]
    assert len(data) == 3
    started = asyncio.get_running_loop().time()
    # Each reader presses its option three times: the final counts do not depend on the
    # order in which redelivered presses arrive.
    presses = [
        telegram.user(30_000 + i, f"Читатель {i}").clicks_data(post, data[i % 3])
        for _ in range(PRESSES_EACH)
        for i in range(READERS)
    ]
    ids = [str(p["callback_query"]["id"]) for p in presses]
    victim = cluster.instances[1]

    def answered() -> int:
        return sum(telegram.callback_answer(i) is not None for i in ids)

    await telegram.wait_for(lambda: answered() >= len(ids) // 3, timeout=60)
    await victim.kill()  # SIGKILL: no shutdown, its claims and half-done work stay behind
    killed_at = asyncio.get_running_loop().time()
    answered_at_kill = answered()
    expected = {"А": 100, "Б": 100, "В": 100}
    await telegram.wait_for(lambda: answered() == len(ids), timeout=60)
    await telegram.wait_for(lambda: shown_counts(telegram.current(post)) == expected, 30)
    await telegram.wait_idle(quiet=REFRESH_SECONDS + 0.5, timeout=60)
    assert answered_at_kill < len(ids), "the storm was over before the kill"

    # Every press was acknowledged (200) in the end: before the kill by any instance,
    # after it by a live one (deliveries to the dead one fail and go to the next).
    for press in presses:
        statuses = telegram.deliveries_of(press["update_id"])
        assert statuses and statuses[-1][1] == 200, statuses
    assert not telegram.undelivered
    assert any(url == victim.url for _, url, _ in telegram.deliveries)
    # What the dead one had in hand (its connection cut by the kill) a survivor answered
    # within seconds: the dead one's claims and locks expired with their short lease
    # (before: 503 for 44 s).  The aim is 10 s; the bound leaves the storm's own queue
    # on a loaded two-core machine 2 s more (measured there: 10.1 s at worst).
    in_hand = {uid for uid, url, status in telegram.deliveries if url == victim.url and not status}
    assert in_hand, "nothing was in the killed instance's hands"
    after_kill = {
        uid: round(at - killed_at, 1)
        for uid, at in press_answer_times(telegram, presses).items()
        if uid in in_hand
    }
    assert max(after_kill.values()) < 12, sorted(after_kill.values())
    codes = await cluster.stop()
    assert codes == [0] * (INSTANCES - 1), cluster.report()

    stores = await open_stores(
        StoreSettings(database_path=Path("unused"), database_url=SecretStr(cluster_db(cluster)))
    )
    try:
        poll = await stores.polls.get(1)
        assert poll is not None and poll.counts == (100, 100, 100), cluster.report()
        async with stores.db.read() as conn:
            votes = (await conn.execute(select(func.count()).select_from(poll_votes))).scalar()
        assert votes == READERS
    finally:
        await stores.close()
    assert telegram.throttled == 0, cluster.report()
    assert shown_counts(telegram.current(post)) == expected
    # Live counts: the shared gate lets one edit of the post through per refresh interval
    # across all instances.  Bound: edits ≤ (span + latency slack) / interval + 1, plus
    # 1 for a flush at shutdown (a stopping instance shows its pending counts at once,
    # without the gate, so that no vote is left unshown).
    edits = [
        r.time
        for r in telegram.requests
        if r.method.startswith("editMessage")
        and r.status == 200
        and r.params.get("message_id") in (post["message_id"], str(post["message_id"]))
    ]
    assert edits, "the counts were never shown"
    span = max(edits) - min(edits)
    assert len(edits) <= int((span + 0.5) / REFRESH_SECONDS) + 1 + 1, (len(edits), span)
    assert max(edits) - started < 60


def press_answer_times(telegram: FakeBotAPI, presses: list[dict[str, Any]]) -> dict[int, float]:
    """Update id → when the bot answered that press."""
    by_query = {str(p["callback_query"]["id"]): int(p["update_id"]) for p in presses}
    return {
        by_query[str(r.params.get("callback_query_id"))]: r.time
        for r in telegram.calls("answerCallbackQuery")
        if str(r.params.get("callback_query_id")) in by_query
    }


def cluster_db(cluster: Cluster) -> str:
    return cluster.instances[0].env["DATABASE_URL"]


async def test_publishes_from_two_editors_and_a_schedule_each_post_once(
    cluster: Cluster,
    limited: FakeBotAPI,
    editor: FakeUser,
    second_editor: FakeUser,
) -> None:
    """Two editors publish the same draft at once, then two drafts at once, while a
    scheduled draft falls due with all three instances running: each post exactly once."""
    telegram = limited
    stores = await open_stores(
        StoreSettings(database_path=Path("unused"), database_url=SecretStr(cluster_db(cluster)))
    )
    try:
        drafts = [
            await stores.articles.create(
                ArticleContent(f"Заголовок {n}", (f"Первый абзац {n}.", f"Второй абзац {n}.")),
                editor.user["id"],
            )
            for n in range(1, 5)
        ]
        due = datetime.now(UTC) + DUE_AFTER
        # Scheduled before the instances start: each one's scheduler sleeps until it is due.
        assert await stores.articles.schedule(drafts[3].id, due) is not None
        await cluster.start()
        assert datetime.now(UTC) < due - timedelta(seconds=3), "start-up took too long"

        editor.sends(f"/publish {drafts[0].id}")
        second_editor.sends(f"/publish {drafts[0].id}")
        first = await answer_to(telegram, editor, 1)
        second = await answer_to(telegram, second_editor, 1)
        editor.sends(f"/publish {drafts[1].id}")
        second_editor.sends(f"/publish {drafts[2].id}")
        await answer_to(telegram, editor, 2)
        await answer_to(telegram, second_editor, 2)
        assert all(bot.returncode is None for bot in cluster.instances)

        def channel_titles() -> list[str]:
            return [text_of(m) for m in telegram.chat_messages(CHANNEL_ID)]

        await telegram.wait_for(lambda: len(channel_titles()) >= 4, timeout=40)
        await telegram.wait_idle(quiet=1.0, timeout=30)
        codes = await cluster.stop()
        assert codes == [0] * INSTANCES, cluster.report()

        titles = channel_titles()
        for draft in drafts:
            assert sum(draft.title in t for t in titles) == 1, (draft.title, titles)
        assert len(titles) == 4, titles
        sends = [
            r
            for r in telegram.requests
            if r.method in ("sendMessage", "sendPhoto", "sendRichMessage")
            and r.status == 200
            and str(r.params.get("chat_id")) == str(CHANNEL_ID)
        ]
        assert len(sends) == 4, [r.summary() for r in sends]
        for draft in drafts:
            stored = await stores.articles.get(draft.id)
            assert stored is not None and stored.status is ArticleStatus.PUBLISHED
            assert stored.channel_message_id is not None
        # Of the two editors who published №1 at once, one got the link; the other was told
        # it is being published (or already is), not a second post.
        told = [first[0], second[0]]
        assert sum(m.startswith("Опубликовано в канале") for m in told) == 1, told
        assert telegram.throttled == 0, cluster.report()
    finally:
        await stores.close()
