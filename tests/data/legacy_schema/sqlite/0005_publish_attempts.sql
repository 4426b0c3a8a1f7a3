-- Publishing attempts: every claim of an article for publishing bumps publish_attempt and
-- records when it was claimed; every later step of that publication (published, failed,
-- uncertain, an editor's /markpublished) names the attempt it belongs to, so a step of an
-- older attempt, or of another editor or process, can never overwrite a newer one.
-- A poll whose channel send has an unknown outcome keeps status 'pending' (its buttons
-- work if the post is there) with send_uncertain = 1.
BEGIN;

ALTER TABLE articles ADD COLUMN publish_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN claimed_at TEXT;
ALTER TABLE polls ADD COLUMN send_uncertain INTEGER NOT NULL DEFAULT 0;

PRAGMA user_version = 5;
COMMIT;
