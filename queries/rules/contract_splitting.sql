-- id: contract_splitting
-- title: 拆分工程规避招标
-- severity: 较重
-- sector: 农业农村
-- topic: 工程项目
-- description: 金额低于招标限额(默认 100000 元,可配置)且未公开招标或邀请招标的工程合同中,同一村、同一相对方代码在本合同签订日前后各 90 天(可配置,含端点)内有 2 份及以上(含本合同),合计达到限额。每份合同一条线索,金额为本合同金额,证据列出窗口内各合同。
-- subject: entity_key
-- recheck: none
-- sentence: {village}自{signed_date|date}起{threshold_days}日内与{counterparty_name}签订合同{contracts_in_window}份,合计{window_total|yuan}元,超过{threshold_amount|yuan}元须招标的标准,采购方式为「{procurement}」(涉及合同:{window_contracts})。
WITH small AS (
    SELECT contract_id, village_code, counterparty_code, counterparty_name, amount, signed_date, procurement, title
    FROM contracts
    WHERE kind = '工程' AND procurement NOT IN ('公开招标', '邀请招标')
      AND amount < ${split_limit} AND counterparty_code IS NOT NULL
)
SELECT a.contract_id AS entity_key,
       a.village_code,
       CAST(NULL AS VARCHAR) AS id_number,
       a.counterparty_name AS person_name,
       to_char(a.signed_date, '%Y-%m') AS period,
       a.amount,
       named_struct('counterparty_code', a.counterparty_code, 'signed_date', a.signed_date,
                    'procurement', a.procurement, 'contracts_in_window', count(*), 'window_total', sum(b.amount),
                    'window_contracts', nullif(array_to_string(array_sort(array_agg(b.contract_id || ' ' || CAST(b.signed_date AS VARCHAR) || ' ' || CAST(b.amount AS VARCHAR))), '; '), ''),
                    'threshold_amount', ${split_limit}, 'threshold_days', ${split_window_days}) AS evidence
FROM small a
JOIN small b ON b.village_code = a.village_code AND b.counterparty_code = a.counterparty_code
 AND b.signed_date BETWEEN a.signed_date - ${split_window_span} AND a.signed_date + ${split_window_span}
GROUP BY a.contract_id, a.village_code, a.counterparty_name, a.counterparty_code, a.signed_date, a.amount, a.procurement
HAVING count(*) >= 2 AND sum(b.amount) >= ${split_limit}
