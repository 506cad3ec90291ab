-- page: village
-- title: 村情档案
--
-- One village's file: without ${village} the list of villages to pick
-- from (narrowed by ${town}); with it, the village's figures from every
-- source. Filters: ${village} (12-digit code), ${town}.

-- panel: villages
-- title: 选择村(社区)
-- view: table
-- links: village
-- unless: village
SELECT village_code AS 村代码, town_name AS 乡镇, village_name AS 村, population AS 户籍人口, households AS 户数
FROM villages
WHERE ${town} IS NULL OR starts_with(village_code, ${town})
ORDER BY village_code;

-- panel: profile
-- title: 基本情况
-- view: tiles
-- requires: village
-- 在册人口: residents whose status is 正常; 户数: households among all residents ever registered.
SELECT (SELECT town_name || village_name FROM villages WHERE village_code = ${village}) AS 村,
       (SELECT count(*) FROM population WHERE village_code = ${village} AND status = '正常') AS 在册人口,
       (SELECT count(DISTINCT household_id) FROM population WHERE village_code = ${village}) AS 户数,
       (SELECT round(score, 1) FROM latest_risk_scores WHERE village_code = ${village}) AS 风险分,
       (SELECT tier FROM latest_risk_scores WHERE village_code = ${village}) AS 风险等级,
       (SELECT count(*) FROM latest_findings WHERE village_code = ${village}) AS 比对发现,
       (SELECT count(*) FROM petitions WHERE village_code = ${village}) AS 信访件,
       (SELECT max(start_date) FROM inspections WHERE target_code = ${village}) AS 最近巡察;

-- panel: risk
-- title: 风险构成(各指标得分)
-- view: bars 指标 得分 分
-- requires: village
-- (one row per component of queries/scores: its points and its raw value)
SELECT '信访密度(件/千人)' AS 指标, round(petitions_per_1000_pts, 2) AS 得分, round(petitions_per_1000, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '重复信访占比' AS 指标, round(repeat_petition_share_pts, 2) AS 得分, round(repeat_petition_share, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '群众不满意占比' AS 指标, round(dissatisfied_share_pts, 2) AS 得分, round(dissatisfied_share, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '比对发现(按严重程度加权)' AS 指标, round(findings_weighted_pts, 2) AS 得分, round(findings_weighted, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '民生资金问题金额' AS 指标, round(livelihood_amount_pts, 2) AS 得分, round(livelihood_amount, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '三资问题金额' AS 指标, round(collective_amount_pts, 2) AS 得分, round(collective_amount, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '三资支出规模' AS 指标, round(sanzi_volume_pts, 2) AS 得分, round(sanzi_volume, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '工程合同数' AS 指标, round(project_contracts_pts, 2) AS 得分, round(project_contracts, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '工程未公开招标占比' AS 指标, round(untendered_share_pts, 2) AS 得分, round(untendered_share, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '未完成整改问题数' AS 指标, round(open_problems_pts, 2) AS 得分, round(open_problems, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '逾期整改问题数' AS 指标, round(overdue_problems_pts, 2) AS 得分, round(overdue_problems, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '未整改率' AS 指标, round(unrectified_share_pts, 2) AS 得分, round(unrectified_share, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
UNION ALL
SELECT '距上次巡察月数(从未=最高)' AS 指标, round(months_since_inspection_pts, 2) AS 得分, round(months_since_inspection, 2) AS 原始值 FROM latest_risk_scores WHERE village_code = ${village}
ORDER BY 得分 DESC, 指标;

-- panel: programs
-- title: 民生资金发放(按项目)
-- view: bars 资金项目 金额元 元
-- requires: village
SELECT program AS 资金项目, count(DISTINCT id_number) AS 人数, count(*) AS 笔数, sum(amount) AS 金额元
FROM subsidy_payments
WHERE village_code = ${village}
GROUP BY program
ORDER BY 金额元 DESC, 资金项目;

-- panel: findings
-- title: 比对发现
-- view: table
-- links: findings
-- requires: village
SELECT f.run_id, f.rule_id, f.entity_key, r.title AS 规则, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元
FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id
WHERE f.village_code = ${village}
ORDER BY r.title, f.entity_key;

-- panel: finance
-- title: 三资收支(按科目)
-- view: table
-- requires: village
SELECT direction AS 收支, account AS 科目, count(*) AS 笔数, sum(amount) AS 金额元
FROM finance_vouchers
WHERE village_code = ${village}
GROUP BY direction, account
ORDER BY direction, 金额元 DESC, 科目;

-- panel: contracts
-- title: 村级合同
-- view: table
-- requires: village
SELECT contract_id AS 合同编号, kind AS 类型, title AS 合同名称, counterparty_name AS 相对方, amount AS 金额元, signed_date AS 签订日期, procurement AS 采购方式
FROM contracts
WHERE village_code = ${village}
ORDER BY signed_date DESC, contract_id;

-- panel: petitions
-- title: 信访件
-- view: table
-- requires: village
SELECT petition_id AS 信访件编号, received_date AS 登记日期, topic AS 问题类别, summary AS 内容摘要, status AS 办理状态, satisfaction AS 群众评价
FROM petitions
WHERE village_code = ${village}
ORDER BY received_date DESC, petition_id;

-- panel: inspections
-- title: 巡察与问题整改
-- view: table
-- requires: village
SELECT p.problem_id AS 问题编号, i.round_label AS 轮次, p.topic AS 问题类别, p.description AS 问题描述, p.deadline AS 整改时限, p.status AS 整改状态, p.rectified_date AS 完成日期
FROM problems p LEFT JOIN rounds i ON i.round_id = p.round_id
WHERE p.target_code = ${village}
ORDER BY p.found_date DESC, p.problem_id;
