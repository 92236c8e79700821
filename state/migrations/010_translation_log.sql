-- What translators and administrators proposed and decided for the bot's own words, append-only:
-- a translation of one catalog message (kind 'text', msgid, the forms as a JSON list) or a voice
-- note reading one survivor screen (kind 'voice', msgid = the screen's name, the voice note's
-- Telegram file_id: no audio is kept on our disk). Translations are not survivor data.
--
-- actor is a translator's or administrator's Telegram id (professionals, like officers and
-- editors), kept to stop anyone approving their own work; role ('translator' or
-- 'administrator') is what `python -m bot locales export` credits, never the id.
CREATE TABLE translation_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    INTEGER NOT NULL,
    role     TEXT    NOT NULL CHECK (role IN ('translator', 'administrator')),
    action   TEXT    NOT NULL CHECK (action IN ('propose', 'approve', 'reject')),
    language TEXT    NOT NULL,
    kind     TEXT    NOT NULL CHECK (kind IN ('text', 'voice')),
    msgid    TEXT    NOT NULL,
    content  TEXT,
    duration INTEGER,
    proposal INTEGER REFERENCES translation_log (id)
);
-- One decision per proposal: a second reviewer's tap finds it decided.
CREATE UNIQUE INDEX translation_log_decision ON translation_log (proposal)
    WHERE proposal IS NOT NULL;

CREATE TRIGGER translation_log_no_update BEFORE UPDATE ON translation_log
BEGIN
    SELECT RAISE(ABORT, 'translation_log is append-only');
END;
CREATE TRIGGER translation_log_no_delete BEFORE DELETE ON translation_log
BEGIN
    SELECT RAISE(ABORT, 'translation_log is append-only');
END;
