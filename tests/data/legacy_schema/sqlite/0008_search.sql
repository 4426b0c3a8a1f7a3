-- Full-text search, related articles, the most read and the evening digest.
--
-- article_search holds each published article's title and body as Snowball stems
-- (storage/stemming.py: SQLite has no Russian stemmer), one row per article, rowid = the
-- article's id.  It is kept by Python (storage/sqlite/search.py), but what needs
-- re-indexing is decided here: a trigger queues an article in search_pending whenever it
-- becomes, stays or stops being published with a change of status, title or text (every
-- edit bumps updated_at), or is deleted.  So a publish, an edit, and any later way out of
-- "published" (a withdrawal) reach the index without their code knowing about it; and
-- searches join articles.status = 'published', so a stale row is never shown.
BEGIN;

-- detail=full (the default) although no phrase is ever searched: with 'column' or 'none'
-- bm25 re-reads each matching document to count its terms, 40 times slower (bench/search.py).
CREATE VIRTUAL TABLE article_search USING fts5(
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Per-term document counts, to pick an article's rarest terms for "related".
CREATE VIRTUAL TABLE article_search_terms USING fts5vocab(article_search, 'row');

CREATE TABLE search_pending (
    article_id INTEGER PRIMARY KEY
);

CREATE TRIGGER search_article_changed
AFTER UPDATE OF status, title, updated_at ON articles
WHEN NEW.status = 'published' OR OLD.status = 'published'
BEGIN
    INSERT OR IGNORE INTO search_pending (article_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_article_deleted AFTER DELETE ON articles
WHEN OLD.status = 'published'
BEGIN
    INSERT OR IGNORE INTO search_pending (article_id) VALUES (OLD.id);
END;

-- What was published before this migration is indexed at the next start.
INSERT INTO search_pending (article_id) SELECT id FROM articles WHERE status = 'published';

-- Related articles by shared tags; the week's most read by first reads in a window.
CREATE INDEX article_tags_by_tag ON article_tags (tag, article_id);
CREATE INDEX article_reads_by_time ON article_reads (first_read_at, article_id);

-- One evening digest per day (the day in TIMEZONE): the primary key is the claim, so two
-- instances (or a restart) can never both post it.
CREATE TABLE digests (
    day        TEXT PRIMARY KEY,
    claimed_at TEXT NOT NULL,
    chat_id    TEXT,
    message_id INTEGER
);

PRAGMA user_version = 8;
COMMIT;
