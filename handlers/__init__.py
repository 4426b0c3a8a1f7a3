"""aiogram routers, one module per group of commands; ``setup_routers`` wires them.

Every module exposes ``setup() -> Router`` that builds a fresh router, so a second
dispatcher (a restart in the tests) never reuses a router already attached elsewhere.
The editors' routers hang under one parent router that carries the editor filter.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from . import (
    discovery,
    drafts,
    errors,
    groups,
    new_article,
    polls,
    publishing,
    reading,
    revisions,
    schedules,
)


def setup_routers(editor_ids: frozenset[int]) -> Router:
    editors = Router(name="editors")
    editors.message.filter(F.chat.type == ChatType.PRIVATE, F.from_user.id.in_(editor_ids))
    editors.include_routers(
        new_article.setup(),
        polls.setup_editors(),
        schedules.setup(),
        revisions.setup(),
        drafts.setup(),
        publishing.setup(),
        discovery.setup_editors(),
    )
    root = Router(name="root")
    root.include_routers(
        errors.setup(),
        polls.setup_votes(),
        editors,
        discovery.setup(),
        reading.setup(),
        groups.setup(),
        polls.setup_fallback(),
    )
    return root
