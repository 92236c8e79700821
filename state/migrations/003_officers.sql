-- Officers (police, gendarmerie, justice) given access by an administrator. They are
-- professionals, not survivors: their Telegram id is kept as is, with their role and who
-- invited them when. Revoking keeps the row (who revoked, when) so the history stays readable.
CREATE TABLE officers (
    user_id    INTEGER PRIMARY KEY,
    role       TEXT    NOT NULL,
    invited_by INTEGER NOT NULL,
    invited_at INTEGER NOT NULL,
    joined_at  INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by INTEGER
);

-- Invitations not yet used: only a keyed hash of the code is kept, never the code. A row is
-- deleted when its code is redeemed (single use) and once it has expired.
CREATE TABLE invitations (
    code_hash  TEXT    PRIMARY KEY,
    role       TEXT    NOT NULL,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX invitations_expires_at ON invitations (expires_at);
