"""The schema's history (``versions/``, one Alembic history for both engines), and the
check every start makes: a database already at the newest revision costs one query, and
Alembic (a tenth of a second to import here, and megabytes) is loaded only to migrate.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc, text

if TYPE_CHECKING:
    from storage.database import Database

VERSIONS = Path(__file__).parent / "versions"
_STAMP = text("SELECT version_num FROM alembic_version")


@cache
def newest_revision() -> str:
    """The head of the history: each revision is named by its file's number (a test holds
    the history to it)."""
    return max(path.name.split("_", 1)[0] for path in VERSIONS.glob("[0-9]*_*.py"))


async def upgrade(db: Database) -> None:
    """Bring the database to the newest revision (nothing to do: one query)."""
    try:
        async with db.read() as conn:
            stamps = (await conn.execute(_STAMP)).scalars().all()
    except exc.DBAPIError:  # no stamp yet: a new database, or one made before Alembic
        stamps = []
    if list(stamps) == [newest_revision()]:
        return
    from storage.migrations.runner import run

    await run(db)
