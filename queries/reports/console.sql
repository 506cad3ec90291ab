-- report: console
-- title: SQL 控制台
-- The statement the SQL console opens with.

-- query: example
SELECT rule_id, count(*) AS n FROM latest_findings GROUP BY rule_id ORDER BY n DESC;
