-- id: rectification_rebound
-- title: 整改后问题反弹
-- severity: 较重
-- sector: 其他
-- topic: 干部作风
-- description: 状态为已整改或已销号、整改完成日期为 D、被巡察单位是村(12 位区划代码且不以 000 结尾)的问题,该村在 (D, D+180 天](天数可配置)内收到同一问题类别的信访件。每个问题一条线索。
-- subject: entity_key
-- recheck: none
-- sentence: {round_id}巡察反馈问题「{description}」({topic})于{rectified_date|date}标记整改完成,此后{window_days}天内又收到同类信访{petitions}件({petition_ids})。
SELECT p.problem_id AS entity_key,
       p.target_code AS village_code,
       CAST(NULL AS VARCHAR) AS id_number,
       CAST(NULL AS VARCHAR) AS person_name,
       to_char(p.rectified_date, '%Y-%m') AS period,
       p.funds_involved AS amount,
       named_struct('round_id', p.round_id, 'topic', p.topic, 'description', p.description, 'status', p.status,
                    'rectified_date', p.rectified_date, 'petitions', count(*),
                    'petition_ids', nullif(array_to_string(array_sort(array_agg(x.petition_id || ' ' || CAST(x.received_date AS VARCHAR))), '; '), ''),
                    'window_days', ${rebound_days}) AS evidence
FROM problems p
JOIN petitions x ON x.village_code = p.target_code AND x.topic = p.topic
 AND x.received_date > p.rectified_date
 AND x.received_date <= p.rectified_date + ${rebound_span}
WHERE p.status IN ('已整改', '已销号')
  AND p.rectified_date IS NOT NULL
  AND regexp_like(p.target_code, '^[0-9]{12}$') AND p.target_code NOT LIKE '%000'
GROUP BY p.problem_id, p.target_code, p.rectified_date, p.funds_involved, p.round_id, p.topic, p.description, p.status
