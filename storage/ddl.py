"""What the two engines do differently, each in one place: the triggers that keep counts
and the search queue, and the full-text index.

Both engines get the same behaviour:
- a vote row moves its option's count (``poll_options.votes``) in the voting transaction;
- a first read adds one to ``articles.reads``;
- an article that becomes, stays or stops being readable (published or archived) with a
  change of status, title or text (every edit bumps ``updated_at``), or is deleted, is
  queued in ``search_pending`` for the indexer;
- the index keeps Snowball stems (SQLite has no Russian stemmer): an FTS5 table with its
  vocabulary on SQLite, a ``tsvector`` under the 'simple' configuration with a GIN index
  and a table of per-term document counts on PostgreSQL.
"""

from __future__ import annotations

from bot.repositories import READABLE

# The statuses whose articles are in the search index, as SQL.
_INDEXED = "(" + ", ".join(f"'{status.value}'" for status in READABLE) + ")"

SQLITE_COUNTERS = (
    """
    CREATE TRIGGER poll_vote_added AFTER INSERT ON poll_votes
    BEGIN
        UPDATE poll_options SET votes = votes + 1
         WHERE poll_id = NEW.poll_id AND position = NEW.position;
    END
    """,
    """
    CREATE TRIGGER poll_vote_moved AFTER UPDATE OF position ON poll_votes
    WHEN OLD.position <> NEW.position
    BEGIN
        UPDATE poll_options SET votes = votes - 1
         WHERE poll_id = OLD.poll_id AND position = OLD.position;
        UPDATE poll_options SET votes = votes + 1
         WHERE poll_id = NEW.poll_id AND position = NEW.position;
    END
    """,
    """
    CREATE TRIGGER poll_vote_removed AFTER DELETE ON poll_votes
    BEGIN
        UPDATE poll_options SET votes = votes - 1
         WHERE poll_id = OLD.poll_id AND position = OLD.position;
    END
    """,
    """
    CREATE TRIGGER article_read_added AFTER INSERT ON article_reads
    BEGIN
        UPDATE articles SET reads = reads + 1 WHERE id = NEW.article_id;
    END
    """,
    """
    CREATE TRIGGER article_read_removed AFTER DELETE ON article_reads
    BEGIN
        UPDATE articles SET reads = reads - 1 WHERE id = OLD.article_id;
    END
    """,
)


def _sqlite_search_queue(name: str, event: str, when: str, row: str) -> str:
    """A trigger that queues the article ``row`` (NEW or OLD) for the indexer."""
    return f"""
    CREATE TRIGGER {name}
    {event} ON articles
    WHEN {when}
    BEGIN
        INSERT OR IGNORE INTO search_pending (article_id) VALUES ({row}.id);
    END
    """


# Triggers on ``articles`` itself: a rebuild of that table drops them, so a migration
# that rebuilds it creates these again.
SQLITE_SEARCH_QUEUE = (
    _sqlite_search_queue(
        "search_article_added", "AFTER INSERT", f"NEW.status IN {_INDEXED}", "NEW"
    ),
    _sqlite_search_queue(
        "search_article_changed",
        "AFTER UPDATE OF status, title, updated_at",
        f"NEW.status IN {_INDEXED} OR OLD.status IN {_INDEXED}",
        "NEW",
    ),
    _sqlite_search_queue(
        "search_article_deleted", "AFTER DELETE", f"OLD.status IN {_INDEXED}", "OLD"
    ),
)

SQLITE_SEARCH_INDEX = (
    # detail=full (the default) although no phrase is searched: with 'column' or 'none'
    # bm25 re-reads each matching document to count its terms, 40 times slower.
    """
    CREATE VIRTUAL TABLE article_search USING fts5(
        title, body, tokenize = 'unicode61 remove_diacritics 0'
    )
    """,
    # Per-term document counts, to pick an article's rarest terms for "related".
    "CREATE VIRTUAL TABLE article_search_terms USING fts5vocab(article_search, 'row')",
)

POSTGRES_COUNTERS = (
    """
    CREATE FUNCTION poll_votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE poll_options SET votes = votes - 1
             WHERE poll_id = OLD.poll_id AND position = OLD.position;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE poll_options SET votes = votes + 1
             WHERE poll_id = NEW.poll_id AND position = NEW.position;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER poll_vote_added AFTER INSERT ON poll_votes
        FOR EACH ROW EXECUTE FUNCTION poll_votes_count()
    """,
    """
    CREATE TRIGGER poll_vote_moved AFTER UPDATE OF position ON poll_votes
        FOR EACH ROW WHEN (OLD.position <> NEW.position) EXECUTE FUNCTION poll_votes_count()
    """,
    """
    CREATE TRIGGER poll_vote_removed AFTER DELETE ON poll_votes
        FOR EACH ROW EXECUTE FUNCTION poll_votes_count()
    """,
    """
    CREATE FUNCTION article_reads_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE articles SET reads = reads + 1 WHERE id = NEW.article_id;
        ELSE
            UPDATE articles SET reads = reads - 1 WHERE id = OLD.article_id;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER article_read_added AFTER INSERT ON article_reads
        FOR EACH ROW EXECUTE FUNCTION article_reads_count()
    """,
    """
    CREATE TRIGGER article_read_removed AFTER DELETE ON article_reads
        FOR EACH ROW EXECUTE FUNCTION article_reads_count()
    """,
)

# The triggers that queue articles for the indexer (its function is in POSTGRES_SEARCH).
POSTGRES_SEARCH_QUEUE = (
    f"""
    CREATE TRIGGER search_article_added AFTER INSERT ON articles
        FOR EACH ROW WHEN (NEW.status IN {_INDEXED}) EXECUTE FUNCTION search_queue_article()
    """,
    f"""
    CREATE TRIGGER search_article_changed
        AFTER UPDATE OF status, title, updated_at, withdrawn_at ON articles
        FOR EACH ROW WHEN (NEW.status IN {_INDEXED} OR OLD.status IN {_INDEXED})
        EXECUTE FUNCTION search_queue_article()
    """,
    f"""
    CREATE TRIGGER search_article_deleted AFTER DELETE ON articles
        FOR EACH ROW WHEN (OLD.status IN {_INDEXED}) EXECUTE FUNCTION search_queue_article()
    """,
)
# The names of the triggers above, on either engine (a migration drops them to redefine).
SEARCH_QUEUE_TRIGGERS = (
    "search_article_added",
    "search_article_changed",
    "search_article_deleted",
)

POSTGRES_SEARCH = (
    # No foreign key to articles: a deleted article's row stays until the indexer has
    # taken its terms out of search_terms.
    """
    CREATE TABLE article_search (
        article_id bigint PRIMARY KEY,
        title      text NOT NULL,
        body       text NOT NULL,
        document   tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', title), 'A') ||
            setweight(to_tsvector('simple', body), 'D')
        ) STORED
    )
    """,
    "CREATE INDEX article_search_document ON article_search USING gin (document)",
    # What SQLite's fts5vocab gives; ts_stat would read every document.
    "CREATE TABLE search_terms (term text PRIMARY KEY, docs integer NOT NULL)",
    """
    CREATE FUNCTION search_queue_article() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO search_pending (article_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO search_pending (article_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    *POSTGRES_SEARCH_QUEUE,
    # "Any of these words": the OR of tsqueries each built from a parameter, so nothing a
    # reader types is ever tsquery syntax.
    "CREATE AGGREGATE search_any (tsquery) (SFUNC = tsquery_or, STYPE = tsquery)",
)


def engine_specific(dialect: str) -> tuple[str, ...]:
    """The statements that complete a new database after the tables are created."""
    if dialect == "postgresql":
        return POSTGRES_COUNTERS + POSTGRES_SEARCH
    return SQLITE_COUNTERS + SQLITE_SEARCH_QUEUE + SQLITE_SEARCH_INDEX
