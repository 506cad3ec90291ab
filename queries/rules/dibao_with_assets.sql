-- id: dibao_with_assets
-- title: 低保户名下有车辆或经营主体
-- severity: 较重
-- sector: 民政
-- topic: 低保
-- description: 低保发放所属期内(不晚于该月最后一天),受益人所在户有人名下有状态"正常"的机动车,或是"存续"市场主体的法定代表人、股东或主要人员(成立不晚于该月最后一天)。每个受益人一条线索,金额为符合条件的低保发放合计。
-- subject: id_number
-- recheck: periods
-- sentence: {person_name}家庭名下有{assets},{span first_period last_period}仍享受低保{sum payments}笔,合计{sum amount}元。
WITH pay AS (
    SELECT payment_id, id_number, name, village_code, period, amount FROM subsidy_payments WHERE program = '低保'
),
beneficiaries AS (SELECT DISTINCT id_number FROM pay),
members AS (
    SELECT b.id_number AS beneficiary, m.id_number AS member
    FROM beneficiaries x
    JOIN population b ON b.id_number = x.id_number
    JOIN population m ON m.household_id = b.household_id
    UNION
    SELECT id_number AS beneficiary, id_number AS member FROM beneficiaries
),
assets AS (
    SELECT owner_id_number AS holder, '机动车 ' || plate AS asset, register_date AS since FROM vehicles WHERE status = '正常'
    UNION ALL
    SELECT legal_rep_id_number, '法定代表人 ' || name || '(' || credit_code || ')', established_date
    FROM businesses WHERE status = '存续' AND legal_rep_id_number IS NOT NULL
    UNION ALL
    SELECT bp.id_number, bp.role || ' ' || b.name || '(' || b.credit_code || ')', b.established_date
    FROM business_people bp JOIN businesses b ON b.credit_code = bp.credit_code
    WHERE b.status = '存续'
),
member_assets AS (
    -- The few beneficiaries with an asset in the household, before the payments.
    SELECT mb.beneficiary, a.asset, a.since
    FROM assets a
    JOIN members mb ON mb.member = a.holder
),
hits AS (
    SELECT pay.*, ma.asset, ma.since
    FROM member_assets ma
    JOIN pay ON pay.id_number = ma.beneficiary AND ma.since <= month_end(pay.period)
),
paid AS (SELECT DISTINCT payment_id, id_number, name, village_code, period, amount FROM hits)
SELECT paid.id_number AS entity_key,
       min(paid.village_code) AS village_code,
       paid.id_number,
       min(paid.name) AS person_name,
       max(paid.period) AS period,
       sum(paid.amount) AS amount,
       named_struct('payments', count(*), 'first_period', min(paid.period), 'last_period', max(paid.period),
                    'assets', min(h.assets)) AS evidence
FROM paid
JOIN (SELECT id_number, nullif(array_to_string(array_sort(array_agg(DISTINCT asset || ' 自' || CAST(since AS VARCHAR))), '; '), '') AS assets FROM hits GROUP BY id_number) h
  ON h.id_number = paid.id_number
GROUP BY paid.id_number
