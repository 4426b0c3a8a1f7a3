"""Ids of handled webhook updates, shared by every instance: a redelivered update is
acknowledged without being handled twice."""

from __future__ import annotations

import contextlib
import math
import uuid
from typing import Any

from redis.asyncio import Redis

from bot.repositories import Claim
from storage.redis.leases import RELEASE, RENEW, renewed

# Claim: a new update gets "busy:<owner>" with a lease (the instance handling it may
# die), which its owner renews while it works; a handled one is "done" for ``ttl``.  Only
# the owner releases or renews: an instance whose lease ran out cannot free, or keep,
# a claim that another has taken since.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  return 'new'
end
local state = redis.call('GET', KEYS[1])
if not state then return 'gone' end
if string.sub(state, 1, 5) == 'busy:' then return 'busy' end
return state
"""


class RedisUpdateLedger:
    """The webhook's ``UpdateLedger`` shared by all instances."""

    def __init__(self, redis: Redis, prefix: str, *, ttl: float, lease: float) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:update:"
        self.ttl_ms = max(1, math.ceil(ttl * 1000))
        self.lease_ms = max(1, math.ceil(lease * 1000))
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(RELEASE)
        self._renew = redis.register_script(RENEW)
        self.owner = f"busy:{uuid.uuid4().hex}"
        # A claim is renewed this often while its update is handled.
        self.renew_every = lease / 3
        self._webhook_key = f"{prefix}:webhook:fingerprint"

    async def claim(self, update_id: int) -> Claim:
        answer: Any = await self._claim(
            keys=[f"{self.prefix}{update_id}"], args=[self.lease_ms, self.owner]
        )
        state = answer.decode() if isinstance(answer, bytes) else str(answer)
        if state == "new":
            return Claim.NEW
        if state == "done":
            return Claim.DONE
        if state == "busy":
            return Claim.BUSY
        return await self.claim(update_id)  # expired between SET and GET: try again

    async def done(self, update_id: int) -> None:
        await self.redis.set(f"{self.prefix}{update_id}", "done", px=self.ttl_ms)

    async def release(self, update_id: int) -> None:
        await self._release(keys=[f"{self.prefix}{update_id}"], args=[self.owner])

    async def renew(self, update_id: int) -> bool:
        """Extend the claim if it is still this instance's."""
        answer = await self._renew(
            keys=[f"{self.prefix}{update_id}"], args=[self.lease_ms, self.owner]
        )
        return bool(answer)

    def renewing(self, update_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Keep the claim while the block runs: a slow update (a send waiting out flood
        control) is not taken over by another instance meanwhile."""
        return renewed(
            lambda: self.renew(update_id), self.renew_every, f"the claim on update {update_id}"
        )

    async def webhook_fingerprint(self) -> str | None:
        value = await self.redis.get(self._webhook_key)
        return value.decode() if isinstance(value, bytes) else value

    async def remember_webhook(self, fingerprint: str) -> None:
        await self.redis.set(self._webhook_key, fingerprint)
