-- id: public_funds_travel
-- title: 以考察学习为名公款旅游
-- severity: 较重
-- sector: 农业农村
-- topic: 干部作风
-- description: 科目为差旅费、招待费、会议费或其他,金额不少于 2000 元(可配置),摘要含旅游、景区、门票、度假、参观学习或考察学习(关键词可配置)的村集体支出凭证。每张凭证一条线索,金额为凭证金额。
-- subject: entity_key
-- recheck: none
-- sentence: {village}于{voucher_date|date}以「{summary}」(含「{keyword}」)支付{person_name}{sum amount}元,超过{threshold_amount|yuan}元,科目为{account},审批人{approver},疑似以考察学习为名公款旅游。
SELECT voucher_id AS entity_key,
       village_code,
       CAST(NULL AS VARCHAR) AS id_number,
       counterparty_name AS person_name,
       to_char(voucher_date, '%Y-%m') AS period,
       amount,
       named_struct('voucher_date', voucher_date, 'account', account, 'summary', summary, 'approver', approver,
                    'keyword', regexp_match(summary, ${travel_pattern})[1],
                    'threshold_amount', ${travel_min}) AS evidence
FROM finance_vouchers
WHERE direction = '支出'
  AND account IN ('差旅费', '招待费', '会议费', '其他')
  AND amount >= ${travel_min}
  AND regexp_like(summary, ${travel_pattern})
