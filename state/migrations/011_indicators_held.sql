-- Survivor-side indicator cells are now held in memory until they hold 5 counts, the report's
-- threshold (bot/indicators.py, docs/indicators.md): a cell of 1 on disk could tell whoever holds
-- it which region's centre one survivor looked for. Cells written under 5 before are folded as
-- the end of a week folds them: per period and indicator, into one cell whose value is
-- 'withheld', kept if it holds 5 or more; the rest are deleted (secure_delete overwrites them).
CREATE TEMP TABLE survivor_side (indicator TEXT PRIMARY KEY);
INSERT INTO survivor_side VALUES ('start'), ('place_given'), ('first_centre'), ('screen'),
    ('quick_exit'), ('handover_requested'), ('handover_claimed'), ('handover_closed');

INSERT INTO indicator_counts (period, indicator, dims, count)
SELECT period, indicator, substr(dims, 1, instr(dims, '=')) || 'withheld', SUM(count)
FROM indicator_counts
WHERE indicator IN (SELECT indicator FROM survivor_side) AND count < 5 AND dims != ''
GROUP BY period, indicator
HAVING SUM(count) >= 5;

DELETE FROM indicator_counts
WHERE indicator IN (SELECT indicator FROM survivor_side) AND count < 5;
DROP TABLE survivor_side;
