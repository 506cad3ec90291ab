-- id: shared_bank_account
-- title: 一卡多人
-- severity: 严重
-- sector: 民政
-- topic: 惠农补贴
-- description: 同一银行账号在同一所属期收到 3 户(阈值可配置)及以上不同户(户号不同;不在户籍库的身份号码各算一户)受益人的发放。每个(账号, 所属期)一条线索,金额为该账号当期收到的合计。
-- subject: split_part(entity_key, '|', 1)
-- recheck: periods
-- sentence: 银行账户{bank_account}在{span period}间由{max households}户{max beneficiaries}人共用领取补贴(共{sum payments}笔),合计{sum amount}元。
WITH accounts AS (
    -- An account-period reaches N households only if its account has N
    -- beneficiaries at all. Grouping by (account, person) is small (most
    -- people keep one account over every month), and one integer hash per
    -- account keeps it cheap: a collision only adds a candidate account,
    -- the households are counted by the real account and period below.
    SELECT account_hash
    FROM (SELECT DISTINCT hash64(bank_account) AS account_hash, id_number
          FROM subsidy_payments WHERE bank_account <> '')
    GROUP BY account_hash
    HAVING count(*) >= ${shared_account_households}
),
households AS (
    SELECT DISTINCT p.bank_account, p.period, coalesce(pop.household_id, 'ID:' || p.id_number) AS household
    FROM accounts a
    JOIN subsidy_payments p ON hash64(p.bank_account) = a.account_hash
    LEFT JOIN population pop ON pop.id_number = p.id_number
    WHERE p.bank_account <> ''
),
shared AS (
    SELECT bank_account, period, count(*) AS households
    FROM households
    GROUP BY bank_account, period
    HAVING count(*) >= ${shared_account_households}
)
SELECT p.bank_account || '|' || p.period AS entity_key,
       min(p.village_code) AS village_code,
       CAST(NULL AS VARCHAR) AS id_number,
       CAST(NULL AS VARCHAR) AS person_name,
       p.period,
       sum(p.amount) AS amount,
       named_struct('bank_account', p.bank_account, 'households', min(s.households),
                    'beneficiaries', count(DISTINCT p.id_number), 'payments', count(*),
                    'payment_ids', nullif(array_to_string(array_sort(array_agg(p.payment_id)), ', '), ''),
                    'threshold_households', ${shared_account_households}) AS evidence
FROM shared s
JOIN subsidy_payments p ON p.bank_account = s.bank_account AND p.period = s.period
GROUP BY p.bank_account, p.period
