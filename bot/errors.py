"""The domain's own errors, shared by services, storage and handlers."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Bad editor input; ``key`` is the ``Texts`` field with the explanation."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class StorageError(Exception):
    """The database cannot be used (read-only, locked for too long, corrupt, gone)."""
