-- Which private chat a waiting update came from, as a keyed hash: her quick exit drops every
-- update of hers still waiting (after a crash too), not only those in memory. Goes with the row.
ALTER TABLE inbox ADD COLUMN chat_key TEXT;
CREATE INDEX inbox_chat ON inbox (chat_key);
