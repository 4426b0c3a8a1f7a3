-- Editors' dialog state (aiogram FSM), so that a restart does not lose a half-built
-- article.  The key is aiogram's StorageKey rendered by its DefaultKeyBuilder.
BEGIN;

CREATE TABLE dialog_states (
    key        TEXT PRIMARY KEY,
    state      TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);

PRAGMA user_version = 3;
COMMIT;
