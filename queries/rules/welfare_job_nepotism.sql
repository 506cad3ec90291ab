-- id: welfare_job_nepotism
-- title: 公益岗优亲厚友
-- severity: 较重
-- sector: 人社
-- topic: 公益岗
-- description: 公益岗位人员所在户(含本人)有该岗位所在村的村干部(单位代码等于岗位村代码),且其任职期与岗位期间[上岗日期, 离岗日期或参考日]有交集。每个岗位一条线索,金额为该岗位期间发给本人的公益岗工资合计。
-- subject: entity_key
-- recheck: none
-- sentence: 公益岗「{post}」({start_date|date}上岗,月工资{monthly_wage|yuan}元)安排给{person_name},其系村干部亲属(关联干部:{cadres}),已领取工资{sum amount}元。
WITH members AS (
    SELECT j.job_id, m.id_number AS member, m.relation
    FROM welfare_jobs j
    JOIN population h ON h.id_number = j.id_number
    JOIN population m ON m.household_id = h.household_id
    UNION
    SELECT job_id, id_number, '本人' FROM welfare_jobs
),
hits AS (
    SELECT j.job_id, c.name || '(' || mb.relation || ', ' || c.position || ', '
           || CAST(c.start_date AS VARCHAR) || ' 至 ' || coalesce(CAST(c.end_date AS VARCHAR), '今') || ')' AS cadre
    FROM welfare_jobs j
    JOIN members mb ON mb.job_id = j.job_id
    JOIN cadres c ON c.id_number = mb.member
     AND c.cadre_type = '村干部'
     AND c.org_code = j.village_code
     AND c.start_date <= coalesce(j.end_date, ${as_of})
     AND (c.end_date IS NULL OR c.end_date >= j.start_date)
),
wages AS (
    SELECT j.job_id, sum(p.amount) AS paid
    FROM welfare_jobs j
    JOIN subsidy_payments p ON p.id_number = j.id_number AND p.program = '公益岗工资'
     AND month_start(p.period) <= coalesce(j.end_date, ${as_of}) AND month_end(p.period) >= j.start_date
    GROUP BY j.job_id
)
SELECT j.job_id AS entity_key,
       j.village_code,
       j.id_number,
       j.name AS person_name,
       to_char(j.start_date, '%Y-%m') AS period,
       w.paid AS amount,
       named_struct('job_id', j.job_id, 'post', j.post, 'start_date', j.start_date, 'end_date', j.end_date,
                    'monthly_wage', j.monthly_wage, 'cadres', h.cadres) AS evidence
FROM welfare_jobs j
JOIN (SELECT job_id, nullif(array_to_string(array_sort(array_agg(DISTINCT cadre)), '; '), '') AS cadres FROM hits GROUP BY job_id) h ON h.job_id = j.job_id
LEFT JOIN wages w ON w.job_id = j.job_id
