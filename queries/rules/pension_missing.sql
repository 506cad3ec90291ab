-- id: pension_missing
-- title: 到龄未领养老金
-- severity: 较重
-- sector: 人社
-- topic: 养老金
-- description: 参考日在世、未迁出、在最近三个月窗口首日已满60周岁,窗口内没有任何养老金发放,且从无职工养老保险缴费记录的户籍人员。每人一条线索。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}生于{birth_date|date},至{period|month}已满{age_on_as_of}周岁,户籍状态为「{status}」,{window}期间未领取养老金(最近一次领取:{last_pension_period})。
WITH records AS (
    SELECT id_number, death_date FROM deaths
    UNION ALL
    SELECT id_number, status_date FROM population WHERE status = '死亡' AND status_date IS NOT NULL
),
death AS (SELECT id_number, min(death_date) AS death_date FROM records GROUP BY id_number),
pension AS (
    -- One pass over the pension payments: each recipient's last period,
    -- and whether any payment falls in the window.
    SELECT id_number, max(period) AS last_period,
           bool_or(period BETWEEN ${window_first_month} AND ${as_of_month}) AS paid_in_window
    FROM subsidy_payments WHERE program = '养老金' GROUP BY id_number
),
insured AS (SELECT DISTINCT id_number FROM social_insurance WHERE insurance_type = '职工养老')
SELECT p.id_number AS entity_key,
       p.village_code,
       p.id_number,
       p.name AS person_name,
       ${as_of_month} AS period,
       CAST(NULL AS DECIMAL(18, 2)) AS amount,
       named_struct('birth_date', p.birth_date, 'age_on_as_of', age_on(p.birth_date, ${as_of}),
                    'window', ${window_first_month} || ' 至 ' || ${as_of_month}, 'status', p.status,
                    'last_pension_period', p.last_period, 'household_id', p.household_id,
                    'source_file', p.source_file, 'source_row', p.source_row) AS evidence
FROM (
    -- A hash join builds on its first input, so each join starts from
    -- the narrower side: the deaths against the people, the pension
    -- recipients against the people of 60 and over (wide rows), then the
    -- few unpaid people against the insured.
    SELECT p.*, pension.last_period
    FROM pension
    RIGHT JOIN (
        SELECT p.*
        FROM death d
        RIGHT JOIN population p ON d.id_number = p.id_number
        WHERE p.status <> '迁出'
          AND p.birth_date + INTERVAL '60 years' <= ${window_first}
          AND (d.death_date IS NULL OR d.death_date > ${as_of})
    ) p ON pension.id_number = p.id_number
    WHERE pension.paid_in_window IS NOT TRUE
) p
LEFT JOIN insured i ON i.id_number = p.id_number
WHERE i.id_number IS NULL
