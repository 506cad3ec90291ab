-- report: cases
-- title: 线索处置
--
-- The cases (线索) as their events leave them (the `cases` view), one case's
-- findings and history, the work queue (filtered by a step of the funnel, the
-- `case_stages` view), and per rule 属实率 = (属实 + 部分属实) ÷ cases verified
-- (a verdict given), with the money recovered (追缴) and back-paid (补发).

-- query: list
-- Filters: ${state}, ${rule}, ${unit} (NULL for all); ${overdue} (true: only 逾期 or 临期).
SELECT c.case_id AS 线索编号, r.title AS 规则, c.state AS 状态, c.flag AS 数据核验,
       c.deadline AS 时限状态, c.unit_code AS 承办单位, c.due AS 时限, c.findings AS 发现条数, c.amount AS 涉及金额元,
       c.last_period AS 最近所属期, c.recovered AS 追缴金额元, c.back_paid AS 补发金额元
FROM cases c LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
WHERE (${state} IS NULL OR c.state = ${state})
  AND (c.state <> '已撤销' OR ${state} = '已撤销')
  AND (${rule} IS NULL OR c.rule_id = ${rule})
  AND (${unit} IS NULL OR c.unit_code = ${unit})
  AND (NOT ${overdue} OR c.deadline IS NOT NULL)
ORDER BY c.case_id;

-- query: current
-- The case engine's view of cases: all of them (${all}) or those listed in ${ids}.
-- row: case_id rule_id subject village_code state flag events:int changed_by changed_at unit_code
SELECT case_id, rule_id, subject, coalesce(village_code, '') AS village_code, state, coalesce(flag, '') AS flag, events,
       changed_by, CAST(changed_at AS VARCHAR) AS changed_at, coalesce(unit_code, '') AS unit_code
FROM cases WHERE ${all} OR array_has(${ids}, case_id);

-- query: milestones
-- When each case of the rules ${rules} was handed over, answered (found true by its unit),
-- rectified and closed (the data month), and in how many payment periods its findings fall.
-- row: case_id handed answered rectified closed periods:int
WITH held AS (SELECT case_id, count(DISTINCT period) AS periods FROM case_findings GROUP BY case_id)
SELECT e.case_id, coalesce(max(e.data_month) FILTER (WHERE e.action = '交办'), '') AS handed,
       coalesce(max(e.data_month) FILTER (WHERE e.action = '核查' AND e.verdict IN ('属实', '部分属实')), '') AS answered,
       coalesce(max(e.data_month) FILTER (WHERE e.action IN ('整改', '整改完成')), '') AS rectified,
       coalesce(max(e.data_month) FILTER (WHERE e.action = '销号'), '') AS closed,
       coalesce(max(h.periods), 0) AS periods
FROM case_events e LEFT JOIN held h ON h.case_id = e.case_id
WHERE array_has(${rules}, e.rule_id) GROUP BY e.case_id;

-- query: numbered
-- How many case numbers starting with ${prefix} (a prefix and a year: `巡线〔2026〕`) exist.
-- row: numbers:int
SELECT count(*) AS numbers FROM case_events WHERE starts_with(case_no, ${prefix});

-- query: case
-- One case, ${case_id}.
SELECT c.case_no AS 编号, c.case_id AS 线索编号, r.title AS 规则, c.subject AS 对象, c.village_code AS 村代码, c.state AS 状态, c.flag AS 数据核验,
       c.unit_code AS 承办单位, c.due AS 时限, c.deadline AS 时限状态, c.verdict AS 核查结论, c.transfer AS 线索移交,
       c.findings AS 发现条数, c.amount AS 涉及金额元, c.first_period AS 最早所属期, c.last_period AS 最近所属期,
       c.recovered AS 追缴金额元, c.back_paid AS 补发金额元, c.people AS 处理人数, c.found_at AS 发现时间, c.events AS 记录数
FROM cases c LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
WHERE c.case_id = ${case_id};

-- query: findings
-- The findings ${case_id} carries, with the run that made each and the table versions it read
-- (reproduce with `xuncha sql --version TABLE=VERSION …`).
SELECT entity_key AS 发现, period AS 所属期, amount AS 金额元, run_id AS 运行, table_versions AS 数据版本
FROM case_findings WHERE case_id = ${case_id}
ORDER BY period, entity_key;

-- query: events
-- ${case_id}'s history, oldest first.
SELECT e.seq AS 序号, CAST(e.at AS VARCHAR) AS 时间, e.data_month AS 数据月份, e.user AS 操作人, e.action AS 操作, e.state AS 状态, e.flag AS 数据核验,
       coalesce(d.name, e.unit_code) AS 承办单位, e.due AS 时限, e.verdict AS 核查结论, e.note AS 说明, e.transfer AS 线索移交,
       e.recovered AS 追缴金额元, e.back_paid AS 补发金额元, e.people AS 处理人数, e.run_id AS 运行
FROM case_events e LEFT JOIN divisions d ON d.code = e.unit_code
WHERE e.case_id = ${case_id}
ORDER BY e.seq;

-- query: stages
-- The funnel's steps in order (the queue's `stage` filter).
-- row: stage=环节
SELECT stage AS 环节 FROM funnel_stages ORDER BY step;

-- query: rules
-- The rules a case may come from (the queue's filter).
-- row: rule_id title
SELECT rule_id, title FROM rule_catalogue ORDER BY rule_id;

-- query: by_state
SELECT state AS 状态, count(*) AS 线索 FROM cases GROUP BY state ORDER BY 线索 DESC, 状态;

-- query: by_rule
-- Per rule: cases, verified, 属实率 (percent of the verified found true, 部分属实 included), money.
SELECT r.title AS 规则, count(*) AS 线索,
       sum(CASE WHEN c.verdict IS NOT NULL THEN 1 ELSE 0 END) AS 已核查,
       round(100.0 * sum(CASE WHEN c.verdict IN ('属实', '部分属实') THEN 1 ELSE 0 END)
             / nullif(sum(CASE WHEN c.verdict IS NOT NULL THEN 1 ELSE 0 END), 0), 1) AS 属实率百分比,
       coalesce(sum(c.recovered), 0) AS 追缴金额元, coalesce(sum(c.back_paid), 0) AS 补发金额元
FROM cases c LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
WHERE c.state <> '已撤销'
GROUP BY r.title
ORDER BY 线索 DESC, 规则;

-- query: handover
-- The 交办单 of unit ${unit}: its cases handed over and awaiting a verdict, in words a
-- township clerk understands, with the full identity (the unit must verify it; the
-- export is audited). Name and ID number come from the findings the case carries.
SELECT c.case_id AS 线索编号, r.title AS 问题类型, r.description AS 问题说明,
       coalesce(v.town_name || v.village_name, c.village_code) AS 村社区,
       p.person_name AS 姓名, p.id_number AS 身份证号,
       CASE WHEN c.first_period = c.last_period THEN c.first_period ELSE c.first_period || '至' || c.last_period END AS 所属期,
       c.amount AS 涉及金额元, c.findings AS 发现条数, c.due AS 核查时限
FROM cases c
LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
LEFT JOIN villages v ON v.village_code = c.village_code
LEFT JOIN (SELECT cf.case_id, min(f.person_name) AS person_name, min(f.id_number) AS id_number
           FROM case_findings cf JOIN findings f ON f.run_id = cf.run_id AND f.rule_id = cf.rule_id AND f.entity_key = cf.entity_key
           GROUP BY cf.case_id) p ON p.case_id = c.case_id
WHERE c.unit_code = ${unit} AND c.state = '已交办'
ORDER BY c.case_id;

-- query: evidence
-- The findings behind one case (${case_id}), a unit's cases (${unit}), or every case
-- (both NULL), with their evidence: what `evidence::describe` turns into words.
SELECT cf.case_id, cf.rule_id, f.entity_key, f.person_name, f.id_number, f.period, f.amount,
       coalesce(v.town_name || v.village_name, cf.village_code) AS village, f.evidence
FROM case_findings cf
JOIN findings f ON f.run_id = cf.run_id AND f.rule_id = cf.rule_id AND f.entity_key = cf.entity_key
LEFT JOIN villages v ON v.village_code = cf.village_code
WHERE (${case_id} IS NULL OR cf.case_id = ${case_id})
  AND (${unit} IS NULL OR cf.case_id IN (SELECT case_id FROM cases WHERE unit_code = ${unit}))
ORDER BY cf.case_id, f.period, f.entity_key;

-- query: queue
-- The work queue: cases filtered by ${state}, ${rule}, ${town} (a 12-digit town code), ${unit},
-- ${deadline} (逾期 or 临期), ${flag} (a data check) and ${stage} (a step of the funnel: 疑点,
-- 交办, 已核查, 属实, 整改完成, 销号, 线索移交, 立案), each NULL for all; late and flagged
-- cases first, then the largest amounts; 500 at most (符合条件: how many match).
-- (case_id: the key the links and check boxes carry; 线索编号 the number people use)
SELECT c.case_id, c.case_no AS 线索编号, r.title AS 规则, v.town_name || v.village_name AS 村社区, c.state AS 状态,
       c.flag AS 数据核验, c.deadline AS 时限状态, coalesce(d.name, c.unit_code) AS 承办单位, c.due AS 时限,
       c.findings AS 发现条数, c.amount AS 涉及金额元, c.last_period AS 最近所属期, count(*) OVER () AS 符合条件
FROM cases c
LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
LEFT JOIN villages v ON v.village_code = c.village_code
LEFT JOIN divisions d ON d.code = c.unit_code
WHERE (${state} IS NULL OR c.state = ${state})
  AND (c.state <> '已撤销' OR ${state} = '已撤销')
  AND (${rule} IS NULL OR c.rule_id = ${rule})
  AND (${town} IS NULL OR starts_with(c.village_code, left(${town}, 9)))
  AND (${unit} IS NULL OR c.unit_code = ${unit})
  AND (${deadline} IS NULL OR c.deadline = ${deadline})
  AND (${flag} IS NULL OR c.flag = ${flag})
  AND (${stage} IS NULL OR c.case_id IN (SELECT case_id FROM case_stages WHERE stage = ${stage}))
ORDER BY CASE c.deadline WHEN '逾期' THEN 0 WHEN '临期' THEN 1 ELSE 2 END,
         CASE WHEN c.flag IN ('反弹', '整改不实') THEN 0 ELSE 1 END, c.amount DESC NULLS LAST, c.case_id
LIMIT 500;

-- query: overdue
-- The cases of unit ${unit} past their time limit (the 督办函): what, where, due when, how late.
SELECT c.case_id AS 线索编号, r.title AS 问题类型, v.town_name || v.village_name AS 村社区, c.state AS 状态,
       c.due AS 时限, c.days_overdue AS 逾期天数
FROM cases c
LEFT JOIN rule_catalogue r ON r.rule_id = c.rule_id
LEFT JOIN villages v ON v.village_code = c.village_code
WHERE c.unit_code = ${unit} AND c.deadline = '逾期'
ORDER BY c.days_overdue DESC, c.case_id;

-- query: unit_name
-- The name of unit ${unit} (a division's name, or the code itself).
SELECT coalesce(min(name), ${unit}) AS 名称 FROM divisions WHERE code = ${unit};
