-- Anonymous indicators (bot/indicators.py): how many times something happened in a period, by a
-- few values from closed lists. No person, chat, case, message, day, town or place: the period is
-- an ISO week ('2026-W49'), or a month ('2026-12') for officers' knowledge checks.
CREATE TABLE indicator_counts (
    period TEXT NOT NULL,
    indicator TEXT NOT NULL,
    dims TEXT NOT NULL,  -- 'name=value' pairs in the indicator's order, joined by ';'
    count INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (period, indicator, dims)
) WITHOUT ROWID;
