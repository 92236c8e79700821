-- Placeholder on branch issue-14 only: migration 008 belongs to issue 13, and migrations must be
-- numbered without gaps. Delete this file when merging (issue 13's 008 takes its place).
SELECT 1;
