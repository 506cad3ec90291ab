-- page: overview
-- title: 总览
--
-- The leaders' first page: coverage, problems and their rectification, and
-- what the cross-matching found. Filters: ${town} (9-digit town prefix),
-- ${term} (届次), ${from}/${to} (problems' found_date); each is NULL when unset.
-- 整改率 counts a problem as rectified when its status is 已整改 or 已销号.

-- panel: kpis
-- title: 关键指标
-- view: tiles
-- 已巡察村社区: villages (社区) inspected in the term; 村社区覆盖率 = 已巡察村社区 / 村社区总数;
-- 已巡察单位: inspected targets that are not villages; 发现问题 … 建章立制 over 巡察 problems
-- found in the date range; 比对发现: the latest rules run's findings.
SELECT
  (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code
    WHERE (${term} IS NULL OR i.round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
      AND (${town} IS NULL OR starts_with(i.target_code, ${town}))) AS 已巡察村社区,
  (SELECT count(*) FROM villages WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS 村社区总数,
  round(100.0 * (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code
                  WHERE (${term} IS NULL OR i.round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
                    AND (${town} IS NULL OR starts_with(i.target_code, ${town})))
        / nullif((SELECT count(*) FROM villages WHERE ${town} IS NULL OR starts_with(village_code, ${town})), 0), 1) AS 村社区覆盖率百分比,
  (SELECT count(DISTINCT target_code) FROM inspections
    WHERE target_type NOT IN ('村', '社区') AND (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))) AS 已巡察单位,
  count(*) AS 发现问题,
  sum(CASE WHEN clue_transferred THEN 1 ELSE 0 END) AS 移交线索,
  round(100.0 * sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) / nullif(count(*), 0), 1) AS 整改率百分比,
  sum(CASE WHEN immediate THEN 1 ELSE 0 END) AS 立行立改,
  sum(funds_involved) AS 涉及金额元,
  sum(funds_recovered) AS 挽回追回金额元,
  sum(systems_established) AS 建章立制,
  (SELECT count(*) FROM latest_findings WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS 比对发现,
  (SELECT sum(amount) FROM latest_findings WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS 比对涉及金额元
FROM problems
WHERE (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
  AND (${town} IS NULL OR starts_with(target_code, ${town}))
  AND (${from} IS NULL OR found_date >= ${from})
  AND (${to} IS NULL OR found_date <= ${to});

-- panel: findings_by_rule
-- title: 比对发现(按规则)
-- view: bars 规则 条数 条
SELECT r.title AS 规则, count(*) AS 条数, sum(f.amount) AS 涉及金额元
FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id
WHERE ${town} IS NULL OR starts_with(f.village_code, ${town})
GROUP BY r.title
ORDER BY 条数 DESC, 规则;

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

-- panel: findings_by_month
-- title: 比对发现(按所属期)
-- view: lines 月份 条数
SELECT period AS 月份, count(*) AS 条数
FROM latest_findings
WHERE period IS NOT NULL AND (${town} IS NULL OR starts_with(village_code, ${town}))
GROUP BY period
ORDER BY period;

-- panel: case_funnel
-- title: 线索处置漏斗
-- view: bars 阶段 线索 条
-- links: cases
-- A case counts at every step it has passed (the `case_stages` view: the one definition of the
-- funnel). Money: 追缴 (recovered) and 补发 (back-paid) of the cases at that step. ${town}: the
-- cases' villages. Live cases only: 已撤销 (withdrawn by the data) is not counted.
WITH c AS (SELECT * FROM cases WHERE ${town} IS NULL OR starts_with(village_code, ${town})),
steps AS (
  SELECT s.step AS k, s.stage AS 阶段, count(c.case_id) AS 线索, sum(c.recovered) AS 追缴金额元, sum(c.back_paid) AS 补发金额元
  FROM funnel_stages s
  LEFT JOIN case_stages cs ON cs.step = s.step
  LEFT JOIN c ON c.case_id = cs.case_id
  GROUP BY s.step, s.stage)
SELECT 阶段, 线索, coalesce(追缴金额元, 0) AS 追缴金额元, coalesce(补发金额元, 0) AS 补发金额元,
       'stage=' || 阶段 || CASE WHEN ${town} IS NULL THEN '' ELSE '&town=' || ${town} || '000' END AS 筛选
FROM steps ORDER BY k;

-- panel: case_overdue
-- title: 逾期(红牌)与临期(黄牌),按承办单位
-- view: cards
-- links: cases
-- 逾期: past the 核查时限 or 整改时限 while 已交办 or 整改中; 临期: due within [cases] due_soon_days
-- days; 最长逾期天数 the longest a case of the unit is late.
SELECT coalesce(d.name, c.unit_code) AS 承办单位, c.unit_code AS 单位代码,
       sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) AS 逾期,
       sum(CASE WHEN c.deadline = '临期' THEN 1 ELSE 0 END) AS 临期,
       coalesce(max(c.days_overdue), 0) AS 最长逾期天数,
       'unit=' || c.unit_code || '&deadline=' || CASE WHEN sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) > 0 THEN '逾期' ELSE '临期' END AS 筛选
FROM cases c LEFT JOIN divisions d ON d.code = c.unit_code
WHERE c.deadline IS NOT NULL AND (${town} IS NULL OR starts_with(c.village_code, ${town}))
GROUP BY c.unit_code, d.name
ORDER BY 逾期 DESC, 最长逾期天数 DESC, 临期 DESC, 单位代码;

-- panel: case_flagged
-- title: 整改不实与反弹(数据比对发现问题仍在)
-- view: table
-- links: case
-- Cases marked rectified or closed whose subject the rules still find in later periods.
SELECT c.case_id AS 线索编号, c.flag AS 数据核验, r.title AS 规则, v.town_name || v.village_name AS 村社区,
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
