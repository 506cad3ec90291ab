-- id: welfare_job_absent
-- title: 公益岗脱岗仍领工资
-- severity: 较重
-- sector: 人社
-- topic: 公益岗
-- description: 发给岗位人员的公益岗工资,所属期在岗位期间内(与[上岗日期, 离岗日期或参考日]有交集),而该岗位当月考勤实际出勤天数的两倍少于应出勤天数。每个(岗位, 月份)一条线索,金额为当月发放的公益岗工资。
-- subject: split_part(entity_key, '|', 1)
-- recheck: periods
-- sentence: 公益岗「{post}」人员{person_name}在{span period}间有{count}个月出勤不足(最少出勤{min days_present}天,应出勤{max days_required}天),仍领取工资{sum amount}元。
SELECT j.job_id || '|' || p.period AS entity_key,
       min(j.village_code) AS village_code,
       min(j.id_number) AS id_number,
       min(j.name) AS person_name,
       p.period,
       sum(p.amount) AS amount,
       named_struct('job_id', j.job_id, 'post', min(j.post), 'days_required', min(a.days_required),
                    'days_present', min(a.days_present), 'payment_ids', nullif(array_to_string(array_sort(array_agg(p.payment_id)), ', '), '')) AS evidence
FROM subsidy_payments p
JOIN welfare_jobs j ON j.id_number = p.id_number
 AND j.start_date <= month_end(p.period)
 AND coalesce(j.end_date, ${as_of}) >= month_start(p.period)
JOIN attendance a ON a.job_id = j.job_id AND a.month = p.period
WHERE p.program = '公益岗工资'
  AND a.days_present * 2 < a.days_required
GROUP BY j.job_id, p.period
