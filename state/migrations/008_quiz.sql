-- Officers' knowledge checks (content/quiz, bot/quiz.py).
--
-- An officer's own record: whether questions are paused, how many baseline questions are left,
-- the question on screen (its answer counts once), when the next weekly question goes, and one
-- card per question answered (a Leitner box and when it is due again). Nobody else sees it, and
-- it goes when the officer's access is revoked (trigger below; the cards by cascade).
CREATE TABLE quiz_officers (
    user_id       INTEGER PRIMARY KEY REFERENCES officers (user_id),
    paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    baseline_left INTEGER NOT NULL,
    asked         TEXT,
    next_at       INTEGER NOT NULL
);
CREATE INDEX quiz_officers_next_at ON quiz_officers (next_at) WHERE paused = 0;

CREATE TABLE quiz_cards (
    user_id     INTEGER NOT NULL REFERENCES quiz_officers (user_id) ON DELETE CASCADE,
    question_id TEXT    NOT NULL,
    box         INTEGER NOT NULL CHECK (box BETWEEN 1 AND 5),
    due_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, question_id)
);

-- Officers who joined before the knowledge checks: their baseline's first question goes next
-- Monday (today if it is Monday) at 09:00 Bamako time (UTC), or at once if that has passed.
INSERT INTO quiz_officers (user_id, baseline_left, next_at)
SELECT user_id, 5, CAST(strftime('%s', 'now', 'weekday 1', 'start of day', '+9 hours') AS INTEGER)
FROM officers WHERE revoked_at IS NULL;

CREATE TRIGGER quiz_forget_revoked AFTER UPDATE OF revoked_at ON officers
WHEN NEW.revoked_at IS NOT NULL
BEGIN
    DELETE FROM quiz_officers WHERE user_id = NEW.user_id;
END;

-- What leaves the officers' records: answers counted by month, role, question and phase
-- (baseline on joining, or later), with no officer id and no time finer than the month. For the
-- anonymous indicators of issue 14.
CREATE TABLE knowledge_months (
    month       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    question_id TEXT    NOT NULL,
    is_vslc     INTEGER NOT NULL CHECK (is_vslc IN (0, 1)),
    phase       TEXT    NOT NULL CHECK (phase IN ('baseline', 'later')),
    right_count INTEGER NOT NULL DEFAULT 0,
    wrong_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, role, question_id, phase)
);
