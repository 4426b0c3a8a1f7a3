"""Who is an editor: the settings (EDITOR_IDS, ADMIN_IDS) plus those admins added in chat.

The set is dynamic and every instance must see a change made by another one: the stored
part is reloaded from the database when it is older than ``max_age`` seconds (one cheap
query, at most once per ``max_age`` per instance, shared by the checks that arrive
meanwhile).  Settings editors and admins are answered without any query.  The instance
that made a change knows it at once; the others within ``max_age``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.models import EditorSource
from bot.repositories import EditorStore

Follow = Callable[[int], Awaitable[None]]


class AddOutcome(StrEnum):
    ADDED = "added"
    ALREADY = "already"  # added in chat before
    IN_SETTINGS = "in_settings"  # an editor or admin by the settings already


class RemoveOutcome(StrEnum):
    REMOVED = "removed"
    IN_SETTINGS = "in_settings"  # only the settings can take this right away
    NOT_EDITOR = "not_editor"


@dataclass(frozen=True, slots=True)
class EditorEntry:
    user_id: int
    source: EditorSource
    added_by: int | None = None
    added_at: datetime | None = None


async def _nothing(_: int) -> None:
    return None


class Editors:
    def __init__(
        self,
        store: EditorStore,
        editor_ids: frozenset[int],
        admin_ids: frozenset[int],
        *,
        max_age: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_added: Follow = _nothing,
        on_removed: Follow = _nothing,
    ) -> None:
        self._store = store
        self.admin_ids = admin_ids
        self.settings_ids = editor_ids - admin_ids
        self._fixed = editor_ids | admin_ids
        self._max_age = max_age
        self._clock = clock
        self._stored: frozenset[int] = frozenset()
        self._loaded_at: float | None = None
        self._reload = asyncio.Lock()
        # The command menu follows a change (the composition root wires it).
        self.on_added = on_added
        self.on_removed = on_removed

    @property
    def stored(self) -> frozenset[int]:
        """Editors added in chat, as last loaded."""
        return self._stored

    async def load(self) -> None:
        self._stored = await self._store.editor_ids()
        self._loaded_at = self._clock()

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._max_age

    async def _refresh(self) -> None:
        if not self._stale():
            return
        async with self._reload:
            if self._stale():  # another check may have reloaded while this one waited
                await self.load()

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def known(self, user_id: int) -> bool:
        """An editor as last loaded, without a query (a rights check reloads the set once
        it is older than ``max_age``): for choices that may lag a change (the desk's line
        for updates), never for rights."""
        return user_id in self._fixed or user_id in self._stored

    async def is_editor(self, user_id: int) -> bool:
        if user_id in self._fixed:
            return True
        await self._refresh()
        return user_id in self._stored

    async def current(self) -> frozenset[int]:
        await self._refresh()
        return self._fixed | self._stored

    async def add(self, user_id: int, admin_id: int, admin_name: str | None = None) -> AddOutcome:
        if user_id in self._fixed:
            return AddOutcome.IN_SETTINGS
        added = await self._store.add_editor(user_id, admin_id, admin_name)
        self._stored = self._stored | {user_id}
        if not added:
            return AddOutcome.ALREADY
        await self.on_added(user_id)
        return AddOutcome.ADDED

    async def remove(
        self, user_id: int, admin_id: int, admin_name: str | None = None
    ) -> RemoveOutcome:
        if user_id in self._fixed:
            return RemoveOutcome.IN_SETTINGS
        removed = await self._store.remove_editor(user_id, admin_id, admin_name)
        self._stored = self._stored - {user_id}
        if not removed:
            return RemoveOutcome.NOT_EDITOR
        await self.on_removed(user_id)
        return RemoveOutcome.REMOVED

    async def listing(self) -> list[EditorEntry]:
        """Admins, then settings editors, then those added in chat (oldest first)."""
        stored = await self._store.list_editors()
        self._stored = frozenset(e.user_id for e in stored)
        self._loaded_at = self._clock()
        return (
            [EditorEntry(uid, EditorSource.ADMIN) for uid in sorted(self.admin_ids)]
            + [EditorEntry(uid, EditorSource.SETTINGS) for uid in sorted(self.settings_ids)]
            + [
                EditorEntry(e.user_id, EditorSource.DATABASE, e.added_by, e.added_at)
                for e in stored
            ]
        )


# Telegram user ids are positive and fit in 52 bits (up to 16 digits).
_USER_ID_RE = re.compile(r"^\s*([0-9]{1,16})\s*$")
MAX_USER_ID = 2**52


def parse_user_id(args: str | None) -> int | None:
    """``"123456789"`` → 123456789; anything else (words, zero, negative, huge) → None."""
    match = _USER_ID_RE.match(args or "")
    if match is None:
        return None
    value = int(match.group(1))
    return value if 0 < value < MAX_USER_ID else None
