-- page: risk
-- title: 风险画像
--
-- The latest rules run's village risk scores (queries/scores: 13 weighted
-- components, each scaled to points). The inspection plan above the
-- panels comes from queries::plan. Filter: ${town}.

-- panel: top
-- title: 风险最高的村(前 15)
-- view: bars 村 风险分 分
SELECT town_name || village_name AS 村, round(score, 1) AS 风险分, tier AS 等级
FROM latest_risk_scores
WHERE ${town} IS NULL OR starts_with(village_code, ${town})
ORDER BY score DESC, village_code
LIMIT 15;

-- panel: ranking
-- title: 村级风险排名
-- view: table
-- (the points of related components summed: 比对发现 = findings + 民生 + 三资 amounts;
--  三资工程 = spending + contracts + untendered share; 整改 = open + overdue + unrectified share)
SELECT village_code AS 村代码, town_name AS 乡镇, village_name AS 村, rank_in_county AS 县内排名, round(score, 1) AS 风险分, tier AS 等级,
       round(petitions_per_1000_pts, 1) AS 信访,
       round(findings_weighted_pts + livelihood_amount_pts + collective_amount_pts, 1) AS 比对发现,
       round(sanzi_volume_pts + project_contracts_pts + untendered_share_pts, 1) AS 三资工程,
       round(open_problems_pts + overdue_problems_pts + unrectified_share_pts, 1) AS 整改,
       round(months_since_inspection_pts, 1) AS 巡察间隔
FROM latest_risk_scores
WHERE ${town} IS NULL OR starts_with(village_code, ${town})
ORDER BY score DESC, village_code;

-- panel: tiers
-- title: 风险等级分布
-- view: bars 等级 村数 个
SELECT tier AS 等级, count(*) AS 村数, round(avg(score), 1) AS 平均分
FROM latest_risk_scores
WHERE ${town} IS NULL OR starts_with(village_code, ${town})
GROUP BY tier
ORDER BY 平均分 DESC;
