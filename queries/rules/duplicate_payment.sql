-- id: duplicate_payment
-- title: 重复领取
-- severity: 较重
-- sector: 民政
-- topic: 惠农补贴
-- description: 同一人同一资金项目同一所属期有两笔及以上发放。每个(人, 项目, 所属期)一条线索,金额为多发部分:合计减去其中最大一笔。
SELECT id_number || '|' || program || '|' || period AS entity_key,
       min(village_code) AS village_code,
       id_number,
       min(name) AS person_name,
       period,
       sum(amount) - max(amount) AS amount,
       named_struct('program', program, 'period', period, 'payments', count(*),
                    'payment_ids', string_agg(payment_id, ', '), 'total', sum(amount),
                    'departments', string_agg(DISTINCT department, ', ')) AS evidence
FROM subsidy_payments
GROUP BY id_number, program, period
HAVING count(*) >= 2
