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
-- view: bars 问题类别 整改率百分比 %
SELECT topic AS 问题类别, count(*) AS 问题数,
       sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) AS 已整改,
       round(100.0 * sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) / count(*), 1) AS 整改率百分比
FROM problems
WHERE (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(target_code, ${town}))
  AND (${from} IS NULL OR found_date >= ${from})
  AND (${to} IS NULL OR found_date <= ${to})
GROUP BY topic
ORDER BY 整改率百分比, 问题数 DESC, 问题类别;

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

-- panel: problems_by_round
-- title: 问题与整改趋势(按轮次)
-- view: lines 轮次 问题数 已整改
SELECT i.round_label AS 轮次, count(*) AS 问题数,
       sum(CASE WHEN p.status IN ('已整改', '已销号') THEN 1 ELSE 0 END) AS 已整改,
       sum(p.funds_recovered) AS 挽回追回金额元
FROM problems p JOIN rounds i ON i.round_id = p.round_id
WHERE (${term} IS NULL OR p.round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(p.target_code, ${town}))
  AND (${from} IS NULL OR p.found_date >= ${from})
  AND (${to} IS NULL OR p.found_date <= ${to})
GROUP BY i.term, i.round_no, i.round_label
ORDER BY i.term, i.round_no;

-- panel: case_flagged
-- title: 整改不实与反弹(数据比对发现问题仍在)
-- view: table
-- links: case
-- Cases marked rectified or closed whose subject the rules still find in later periods.
SELECT c.case_id, c.case_no AS 线索编号, c.flag AS 数据核验, r.title AS 规则, v.town_name || v.village_name AS 村社区,
       c.state AS 状态, coalesce(d.name, c.unit_code) AS 承办单位, c.last_period AS 最近所属期, c.amount AS 涉及金额元
FROM cases c
LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
LEFT JOIN villages v ON v.village_code = c.village_code
LEFT JOIN divisions d ON d.code = c.unit_code
WHERE c.flag IN ('整改不实', '反弹') AND (${town} IS NULL OR starts_with(c.village_code, ${town}))
ORDER BY CASE c.flag WHEN '反弹' THEN 0 ELSE 1 END, c.last_period DESC, c.case_id
LIMIT 200;

-- panel: case_scorecard_unit
-- title: 承办单位考核
-- view: table
-- links: cases
-- Per unit of the cases handed to it: 按期答复 = verdicts given on or before the 核查时限 of the
-- hand-over; 属实率 = (属实 + 部分属实) ÷ verdicts; 整改完成率 = (已整改 + 已销号) ÷ (属实 + 部分属实);
-- 反弹 = cases the data found back after closing.
WITH answered AS (
  SELECT case_id, max(due) FILTER (WHERE action = '交办') AS verify_due,
         min(CAST(at AS DATE)) FILTER (WHERE action = '核查') AS answered_on,
         max(CASE WHEN flag = '反弹' THEN 1 ELSE 0 END) AS rebounded
  FROM case_events GROUP BY case_id)
SELECT coalesce(d.name, c.unit_code) AS 承办单位, count(*) AS 交办,
       sum(CASE WHEN a.answered_on <= a.verify_due THEN 1 ELSE 0 END) AS 按期答复,
       sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) AS 逾期,
       round(100.0 * sum(CASE WHEN c.verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN c.verdict IS NOT NULL THEN 1 ELSE 0 END), 0), 1) AS 属实率百分比,
       round(100.0 * sum(CASE WHEN c.state IN ('已整改', '已销号') THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN c.verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END), 0), 1) AS 整改完成率百分比,
       sum(a.rebounded) AS 反弹,
       coalesce(sum(c.recovered), 0) AS 追缴金额元,
       'unit=' || c.unit_code AS 筛选
FROM cases c JOIN answered a ON a.case_id = c.case_id
LEFT JOIN divisions d ON d.code = c.unit_code
WHERE c.unit_code IS NOT NULL AND (${town} IS NULL OR starts_with(c.village_code, ${town}))
GROUP BY c.unit_code, d.name
ORDER BY 逾期 DESC, 交办 DESC, 承办单位;

-- panel: case_scorecard_town
-- title: 各乡镇线索处置
-- view: table
-- links: cases
-- Per town of the cases' villages: found, handed over, verified, 属实率, 整改完成率, 反弹, money.
SELECT v.town_name AS 乡镇, count(*) AS 线索,
       sum(CASE WHEN c.state <> '待交办' THEN 1 ELSE 0 END) AS 已交办,
       sum(CASE WHEN c.verdict IS NOT NULL THEN 1 ELSE 0 END) AS 已核查,
       round(100.0 * sum(CASE WHEN c.verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN c.verdict IS NOT NULL THEN 1 ELSE 0 END), 0), 1) AS 属实率百分比,
       round(100.0 * sum(CASE WHEN c.state IN ('已整改', '已销号') THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN c.verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END), 0), 1) AS 整改完成率百分比,
       sum(CASE WHEN c.flag = '反弹' THEN 1 ELSE 0 END) AS 反弹,
       sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) AS 逾期,
       coalesce(sum(c.recovered), 0) AS 追缴金额元, coalesce(sum(c.back_paid), 0) AS 补发金额元,
       'town=' || v.town_code AS 筛选
FROM cases c JOIN villages v ON v.village_code = c.village_code
WHERE c.state <> '已撤销' AND (${town} IS NULL OR starts_with(c.village_code, ${town}))
GROUP BY v.town_code, v.town_name
ORDER BY 线索 DESC, 乡镇;

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
