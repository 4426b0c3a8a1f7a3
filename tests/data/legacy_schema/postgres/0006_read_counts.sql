-- Reader counts kept by the database: a trigger adds one with every first read, inside
-- the reading transaction.  And an index for the newest-published listings.

ALTER TABLE articles ADD COLUMN reads integer NOT NULL DEFAULT 0 CHECK (reads >= 0);

UPDATE articles
   SET reads = counted.n
  FROM (SELECT article_id, count(*) AS n FROM article_reads GROUP BY article_id) AS counted
 WHERE counted.article_id = articles.id;

CREATE FUNCTION article_reads_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE articles SET reads = reads + 1 WHERE id = NEW.article_id;
    ELSE
        UPDATE articles SET reads = reads - 1 WHERE id = OLD.article_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER article_read_added AFTER INSERT ON article_reads
    FOR EACH ROW EXECUTE FUNCTION article_reads_count();

CREATE TRIGGER article_read_removed AFTER DELETE ON article_reads
    FOR EACH ROW EXECUTE FUNCTION article_reads_count();

CREATE INDEX articles_by_publication ON articles (status, published_at, id);
