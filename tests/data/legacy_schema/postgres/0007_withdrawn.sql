-- Withdrawn articles (/delete): still "published" in the status column (as in SQLite),
-- withdrawn_at says when the article was taken down; the repository shows it as
-- "withdrawn".
ALTER TABLE articles ADD COLUMN withdrawn_at timestamptz
    CHECK (withdrawn_at IS NULL OR status = 'published');
