-- Editors' dialog state (aiogram FSM), so that a restart does not lose a half-built
-- article.  The key is aiogram's StorageKey rendered by its DefaultKeyBuilder.

CREATE TABLE dialog_states (
    key        text PRIMARY KEY,
    state      text,
    data       jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);
