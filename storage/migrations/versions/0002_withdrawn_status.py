""" "Withdrawn" becomes a status of its own.

Before, a withdrawn article was ``status = 'published'`` with ``withdrawn_at`` set, because
SQLite cannot change a CHECK in place.  SQLite's articles table is rebuilt here (its
documented twelve steps: foreign keys are off around the migration, so the children keep
their rows); PostgreSQL swaps the constraints.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import CheckConstraint, Index, text
from sqlalchemy.schema import CreateTable

from storage import tables
from storage.ddl import SQLITE_COUNTERS, SQLITE_SEARCH_QUEUE

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _status() -> str:
    return "CASE WHEN withdrawn_at IS NOT NULL THEN 'withdrawn' ELSE status END"


def _read_counters() -> tuple[str, ...]:
    return tuple(ddl for ddl in SQLITE_COUNTERS if "ON article_reads" in ddl)


def upgrade() -> None:
    bind = op.get_bind()
    columns = [column.name for column in tables.articles.columns]
    if bind.dialect.name == "sqlite":
        create = str(CreateTable(tables.articles).compile(dialect=bind.dialect))
        op.execute(create.replace("CREATE TABLE articles", "CREATE TABLE articles_new", 1))
        copied = ", ".join(_status() if name == "status" else name for name in columns)
        op.execute(
            f"INSERT INTO articles_new ({', '.join(columns)}) SELECT {copied} FROM articles"
        )
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
        return
    # The scripts before Alembic left unnamed checks (PostgreSQL named them): all of
    # them go, and the table gets the checks of storage.tables.
    checks = bind.execute(
        text(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'articles'::regclass AND contype = 'c'"
        )
    ).scalars()
    for name in list(checks):
        op.execute(text(f'ALTER TABLE articles DROP CONSTRAINT "{name}"'))
    op.execute("UPDATE articles SET status = 'withdrawn' WHERE withdrawn_at IS NOT NULL")
    for constraint in tables.articles.constraints:
        if isinstance(constraint, CheckConstraint):
            op.create_check_constraint(str(constraint.name), "articles", constraint.sqltext)
