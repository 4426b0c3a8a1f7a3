-- The editor's desk: editors added from the chat, the history of every editor action,
-- the latest reaction counts of channel posts, and indexes for the period statistics.
BEGIN;

-- Editors added by an admin with /addeditor (those in the settings are not stored here).
CREATE TABLE desk_editors (
    user_id  INTEGER PRIMARY KEY CHECK (user_id > 0),
    added_by INTEGER NOT NULL,
    added_at TEXT    NOT NULL
);

-- Who did what, when. No foreign keys: the history outlives what it talks about.
-- editor_id is NULL for what the bot did by itself (a scheduled publication).
CREATE TABLE editor_actions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER,
    poll_id    INTEGER,
    editor_id  INTEGER,
    editor_name TEXT,  -- as Telegram showed them then: ids alone say little
    action     TEXT    NOT NULL CHECK (length(action) > 0),
    detail     TEXT,
    at         TEXT    NOT NULL
);

CREATE INDEX editor_actions_by_article ON editor_actions (article_id, id)
    WHERE article_id IS NOT NULL;

-- The latest counts Telegram reported for a post in our channel (chat is the channel as
-- configured, the same string articles.channel_chat_id holds).  ``date`` is the
-- update's own time: an older update arriving late never overwrites a newer one.
CREATE TABLE post_reactions (
    chat       TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    reactions  TEXT    NOT NULL,  -- JSON array of [label, count], largest first
    total      INTEGER NOT NULL CHECK (total >= 0),
    date       TEXT    NOT NULL,
    PRIMARY KEY (chat, message_id)
);

-- /stats for a day or a week reads only the rows of that period.
-- IF NOT EXISTS: 0008 (search) already made it, on (first_read_at, article_id).
CREATE INDEX IF NOT EXISTS article_reads_by_time ON article_reads (first_read_at);
CREATE INDEX poll_votes_by_time ON poll_votes (voted_at);

PRAGMA user_version = 9;
COMMIT;
