-- Reader polls with inline buttons.  The primary key of poll_votes is one row per
-- (poll, reader): a reader has exactly one current choice, so a double count is
-- impossible in the database itself, not only in Python.
BEGIN;

CREATE TABLE polls (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    question           TEXT    NOT NULL CHECK (length(question) > 0),
    intro              TEXT,
    article_id         INTEGER UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
    status             TEXT    NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'open', 'closed', 'failed')),
    channel_chat_id    TEXT,
    channel_message_id INTEGER,
    -- Bumped by every vote that changes a count; the channel post shows rendered_version.
    counts_version     INTEGER NOT NULL DEFAULT 0,
    rendered_version   INTEGER NOT NULL DEFAULT 0,
    created_by         INTEGER NOT NULL,
    created_at         TEXT    NOT NULL,
    closed_at          TEXT
);

CREATE TABLE poll_options (
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0 AND position < 10),
    label    TEXT    NOT NULL CHECK (length(label) > 0),
    PRIMARY KEY (poll_id, position),
    UNIQUE (poll_id, label)
);

CREATE TABLE poll_votes (
    poll_id   INTEGER NOT NULL,
    reader_id INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    voted_at  TEXT    NOT NULL,
    PRIMARY KEY (poll_id, reader_id),
    FOREIGN KEY (poll_id, position) REFERENCES poll_options (poll_id, position)
        ON DELETE CASCADE
);

CREATE INDEX poll_votes_by_option ON poll_votes (poll_id, position);
CREATE INDEX polls_to_render ON polls (status, counts_version, rendered_version);

PRAGMA user_version = 2;
COMMIT;
