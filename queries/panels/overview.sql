-- page: overview
-- title: 总览
--
-- The leaders' cockpit, one screen: key figures with their change on the
-- month before, the case funnel, the risk map, each unit's red, yellow or
-- green card, and what the cross-matching found by rule. The detail behind
-- each is on its own page (整改, 比对发现, 风险). Filters: ${town} (9-digit
-- town prefix), ${term} (届次), ${from}/${to} (problems' found_date); each
-- is NULL when unset. 整改率 counts a problem as rectified when its status
-- is 已整改 or 已销号.

-- panel: kpis
-- title: 关键指标
-- view: tiles
-- 比对发现 and its money: the latest rules run; 线索 … 补发: live cases (not 已撤销) of the town,
-- each with its value a month ago (`…上月`, from the events made before then); 村社区覆盖率:
-- villages inspected in the term ÷ all; 整改率 over 巡察 problems found in the date range.
WITH live AS (SELECT * FROM cases WHERE state <> '已撤销' AND (${town} IS NULL OR starts_with(village_code, ${town}))),
ev AS (SELECT * FROM case_events WHERE ${town} IS NULL OR starts_with(village_code, ${town})),
before AS (SELECT * FROM ev WHERE at < now() - INTERVAL '1 month'),
problem AS (
  SELECT count(*) AS n, sum(CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END) AS rectified
  FROM problems
  WHERE (${term} IS NULL OR round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
    AND (${town} IS NULL OR starts_with(target_code, ${town}))
    AND (${from} IS NULL OR found_date >= ${from})
    AND (${to} IS NULL OR found_date <= ${to})),
coverage AS (
  SELECT (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code
           WHERE (${term} IS NULL OR i.round_id IN (SELECT round_id FROM rounds WHERE term = ${term}))
             AND (${town} IS NULL OR starts_with(i.target_code, ${town}))) AS inspected,
         (SELECT count(*) FROM villages WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS villages)
SELECT
  (SELECT count(*) FROM latest_findings WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS 比对发现,
  (SELECT sum(amount) FROM latest_findings WHERE ${town} IS NULL OR starts_with(village_code, ${town})) AS 比对涉及金额元,
  (SELECT count(*) FROM live) AS 线索,
  (SELECT count(DISTINCT case_id) FROM before WHERE action = '发现') AS 线索上月,
  (SELECT count(*) FROM live WHERE state <> '待交办') AS 已交办,
  (SELECT count(DISTINCT case_id) FROM before WHERE action = '交办') AS 已交办上月,
  (SELECT count(*) FROM live WHERE deadline = '逾期') AS 逾期,
  (SELECT count(*) FROM live WHERE verdict IN ('属实', '部分属实')) AS 属实,
  (SELECT count(DISTINCT case_id) FROM before WHERE action = '核查' AND verdict IN ('属实', '部分属实')) AS 属实上月,
  (SELECT coalesce(sum(recovered), 0) FROM ev) AS 追缴金额元,
  (SELECT coalesce(sum(recovered), 0) FROM before) AS 追缴金额元上月,
  (SELECT coalesce(sum(back_paid), 0) FROM ev) AS 补发金额元,
  (SELECT coalesce(sum(back_paid), 0) FROM before) AS 补发金额元上月,
  (SELECT round(100.0 * inspected / nullif(villages, 0), 1) FROM coverage) AS 村社区覆盖率百分比,
  (SELECT round(100.0 * rectified / nullif(n, 0), 1) FROM problem) AS 整改率百分比;

-- panel: case_funnel
-- title: 线索处置漏斗
-- view: funnel 阶段 线索
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

-- panel: risk_map
-- title: 村(社区)风险分布
-- view: map 乡镇 村 风险等级
-- links: village
-- Every village of the town (or county) under its town, coloured by the latest run's risk tier
-- (无评分 before the first run); a square opens the village's 村情档案.
SELECT v.village_code AS 村代码, v.town_name AS 乡镇, v.village_name AS 村, coalesce(s.tier, '无评分') AS 风险等级
FROM villages v LEFT JOIN latest_risk_scores s ON s.village_code = v.village_code
WHERE ${town} IS NULL OR starts_with(v.village_code, ${town})
ORDER BY v.town_code, v.village_code;

-- panel: case_overdue
-- title: 承办单位红黄绿牌
-- view: cards
-- links: cases
-- 逾期: past the 核查时限 or 整改时限 while 已交办 or 整改中; 临期: due within [cases] due_soon_days
-- days; 最长逾期天数 the longest a case of the unit is late.
SELECT coalesce(d.name, c.unit_code) AS 承办单位,
       sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) AS 逾期,
       sum(CASE WHEN c.deadline = '临期' THEN 1 ELSE 0 END) AS 临期,
       coalesce(max(c.days_overdue), 0) AS 最长逾期天数,
       'unit=' || c.unit_code || CASE WHEN sum(CASE WHEN c.deadline = '逾期' THEN 1 ELSE 0 END) > 0 THEN '&deadline=逾期'
            WHEN sum(CASE WHEN c.deadline = '临期' THEN 1 ELSE 0 END) > 0 THEN '&deadline=临期' ELSE '' END AS 筛选
FROM cases c LEFT JOIN divisions d ON d.code = c.unit_code
WHERE c.unit_code IS NOT NULL AND c.state <> '已撤销' AND (${town} IS NULL OR starts_with(c.village_code, ${town}))
GROUP BY c.unit_code, d.name
ORDER BY 逾期 DESC, 最长逾期天数 DESC, 临期 DESC, c.unit_code;

-- panel: findings_by_rule
-- title: 比对发现(按规则)
-- view: bars 规则 条数 条
-- links: page findings
SELECT r.title AS 规则, count(*) AS 条数, sum(f.amount) AS 涉及金额元,
       'rule=' || r.rule_id || CASE WHEN ${town} IS NULL THEN '' ELSE '&town=' || ${town} || '000' END AS 筛选
FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id
WHERE ${town} IS NULL OR starts_with(f.village_code, ${town})
GROUP BY r.title, r.rule_id
ORDER BY 条数 DESC, 规则;
