-- id: duplicate_payment
-- title: 重复领取
-- severity: 较重
-- sector: 民政
-- topic: 惠农补贴
-- description: 同一人同一资金项目同一所属期有两笔及以上发放。每个(人, 项目, 所属期)一条线索,金额为多发部分:合计减去其中最大一笔。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}在{span period}间有{count}个月同一月份重复领取{list program}(共{sum payments}笔,发放部门:{list departments}),多领{sum amount}元。
WITH repeated AS (
    -- Candidates first, in one pass over every payment: per person,
    -- programme and year (one integer hash), each month sets its own bit
    -- (1 << month). The sum of those bits equals their OR exactly when no
    -- month repeats; a repeated month makes the sum larger. Grouping by
    -- year rather than by month keeps the groups few (a person's months of
    -- a year fall together, so partial aggregation pays). A hash collision
    -- only merges groups and adds a candidate: the candidates' payments are
    -- then grouped by the real columns, with the HAVING of the contract.
    SELECT hash64(id_number, program, substr(period, 1, 4)) AS key_hash
    FROM subsidy_payments
    GROUP BY 1
    HAVING sum(1 << CAST(substr(period, 6, 2) AS INT)) <> bit_or(1 << CAST(substr(period, 6, 2) AS INT))
)
SELECT p.id_number || '|' || p.program || '|' || p.period AS entity_key,
       min(p.village_code) AS village_code,
       p.id_number,
       min(p.name) AS person_name,
       p.period,
       sum(p.amount) - max(p.amount) AS amount,
       named_struct('program', p.program, 'period', p.period, 'payments', count(*),
                    'payment_ids', nullif(array_to_string(array_sort(array_agg(p.payment_id)), ', '), ''), 'total', sum(p.amount),
                    'departments', nullif(array_to_string(array_sort(array_agg(DISTINCT p.department)), ', '), '')) AS evidence
FROM repeated r
JOIN subsidy_payments p ON hash64(p.id_number, p.program, substr(p.period, 1, 4)) = r.key_hash
GROUP BY p.id_number, p.program, p.period
HAVING count(*) >= 2
