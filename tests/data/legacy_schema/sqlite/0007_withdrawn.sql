-- Withdrawn articles (/delete): still "published" in the status column, whose CHECK
-- cannot be changed in place (SQLite would need the table rebuilt, and dropping the old
-- one would cascade to paragraphs, tags, reads and polls); withdrawn_at says when it was
-- taken down.  The repository shows such an article as "withdrawn".
BEGIN;

ALTER TABLE articles ADD COLUMN withdrawn_at TEXT
    CHECK (withdrawn_at IS NULL OR status = 'published');

PRAGMA user_version = 7;
COMMIT;
