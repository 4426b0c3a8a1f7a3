-- Articles, their paragraphs and tags, and who has read them.
-- Times are ISO-8601 strings: UTC for our own events, the outlet's local time for
-- original_published_at (the source page gives no zone).
BEGIN;

CREATE TABLE articles (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    title                 TEXT    NOT NULL CHECK (length(title) > 0),
    summary               TEXT,
    dateline              TEXT,
    source                TEXT,
    original_published_at TEXT,
    views                 INTEGER CHECK (views IS NULL OR views >= 0),
    photo_file_id         TEXT,
    photo_credit          TEXT,
    poll_question         TEXT,
    poll_intro            TEXT,
    author_id             INTEGER NOT NULL,
    status                TEXT    NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'publishing', 'published', 'failed', 'uncertain')),
    channel_chat_id       TEXT,
    channel_message_id    INTEGER,
    published_at          TEXT,
    scheduled_at          TEXT,
    failure_reason        TEXT,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    CHECK (status <> 'published' OR channel_message_id IS NOT NULL)
);

CREATE INDEX articles_by_status ON articles (status, updated_at);

CREATE TABLE article_paragraphs (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (article_id, position)
);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    tag        TEXT    NOT NULL,
    PRIMARY KEY (article_id, position)
);

-- One row per distinct reader: the primary key is what makes a reader count once.
CREATE TABLE article_reads (
    article_id    INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    reader_id     INTEGER NOT NULL,
    first_read_at TEXT    NOT NULL,
    PRIMARY KEY (article_id, reader_id)
);

-- Which message in an editor's chat previews which draft, so that replying to a
-- preview with a photo attaches it.
CREATE TABLE draft_previews (
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);

PRAGMA user_version = 1;
COMMIT;
