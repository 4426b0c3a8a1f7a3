"""aiogram routers, one module per audience or feature; ``setup_routers`` wires them.

Every module exposes ``setup(...) -> Router`` that builds a fresh router, so a second
dispatcher (a restart in the tests) never reuses a router already attached elsewhere.
"""

from __future__ import annotations

from aiogram import Router

from . import drafts, errors, groups, new_article, polls, reading, revisions, schedules


def setup_routers(editor_ids: frozenset[int]) -> Router:
    root = Router(name="root")
    root.include_routers(
        errors.setup(),
        polls.setup_votes(),
        new_article.setup(editor_ids),
        polls.setup_editors(editor_ids),
        schedules.setup(editor_ids),
        revisions.setup(editor_ids),
        drafts.setup(editor_ids),
        reading.setup(),
        groups.setup(),
        polls.setup_fallback(),
    )
    return root
