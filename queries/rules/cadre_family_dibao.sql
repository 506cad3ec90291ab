-- id: cadre_family_dibao
-- title: 村(乡镇)干部及近亲属享受低保特困
-- severity: 严重
-- sector: 民政
-- topic: 低保
-- description: 低保或特困供养发放的受益人所在户(户号相同的户籍人员,含本人)有村干部或乡镇干部在该所属期内任职(任职期与该月有交集)。每个受益人一条线索,金额为符合条件的发放合计。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}系村(乡镇)干部或其近亲属(关联干部:{cadres}),{span first_period last_period}享受{list programs}{sum payments}笔,合计{sum amount}元。
WITH pay AS (
    SELECT payment_id, id_number, name, village_code, period, amount, program
    FROM subsidy_payments WHERE program IN ('低保', '特困供养')
),
beneficiaries AS (SELECT DISTINCT id_number FROM pay),
members AS (
    SELECT b.id_number AS beneficiary, m.id_number AS member, m.relation
    FROM beneficiaries x
    JOIN population b ON b.id_number = x.id_number
    JOIN population m ON m.household_id = b.household_id
    UNION
    SELECT id_number AS beneficiary, id_number AS member, '本人' AS relation FROM beneficiaries
),
cadre_members AS (
    -- The few beneficiaries with a cadre in the household, before the payments.
    SELECT mb.beneficiary, mb.relation, c.name AS cadre_name, c.position, c.org_name, c.start_date, c.end_date
    FROM cadres c
    JOIN members mb ON mb.member = c.id_number
    WHERE c.cadre_type IN ('村干部', '乡镇干部')
),
hits AS (
    SELECT pay.*, cm.cadre_name, cm.position, cm.org_name, cm.start_date, cm.end_date, cm.relation
    FROM cadre_members cm
    JOIN pay ON pay.id_number = cm.beneficiary
     AND cm.start_date <= month_end(pay.period)
     AND (cm.end_date IS NULL OR cm.end_date >= month_start(pay.period))
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
                    'cadres', min(c.cadres)) AS evidence
FROM paid
JOIN (
    SELECT id_number, nullif(array_to_string(array_sort(array_agg(DISTINCT cadre_name || '(' || relation || ', ' || org_name || position || ', '
           || CAST(start_date AS VARCHAR) || ' 至 ' || coalesce(CAST(end_date AS VARCHAR), '今') || ')')), '; '), '') AS cadres
    FROM hits GROUP BY id_number
) c ON c.id_number = paid.id_number
GROUP BY paid.id_number
