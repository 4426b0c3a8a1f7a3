"""Changing the CHECKs of ``articles`` on both engines, for revisions that add a status.

SQLite cannot alter a CHECK: its table is rebuilt with the definition of
``storage.tables`` (SQLite's documented twelve steps; foreign keys are off around a
migration, so the children keep their rows).  PostgreSQL swaps the constraints in place.
The rebuild copies the columns of ``storage.tables``, so a revision that adds a column to
``articles`` must come with its own copy of the table as it was.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import CheckConstraint, Index, text
from sqlalchemy.schema import CreateTable

from storage import tables
from storage.ddl import SQLITE_COUNTERS, SQLITE_SEARCH_QUEUE


def _read_counters() -> tuple[str, ...]:
    return tuple(ddl for ddl in SQLITE_COUNTERS if "ON article_reads" in ddl)


def rebuild_on_sqlite(status: str = "status") -> None:
    """Rebuild SQLite's articles under the CHECKs of storage.tables; ``status`` is the
    SQL expression the copied rows' status is taken from."""
    bind = op.get_bind()
    columns = [column.name for column in tables.articles.columns]
    create = str(CreateTable(tables.articles).compile(dialect=bind.dialect))
    op.execute(create.replace("CREATE TABLE articles", "CREATE TABLE articles_new", 1))
    copied = ", ".join(status if name == "status" else name for name in columns)
    op.execute(f"INSERT INTO articles_new ({', '.join(columns)}) SELECT {copied} FROM articles")
    # AUTOINCREMENT's memory of the highest id ever given goes with the old table.
    highest = bind.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = 'articles'"
    ).scalar()
    # The triggers of article_reads name articles: SQLite checks them at the rename.
    for trigger in ("article_read_added", "article_read_removed"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE articles")
    op.execute("ALTER TABLE articles_new RENAME TO articles")
    if highest is not None:
        op.execute("DELETE FROM sqlite_sequence WHERE name = 'articles'")
        op.execute(
            text(
                "INSERT INTO sqlite_sequence (name, seq) "
                "SELECT 'articles', max(:highest, coalesce(max(id), 0)) FROM articles"
            ).bindparams(highest=highest)
        )
    for index in tables.articles.indexes:
        assert isinstance(index, Index)
        index.create(bind)
    for trigger in SQLITE_SEARCH_QUEUE + _read_counters():
        op.execute(trigger)


def replace_on_postgres(before_checks: str | None = None) -> None:
    """Drop every CHECK of PostgreSQL's articles (the scripts before Alembic left unnamed
    ones), run ``before_checks`` (rows brought in line), then add those of storage.tables."""
    bind = op.get_bind()
    checks = bind.execute(
        text(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'articles'::regclass AND contype = 'c'"
        )
    ).scalars()
    for name in list(checks):
        op.execute(text(f'ALTER TABLE articles DROP CONSTRAINT "{name}"'))
    if before_checks:
        op.execute(before_checks)
    for constraint in tables.articles.constraints:
        if isinstance(constraint, CheckConstraint):
            op.create_check_constraint(str(constraint.name), "articles", constraint.sqltext)


def upgrade_checks(*, sqlite_status: str = "status", postgres_update: str | None = None) -> None:
    if op.get_bind().dialect.name == "sqlite":
        rebuild_on_sqlite(sqlite_status)
    else:
        replace_on_postgres(postgres_update)
