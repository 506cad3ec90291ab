-- id: public_servant_dibao
-- title: 财政供养人员领取低保特困
-- severity: 严重
-- sector: 民政
-- topic: 低保
-- description: 低保或特困供养发放给在该所属期内任职的公职人员(干部名册人员类别为"公职人员")。每个受益人一条线索,金额为符合条件的发放合计。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}系财政供养人员({posts}),{span first_period last_period}仍享受{list programs}{sum payments}笔,合计{sum amount}元。
WITH hits AS (
    SELECT DISTINCT p.payment_id, p.id_number, p.name, p.village_code, p.period, p.amount, p.program,
           c.org_name || c.position AS post
    FROM cadres c
    JOIN subsidy_payments p ON p.id_number = c.id_number
     AND c.start_date <= month_end(p.period)
     AND (c.end_date IS NULL OR c.end_date >= month_start(p.period))
    WHERE c.cadre_type = '公职人员' AND p.program IN ('低保', '特困供养')
),
paid AS (SELECT DISTINCT payment_id, id_number, name, village_code, period, amount, program FROM hits)
SELECT paid.id_number AS entity_key,
       min(paid.village_code) AS village_code,
       paid.id_number,
       min(paid.name) AS person_name,
       max(paid.period) AS period,
       sum(paid.amount) AS amount,
       named_struct('payments', count(*), 'programs', nullif(array_to_string(array_sort(array_agg(DISTINCT paid.program)), ', '), ''),
                    'first_period', min(paid.period), 'last_period', max(paid.period),
                    'posts', min(h.posts)) AS evidence
FROM paid
JOIN (SELECT id_number, nullif(array_to_string(array_sort(array_agg(DISTINCT post)), '; '), '') AS posts FROM hits GROUP BY id_number) h ON h.id_number = paid.id_number
GROUP BY paid.id_number
