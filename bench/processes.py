"""Worker processes started as the bot starts them."""

from __future__ import annotations

import sys


def workers_as_in_the_bot() -> None:
    """Have spawned workers start as the bot's do.

    A spawned process re-imports the parent's main module unless that module is a
    package's ``__main__``: the bot (``python -m bot``) is one, so its workers import only
    what their task needs (the feed parser: 0.3 s, 28 MB).  A bench run as
    ``python -m bench.NAME`` is not: each worker would import the bench, and aiogram with
    it (seconds of CPU and 150 MB more per worker), which no worker of the bot does.
    Forgetting where this main module came from makes the workers skip it too; nothing in
    a worker's task refers to the bench's own functions.
    """
    main = sys.modules["__main__"]
    main.__spec__ = None
    if hasattr(main, "__file__"):
        del main.__file__
