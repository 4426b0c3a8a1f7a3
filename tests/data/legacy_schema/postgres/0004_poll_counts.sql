-- Per-option vote counts kept by the database itself: a trigger moves a count with
-- every vote row, inside the voting transaction, so the counts never drift from the votes.

ALTER TABLE poll_options ADD COLUMN votes integer NOT NULL DEFAULT 0 CHECK (votes >= 0);

UPDATE poll_options o
   SET votes = (SELECT count(*) FROM poll_votes v
                 WHERE v.poll_id = o.poll_id AND v.position = o.position);

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
$$;

CREATE TRIGGER poll_vote_added AFTER INSERT ON poll_votes
    FOR EACH ROW EXECUTE FUNCTION poll_votes_count();

CREATE TRIGGER poll_vote_moved AFTER UPDATE OF position ON poll_votes
    FOR EACH ROW WHEN (OLD.position <> NEW.position) EXECUTE FUNCTION poll_votes_count();

CREATE TRIGGER poll_vote_removed AFTER DELETE ON poll_votes
    FOR EACH ROW EXECUTE FUNCTION poll_votes_count();
