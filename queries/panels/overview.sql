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
