-- id: duplicate_payment
-- title: 重复领取
-- severity: 较重
-- sector: 民政
-- topic: 惠农补贴
-- description: 同一人同一资金项目同一所属期有两笔及以上发放。每个(人, 项目, 所属期)一条线索,金额为多发部分:合计减去其中最大一笔。
WITH repeated AS (
    -- Candidates first: one integer hash per (person, programme, period)
    -- makes this pass over every payment a one-column aggregation; the few
    -- candidates' payments are then grouped by the real columns, and HAVING
    -- again, so a hash collision adds nothing.
    SELECT hash64(id_number, program, period) AS key_hash
    FROM subsidy_payments
    GROUP BY 1
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
JOIN subsidy_payments p ON hash64(p.id_number, p.program, p.period) = r.key_hash
GROUP BY p.id_number, p.program, p.period
HAVING count(*) >= 2
