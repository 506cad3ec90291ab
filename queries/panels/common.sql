-- page: common
-- title: 共性问题
--
-- Where each problem category was found: 巡察 problems (by the town of the
-- village they concern) and findings of the rules mapped to the category.
-- Filters: ${town}, ${term}, ${from}/${to} (problems' found_date). The
-- thematic report (queries/reports/common_issues.sql) applies the threshold
-- of towns that makes a category common.

-- cte: topic_towns
-- (town_code, topic, problems, findings): one row per town and category
SELECT substr(target_code, 1, 9) || '000' AS town_code, topic, count(*) AS problems, 0 AS findings
FROM problems
WHERE length(target_code) = 12 AND substr(target_code, 10, 3) <> '000'
  AND (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(target_code, ${town}))
  AND (${from} IS NULL OR found_date >= ${from})
  AND (${to} IS NULL OR found_date <= ${to})
GROUP BY 1, 2
UNION ALL
SELECT f.town_code, r.topic, 0, count(*)
FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id
WHERE f.town_code IS NOT NULL AND (${town} IS NULL OR starts_with(f.village_code, ${town}))
GROUP BY 1, 2;

-- panel: topics
-- title: 共性问题(问题或比对发现涉及的乡镇数)
-- view: bars 问题类别 涉及乡镇 个
SELECT topic AS 问题类别, count(DISTINCT town_code) AS 涉及乡镇, sum(problems) AS 问题数, sum(findings) AS 比对发现
FROM topic_towns
GROUP BY topic
ORDER BY 涉及乡镇 DESC, 问题数 DESC, 问题类别;

-- panel: heat
-- title: 乡镇 × 问题类别(问题数 + 比对发现数)
-- view: heat 乡镇 问题类别 数量
SELECT coalesce(t.town_name, h.town_code) AS 乡镇, h.topic AS 问题类别, sum(h.problems + h.findings) AS 数量
FROM topic_towns h LEFT JOIN towns t ON t.town_code = h.town_code
GROUP BY 1, 2
ORDER BY 1, 2;
