//! Risk scores on the sample lake: every village scored, points add up to
//! the score, tiers cut 15% / 35% / 50%, villages where rules found
//! something score higher on average than those where nothing was found,
//! the plan lists exactly the villages not inspected in the term, and a
//! weight in xuncha.toml moves the ranking towards its component.

use crate::common::{rows, scratch, xuncha_ok};
use std::path::Path;

#[test]
fn scores_add_up_tier_rank_and_follow_weights() {
    let dir = scratch("scores");
    let lake = dir.join("lake");
    let lake_s = lake.to_str().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    xuncha_ok(&["--lake", lake_s, "demo", "--no-serve", "--inbox", samples.to_str().unwrap()]);

    let pts = xuncha_queries::scores::COMPONENTS.iter().map(|c| format!("{}_pts", c.name)).collect::<Vec<_>>().join(" + ");
    let facts = rows(
        &lake,
        &format!(
            "SELECT count(*) AS scored, sum(CASE WHEN abs(score - ({pts})) < 1e-9 THEN 1 ELSE 0 END) AS adding_up, \
                    sum(CASE WHEN tier = '高风险' THEN 1 ELSE 0 END) AS high, sum(CASE WHEN tier = '中风险' THEN 1 ELSE 0 END) AS medium, \
                    (SELECT count(*) FROM villages) AS villages, (SELECT risk_score_rows FROM runs ORDER BY run_id DESC LIMIT 1) AS recorded FROM latest_risk_scores"
        ),
    );
    assert_eq!(facts[0], vec!["40", "40", "6", "14", "40", "40"], "40 villages: all scored, points add up, 6 high, 14 medium");

    let means = rows(
        &lake,
        "SELECT avg(CASE WHEN f.n > 0 THEN s.score END) AS with_findings, avg(CASE WHEN f.n IS NULL THEN s.score END) AS without FROM latest_risk_scores s \
         LEFT JOIN (SELECT village_code, count(*) AS n FROM latest_findings GROUP BY village_code) f ON f.village_code = s.village_code",
    );
    let (with, without): (f64, f64) = (means[0][0].parse().unwrap_or(0.0), means[0][1].parse().unwrap_or(f64::NAN));
    assert!(without.is_nan() || with > without, "villages with findings score higher on average: {with} vs {without}");

    let plan = xuncha_ok(&["--lake", lake_s, "plan"]);
    let uninspected = rows(&lake, "SELECT count(*) FROM villages WHERE village_code NOT IN (SELECT target_code FROM inspections WHERE term = '十三届')");
    assert_eq!(plan.lines().filter(|l| l.trim_start().starts_with('第')).count().to_string(), uninspected[0][0], "{plan}");

    // All weight on petitions: the ranking follows petition density.
    let config = dir.join("xuncha.toml");
    let zero: String = xuncha_queries::scores::COMPONENTS.iter().map(|c| format!("{} = {}\n", c.name, if c.name == "petitions_per_1000" { 1 } else { 0 })).collect();
    std::fs::write(&config, format!("[risk.weights]\n{zero}")).unwrap();
    xuncha_ok(&["--lake", lake_s, "--config", config.to_str().unwrap(), "run"]);
    let ranked = rows(&lake, "SELECT petitions_per_1000 FROM latest_risk_scores ORDER BY rank_in_county");
    let density: Vec<f64> = ranked.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(density.windows(2).all(|w| w[0] >= w[1]), "ranked by petition density: {density:?}");
    std::fs::write(&config, "[risk.weights]\npetition_rate = 1\n").unwrap();
    let bad = crate::common::xuncha(&["--lake", lake_s, "--config", config.to_str().unwrap(), "run"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("petition_rate"));
}
