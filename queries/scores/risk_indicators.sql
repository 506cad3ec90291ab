-- The raw indicators of every village's risk score, over the 12 months to
-- the run's reference date (${year_ago}, ${as_of}]. Higher is riskier for
-- every column but the keys; `run_findings` is the run's own findings and
-- `rule_catalogue` the rules with their sector.
WITH v AS (
    SELECT v.village_code, v.village_name, v.town_code, v.town_name, v.county_code,
           coalesce(v.population, p.residents, 0) AS residents
    FROM villages v
    LEFT JOIN (SELECT village_code, count(*) AS residents FROM population WHERE status = '正常' GROUP BY village_code) p
        ON p.village_code = v.village_code
),
pet AS (
    SELECT village_code,
           count(*) AS petitions,
           sum(CASE WHEN is_repeat THEN 1 ELSE 0 END) AS repeats,
           sum(CASE WHEN satisfaction = '不满意' THEN 1 ELSE 0 END) AS dissatisfied,
           sum(CASE WHEN satisfaction IN ('满意', '基本满意', '不满意') THEN 1 ELSE 0 END) AS rated
    FROM petitions
    WHERE received_date > ${year_ago} AND received_date <= ${as_of}
    GROUP BY village_code
),
fin AS (
    SELECT f.village_code,
           sum(CASE f.severity WHEN '严重' THEN 3 WHEN '较重' THEN 2 ELSE 1 END) AS weighted,
           sum(CASE WHEN r.sector IN ('民政', '人社') THEN f.amount ELSE 0 END) AS livelihood,
           sum(CASE WHEN r.sector = '农业农村' THEN f.amount ELSE 0 END) AS collective
    FROM run_findings f LEFT JOIN rule_catalogue r ON r.rule_id = f.rule_id
    GROUP BY f.village_code
),
vou AS (
    SELECT village_code, sum(amount) AS spent
    FROM finance_vouchers
    WHERE direction = '支出' AND voucher_date > ${year_ago} AND voucher_date <= ${as_of}
    GROUP BY village_code
),
con AS (
    SELECT village_code,
           count(*) AS projects,
           sum(CASE WHEN procurement NOT IN ('公开招标', '邀请招标') THEN 1 ELSE 0 END) AS untendered
    FROM contracts
    WHERE kind = '工程' AND signed_date > ${year_ago} AND signed_date <= ${as_of}
    GROUP BY village_code
),
prob AS (
    SELECT target_code AS village_code,
           count(*) AS problems,
           sum(CASE WHEN status IN ('未整改', '整改中') THEN 1 ELSE 0 END) AS open,
           sum(CASE WHEN (deadline < ${as_of} AND status IN ('未整改', '整改中'))
                      OR rectified_date > deadline THEN 1 ELSE 0 END) AS overdue
    FROM problems
    WHERE found_date <= ${as_of}
    GROUP BY target_code
),
insp AS (
    SELECT target_code AS village_code, max(start_date) AS last_inspected
    FROM inspections
    WHERE start_date <= ${as_of}
    GROUP BY target_code
)
SELECT v.village_code, v.village_name, v.town_code, v.town_name, v.county_code,
       CAST(CASE WHEN v.residents > 0 THEN 1000.0 * coalesce(pet.petitions, 0) / v.residents ELSE 0 END AS DOUBLE) AS petitions_per_1000,
       CAST(CASE WHEN pet.petitions > 0 THEN 1.0 * pet.repeats / pet.petitions ELSE 0 END AS DOUBLE) AS repeat_petition_share,
       CAST(CASE WHEN pet.rated > 0 THEN 1.0 * pet.dissatisfied / pet.rated ELSE 0 END AS DOUBLE) AS dissatisfied_share,
       CAST(coalesce(fin.weighted, 0) AS DOUBLE) AS findings_weighted,
       CAST(coalesce(fin.livelihood, 0) AS DOUBLE) AS livelihood_amount,
       CAST(coalesce(fin.collective, 0) AS DOUBLE) AS collective_amount,
       CAST(coalesce(vou.spent, 0) AS DOUBLE) AS sanzi_volume,
       CAST(coalesce(con.projects, 0) AS DOUBLE) AS project_contracts,
       CAST(CASE WHEN con.projects > 0 THEN 1.0 * con.untendered / con.projects ELSE 0 END AS DOUBLE) AS untendered_share,
       CAST(coalesce(prob.open, 0) AS DOUBLE) AS open_problems,
       CAST(coalesce(prob.overdue, 0) AS DOUBLE) AS overdue_problems,
       CAST(CASE WHEN prob.problems > 0 THEN 1.0 * prob.open / prob.problems ELSE 0 END AS DOUBLE) AS unrectified_share,
       CAST(CASE WHEN insp.last_inspected IS NULL THEN 999
                 ELSE (date_part('year', ${as_of}) - date_part('year', insp.last_inspected)) * 12
                      + date_part('month', ${as_of}) - date_part('month', insp.last_inspected) END AS DOUBLE) AS months_since_inspection
FROM v
LEFT JOIN pet ON pet.village_code = v.village_code
LEFT JOIN fin ON fin.village_code = v.village_code
LEFT JOIN vou ON vou.village_code = v.village_code
LEFT JOIN con ON con.village_code = v.village_code
LEFT JOIN prob ON prob.village_code = v.village_code
LEFT JOIN insp ON insp.village_code = v.village_code
ORDER BY v.village_code
