"""Which exceptions mean "a store is away" (answered 503 in webhook mode, logged once per
outage) and which are a statement's own fault (a bug or a constraint: reported)."""

from __future__ import annotations

import sqlite3

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import exc

from bot.errors import StorageError, is_storage_failure


@pytest.mark.parametrize(
    "error",
    [
        StorageError("the database is closed"),
        exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        exc.InterfaceError("SELECT 1", {}, Exception("connection closed")),
        sqlite3.OperationalError("disk I/O error"),
        RedisConnectionError("Connection refused"),
        ConnectionRefusedError(),
        TimeoutError(),
    ],
)
def test_a_store_that_is_away(error: BaseException) -> None:
    assert is_storage_failure(error)


@pytest.mark.parametrize(
    "error",
    [
        exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
        exc.ProgrammingError("SELECT", {}, sqlite3.ProgrammingError("no such column")),
        sqlite3.IntegrityError("CHECK constraint failed"),
        ValueError("a bug"),
    ],
)
def test_a_statements_own_fault_is_not_an_outage(error: BaseException) -> None:
    assert not is_storage_failure(error)
