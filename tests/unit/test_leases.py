"""What an instance holds in Redis (an update's claim, a dialog's lock, a post's edit
lock) lives on a short lease its holder renews: held as long as the holder runs, however
long, and free within seconds of its death (a SIGKILLed process here)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from bot.repositories import Claim
from storage.redis.leases import LEASE_SECONDS
from storage.redis.ledger import RedisUpdateLedger
from storage.redis.locks import RedisDialogIsolation, RedisPostLocks
from tests.redis_support import RedisSpace

DIALOG = StorageKey(bot_id=1, chat_id=5001, user_id=5001)
UPDATE_ID = 77
POST = "@news_channel:7"

# The holder: takes all three the way the bot does, says so, and works until killed.
HOLDER = """
import asyncio, sys
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis
from storage.redis.leases import LEASE_SECONDS
from storage.redis.ledger import RedisUpdateLedger
from storage.redis.locks import RedisDialogIsolation, RedisPostLocks

async def main(url: str, prefix: str, update_id: int, post: str) -> None:
    client = Redis.from_url(url)
    keys = DefaultKeyBuilder(prefix=f"{prefix}:fsm", with_destiny=True)
    dialogs = RedisDialogIsolation(client, keys, lease=LEASE_SECONDS)
    posts = RedisPostLocks(client, prefix, lease=LEASE_SECONDS)
    ledger = RedisUpdateLedger(client, prefix, ttl=60, lease=LEASE_SECONDS)
    assert await ledger.claim(update_id) is not None
    dialog = StorageKey(bot_id=1, chat_id=5001, user_id=5001)
    # A slow update: its claim renewed as the webhook handler does, its locks held.
    async with ledger.renewing(update_id), dialogs.lock(dialog), posts.hold(post):
        print("held", flush=True)
        await asyncio.Event().wait()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


async def test_a_killed_instances_holds_are_free_within_five_seconds(redis: RedisSpace) -> None:
    assert LEASE_SECONDS <= 5.0
    client = Redis.from_url(redis.url)
    keys = DefaultKeyBuilder(prefix=f"{redis.prefix}:fsm", with_destiny=True)
    dialogs = RedisDialogIsolation(client, keys, lease=LEASE_SECONDS)
    posts = RedisPostLocks(client, redis.prefix, lease=LEASE_SECONDS)
    ledger = RedisUpdateLedger(client, redis.prefix, ttl=60, lease=LEASE_SECONDS)
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        redis.url,
        redis.prefix,
        str(UPDATE_ID),
        POST,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        # Imports alone take seconds on a busy machine.
        assert await asyncio.wait_for(holder.stdout.readline(), 120) == b"held\n"
        # Alive and working for longer than a lease: it keeps everything.
        await asyncio.sleep(LEASE_SECONDS * 1.5)
        assert await ledger.claim(UPDATE_ID) is Claim.BUSY
        lock_name = keys.build(DIALOG, "lock")
        post_name = f"{posts.prefix}{POST}"
        assert await client.exists(lock_name, post_name) == 2
    finally:
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
    killed = time.monotonic()

    async def taken() -> float:
        async with dialogs.lock(DIALOG), posts.hold(POST):
            while await ledger.claim(UPDATE_ID) is not Claim.NEW:
                await asyncio.sleep(0.05)
            return time.monotonic() - killed

    try:
        freed_after = await asyncio.wait_for(taken(), 10)
    finally:
        await client.aclose()
    assert freed_after <= 5.0, freed_after


async def test_a_dialog_stays_locked_while_a_slow_update_runs(redis: RedisSpace) -> None:
    """Three leases long: the other instance's update of the same dialog waits throughout,
    then runs once the first is done."""
    lease = 0.6
    a_client, b_client = Redis.from_url(redis.url), Redis.from_url(redis.url)
    keys = DefaultKeyBuilder(prefix=f"{redis.prefix}:fsm", with_destiny=True)
    a = RedisDialogIsolation(a_client, keys, lease=lease)
    b = RedisDialogIsolation(b_client, keys, lease=lease)
    entered = asyncio.Event()

    async def second() -> None:
        async with b.lock(DIALOG):
            entered.set()

    try:
        async with a.lock(DIALOG):
            waiter = asyncio.create_task(second())
            for _ in range(9):
                await asyncio.sleep(lease / 3)
                assert not entered.is_set()
        await asyncio.wait_for(waiter, 5)
    finally:
        await a.close()
        await a_client.aclose()
        await b_client.aclose()
    assert entered.is_set()
