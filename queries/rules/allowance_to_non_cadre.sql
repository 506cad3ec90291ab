-- id: allowance_to_non_cadre
-- title: 非在职人员领取干部报酬津补贴
-- severity: 较重
-- sector: 农业农村
-- topic: 三资管理
-- description: 科目为干部报酬或津补贴的村集体支出凭证,对方代码不是该村(单位代码等于凭证村代码)在记账日在任的干部。对方代码为空的不在此列。每张凭证一条线索,金额为凭证金额。
-- subject: entity_key
-- recheck: none
-- sentence: {village}于{voucher_date|date}以「{summary}」向{person_name}支付干部报酬津补贴{sum amount}元(科目{account},审批人{approver}),其在本村的任职记录:{terms_in_this_village}。
SELECT v.voucher_id AS entity_key,
       v.village_code,
       v.counterparty_code AS id_number,
       v.counterparty_name AS person_name,
       to_char(v.voucher_date, '%Y-%m') AS period,
       v.amount,
       named_struct('voucher_date', v.voucher_date, 'account', v.account, 'summary', v.summary, 'approver', v.approver,
                    'terms_in_this_village', (SELECT nullif(array_to_string(array_sort(array_agg(c.position || ' ' || CAST(c.start_date AS VARCHAR) || ' 至 '
                                                  || coalesce(CAST(c.end_date AS VARCHAR), '今'))), '; '), '')
                                              FROM cadres c WHERE c.id_number = v.counterparty_code AND c.org_code = v.village_code)) AS evidence
FROM finance_vouchers v
WHERE v.direction = '支出'
  AND v.account IN ('干部报酬', '津补贴')
  AND v.counterparty_code IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM cadres c
      WHERE c.id_number = v.counterparty_code AND c.org_code = v.village_code
        AND c.start_date <= v.voucher_date AND (c.end_date IS NULL OR c.end_date >= v.voucher_date)
  )
