-- id: cadre_linked_counterparty
-- title: 村干部关联交易
-- severity: 严重
-- sector: 农业农村
-- topic: 三资管理
-- description: 村集体支出凭证(干部报酬、津补贴除外)或村级合同的对方代码,是该村在记账日/签订日在任村干部所在户成员(含本人)的身份号码,或是法定代表人、股东或主要人员为这些人的"存续"市场主体的统一社会信用代码。每张凭证或合同一条线索,金额为凭证或合同金额。
-- subject: entity_key
-- recheck: none
-- sentence: {village}于{date|date}与{counterparty_name}发生{kind}往来({summary}),金额{sum amount}元;对方与村干部存在关联:{links}。
WITH cadre_households AS (
    SELECT c.org_code AS village_code, c.start_date, c.end_date, m.id_number AS member, m.name AS member_name,
           c.name || '(' || c.position || ')' AS cadre
    FROM cadres c
    JOIN population cp ON cp.id_number = c.id_number
    JOIN population m ON m.household_id = cp.household_id
    WHERE c.cadre_type = '村干部'
    UNION ALL
    SELECT org_code, start_date, end_date, id_number, name, name || '(' || position || ')'
    FROM cadres WHERE cadre_type = '村干部'
),
business_people_active AS (
    SELECT credit_code AS code, legal_rep_id_number AS person, '法定代表人' AS via, name AS business
    FROM businesses WHERE status = '存续' AND legal_rep_id_number IS NOT NULL
    UNION ALL
    SELECT b.credit_code, bp.id_number, bp.role, b.name
    FROM business_people bp JOIN businesses b ON b.credit_code = bp.credit_code
    WHERE b.status = '存续'
),
deals AS (
    SELECT voucher_id AS deal_id, '凭证' AS kind, village_code, voucher_date AS day, counterparty_code AS code,
           counterparty_name, amount, account AS detail, summary
    FROM finance_vouchers
    WHERE direction = '支出' AND account NOT IN ('干部报酬', '津补贴') AND counterparty_code IS NOT NULL
    UNION ALL
    SELECT contract_id, '合同', village_code, signed_date, counterparty_code, counterparty_name, amount,
           kind || '/' || procurement, title
    FROM contracts WHERE counterparty_code IS NOT NULL
),
links AS (
    SELECT d.deal_id, '本人' AS via, h.member_name, h.cadre
    FROM deals d
    JOIN cadre_households h ON h.member = d.code AND h.village_code = d.village_code
     AND h.start_date <= d.day AND (h.end_date IS NULL OR h.end_date >= d.day)
    UNION ALL
    SELECT d.deal_id, bpa.via || '@' || bpa.business, h.member_name, h.cadre
    FROM deals d
    JOIN business_people_active bpa ON bpa.code = d.code
    JOIN cadre_households h ON h.member = bpa.person AND h.village_code = d.village_code
     AND h.start_date <= d.day AND (h.end_date IS NULL OR h.end_date >= d.day)
)
SELECT d.deal_id AS entity_key,
       d.village_code,
       CAST(NULL AS VARCHAR) AS id_number,
       d.counterparty_name AS person_name,
       to_char(d.day, '%Y-%m') AS period,
       d.amount,
       named_struct('kind', d.kind, 'date', d.day, 'counterparty_name', d.counterparty_name,
                    'counterparty_code', d.code, 'detail', d.detail, 'summary', d.summary,
                    'links', l.links) AS evidence
FROM deals d
JOIN (SELECT deal_id, nullif(array_to_string(array_sort(array_agg(DISTINCT member_name || ' 经 ' || via || ' 关联 ' || cadre)), '; '), '') AS links FROM links GROUP BY deal_id) l
  ON l.deal_id = d.deal_id
