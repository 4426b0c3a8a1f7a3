-- Reader counts kept by the database: a trigger adds one with every first read, inside
-- the reading transaction, so fetching an article never recounts its article_reads rows.
-- And an index for the newest-published listings (/published, the reader's menu), which
-- otherwise sort every published article to show twenty.
BEGIN;

ALTER TABLE articles ADD COLUMN reads INTEGER NOT NULL DEFAULT 0 CHECK (reads >= 0);

UPDATE articles
   SET reads = counted.n
  FROM (SELECT article_id, COUNT(*) AS n FROM article_reads GROUP BY article_id) AS counted
 WHERE counted.article_id = articles.id;

CREATE TRIGGER article_read_added AFTER INSERT ON article_reads
BEGIN
    UPDATE articles SET reads = reads + 1 WHERE id = NEW.article_id;
END;

CREATE TRIGGER article_read_removed AFTER DELETE ON article_reads
BEGIN
    UPDATE articles SET reads = reads - 1 WHERE id = OLD.article_id;
END;

-- The rowid (id) is the last column of every index: (published_at, id) order for free.
CREATE INDEX articles_by_publication ON articles (status, published_at);

PRAGMA user_version = 6;
COMMIT;
