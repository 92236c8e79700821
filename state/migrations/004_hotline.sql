-- Hotline cases. While a case is open the bot keeps her chat id, sealed with a key derived
-- from BOT_SECRET, to write to her; closing erases it and unlinks the person. What remains of a
-- closed case is metadata (times, language, outcome), purged after the configured period.
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    code            TEXT    NOT NULL UNIQUE,
    person_key      TEXT    REFERENCES people (person_key) ON DELETE SET NULL,
    chat_sealed     BLOB,
    language        TEXT    NOT NULL,
    staff_chat_id   INTEGER NOT NULL,
    thread_id       INTEGER,
    card_message_id INTEGER,
    claimed_by      INTEGER,
    claimed_name    TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    outcome         TEXT,
    opened_at       INTEGER NOT NULL,
    claimed_at      INTEGER,
    reminded_at     INTEGER,
    closed_at       INTEGER
);
-- One open case per person: a second request, or a double tap, finds the first.
CREATE UNIQUE INDEX cases_one_open ON cases (person_key) WHERE status = 'open';
CREATE INDEX cases_thread ON cases (staff_chat_id, thread_id);

-- Messages to relay, written in the same transaction as the step that caused them and deleted
-- once Telegram has accepted them. The payload (chat ids, message ids, notices) is sealed.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a late update hits nothing
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    lane        TEXT    NOT NULL,  -- messages of one lane go out one at a time, in order
    priority    INTEGER NOT NULL,  -- 0: to the person, 1: to staff
    dedupe_key  TEXT    NOT NULL UNIQUE,
    payload     BLOB    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at, priority, id);

-- People staff have blocked, by pseudonymous key, until a time.
CREATE TABLE blocks (
    person_key TEXT    PRIMARY KEY,
    until      INTEGER NOT NULL
);

-- When a person opened cases, to limit how many per hour; goes with the person.
CREATE TABLE case_opens (
    person_key TEXT    NOT NULL REFERENCES people (person_key) ON DELETE CASCADE,
    opened_at  INTEGER NOT NULL
);
CREATE INDEX case_opens_person ON case_opens (person_key, opened_at);
