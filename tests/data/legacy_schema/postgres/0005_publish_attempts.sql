-- Publishing attempts: every claim bumps publish_attempt and records when it was claimed;
-- every later step names the attempt it belongs to (see the SQLite script 0005).
-- A poll whose channel send has an unknown outcome keeps status 'pending' with
-- send_uncertain set.

ALTER TABLE articles ADD COLUMN publish_attempt integer NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN claimed_at timestamptz;
ALTER TABLE polls ADD COLUMN send_uncertain boolean NOT NULL DEFAULT false;
