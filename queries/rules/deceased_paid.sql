-- id: deceased_paid
-- title: 死亡人员仍领取补贴
-- severity: 严重
-- sector: 民政
-- topic: 低保
-- description: 民生资金发放的所属期晚于受益人死亡日期所在月份。死亡日期取死亡登记(公安/民政/卫健/殡葬)与户籍"死亡"状态变更日期中最早的一个;死亡当月的发放不算。每笔发放一条线索,金额为该笔发放金额。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}于{death_date|date}死亡(登记:{death_records}),此后{span period}仍领取{list program}{count}笔,合计{sum amount}元(发放部门:{list department})。
WITH records AS (
    SELECT id_number, death_date, source AS via FROM deaths
    UNION ALL
    SELECT id_number, status_date, '户籍' FROM population WHERE status = '死亡' AND status_date IS NOT NULL
),
death AS (
    SELECT id_number, min(death_date) AS death_date,
           nullif(array_to_string(array_sort(array_agg(via || ' ' || CAST(death_date AS VARCHAR))), '; '), '') AS death_records
    FROM records GROUP BY id_number
)
SELECT p.payment_id AS entity_key,
       p.village_code,
       p.id_number,
       p.name AS person_name,
       p.period,
       p.amount,
       named_struct('payment_id', p.payment_id, 'program', p.program, 'period', p.period, 'amount', p.amount,
                    'paid_date', p.paid_date, 'bank_account', p.bank_account, 'department', p.department,
                    'death_date', d.death_date, 'death_records', d.death_records,
                    'source_file', p.source_file, 'source_row', p.source_row) AS evidence
FROM death d
JOIN subsidy_payments p ON p.id_number = d.id_number
WHERE p.period > to_char(d.death_date, '%Y-%m')
