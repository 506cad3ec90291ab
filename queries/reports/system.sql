-- report: system
-- title: 系统
--
-- What the command line reads of the lake for itself.

-- query: last_job_runs
-- Each scheduled job's last finished run, so the scheduler catches up after a restart.
-- row: job at
SELECT substr(kind, 5) AS job, CAST(max(finished_at) AS VARCHAR) AS at
FROM runs WHERE kind LIKE 'job:%' GROUP BY kind;

-- query: first_town
-- The first town of the lake: the demo's town accounts are scoped to it.
-- row: town
SELECT min(town_code) AS town FROM villages;
