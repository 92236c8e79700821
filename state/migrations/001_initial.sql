-- Durable intake: an update is kept here, sealed with a key derived from BOT_SECRET, only until it
-- has been handled.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     BLOB    NOT NULL,
    received_at INTEGER NOT NULL
);

-- Only the ids of updates already taken in, so a re-delivered update is handled once.
-- Purged after Telegram's own 24 h redelivery window.
CREATE TABLE seen_updates (
    update_id INTEGER PRIMARY KEY,
    seen_at   INTEGER NOT NULL
);

-- A person, known only by a keyed hash of their Telegram id.
CREATE TABLE people (
    person_key TEXT    PRIMARY KEY,
    language   TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Where a conversation is, per flow and per storage key (a keyed hash of bot, chat, user, thread).
CREATE TABLE conversations (
    flow           TEXT    NOT NULL,
    storage_key    TEXT    NOT NULL,
    person_key     TEXT    NOT NULL REFERENCES people (person_key) ON DELETE CASCADE,
    state          TEXT    NOT NULL,
    data           TEXT    NOT NULL DEFAULT '{}',
    last_update_id INTEGER,
    version        INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (flow, storage_key)
);
CREATE INDEX conversations_person ON conversations (person_key);
