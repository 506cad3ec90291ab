-- id: rectification_overdue
-- title: 整改逾期
-- severity: 一般
-- sector: 其他
-- topic: 干部作风
-- description: 整改时限早于参考日而状态仍为未整改或整改中,或整改完成日期晚于整改时限。整改时限为空的不在此列;在时限当天完成的不算逾期。每个问题一条线索。
-- subject: entity_key
-- recheck: none
-- sentence: {round_id}巡察反馈问题「{description}」({topic})整改时限为{deadline|date},状态为「{status}」,已逾期{days_late}天。
SELECT problem_id AS entity_key,
       CASE WHEN regexp_like(target_code, '^[0-9]{12}$') AND target_code NOT LIKE '%000' THEN target_code END AS village_code,
       CASE WHEN regexp_like(target_code, '^[0-9]{12}$') THEN substr(target_code, 1, 9) || '000' END AS town_code,
       CAST(NULL AS VARCHAR) AS id_number,
       CAST(NULL AS VARCHAR) AS person_name,
       to_char(deadline, '%Y-%m') AS period,
       funds_involved AS amount,
       named_struct('round_id', round_id, 'target_code', target_code, 'topic', topic, 'description', description,
                    'status', status, 'deadline', deadline, 'rectified_date', rectified_date,
                    'days_late', coalesce(rectified_date, ${as_of}) - deadline) AS evidence
FROM problems
WHERE deadline IS NOT NULL
  AND ((deadline < ${as_of} AND status IN ('未整改', '整改中'))
       OR rectified_date > deadline)
