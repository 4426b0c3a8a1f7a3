"""The schema's history (``versions/``, one Alembic history for both engines), and the
check every start makes: a database already at the newest revision costs one query, and
Alembic (a tenth of a second to import here, and megabytes) is loaded only to migrate.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, column, exc, select, table

if TYPE_CHECKING:
    from storage.database import Database

VERSIONS = Path(__file__).parent / "versions"
_STAMP: Select[Any] = select(column("version_num")).select_from(table("alembic_version"))


@cache
def newest_revision() -> str:
    """The head of the history: each revision is named by its file's number (a test holds
    the history to it)."""
    return max(path.name.split("_", 1)[0] for path in VERSIONS.glob("[0-9]*_*.py"))


async def upgrade(db: Database) -> None:
    """Bring the database to the newest revision (nothing to do: one query)."""
    try:
        stamps = [row["version_num"] for row in await db.rows(_STAMP)]
    except (exc.DBAPIError, sqlite3.OperationalError):
        stamps = []  # no stamp yet: a new database, or one made before Alembic
    if stamps == [newest_revision()]:
        return
    from storage.migrations.runner import run

    await run(db)
