-- id: identity_mismatch
-- title: 身份信息不符
-- severity: 一般
-- sector: 民政
-- topic: 惠农补贴
-- description: 发放记录的身份号码未通过 GB 11643 校验(长度、出生日期、校验码),或不在户籍库中,或姓名(统一全半角、去空白、统一间隔号后)与户籍不一致。证据注明是哪一种。每笔发放一条线索。
-- subject: id_number
-- recheck: periods
-- sentence: {list program}名册中{payment_name}的身份信息与户籍不符(身份证号校验:{id_valid|通过/未通过};户籍库:{in_population|有此号/无此号};户籍姓名:{population_name}),涉及{count}笔、合计{sum amount}元。
SELECT p.payment_id AS entity_key,
       p.village_code,
       p.id_number,
       p.name AS person_name,
       p.period,
       p.amount,
       named_struct('payment_id', p.payment_id, 'program', p.program,
                    'id_valid', id_valid(p.id_number), 'in_population', pop.id_number IS NOT NULL,
                    'payment_name', p.name, 'population_name', pop.name,
                    'name_matches', norm_name(p.name) = norm_name(pop.name),
                    'source_file', p.source_file, 'source_row', p.source_row) AS evidence
FROM population pop
RIGHT JOIN subsidy_payments p ON p.id_number = pop.id_number
WHERE NOT id_valid(p.id_number)
   OR pop.id_number IS NULL
   -- Equal names are equal normalized: only differing ones are normalized.
   OR (p.name <> pop.name AND norm_name(p.name) <> norm_name(pop.name))
