-- id: duplicate_payment
-- title: 重复领取
-- severity: 较重
-- sector: 民政
-- topic: 惠农补贴
-- description: 同一人同一资金项目同一所属期有两笔及以上发放。每个(人, 项目, 所属期)一条线索,金额为多发部分:合计减去其中最大一笔。
WITH repeated AS (
    SELECT id_number, program, period
    FROM subsidy_payments
    GROUP BY id_number, program, period
    HAVING count(*) >= 2
)
SELECT p.id_number || '|' || p.program || '|' || p.period AS entity_key,
       min(p.village_code) AS village_code,
       p.id_number,
       min(p.name) AS person_name,
       p.period,
       sum(p.amount) - max(p.amount) AS amount,
       named_struct('program', p.program, 'period', p.period, 'payments', count(*),
                    'payment_ids', string_agg(p.payment_id, ', '), 'total', sum(p.amount),
                    'departments', string_agg(DISTINCT p.department, ', ')) AS evidence
FROM repeated r
JOIN subsidy_payments p ON p.id_number = r.id_number AND p.program = r.program AND p.period = r.period
GROUP BY p.id_number, p.program, p.period
