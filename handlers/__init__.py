"""aiogram routers, one module per feature; ``router_tree`` assembles them for a dispatcher.

Each module declares its handlers at module level on its own ``Router``, as aiogram's
examples do, so a module can be read (and imported) alone.  Those routers are templates:
an aiogram router can be attached to one parent only, and one process builds many
dispatchers (a restart, every end-to-end test).  ``router_tree`` therefore attaches fresh
copies, made through aiogram's public registration API.  What depends on the place in the
tree (the private-chat, group, editor and admin filters, the acting-editor middleware)
sits on parent routers made here, never on a template, since observer-level filters and
middlewares are not part of what a copy can read.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from . import (
    archive,
    desk,
    digest,
    discovery,
    drafts,
    errors,
    feeds,
    groups,
    new_article,
    polls,
    publishing,
    reading,
    revisions,
    schedules,
    withdrawal,
)
from . import help as help_  # the module is named after the command


def fresh(template: Router) -> Router:
    """A new router with the template's handlers (filters and flags included) and fresh
    copies of its sub-routers, free to attach to one more parent."""
    copy = Router(name=template.name)
    for event, observer in template.observers.items():
        target = copy.observers[event]
        for handler in observer.handlers:
            filters = [
                f.magic if f.magic is not None else f.callback for f in handler.filters or ()
            ]
            target.register(handler.callback, *filters, flags=dict(handler.flags))
    for sub in template.sub_routers:
        copy.include_router(fresh(sub))
    return copy


def _parent(name: str, *children: Router) -> Router:
    """A fresh parent router holding fresh copies of ``children``, in order."""
    parent = Router(name=name)
    parent.include_routers(*(fresh(child) for child in children))
    return parent


def router_tree() -> Router:
    """The whole tree, built anew for each dispatcher.  Order matters: the first handler
    whose filters pass takes the update."""
    admins = _parent("desk_admins", desk.admins)
    admins.message.filter(desk.IsAdmin())
    editors = Router(name="editors")
    # The set of editors changes in chat (/addeditor): the filter asks it on every message.
    editors.message.filter(F.chat.type == ChatType.PRIVATE, desk.IsEditor())
    editors.message.middleware(desk.ActingEditor())
    editors.include_routers(
        admins,
        # After the admins' commands: editors who are not admins are told so.
        fresh(desk.not_admins),
        fresh(desk.router),
        fresh(new_article.router),
        fresh(polls.router),
        fresh(schedules.router),
        fresh(revisions.router),
        # Before drafts: /import with a .zip is the archive, with a .txt a draft.
        fresh(archive.router),
        fresh(drafts.router),
        fresh(publishing.router),
        fresh(withdrawal.router),
        fresh(digest.router),
        fresh(feeds.router),
    )
    # Readers, and editors whose message no editors' handler took (/help among them).
    readers = _parent("readers", help_.router, reading.router)
    readers.message.filter(F.chat.type == ChatType.PRIVATE)
    in_groups = _parent("in_groups", groups.router)
    in_groups.message.filter(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP}))
    # A card's button acts for the editor who pressed it (checked in its handler).
    card_buttons = fresh(feeds.buttons)
    card_buttons.callback_query.middleware(desk.ActingEditor())
    root = Router(name="root")
    root.include_routers(
        fresh(errors.router),
        fresh(polls.votes),
        fresh(desk.reactions),
        card_buttons,
        editors,
        fresh(discovery.router),
        readers,
        in_groups,
        fresh(polls.unknown_callbacks),
    )
    return root
