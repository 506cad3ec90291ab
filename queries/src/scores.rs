//! Village risk scores (`risk_scores`): which villages to inspect next.
//!
//! `scores/risk_indicators.sql` computes, per village, raw indicators over
//! the 12 months to the reference date (petition density, repeat and
//! dissatisfied shares, the run's findings weighted by severity and their
//! amounts per rule family, 三资 volume, 工程 contracts and the share not
//! openly tendered, open and overdue problems, the unrectified share, months
//! since the last inspection). Each indicator becomes a percentile within
//! its county (0 = lowest, 1 = highest; ties share a percentile); the score
//! is `100 × Σ wᵢ·pᵢ / Σ wᵢ`, so the stored points of the components add up
//! to the score exactly. Tiers cut each county's ranking: the top
//! `high_share` are 高风险, the next `medium_share` 中风险, the rest 低风险.

use crate::QueryError;
use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;
use std::sync::Arc;
use xuncha_core::config::RiskConfig;

/// The indicators' SQL; `${as_of}` and `${year_ago}` are bound per run.
pub const INDICATORS_SQL: &str = include_str!("../scores/risk_indicators.sql");

pub use xuncha_core::system::{COMPONENTS, Component};

/// Tier names, highest risk first.
pub const TIERS: [&str; 3] = ["高风险", "中风险", "低风险"];

/// The weights of a configuration, normalized to sum to 1, in `COMPONENTS` order.
pub fn weights(config: &RiskConfig) -> Result<Vec<f64>, QueryError> {
    for name in config.weights.keys() {
        if !COMPONENTS.iter().any(|c| c.name == name) {
            return Err(QueryError::Usage(format!("xuncha.toml [risk.weights] 中没有指标「{name}」;可用: {}", COMPONENTS.iter().map(|c| c.name).collect::<Vec<_>>().join(", "))));
        }
    }
    let raw: Vec<f64> = COMPONENTS.iter().map(|c| config.weights.get(c.name).copied().unwrap_or(c.default_weight)).collect();
    let total: f64 = raw.iter().sum();
    if raw.iter().any(|w| !w.is_finite() || *w < 0.0) || total <= 0.0 {
        return Err(QueryError::Usage("xuncha.toml [risk.weights]: 权重须为非负数且不能全为 0".into()));
    }
    let (high, medium) = (config.high_share, config.medium_share);
    if !(0.0..=1.0).contains(&high) || !(0.0..=1.0).contains(&medium) || high + medium > 1.0 {
        return Err(QueryError::Usage("xuncha.toml [risk]: high_share 与 medium_share 须在 0–1 之间且合计不超过 1".into()));
    }
    Ok(raw.iter().map(|w| w / total).collect())
}

/// One village's raw indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicators {
    pub village_code: String,
    pub village_name: Option<String>,
    pub town_code: String,
    pub town_name: Option<String>,
    pub county_code: String,
    /// In `COMPONENTS` order.
    pub values: Vec<f64>,
}

/// One village's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub indicators: Indicators,
    pub score: f64,
    pub tier: &'static str,
    /// 1 = riskiest village of its county.
    pub rank: i32,
    /// Each component's points, in `COMPONENTS` order; they sum to `score`.
    pub points: Vec<f64>,
}

/// Scores villages: percentiles within each county, weighted, ranked, tiered.
pub fn score(villages: Vec<Indicators>, weights: &[f64], config: &RiskConfig) -> Vec<Scored> {
    let mut by_county: BTreeMap<String, Vec<Indicators>> = BTreeMap::new();
    for v in villages {
        by_county.entry(v.county_code.clone()).or_default().push(v);
    }
    let mut out = Vec::new();
    for (_, county) in by_county {
        let n = county.len();
        let sorted: Vec<Vec<f64>> = (0..weights.len())
            .map(|i| {
                let mut column: Vec<f64> = county.iter().map(|v| v.values[i]).collect();
                column.sort_by(f64::total_cmp);
                column
            })
            .collect();
        let mut scored: Vec<Scored> = county
            .into_iter()
            .map(|v| {
                let points: Vec<f64> = (0..weights.len()).map(|i| 100.0 * weights[i] * percentile(&sorted[i], v.values[i], n)).collect();
                Scored { score: points.iter().sum(), points, indicators: v, tier: TIERS[2], rank: 0 }
            })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.indicators.village_code.cmp(&b.indicators.village_code)));
        let high = (config.high_share * n as f64).round() as usize;
        let medium = ((config.high_share + config.medium_share) * n as f64).round() as usize;
        for (position, village) in scored.iter_mut().enumerate() {
            village.rank = i32::try_from(position + 1).unwrap_or(i32::MAX);
            village.tier = if position < high {
                TIERS[0]
            } else if position < medium {
                TIERS[1]
            } else {
                TIERS[2]
            };
        }
        out.extend(scored);
    }
    out
}

/// The share of the county's other villages with a strictly lower value.
fn percentile(sorted: &[f64], value: f64, n: usize) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let below = sorted.partition_point(|x| x.total_cmp(&value).is_lt());
    below as f64 / (n - 1) as f64
}

/// Reads the indicators from a session that has `run_findings` and `rule_catalogue`.
pub async fn indicators(ctx: &SessionContext, query: &crate::sheet::Bound) -> Result<Vec<Indicators>, QueryError> {
    let batches = query.frame(ctx).await?.collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        let text = |name: &str| -> Result<StringArray, QueryError> {
            let array = cast(batch.column(batch.schema().index_of(name)?), &DataType::Utf8)?;
            Ok(array.as_any().downcast_ref::<StringArray>().expect("utf8").clone())
        };
        let (codes, names, towns, town_names, counties) = (text("village_code")?, text("village_name")?, text("town_code")?, text("town_name")?, text("county_code")?);
        let values: Vec<Float64Array> = COMPONENTS
            .iter()
            .map(|c| {
                let array = cast(batch.column(batch.schema().index_of(c.name)?), &DataType::Float64)?;
                Ok(array.as_any().downcast_ref::<Float64Array>().expect("f64").clone())
            })
            .collect::<Result<_, QueryError>>()?;
        for row in 0..batch.num_rows() {
            let optional = |a: &StringArray| (!a.is_null(row)).then(|| a.value(row).to_string());
            out.push(Indicators {
                village_code: codes.value(row).to_string(),
                village_name: optional(&names),
                town_code: towns.value(row).to_string(),
                town_name: optional(&town_names),
                county_code: counties.value(row).to_string(),
                values: values.iter().map(|a| if a.is_null(row) { 0.0 } else { a.value(row) }).collect(),
            });
        }
    }
    Ok(out)
}

/// Scores as one batch of the `risk_scores` schema.
pub fn to_batch(run_id: &str, as_of: NaiveDate, scored: &[Scored]) -> Result<RecordBatch, QueryError> {
    let n = scored.len();
    let strings = |f: &dyn Fn(&Scored) -> Option<String>| Arc::new(scored.iter().map(f).collect::<StringArray>()) as ArrayRef;
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![run_id; n])),
        strings(&|s| Some(s.indicators.village_code.clone())),
        strings(&|s| s.indicators.village_name.clone()),
        strings(&|s| Some(s.indicators.town_code.clone())),
        strings(&|s| s.indicators.town_name.clone()),
        strings(&|s| Some(s.indicators.county_code.clone())),
        Arc::new(scored.iter().map(|s| s.score).collect::<Float64Array>()),
        strings(&|s| Some(s.tier.to_string())),
        Arc::new(scored.iter().map(|s| s.rank).collect::<Int32Array>()),
    ];
    for i in 0..COMPONENTS.len() {
        columns.push(Arc::new(scored.iter().map(|s| s.indicators.values[i]).collect::<Float64Array>()));
        columns.push(Arc::new(scored.iter().map(|s| s.points[i]).collect::<Float64Array>()));
    }
    columns.push(Arc::new(Date32Array::from(vec![Date32Type::from_naive_date(as_of); n])));
    Ok(RecordBatch::try_new(xuncha_core::system::risk_scores_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn village(code: &str, county: &str, values: Vec<f64>) -> Indicators {
        Indicators { village_code: code.into(), village_name: None, town_code: format!("{}000", &code[..9]), town_name: None, county_code: county.into(), values }
    }

    fn county(n: usize) -> Vec<Indicators> {
        (0..n).map(|i| village(&format!("430102001{i:03}"), "430102000000", (0..COMPONENTS.len()).map(|c| ((i * 7 + c * 3) % n) as f64).collect())).collect()
    }

    #[test]
    fn default_weights_sum_to_one_and_unknown_names_are_refused() {
        let w = weights(&RiskConfig::default()).unwrap();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut config = RiskConfig::default();
        config.weights.insert("petition_rate".into(), 1.0);
        assert!(weights(&config).unwrap_err().to_string().contains("petition_rate"));
        config.weights.clear();
        config.high_share = 0.8;
        config.medium_share = 0.5;
        assert!(weights(&config).is_err());
    }

    #[test]
    fn points_add_up_to_the_score_and_tiers_cut_the_ranking() {
        let config = RiskConfig::default();
        let scored = score(county(40), &weights(&config).unwrap(), &config);
        for s in &scored {
            assert!((s.points.iter().sum::<f64>() - s.score).abs() < 1e-9);
            assert!((0.0..=100.0).contains(&s.score));
        }
        let tiers: Vec<usize> = TIERS.iter().map(|t| scored.iter().filter(|s| s.tier == *t).count()).collect();
        assert_eq!(tiers, vec![6, 14, 20]);
        assert!(scored.windows(2).all(|w| w[0].score >= w[1].score && w[0].rank + 1 == w[1].rank));
    }

    #[test]
    fn percentiles_tie_and_stay_within_a_county() {
        let mut villages = vec![village("430102001001", "430102000000", vec![5.0; COMPONENTS.len()]), village("430102001002", "430102000000", vec![5.0; COMPONENTS.len()])];
        villages.push(village("430103001001", "430103000000", vec![0.0; COMPONENTS.len()]));
        let config = RiskConfig::default();
        let scored = score(villages, &weights(&config).unwrap(), &config);
        assert!(scored.iter().all(|s| s.score == 0.0), "equal values and a county of one score 0");
        assert_eq!(scored.iter().filter(|s| s.rank == 1).count(), 2, "each county ranks its own villages");
    }

    #[test]
    fn raising_a_weight_moves_ranks_towards_that_component() {
        let base = RiskConfig::default();
        let mut petitions_only = RiskConfig::default();
        for c in COMPONENTS {
            petitions_only.weights.insert(c.name.into(), if c.name == "petitions_per_1000" { 1.0 } else { 0.0 });
        }
        let villages = county(30);
        let order = |config: &RiskConfig| -> Vec<String> { score(villages.clone(), &weights(config).unwrap(), config).into_iter().map(|s| s.indicators.village_code).collect() };
        let by_petitions = order(&petitions_only);
        let mut expected = villages.clone();
        expected.sort_by(|a, b| b.values[0].total_cmp(&a.values[0]).then_with(|| a.village_code.cmp(&b.village_code)));
        assert_eq!(by_petitions, expected.iter().map(|v| v.village_code.clone()).collect::<Vec<_>>());
        assert_ne!(order(&base), by_petitions);
    }
}
