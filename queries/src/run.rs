//! `xuncha run`: every rule of the catalogue over the lake, at a reference
//! date, into one `findings` commit and one `runs` row.
//!
//! A finding carries its rule, severity, village and town, the entity key of
//! CONTRACT §3, the person, the period, the amount at stake and the evidence
//! (the matched rows' keys and values and the thresholds used) as JSON.
//! Run ids are UTC timestamps, so they sort in time order; the views
//! `latest_findings` and `latest_risk_scores` pick the newest run whose
//! status is `ok`.

use crate::QueryError;
use crate::rules::{Params, Rule, catalogue};
use crate::scores;
use crate::session::{SessionOptions, session};
use chrono::{NaiveDate, Utc};
use datafusion::arrow::array::{Array, ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, StructArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use xuncha_core::config::{Config, RiskConfig, Thresholds};
use xuncha_core::lake::Lake;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The reference date; by default the last day of the latest payment period.
    pub as_of: Option<NaiveDate>,
    /// Only these rules (all when empty).
    pub rules: Vec<String>,
    pub thresholds: Thresholds,
    /// A folder of extra rule files.
    pub rules_dir: Option<PathBuf>,
    pub risk: RiskConfig,
    pub session: SessionOptions,
    /// Sources that must hold rows of the run's month (`[rules]
    /// complete_for_period`): see [`waits_for`].
    pub complete_for_period: Vec<String>,
    /// Run every rule whatever its sources hold (a rule's hand-made test
    /// fixture holds only what the rule's logic needs); by default a rule
    /// waits for its sources (see [`waits_for`]).
    pub run_on_partial_data: bool,
}

impl RunOptions {
    /// Every rule at the default reference date, with the thresholds, rule
    /// folder and risk weights of `config`.
    pub fn configured(config: &Config, session: SessionOptions) -> RunOptions {
        RunOptions {
            thresholds: config.thresholds.clone(),
            rules_dir: config.rules.dir.clone(),
            risk: config.risk.clone(),
            complete_for_period: config.rules.complete_for_period.clone(),
            session,
            ..RunOptions::default()
        }
    }
}

/// How one rule went.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    pub rule_id: String,
    pub findings: usize,
    pub millis: u128,
    pub error: Option<String>,
    /// Why the rule did not run: a source it reads is not complete for the
    /// run's period (its cases are left as they are).
    pub waited: Option<String>,
}

impl RuleOutcome {
    /// The rule ran and its findings are the data's answer.
    pub fn ran(&self) -> bool {
        self.error.is_none() && self.waited.is_none()
    }
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: String,
    pub as_of: NaiveDate,
    pub rules: Vec<RuleOutcome>,
    pub findings: usize,
    pub risk_scores: usize,
    pub status: &'static str,
    /// The Delta version of each source table the run read (it read exactly
    /// these): `xuncha sql --version` reproduces its findings.
    pub table_versions: Vec<(String, u64)>,
}

/// The default reference date: the last day of the latest payment period.
pub async fn default_as_of(ctx: &SessionContext) -> Result<NaiveDate, QueryError> {
    let batches = ctx.sql("SELECT max(period) FROM subsidy_payments").await?.collect().await?;
    let latest = batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .map(|b| cast(b.column(0), &DataType::Utf8))
        .transpose()?
        .and_then(|a| a.as_any().downcast_ref::<StringArray>().filter(|a| !a.is_null(0)).map(|a| a.value(0).to_string()))
        .ok_or_else(|| QueryError::Usage("subsidy_payments 为空,无法确定参考日;请用 --as-of YYYY-MM-DD 指定".into()))?;
    let month = xuncha_core::values::parse_month(&latest).map_err(QueryError::Usage)?;
    Ok(month.last_day())
}

/// The current version of every source table in the lake.
async fn source_versions(lake: &Lake, sources: &xuncha_core::declared::Catalog) -> Result<Vec<(String, u64)>, QueryError> {
    let mut versions = Vec::new();
    for name in lake.tables()?.into_iter().filter(|t| sources.get(t).is_some()) {
        if let Some(version) = lake.table(&name).await?.and_then(|t| t.version()) {
            versions.push((name, version));
        }
    }
    Ok(versions)
}

/// A new run id: the UTC time to the millisecond, so ids sort in time order.
pub fn new_run_id() -> String {
    Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// Runs the rules and writes `findings` and `runs`.
pub async fn run(lake: &Lake, options: &RunOptions) -> Result<RunReport, QueryError> {
    let started = Utc::now();
    let run_id = new_run_id();
    let weights = scores::weights(&options.risk)?;
    let table_versions = match options.session.table_versions.is_empty() {
        true => source_versions(lake, &options.session.sources).await?,
        false => options.session.table_versions.clone(),
    };
    let ctx = session(lake, &SessionOptions { rules_dir: options.rules_dir.clone(), table_versions: table_versions.clone(), ..options.session.clone() }).await?;
    let as_of = match options.as_of {
        Some(d) => d,
        None => default_as_of(&ctx).await?,
    };
    let params = Params { as_of, thresholds: options.thresholds.clone() };
    let all = catalogue(options.rules_dir.as_deref())?;
    for wanted in &options.rules {
        if !all.iter().any(|r| &r.id == wanted) {
            return Err(QueryError::Usage(format!("没有规则「{wanted}」;可用: {}", all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", "))));
        }
    }
    let selected: Vec<&Rule> = all.iter().filter(|r| options.rules.is_empty() || options.rules.contains(&r.id)).collect();
    let detected_at = Utc::now().timestamp_micros();
    let mut batches = Vec::new();
    let mut outcomes = Vec::new();
    for rule in selected {
        let clock = Instant::now();
        let outcome = |findings: usize, error: Option<String>, waited: Option<String>| RuleOutcome { rule_id: rule.id.clone(), findings, millis: clock.elapsed().as_millis(), error, waited };
        let waiting = if options.run_on_partial_data { Ok(None) } else { waits_for(&ctx, rule, &params, &options.session.sources, &options.complete_for_period).await };
        match waiting {
            Ok(Some(why)) => {
                outcomes.push(outcome(0, None, Some(why)));
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                outcomes.push(outcome(0, Some(e.to_string()), None));
                continue;
            }
        }
        match findings_of(&ctx, rule, &params, &run_id, as_of, detected_at).await {
            Ok(found) => {
                let n = found.iter().map(RecordBatch::num_rows).sum();
                batches.extend(found);
                outcomes.push(outcome(n, None, None));
            }
            Err(e) => outcomes.push(outcome(0, Some(e.to_string()), None)),
        }
    }
    for o in &outcomes {
        let ms = u64::try_from(o.millis).unwrap_or(u64::MAX);
        match (&o.error, &o.waited) {
            (Some(e), _) => tracing::error!(run = %run_id, rule = %o.rule_id, ms, cause = %xuncha_core::values::star_long_numbers(e), "rule failed"),
            (None, Some(_)) => tracing::info!(run = %run_id, rule = %o.rule_id, "rule waits for its sources"),
            (None, None) => tracing::info!(run = %run_id, rule = %o.rule_id, findings = o.findings, ms, "rule ran"),
        }
    }
    let mut failed: Vec<String> = outcomes.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.rule_id))).collect();
    ctx.register_table("run_findings", Arc::new(MemTable::try_new(xuncha_core::system::findings_schema(), vec![batches.clone()])?))?;
    let scored = match risk_scores(&ctx, &params, &weights, &options.risk).await {
        Ok(scored) => scored,
        Err(e) => {
            failed.push(format!("risk_scores: {e}"));
            Vec::new()
        }
    };
    let status = if failed.is_empty() { "ok" } else { "error" };
    let findings: usize = outcomes.iter().map(|o| o.findings).sum();
    lake.append("findings", xuncha_core::system::findings_schema(), batches, Some(&format!("xuncha-run:{run_id}"))).await?;
    let risk_rows = scored.len();
    lake.append("risk_scores", xuncha_core::system::risk_scores_schema(), vec![scores::to_batch(&run_id, as_of, &scored)?], Some(&format!("xuncha-run:{run_id}"))).await?;
    let stats =
        serde_json::Value::Array(outcomes.iter().map(|o| serde_json::json!({"rule_id": o.rule_id, "findings": o.findings, "millis": o.millis, "error": o.error, "waited": o.waited})).collect());
    let error = (!failed.is_empty()).then(|| failed.join("\n"));
    let row = RunRow {
        run_id: &run_id,
        kind: "rules",
        started,
        status,
        as_of: Some(as_of),
        findings,
        risk_scores: risk_rows,
        stats: &stats.to_string(),
        thresholds: Some(&params.thresholds_json()),
        error: error.as_deref(),
    };
    record(lake, &row).await?;
    Ok(RunReport { run_id, as_of, rules: outcomes, findings, risk_scores: risk_rows, status, table_versions })
}

/// One row of `runs`.
#[derive(Debug, Clone)]
pub struct RunRow<'a> {
    pub run_id: &'a str,
    /// `rules` for `xuncha run`, `job:<name>` for a scheduled job.
    pub kind: &'a str,
    pub started: chrono::DateTime<Utc>,
    pub status: &'a str,
    pub as_of: Option<NaiveDate>,
    pub findings: usize,
    pub risk_scores: usize,
    /// JSON: per-rule statistics, or what a job did.
    pub stats: &'a str,
    pub thresholds: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Appends a row to `runs` (finished now), in its own commit.
pub async fn record(lake: &Lake, row: &RunRow<'_>) -> Result<(), QueryError> {
    let batch = RecordBatch::try_new(
        xuncha_core::system::runs_schema(),
        vec![
            Arc::new(StringArray::from(vec![row.run_id])),
            Arc::new(StringArray::from(vec![row.kind])),
            Arc::new(TimestampMicrosecondArray::from(vec![row.started.timestamp_micros()]).with_timezone("UTC")),
            Arc::new(TimestampMicrosecondArray::from(vec![Utc::now().timestamp_micros()]).with_timezone("UTC")),
            Arc::new(StringArray::from(vec![row.status])),
            Arc::new(Date32Array::from(vec![row.as_of.map(Date32Type::from_naive_date)])),
            Arc::new(Int64Array::from(vec![row.findings as i64])),
            Arc::new(Int64Array::from(vec![row.risk_scores as i64])),
            Arc::new(StringArray::from(vec![row.stats])),
            Arc::new(StringArray::from(vec![row.thresholds])),
            Arc::new(StringArray::from(vec![row.error])),
        ],
    )?;
    lake.append("runs", xuncha_core::system::runs_schema(), vec![batch], Some(&format!("xuncha-run:{}:{}", row.kind, row.run_id))).await?;
    Ok(())
}

/// Every village's score from the run's findings and the lake.
async fn risk_scores(ctx: &SessionContext, params: &Params, weights: &[f64], config: &RiskConfig) -> Result<Vec<scores::Scored>, QueryError> {
    let sql = crate::sheet::placeholders(scores::INDICATORS_SQL, "risk_indicators.sql")?;
    Ok(scores::score(scores::indicators(ctx, &params.bind(&sql, "risk_indicators.sql")?).await?, weights, config))
}

/// One rule's findings as batches of the `findings` schema.
/// Why `rule` must wait, if it must: a source it reads (the tables its
/// analyzed plan scans) has no rows yet, or — listed in
/// `complete_for_period` — no rows of the run's month. A rule run on part
/// of the data finds problems the whole data does not have.
async fn waits_for(ctx: &SessionContext, rule: &Rule, params: &Params, sources: &xuncha_core::declared::Catalog, complete_for_period: &[String]) -> Result<Option<String>, QueryError> {
    use datafusion::prelude::{col, lit};
    let plan = rule.bind(params)?.frame(ctx).await?.into_optimized_plan()?;
    let month = params.as_of.format("%Y-%m").to_string();
    let mut missing = Vec::new();
    for table in crate::lineage::tables(&plan) {
        let Some(source) = sources.get(&table) else { continue };
        let not_delivered = format!("「{}」({table}) 尚未报送", source.title);
        let Ok(rows) = ctx.table(table.as_str()).await else {
            missing.push(not_delivered);
            continue;
        };
        let period_column = source.columns.iter().find(|c| c.ty == xuncha_core::contract::ColumnType::Month).filter(|_| complete_for_period.contains(&table));
        let (rows, what) = match period_column {
            Some(column) => (rows.filter(col(column.name).eq(lit(month.as_str())))?, format!("「{}」({table}) 还没有 {month} 的数据", source.title)),
            None => (rows, not_delivered),
        };
        if rows.limit(0, Some(1))?.count().await? == 0 {
            missing.push(what);
        }
    }
    Ok((!missing.is_empty()).then(|| format!("等待数据齐全:{}", missing.join(";"))))
}

async fn findings_of(ctx: &SessionContext, rule: &Rule, params: &Params, run_id: &str, as_of: NaiveDate, detected_at: i64) -> Result<Vec<RecordBatch>, QueryError> {
    let batches = rule.bind(params)?.frame(ctx).await?.collect().await?;
    let schema = xuncha_core::system::findings_schema();
    let mut out = Vec::new();
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let n = batch.num_rows();
        let column = |name: &str, to: &DataType| -> Result<ArrayRef, QueryError> {
            let index = batch.schema().index_of(name).map_err(|_| QueryError::RuleOutput { rule: rule.id.clone(), column: name.to_string() })?;
            Ok(cast(batch.column(index), to)?)
        };
        let village = column("village_code", &DataType::Utf8)?;
        let town = match batch.schema().index_of("town_code") {
            Ok(i) => cast(batch.column(i), &DataType::Utf8)?,
            Err(_) => Arc::new(town_of(village.as_any().downcast_ref::<StringArray>().expect("utf8"))) as ArrayRef,
        };
        let evidence = evidence_json(batch.column(batch.schema().index_of("evidence").map_err(|_| QueryError::RuleOutput { rule: rule.id.clone(), column: "evidence".into() })?))?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![run_id; n])),
            Arc::new(StringArray::from(vec![rule.id.as_str(); n])),
            Arc::new(StringArray::from(vec![rule.severity.as_str(); n])),
            village,
            town,
            column("entity_key", &DataType::Utf8)?,
            column("id_number", &DataType::Utf8)?,
            column("person_name", &DataType::Utf8)?,
            column("period", &DataType::Utf8)?,
            column("amount", &DataType::Decimal128(18, 2))?,
            Arc::new(evidence),
            Arc::new(Date32Array::from(vec![Date32Type::from_naive_date(as_of); n])),
            Arc::new(TimestampMicrosecondArray::from(vec![detected_at; n]).with_timezone("UTC")),
        ];
        out.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(out)
}

/// The town of each village code (first nine digits, then `000`).
fn town_of(villages: &StringArray) -> StringArray {
    villages.iter().map(|v| v.filter(|v| v.len() == 12).map(|v| format!("{}000", &v[..9]))).collect()
}

/// Evidence as one JSON object per row (a struct column, or text as is).
fn evidence_json(column: &ArrayRef) -> Result<StringArray, QueryError> {
    let Some(structs) = column.as_any().downcast_ref::<StructArray>() else {
        return Ok(cast(column, &DataType::Utf8)?.as_any().downcast_ref::<StringArray>().expect("utf8").clone());
    };
    let batch = RecordBatch::from(structs.clone());
    let mut writer = arrow::json::LineDelimitedWriter::new(Vec::new());
    writer.write(&batch)?;
    writer.finish()?;
    let text = String::from_utf8(writer.into_inner())?;
    Ok(text.lines().map(Some).collect())
}
