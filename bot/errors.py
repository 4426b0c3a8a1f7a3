"""The domain's own errors, shared by services, storage and handlers."""

from __future__ import annotations

import sqlite3
from typing import Any


class InputError(ValueError):
    """Bad editor input; ``key`` is the ``Texts`` field with the explanation."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class StorageError(Exception):
    """The database cannot be used (read-only, locked for too long, corrupt, gone)."""


class MessageTaken(Exception):
    """A channel message is recorded for another article or poll than the one asking:
    a message belongs to one of them (the database's key decides).  Nothing changed."""

    def __init__(self, article_id: int | None, poll_id: int | None) -> None:
        super().__init__(f"the message belongs to article {article_id} / poll {poll_id}")
        self.article_id = article_id
        self.poll_id = poll_id


# Modules whose exceptions mean a store did not answer (their types are not imported
# here: bot/ does not depend on a particular database or cache).
_STORE_MODULES = ("asyncpg", "redis", "sqlalchemy", "aiosqlite")


# A statement's own fault (a constraint, a bad value, a bug): the store answered.
_STATEMENT_ERRORS = frozenset(
    {
        "IntegrityError",
        "DataError",
        "ProgrammingError",
        "NotSupportedError",
        "IntegrityConstraintViolationError",
    }
)


def is_storage_failure(exc: BaseException) -> bool:
    """Did ``exc`` come from a database or Redis that is (for now) unusable?"""
    if isinstance(exc, StorageError | OSError | TimeoutError):
        return True
    if {kind.__name__ for kind in type(exc).__mro__} & _STATEMENT_ERRORS:
        return False
    if isinstance(exc, sqlite3.Error):
        return True
    return type(exc).__module__.split(".", 1)[0] in _STORE_MODULES
