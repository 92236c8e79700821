-- What editors and administrators did to the directory, append-only: who (their Telegram id:
-- they are professionals, like officers), when, which item, what changed, why, and who approved.
-- Nothing about survivors. Approved changes are applied over the CSV files in content/ at start
-- and as they are approved; `python -m bot content export` writes them back as CSV.
--
-- action: works (checked today, reason 'phone' or 'visit'), broken (reason: no_answer,
-- wrong_number, closed, moved), propose (field, before, after, reason = the source), approve
-- and reject (proposal = the proposal's id).
CREATE TABLE directory_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     INTEGER NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('works', 'broken', 'propose', 'approve', 'reject')),
    item_kind TEXT    NOT NULL CHECK (item_kind IN ('number', 'centre')),
    item_id   TEXT    NOT NULL,
    field     TEXT,
    before    TEXT,
    after     TEXT,
    reason    TEXT,
    proposal  INTEGER REFERENCES directory_log (id)
);
CREATE INDEX directory_log_item ON directory_log (item_kind, item_id);
-- One decision per proposal: a second approver's tap finds it decided.
CREATE UNIQUE INDEX directory_log_decision ON directory_log (proposal) WHERE proposal IS NOT NULL;

CREATE TRIGGER directory_log_no_update BEFORE UPDATE ON directory_log
BEGIN
    SELECT RAISE(ABORT, 'directory_log is append-only');
END;
CREATE TRIGGER directory_log_no_delete BEFORE DELETE ON directory_log
BEGIN
    SELECT RAISE(ABORT, 'directory_log is append-only');
END;
