"""Who goes first when a budget is short: the priority of a request, chosen per task.

The caller chooses it with a context manager::

    with send_priority(Priority.LIVE):
        await bot.edit_message_reply_markup(...)

``PUBLISH`` (a channel publish) > ``INTERACTIVE`` (the default: answers to a person's
action) > ``LIVE`` (live-count edits of poll posts) > ``BACKGROUND`` (notices to editors and
admins).  A publish that arrives after fifty queued live-count edits of the same channel
goes out at the channel's next free slot, not after them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from enum import IntEnum


class Priority(IntEnum):
    """Who goes first when a budget is short; lower values are served first."""

    PUBLISH = 0
    INTERACTIVE = 1
    LIVE = 2
    BACKGROUND = 3


_priority: ContextVar[Priority] = ContextVar("send_priority", default=Priority.INTERACTIVE)


@contextlib.contextmanager
def send_priority(priority: Priority) -> Iterator[None]:
    """Requests made inside the block queue with ``priority``.

    It is a context variable: it holds for this task, and for tasks created inside the block
    (they copy the context), not for other tasks.
    """
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    return _priority.get()
