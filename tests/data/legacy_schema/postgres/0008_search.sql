-- Full-text search, related articles, the most read and the evening digest; the same
-- design as storage/migrations/sqlite/0008_search.sql.
--
-- article_search holds each published article's title and body as Snowball stems
-- (storage/stemming.py), so documents and queries are stemmed alike on both backends,
-- and ``document`` is their tsvector under the 'simple' configuration (which only folds
-- case: the stems are already the words to match), the title weighted A, the body D.
-- It is kept by Python (storage/postgres/search.py), but what needs re-indexing is
-- decided here: a trigger queues an article in search_pending whenever it is inserted as
-- published (a copy by migrate-to-postgres), becomes, stays or stops being published with
-- a change of status, title, text (every edit bumps updated_at) or withdrawal, or is
-- deleted.  Searches also join articles and check the status, so a stale row is never
-- shown.
--
-- No foreign key to articles: a deleted article's row must stay until the indexer has
-- taken its terms out of search_terms.

CREATE TABLE article_search (
    article_id bigint PRIMARY KEY,
    title      text NOT NULL,  -- stems separated by spaces
    body       text NOT NULL,
    document   tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', body), 'D')
    ) STORED
);

CREATE INDEX article_search_document ON article_search USING gin (document);

-- In how many indexed articles each stem occurs, to pick an article's rarest terms for
-- "related" (what SQLite's fts5vocab gives; ts_stat would read every document).
CREATE TABLE search_terms (
    term text    PRIMARY KEY,
    docs integer NOT NULL
);

CREATE TABLE search_pending (
    article_id bigint PRIMARY KEY
);

CREATE FUNCTION search_queue_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_pending (article_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO search_pending (article_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER search_article_added AFTER INSERT ON articles
    FOR EACH ROW WHEN (NEW.status = 'published')
    EXECUTE FUNCTION search_queue_article();

CREATE TRIGGER search_article_changed
    AFTER UPDATE OF status, title, updated_at, withdrawn_at ON articles
    FOR EACH ROW WHEN (NEW.status = 'published' OR OLD.status = 'published')
    EXECUTE FUNCTION search_queue_article();

CREATE TRIGGER search_article_deleted AFTER DELETE ON articles
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION search_queue_article();

-- "Any of these words": the OR of several tsqueries, each built by plainto_tsquery from
-- a parameter, so nothing a reader types is ever tsquery syntax.
CREATE AGGREGATE search_any (tsquery) (SFUNC = tsquery_or, STYPE = tsquery);

-- What was published before this migration is indexed at the next start.
INSERT INTO search_pending (article_id) SELECT id FROM articles WHERE status = 'published';

-- Related articles by shared tags.  (The reads' index by time, article_reads_by_time,
-- comes with 0009.)
CREATE INDEX article_tags_by_tag ON article_tags (tag, article_id);

-- One evening digest per day (the day in TIMEZONE): the primary key is the claim, so two
-- instances (or a restart) can never both post it.
CREATE TABLE digests (
    day        date        PRIMARY KEY,
    claimed_at timestamptz NOT NULL,
    chat_id    text,
    message_id bigint
);
