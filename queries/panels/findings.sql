-- page: findings
-- title: 比对发现
--
-- What the latest rules run found, by rule and town, and the list (one
-- rule's when ${rule} is set). Filters: ${town}, ${rule}.

-- panel: by_rule
-- title: 比对发现(按规则)
-- view: bars 规则 条数 条
-- links: page findings
-- (every rule of the catalogue, also those that found nothing; a bar lists the rule's findings)
SELECT r.title AS 规则, r.severity AS 严重程度, count(f.rule_id) AS 条数, sum(f.amount) AS 涉及金额元,
       'rule=' || r.rule_id || CASE WHEN ${town} IS NULL THEN '' ELSE '&town=' || ${town} || '000' END AS 筛选
FROM rule_catalogue r
LEFT JOIN (SELECT * FROM latest_findings WHERE ${town} IS NULL OR starts_with(village_code, ${town})) f ON f.rule_id = r.rule_id
GROUP BY r.title, r.severity, r.rule_id
ORDER BY 条数 DESC, 规则;

-- panel: by_town
-- title: 比对发现(按乡镇)
-- view: bars 乡镇 条数 条
-- links: page findings
-- A finding without a town (a bank account shared across villages, a county-level contract) is
-- counted under 未关联乡镇, never under a blank.
SELECT coalesce(t.town_name, '未关联乡镇') AS 乡镇, count(*) AS 条数, sum(f.amount) AS 涉及金额元,
       CASE WHEN t.town_code IS NULL THEN '' ELSE 'town=' || t.town_code END AS 筛选
FROM latest_findings f LEFT JOIN towns t ON t.town_code = coalesce(f.town_code, substr(f.village_code, 1, 9) || '000')
WHERE ${town} IS NULL OR starts_with(f.village_code, ${town})
GROUP BY t.town_name, t.town_code
ORDER BY 条数 DESC, 乡镇;

-- panel: findings_by_month
-- title: 比对发现(按所属期)
-- view: lines 月份 条数
SELECT period AS 月份, count(*) AS 条数
FROM latest_findings
WHERE period IS NOT NULL AND (${town} IS NULL OR starts_with(village_code, ${town}))
GROUP BY period
ORDER BY period;


-- panel: list
-- title: 比对发现清单(最多 500 条)
-- view: table
-- links: findings
-- unless: rule
-- (the largest amounts first)
SELECT f.run_id, f.rule_id, f.entity_key, r.title AS 规则, v.village_name AS 村, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元
FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id LEFT JOIN villages v ON v.village_code = f.village_code
WHERE ${town} IS NULL OR starts_with(f.village_code, ${town})
ORDER BY f.amount DESC NULLS LAST, f.rule_id, f.entity_key
LIMIT 500;

-- panel: list
-- title: 比对发现清单(最多 500 条)
-- view: table
-- links: findings
-- requires: rule
SELECT f.run_id, f.rule_id, f.entity_key, v.village_name AS 村, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元
FROM latest_findings f LEFT JOIN villages v ON v.village_code = f.village_code
WHERE f.rule_id = ${rule} AND (${town} IS NULL OR starts_with(f.village_code, ${town}))
ORDER BY f.entity_key
LIMIT 500;

-- panel: catalogue
-- title: 规则目录
-- view: table
-- links: page findings
-- (属实率: of this rule's cases that a unit has verified, the share found 属实 or 部分属实 —
-- which rules to trust, which thresholds to revisit; the thresholds themselves are for
-- analysts: `xuncha rules --show`; a row lists the rule's findings)
SELECT r.title AS 规则, r.severity AS 严重程度, r.sector AS 行业领域, r.topic AS 问题类别, r.description AS 含义,
       coalesce(v.verified, 0) AS 已核查线索,
       round(100.0 * v.confirmed / nullif(v.verified, 0), 1) AS 属实率百分比,
       'rule=' || r.rule_id AS 筛选
FROM rule_catalogue r
LEFT JOIN (SELECT rule_id, count(*) AS verified, sum(CASE WHEN verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END) AS confirmed
           FROM cases WHERE verdict IS NOT NULL GROUP BY rule_id) v ON v.rule_id = r.rule_id
ORDER BY r.rule_id;
