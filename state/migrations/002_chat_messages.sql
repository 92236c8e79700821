-- Ids of the messages in a person's chat (theirs and the bot's), so the quick exit can delete
-- them. Telegram lets a bot delete messages for 48 hours; older ids are purged. No content.
CREATE TABLE chat_messages (
    person_key TEXT    NOT NULL REFERENCES people (person_key) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (person_key, message_id)
);
CREATE INDEX chat_messages_sent_at ON chat_messages (sent_at);
