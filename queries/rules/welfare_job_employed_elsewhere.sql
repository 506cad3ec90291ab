-- id: welfare_job_employed_elsewhere
-- title: 公益岗人员另有全职工作
-- severity: 较重
-- sector: 人社
-- topic: 公益岗
-- description: 某月领取公益岗工资的人员,同月有职工养老保险缴费记录(另有全职单位)。每个(人, 月份)一条线索,金额为当月公益岗工资。
-- subject: id_number
-- recheck: periods
-- sentence: 公益岗人员{person_name}同时在{employers}全职工作,{span period}间仍领取公益岗工资{count}个月、合计{sum amount}元。
WITH employed AS (
    SELECT id_number, month, nullif(array_to_string(array_sort(array_agg(DISTINCT coalesce(employer_name, employer_code))), ', '), '') AS employers
    FROM social_insurance WHERE insurance_type = '职工养老'
    GROUP BY id_number, month
)
SELECT p.id_number || '|' || p.period AS entity_key,
       min(p.village_code) AS village_code,
       p.id_number,
       min(p.name) AS person_name,
       p.period,
       sum(p.amount) AS amount,
       named_struct('employers', min(e.employers), 'payment_ids', nullif(array_to_string(array_sort(array_agg(p.payment_id)), ', '), '')) AS evidence
FROM subsidy_payments p
JOIN employed e ON e.id_number = p.id_number AND e.month = p.period
WHERE p.program = '公益岗工资'
GROUP BY p.id_number, p.period
