-- page: rectification
-- title: 问题整改
--
-- Rectification of 巡察 problems by town, by category and by status, and
-- the two rectification rules' latest findings. Filters: ${town}, ${term},
-- ${from}/${to} (problems' found_date). 整改率 = (已整改 + 已销号) / 问题数.

-- panel: by_town
-- title: 各乡镇整改率
-- view: bars 乡镇 整改率百分比 %
SELECT v.town_name AS 乡镇, count(*) AS 问题数,
       sum(CASE WHEN p.status IN ('已整改', '已销号') THEN 1 ELSE 0 END) AS 已整改,
       round(100.0 * sum(CASE WHEN p.status IN ('已整改', '已销号') THEN 1 ELSE 0 END) / count(*), 1) AS 整改率百分比,
       sum(CASE WHEN p.status = '已销号' THEN 1 ELSE 0 END) AS 已销号
FROM problems p JOIN villages v ON v.village_code = p.target_code
WHERE (${term} IS NULL OR p.round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(p.target_code, ${town}))
  AND (${from} IS NULL OR p.found_date >= ${from})
  AND (${to} IS NULL OR p.found_date <= ${to})
GROUP BY v.town_name
ORDER BY 整改率百分比, 乡镇;

-- panel: by_topic
-- title: 各类问题整改率
-- view: bars 问题类别 问题数 个
SELECT topic AS 问题类别, count(*) AS 问题数,
       sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) AS 已整改,
       round(100.0 * sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) / count(*), 1) AS 整改率百分比
FROM problems
WHERE (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(target_code, ${town}))
  AND (${from} IS NULL OR found_date >= ${from})
  AND (${to} IS NULL OR found_date <= ${to})
GROUP BY topic
ORDER BY 问题数 DESC, 问题类别;

-- panel: status
-- title: 销号进度
-- view: bars 整改状态 问题数 个
-- (every problem of the term and town, whenever found)
SELECT status AS 整改状态, count(*) AS 问题数
FROM problems
WHERE (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(target_code, ${town}))
GROUP BY status
ORDER BY 问题数 DESC, 整改状态;

-- cte: rule_findings
-- (the latest findings with their village, for the two lists below)
SELECT f.run_id, f.rule_id, f.entity_key, v.village_name AS 村, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元
FROM latest_findings f LEFT JOIN villages v ON v.village_code = f.village_code
WHERE ${town} IS NULL OR starts_with(f.village_code, ${town});

-- panel: overdue
-- title: 整改逾期清单
-- view: table
-- links: findings
SELECT * FROM rule_findings WHERE rule_id = 'rectification_overdue' ORDER BY entity_key LIMIT 500;

-- panel: rebound
-- title: 整改后反弹
-- view: table
-- links: findings
SELECT * FROM rule_findings WHERE rule_id = 'rectification_rebound' ORDER BY entity_key LIMIT 500;
