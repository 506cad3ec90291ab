-- report: common_issues
-- title: 共性问题专题报告
--
-- A category (topic) is common when it is found — through 巡察 problems, or
-- through findings of the rules mapped to it — in at least
-- max(common_min_towns, common_town_share × towns in scope) towns
-- (xuncha.toml [report]). Parameters: ${as_of} (problems found up to that
-- day), ${sector} and ${topic} (NULL for all), ${case_topic} (one topic, for
-- its typical cases and rules). Problems count toward the town of the
-- village they concern; unit-level problems (codes ending 000) do not.

-- query: as_of
-- (the latest successful run's reference date, the report's default)
-- row: as_of
SELECT CAST(max(as_of) AS VARCHAR) AS as_of FROM runs WHERE status = 'ok';

-- query: towns_total
-- row: towns:int
SELECT count(DISTINCT town_code) AS towns FROM villages;

-- cte: report_problems
SELECT * FROM problems p
WHERE p.found_date <= ${as_of} AND length(p.target_code) = 12 AND substr(p.target_code, 10, 3) <> '000'
  AND (${sector} IS NULL OR p.sector = ${sector})
  AND (${topic} IS NULL OR p.topic = ${topic});

-- cte: report_findings
-- (the latest findings of the rules in the report's sector and topic, with the rule's topic and title)
SELECT f.*, r.topic, r.title FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id
WHERE (${sector} IS NULL OR r.sector = ${sector})
  AND (${topic} IS NULL OR r.topic = ${topic});

-- cte: hits
-- One row per problem and per finding: its town, topic, and what it adds up to.
-- 整改: 已整改 or 已销号. Overdue: past its deadline and still 未整改/整改中 on ${as_of},
-- or rectified after the deadline.
SELECT substr(target_code, 1, 9) || '000' AS town_code, topic, 1 AS problem, 0 AS finding,
       coalesce(funds_involved, 0) AS involved, coalesce(funds_recovered, 0) AS recovered,
       CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END AS done,
       CASE WHEN (deadline < ${as_of} AND status IN ('未整改', '整改中')) OR rectified_date > deadline THEN 1 ELSE 0 END AS overdue
FROM report_problems
UNION ALL
SELECT town_code, topic, 0, 1, coalesce(amount, 0), 0, 0, 0 FROM report_findings WHERE town_code IS NOT NULL;

-- query: per_topic
-- Each topic's towns, counts, money (involved: problems' funds plus findings' amounts; exact
-- decimals), rate and overdue.
-- row: topic problems:int findings:int involved:decimal recovered:decimal rate overdue:int town_names
SELECT h.topic, count(DISTINCT h.town_code) AS towns, sum(h.problem) AS problems, sum(h.finding) AS findings,
       sum(h.involved) AS involved, sum(h.recovered) AS recovered,
       CASE WHEN sum(h.problem) > 0 THEN round(100.0 * sum(h.done) / sum(h.problem), 1) END AS rate,
       sum(h.overdue) AS overdue,
       array_to_string(array_sort(array_agg(DISTINCT coalesce(t.town_name, h.town_code))), '、') AS town_names
FROM hits h LEFT JOIN towns t ON t.town_code = h.town_code
GROUP BY h.topic
ORDER BY towns DESC, problems + findings DESC, h.topic;

-- query: heat
-- Town × topic: problems plus findings.
SELECT coalesce(t.town_name, h.town_code) AS 乡镇, h.topic AS 问题类别, sum(h.problem + h.finding) AS 数量
FROM hits h LEFT JOIN towns t ON t.town_code = h.town_code
GROUP BY 1, 2
ORDER BY 1, 2;

-- query: trend
-- Problems per round (term 第n轮) and topic; the report keeps the common topics.
SELECT i.round_label AS 轮次, p.topic AS 问题类别, count(*) AS 问题数
FROM report_problems p JOIN rounds i ON i.round_id = p.round_id
GROUP BY i.term, i.round_no, i.round_label, p.topic
ORDER BY i.term, i.round_no, p.topic;

-- query: topic_rules
-- The titles of the rules of ${case_topic} that found something.
-- row: title
SELECT DISTINCT title FROM report_findings WHERE topic = ${case_topic} ORDER BY 1;

-- query: typical_problems
-- ${case_topic}'s two largest problems (by funds involved).
-- row: place description yuan:decimal status
SELECT coalesce(v.town_name || v.village_name, p.target_code) AS place, p.description, coalesce(p.funds_involved, 0) AS yuan, p.status
FROM report_problems p LEFT JOIN villages v ON v.village_code = p.target_code
WHERE p.topic = ${case_topic}
ORDER BY p.funds_involved DESC NULLS LAST, p.problem_id
LIMIT 2;

-- query: typical_findings
-- ${case_topic}'s largest finding.
-- row: place title person_name yuan:decimal period
SELECT coalesce(v.town_name || v.village_name, f.village_code) AS place, f.title, f.person_name, coalesce(f.amount, 0) AS yuan, f.period
FROM report_findings f LEFT JOIN villages v ON v.village_code = f.village_code
WHERE f.topic = ${case_topic}
ORDER BY f.amount DESC NULLS LAST, f.entity_key
LIMIT 1;
