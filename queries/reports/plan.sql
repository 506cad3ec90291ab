-- report: plan
-- title: 巡察计划
--
-- What `xuncha plan` reads: the latest term, a term's coverage so far, and its
-- villages not yet inspected, riskiest first. ${term}: the term planned.

-- query: latest_term
-- The latest term with inspections.
-- row: term
SELECT term FROM inspections ORDER BY start_date DESC, round_no DESC LIMIT 1;

-- query: coverage
-- The villages, those ${term} inspected, and its rounds so far.
-- row: villages:int inspected:int rounds:int
SELECT (SELECT count(*) FROM villages) AS villages,
       (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code WHERE i.term = ${term}) AS inspected,
       (SELECT count(DISTINCT round_no) FROM inspections WHERE term = ${term}) AS rounds;

-- query: villages_left
-- The villages ${term} has not inspected, riskiest first (unscored last).
-- row: village_code village_name town_name score=score_text tier
SELECT v.village_code, coalesce(v.village_name, v.village_code) AS village_name, coalesce(v.town_name, v.town_code) AS town_name,
       CAST(s.score AS VARCHAR) AS score_text, coalesce(s.tier, '未评分') AS tier
FROM villages v
LEFT JOIN latest_risk_scores s ON s.village_code = v.village_code
WHERE v.village_code NOT IN (SELECT target_code FROM inspections WHERE term = ${term})
ORDER BY s.score DESC NULLS LAST, v.village_code;
