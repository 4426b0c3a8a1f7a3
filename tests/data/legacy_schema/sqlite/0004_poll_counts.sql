-- Per-option vote counts kept by the database itself: triggers move a count with
-- every vote row, inside the voting transaction, so a read never has to recount all
-- votes and the counts can never drift from the votes.
BEGIN;

ALTER TABLE poll_options ADD COLUMN votes INTEGER NOT NULL DEFAULT 0 CHECK (votes >= 0);

UPDATE poll_options
   SET votes = (SELECT COUNT(*) FROM poll_votes v
                 WHERE v.poll_id = poll_options.poll_id AND v.position = poll_options.position);

CREATE TRIGGER poll_vote_added AFTER INSERT ON poll_votes
BEGIN
    UPDATE poll_options SET votes = votes + 1
     WHERE poll_id = NEW.poll_id AND position = NEW.position;
END;

CREATE TRIGGER poll_vote_moved AFTER UPDATE OF position ON poll_votes
WHEN OLD.position <> NEW.position
BEGIN
    UPDATE poll_options SET votes = votes - 1
     WHERE poll_id = OLD.poll_id AND position = OLD.position;
    UPDATE poll_options SET votes = votes + 1
     WHERE poll_id = NEW.poll_id AND position = NEW.position;
END;

CREATE TRIGGER poll_vote_removed AFTER DELETE ON poll_votes
BEGIN
    UPDATE poll_options SET votes = votes - 1
     WHERE poll_id = OLD.poll_id AND position = OLD.position;
END;

PRAGMA user_version = 4;
COMMIT;
