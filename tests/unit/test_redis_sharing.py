"""What several instances share through Redis: Telegram's limits, live-count edits, the
ids of handled webhook updates and the edits of a channel post.  Each test uses its own key
prefix on the local Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any, cast

import pytest
from aiogram import Bot
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.polls.refresher import Refresher
from bot.repositories import Claim, PollStore
from bot.telegram.channel import Channel
from bot.telegram.pacing.limiter import SAFETY_MARGIN, RateLimits
from bot.telegram.pacing.priorities import Priority
from bot.telegram.pacing.shared import SharedRateLimiter
from bot.texts import RU
from storage.redis.connection import redis_answers
from storage.redis.gates import RedisRefreshGate
from storage.redis.ledger import RedisUpdateLedger
from storage.redis.limits import RedisBuckets
from storage.redis.locks import RedisPostLocks
from tests.redis_support import RedisSpace, closed_port_url

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ-secret"
RATE = 100.0  # global requests per second for the limiter tests
INTERVAL = SAFETY_MARGIN / RATE
# The channels here only take their posts' locks: one that looked a poll up would fail.
NO_POLLS = cast(PollStore, object())


def limiter(space: RedisSpace, client: Redis) -> SharedRateLimiter:
    limits = RateLimits(global_per_second=RATE, chat_per_second=1000.0, chat_burst=1)
    return SharedRateLimiter(RedisBuckets(client, space.prefix), limits)


async def test_two_instances_together_never_exceed_the_global_rate(redis: RedisSpace) -> None:
    """Two limiters (two "processes", two connections) sharing one prefix: 80 requests to
    80 chats go out no faster than one budget allows, measured on the Redis clock."""
    a_client = Redis.from_url(redis.url)
    b_client = Redis.from_url(redis.url)
    a, b = limiter(redis, a_client), limiter(redis, b_client)
    stamps: list[float] = []

    async def send(lim: SharedRateLimiter, chat: int) -> None:
        await lim.acquire(chat, Priority.INTERACTIVE)
        seconds, micros = await redis.client.time()
        stamps.append(seconds + micros / 1e6)

    started = time.monotonic()
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(send(a, 10_000 + i) for i in range(40)),
                *(send(b, 20_000 + i) for i in range(40)),
            ),
            timeout=10,
        )
    finally:
        await a_client.aclose()
        await b_client.aclose()
    elapsed = time.monotonic() - started
    stamps.sort()
    # GCRA with burst 1: the n-th grant is at least (n - 1) intervals after the first.
    # Stamps are taken after the grant (jitter of a round trip), so allow a little.
    span = stamps[-1] - stamps[0]
    assert span >= 79 * INTERVAL * 0.9, span
    window = 0.2
    most = max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)
    assert most <= window / INTERVAL + 3, most
    assert elapsed < 5.0  # and it does not crawl either


async def test_lua_bucket_is_shared_and_atomic(redis: RedisSpace) -> None:
    a = RedisBuckets(redis.client, redis.prefix)
    b = RedisBuckets(redis.client, redis.prefix)
    assert await a.take("-100777", 1.0, 1) == 0.0
    wait = await b.take("-100777", 1.0, 1)
    assert wait is not None and 0.9 < wait <= 1.0
    assert await b.take("-100888", 1.0, 1) == 0.0  # another chat: its own bucket
    assert await a.take("-100999", 0.5, 3) == 0.0  # burst 3: three at once, then a wait
    assert await b.take("-100999", 0.5, 3) == 0.0
    assert await a.take("-100999", 0.5, 3) == 0.0
    wait = await b.take("-100999", 0.5, 3)
    assert wait is not None and wait > 0.4


async def test_a_429_seen_by_one_instance_holds_the_other(redis: RedisSpace) -> None:
    a, b = limiter(redis, redis.client), limiter(redis, redis.client)
    await a.hold_back(-100555, 0.4)
    started = time.monotonic()
    await asyncio.wait_for(b.acquire(-100555, Priority.PUBLISH), timeout=5)
    assert time.monotonic() - started >= 0.3


async def test_priorities_still_hold_within_one_instance(redis: RedisSpace) -> None:
    # One slot per 0.53 s: a loaded machine must not free the channel's next slot before
    # the publish has queued (at 0.105 s a busy CI run let the first live edit through).
    limits = RateLimits(global_per_second=1000.0, group_per_minute=120.0)
    lim = SharedRateLimiter(RedisBuckets(redis.client, redis.prefix), limits)
    await lim.acquire(-100444, Priority.LIVE)  # the channel's slot is now spent
    order: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        await lim.acquire(-100444, priority)
        order.append(name)

    live = [asyncio.create_task(send(f"live{i}", Priority.LIVE)) for i in range(3)]
    await asyncio.sleep(0)  # the live edits queue first
    publish = asyncio.create_task(send("publish", Priority.PUBLISH))
    await asyncio.wait_for(asyncio.gather(*live, publish), timeout=10)
    assert order[0] == "publish", order


async def test_limiter_paces_locally_when_redis_is_down() -> None:
    client = Redis.from_url(closed_port_url(), socket_connect_timeout=0.5)
    try:
        lim = SharedRateLimiter(RedisBuckets(client, "down"), RateLimits(global_per_second=1000.0))
        await asyncio.wait_for(lim.acquire(5001, Priority.INTERACTIVE), timeout=5)
        assert not await redis_answers(client, timeout=1)
    finally:
        await client.aclose()


async def test_refresh_gate_one_edit_per_interval_across_instances(redis: RedisSpace) -> None:
    """Two instances get votes on one poll: edits (by either) are an interval apart, and the
    last edit shows the last vote."""
    interval = 0.3
    votes = 0
    edits: list[tuple[str, float, int]] = []

    def render_as(name: str) -> Refresher:
        async def render(poll_id: int) -> None:
            edits.append((name, time.monotonic(), votes))

        gate = RedisRefreshGate(redis.client, redis.prefix)
        return Refresher(render, interval, gate=gate)

    a, b = render_as("a"), render_as("b")
    for i in range(30):  # 1.5 s of votes, alternating between the instances
        votes += 1
        (a if i % 2 else b).mark_dirty(7)
        await asyncio.sleep(0.05)
    last_vote = votes
    deadline = time.monotonic() + 3
    while (not edits or edits[-1][2] != last_vote) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    times = [t for _, t, _ in edits]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    await a.flush()
    await b.flush()
    assert edits[-1][2] == last_vote, edits
    assert min(gaps) >= interval * 0.9, gaps
    assert len(edits) <= 1.5 / interval + 3
    assert {name for name, _, _ in edits} == {"a", "b"}  # both instances took turns
    assert a.gate_waits + b.gate_waits > 0


async def test_update_ledger_claims_once_across_instances(redis: RedisSpace) -> None:
    one = RedisUpdateLedger(redis.client, redis.prefix, ttl=60, lease=30)
    two = RedisUpdateLedger(redis.client, redis.prefix, ttl=60, lease=30)
    assert await one.claim(41) is Claim.NEW
    assert await two.claim(41) is Claim.BUSY  # a redelivery while the first is handled
    await one.done(41)
    assert await two.claim(41) is Claim.DONE
    assert await one.claim(42) is Claim.NEW
    await one.release(42)  # it failed: the redelivery handles it
    assert await two.claim(42) is Claim.NEW
    await two.release(42)
    assert await one.webhook_fingerprint() is None
    await one.remember_webhook("abc")
    assert await two.webhook_fingerprint() == "abc"


async def test_update_ledger_forgets_after_its_ttl(redis: RedisSpace) -> None:
    ledger = RedisUpdateLedger(redis.client, redis.prefix, ttl=0.2, lease=0.2)
    assert await ledger.claim(1) is Claim.NEW  # a lease that dies with its instance …
    await ledger.done(2)
    deadline = time.monotonic() + 3
    while await ledger.claim(2) is Claim.DONE:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    while (claim := await ledger.claim(1)) is not Claim.NEW:  # … frees the update
        assert claim is Claim.BUSY and time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_a_renewed_claim_outlives_its_lease_and_only_its_owner_frees_it(
    redis: RedisSpace,
) -> None:
    one = RedisUpdateLedger(redis.client, redis.prefix, ttl=60, lease=0.3)
    two = RedisUpdateLedger(redis.client, redis.prefix, ttl=60, lease=0.3)
    assert await one.claim(7) is Claim.NEW
    for _ in range(4):  # 0.4 s of work, renewed as the handler does, past the 0.3 s lease
        await asyncio.sleep(0.1)
        await one.renew(7)
        assert await two.claim(7) is Claim.BUSY
    await two.release(7)  # not two's claim: it stays
    assert await two.claim(7) is Claim.BUSY
    await one.release(7)
    assert await two.claim(7) is Claim.NEW
    await one.renew(7)  # one's claim is gone: renewing it takes nothing from two
    assert await one.claim(7) is Claim.BUSY


# --- one edit of a channel post at a time, across instances -------------------------------


def instance_channel(space: RedisSpace, client: Redis, lease: float = 30.0) -> Channel:
    """A ``Channel`` as one instance wires it (only its post locks are used here)."""
    bot = Bot(TOKEN)
    locks = RedisPostLocks(client, space.prefix, lease=lease)
    return Channel(bot, "@news_channel", RU, NO_POLLS, shared_locks=locks)


async def test_edits_of_one_post_never_overlap_across_instances(redis: RedisSpace) -> None:
    """Two instances (two connections) edit post 7: the second waits until the first is
    done, and a post of its own (8) does not wait at all.  Without the shared lock each
    instance's own ``asyncio.Lock`` lets both in together."""
    a_client, b_client = Redis.from_url(redis.url), Redis.from_url(redis.url)
    a, b = instance_channel(redis, a_client), instance_channel(redis, b_client)
    log: list[str] = []
    a_inside, other_post_edited = asyncio.Event(), asyncio.Event()

    async def slow_edit() -> None:
        async with a.message_lock(7):
            log.append("a in")
            a_inside.set()
            # A slow edit (a request waiting for its turn): b's edit of post 7 must wait.
            await asyncio.wait_for(other_post_edited.wait(), timeout=5)
            await asyncio.sleep(0.3)
            log.append("a out")

    async def later_edit() -> None:
        await a_inside.wait()
        async with b.message_lock(8):
            other_post_edited.set()
        async with b.message_lock(7):
            log.append("b in")

    try:
        await asyncio.wait_for(asyncio.gather(slow_edit(), later_edit()), timeout=10)
    finally:
        await a_client.aclose()
        await b_client.aclose()
    assert log == ["a in", "a out", "b in"]


async def test_a_dead_instances_post_lock_expires_after_its_lease(redis: RedisSpace) -> None:
    client = Redis.from_url(redis.url)
    try:
        # The dead instance took post 7 and never came back to free it.
        locks = RedisPostLocks(client, redis.prefix, lease=30)
        assert await client.set(f"{locks.prefix}@news_channel:7", "dead", px=300)
        channel = instance_channel(redis, client)
        began = time.monotonic()
        async with channel.message_lock(7):
            waited = time.monotonic() - began
    finally:
        await client.aclose()
    assert 0.1 <= waited < 5.0, waited


async def test_a_slow_edit_keeps_its_hold_and_frees_only_its_own(redis: RedisSpace) -> None:
    """The holder renews its lease while it works (three leases long here), so no other
    instance gets in meanwhile; a waiter that gives up (cancelled) frees nothing of the
    holder's; an edit that fails frees the post."""
    lease = 0.6
    a_client, b_client = Redis.from_url(redis.url), Redis.from_url(redis.url)
    a = RedisPostLocks(a_client, redis.prefix, lease=lease)
    b = RedisPostLocks(b_client, redis.prefix, lease=lease)
    name = f"{a.prefix}p"
    entered = asyncio.Event()

    async def wait_for_the_post() -> None:
        async with b.hold("p"):
            entered.set()

    async def scenario() -> None:
        async with a.hold("p"):
            holder = await a_client.get(name)
            waiter = asyncio.create_task(wait_for_the_post())
            for _ in range(9):  # three leases
                await asyncio.sleep(lease / 3)
                assert not entered.is_set()
                assert await a_client.get(name) == holder
            waiter.cancel()
            await asyncio.wait([waiter])
            assert await a_client.get(name) == holder  # the waiter freed nothing
        assert await a_client.get(name) is None
        with contextlib.suppress(RuntimeError):
            async with b.hold("p"):
                raise RuntimeError("the edit failed")
        assert await a_client.get(name) is None

    try:
        await asyncio.wait_for(scenario(), timeout=20)
    finally:
        await a_client.aclose()
        await b_client.aclose()


@pytest.mark.parametrize("lost", [RedisConnectionError("answer lost"), asyncio.CancelledError()])
async def test_a_hold_taken_on_the_server_but_not_here_is_freed(
    redis: RedisSpace, monkeypatch: pytest.MonkeyPatch, lost: BaseException
) -> None:
    """Redis ran the SET, but the answer was lost (a timeout) or the waiter was cancelled
    just then: the key holding the post must not outlive the attempt."""
    client = Redis.from_url(redis.url)
    locks = RedisPostLocks(client, redis.prefix, lease=30)
    name = f"{locks.prefix}p"
    real_set = client.set

    async def set_then_lose(*args: Any, **kwargs: Any) -> Any:
        await real_set(*args, **kwargs)
        raise lost

    monkeypatch.setattr(client, "set", set_then_lose)
    try:
        if isinstance(lost, asyncio.CancelledError):
            with pytest.raises(asyncio.CancelledError):
                async with locks.hold("p"):
                    pass
        else:
            async with locks.hold("p"):  # Redis unreliable: the edit goes ahead without
                assert await redis.client.get(name) is not None
        assert await redis.client.get(name) is None
    finally:
        await client.aclose()


def test_a_channel_forgets_the_locks_of_posts_no_one_edits() -> None:
    channel = Channel(Bot(TOKEN), "@news_channel", RU, NO_POLLS)

    async def edit_many() -> None:
        async def edit(message_id: int) -> None:
            async with channel.message_lock(message_id):
                await asyncio.sleep(0)

        await asyncio.gather(*(edit(i % 5) for i in range(50)))
        # A waiter cancelled while the post is held, and an edit that fails.
        async with channel.message_lock(9):
            waiter = asyncio.create_task(edit(9))
            await asyncio.sleep(0)
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        with contextlib.suppress(RuntimeError):
            async with channel.message_lock(9):
                raise RuntimeError("the edit failed")

    asyncio.run(edit_many())
    assert channel.posts_being_edited == 0
