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

-- The knowledge checks' monthly counts (migration 008) become the indicator `knowledge`, by role,
-- topic, phase and result; the question id is not kept (docs/indicators.md).
INSERT INTO indicator_counts (period, indicator, dims, count)
SELECT month, 'knowledge',
       'role=' || role || ';topic=' || (CASE is_vslc WHEN 1 THEN 'vslc' ELSE 'general' END)
       || ';phase=' || phase || ';result=' || result.name,
       SUM(CASE result.name WHEN 'right' THEN right_count ELSE wrong_count END)
FROM knowledge_months, (SELECT 'right' AS name UNION ALL SELECT 'wrong') AS result
WHERE role IN ('police', 'gendarmerie', 'justice')
GROUP BY 1, 3
HAVING SUM(CASE result.name WHEN 'right' THEN right_count ELSE wrong_count END) > 0;
DROP TABLE knowledge_months;
