"""aiogram routers, one module per group of commands; ``setup_routers`` wires them.

Every module exposes ``setup() -> Router`` that builds a fresh router, so a second
dispatcher (a restart in the tests) never reuses a router already attached elsewhere.
The editors' routers hang under one parent router that carries the editor filter.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from . import (
    desk,
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


def setup_routers() -> Router:
    editors = Router(name="editors")
    # The set of editors changes in chat (/addeditor): the filter asks bot/desk/editors.py.
    editors.message.filter(F.chat.type == ChatType.PRIVATE, desk.IsEditor())
    editors.message.middleware(desk.ActingEditor())
    editors.include_routers(
        desk.setup_admins(),
        desk.setup(),
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
        desk.setup_reactions(),
        editors,
        discovery.setup(),
        reading.setup(),
        groups.setup(),
        polls.setup_fallback(),
    )
    return root
