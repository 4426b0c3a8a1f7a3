"""Bringing a database to the schema of ``storage.tables`` with Alembic: one history for
both engines.

- A new database gets the tables and the engine's triggers and index in one
  transaction and is stamped at the newest revision (Alembic's recipe for building a
  database from scratch).
- A database made before Alembic (the nine numbered SQL scripts: ``PRAGMA user_version``
  9 on SQLite, nine rows in ``schema_migrations`` on PostgreSQL) has exactly the schema of
  the baseline revision: it is checked, stamped there, and upgraded like any other.
- Anything else is upgraded to the newest revision.

Instances starting together migrate once: on PostgreSQL under an advisory lock, on
SQLite inside the writer's ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from bot.errors import StorageError
from storage.ddl import engine_specific
from storage.tables import metadata

if TYPE_CHECKING:
    from storage.database import Database

logger = logging.getLogger(__name__)

BASELINE = "0001"
# The tables every pre-Alembic database at its last script (9) has.
LEGACY_TABLES = frozenset(
    {
        "articles",
        "article_paragraphs",
        "article_tags",
        "article_reads",
        "draft_previews",
        "polls",
        "poll_options",
        "poll_votes",
        "dialog_states",
        "search_pending",
        "digests",
        "desk_editors",
        "editor_actions",
        "post_reactions",
    }
)
LEGACY_VERSION = 9
# pg_advisory_lock key of the migrations: "newsroom" in the first 8 bytes, as a bigint.
MIGRATION_LOCK = int.from_bytes(b"newsroom", "big") & 0x7FFF_FFFF_FFFF_FFFF


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _legacy_version(connection: Connection, dialect: str) -> int:
    if dialect == "sqlite":
        return int(connection.exec_driver_sql("PRAGMA user_version").scalar_one())
    if not inspect(connection).has_table("schema_migrations"):
        return 0
    return int(connection.execute(text("SELECT count(*) FROM schema_migrations")).scalar_one())


def _bring_up_to_date(connection: Connection, dialect: str) -> bool:
    """True when existing tables were changed (a migration ran over data)."""
    tables = set(inspect(connection).get_table_names())
    cfg = config(connection)
    if "alembic_version" in tables:
        if current(connection) == head():
            return False
        command.upgrade(cfg, "head")
        return True
    if "articles" in tables:
        version = _legacy_version(connection, dialect)
        missing = LEGACY_TABLES - tables
        if version != LEGACY_VERSION or missing:
            raise StorageError(
                f"the database was made by an older release (schema {version}"
                + (f", missing {', '.join(sorted(missing))}" if missing else "")
                + f"); only schema {LEGACY_VERSION} can be upgraded"
            )
        logger.info("Adopting a database made before Alembic (schema %d)", version)
        command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
        return True
    logger.info("Creating the schema")
    metadata.create_all(connection)
    for statement in engine_specific(dialect):
        connection.exec_driver_sql(statement)
    command.stamp(cfg, "head")
    return False


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Outside any transaction (SQLite ignores the pragma inside one): a migration that
    rebuilds a table must not cascade its drop to the children."""
    cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _upgrade(connection: Connection, dialect: str) -> None:
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        try:
            _bring_up_to_date(connection, dialect)
            connection.commit()
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        return
    _sqlite_foreign_keys(connection, False)
    try:
        migrated = _bring_up_to_date(connection, dialect)
        problems = migrated and connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StorageError(f"the migration broke {len(problems)} references")
        connection.commit()
    finally:
        connection.rollback()
        _sqlite_foreign_keys(connection, True)


async def run(db: Database) -> None:
    async with db.writer.connect() as conn:
        await conn.run_sync(_upgrade, db.dialect)
