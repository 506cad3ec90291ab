//! The DataFusion session over a lake: every Delta table registered by its
//! name (at its latest version, or as it was at a given time), empty tables
//! for sources not delivered yet, the UDFs, handy views, a memory pool that
//! spills to disk beyond its limit, and one partition per core.

use crate::rules::{Rule, catalogue};
use crate::{QueryError, sheet, udf};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::{FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use xuncha_core::declared::Catalog;
use xuncha_core::lake::Lake;
use xuncha_core::system::SYSTEM_TABLES;

/// How to build a session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Memory for execution; beyond it sorts, joins and aggregates spill.
    pub memory_limit_mb: u64,
    /// Where spills go (default: the system temporary folder).
    pub spill_dir: Option<PathBuf>,
    /// Read every table as it was at this time (time travel).
    pub as_of_time: Option<DateTime<Utc>>,
    /// Read these tables at these Delta versions (time travel per table;
    /// applied after `as_of_time`).
    pub table_versions: Vec<(String, u64)>,
    /// A folder of extra rule files, listed in the `rule_catalogue` table.
    pub rules_dir: Option<PathBuf>,
    /// Only the rows of this county, town or village (a 12-digit division
    /// code): every table is replaced by its rows in scope, and tables that
    /// cannot be scoped (the quarantine's raw rows) are left out.
    pub scope: Option<String>,
    /// Cases due within this many days are 临期 (`[cases] due_soon_days`).
    pub due_soon_days: u32,
    /// The day deadlines are measured against (`[cases] today`; the
    /// calendar's when `None`).
    pub today: Option<NaiveDate>,
    /// The sources in force (the contract's and those `xuncha.toml`
    /// declares); the session carries them as a config extension, for the
    /// titles and headers of `catalog`.
    pub sources: Catalog,
    /// What new case numbers start with (`[cases] number_prefix`).
    pub case_number_prefix: String,
    /// The office's time zone (`[server] timezone`), for `local_time`.
    pub timezone: String,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            memory_limit_mb: 4096,
            spill_dir: None,
            as_of_time: None,
            table_versions: Vec::new(),
            rules_dir: None,
            scope: None,
            due_soon_days: 7,
            today: None,
            sources: Catalog::default(),
            case_number_prefix: "巡线".into(),
            timezone: "Asia/Shanghai".into(),
        }
    }
}

/// The memory pool, except that `RepartitionExec` is never refused memory.
///
/// DataFusion 55.2's repartition writes a batch it cannot reserve memory for
/// to a spill pool, and its reader can wait forever when two such files are
/// open (apache/datafusion#24883, fixed after 55.2): under a tight limit a
/// join then hung until the time limit instead of spilling elsewhere or
/// saying "resources exhausted". A repartition holds only the few batches in
/// flight between its input and output partitions, so its memory is counted
/// (the other consumers see it) but never refused.
#[derive(Debug)]
struct RepartitionNeverSpills<P>(P);

impl<P: MemoryPool> std::fmt::Display for RepartitionNeverSpills<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl<P: MemoryPool> MemoryPool for RepartitionNeverSpills<P> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn register(&self, consumer: &MemoryConsumer) {
        self.0.register(consumer);
    }
    fn unregister(&self, consumer: &MemoryConsumer) {
        self.0.unregister(consumer);
    }
    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.0.grow(reservation, additional);
    }
    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.0.shrink(reservation, shrink);
    }
    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> datafusion::error::Result<()> {
        if reservation.consumer().name().starts_with("RepartitionExec") {
            self.0.grow(reservation, additional);
            return Ok(());
        }
        self.0.try_grow(reservation, additional)
    }
    fn reserved(&self) -> usize {
        self.0.reserved()
    }
    fn memory_limit(&self) -> MemoryLimit {
        self.0.memory_limit()
    }
}

/// Views every session has.
const VIEWS: &[(&str, &str)] = &[
    (
        "villages",
        "SELECT v.code AS village_code, v.name AS village_name, substr(v.code, 1, 9) || '000' AS town_code, t.name AS town_name, \
         substr(v.code, 1, 6) || '000000' AS county_code, c.name AS county_name, v.population, v.households \
         FROM divisions v \
         LEFT JOIN divisions t ON t.code = substr(v.code, 1, 9) || '000' \
         LEFT JOIN divisions c ON c.code = substr(v.code, 1, 6) || '000000' \
         WHERE v.level = '村'",
    ),
    ("towns", "SELECT DISTINCT town_code, town_name FROM villages"),
    ("rounds", "SELECT DISTINCT round_id, term, round_no, term || '第' || CAST(round_no AS VARCHAR) || '轮' AS round_label FROM inspections"),
    (
        "death_dates",
        "SELECT id_number, min(death_date) AS death_date FROM ( \
           SELECT id_number, death_date FROM deaths \
           UNION ALL SELECT id_number, status_date FROM population WHERE status = '死亡' AND status_date IS NOT NULL \
         ) GROUP BY id_number",
    ),
];

/// Views over the outputs of `xuncha run`.
const RUN_VIEWS: &[(&str, &str)] = &[
    ("latest_findings", "SELECT * FROM findings WHERE run_id = (SELECT max(run_id) FROM runs WHERE kind = 'rules' AND status = 'ok')"),
    // Each case as it stands: its last event's state, the latest value of
    // what events set (unit, time limit, verdict, data flag), the money and
    // people of all its events, and its findings. 逾期: past its time limit
    // while 已交办 or 整改中; 临期: within `[cases] due_soon_days` days of
    // it, both measured against `[cases] today` (default: today); 逾期天数
    // how long past it.
    (
        "cases",
        "WITH history AS ( \
           SELECT case_id, max(seq) AS events, min(at) AS found_at, \
                  first_value(unit_code ORDER BY seq DESC) FILTER (WHERE unit_code IS NOT NULL) AS unit_code, \
                  first_value(due ORDER BY seq DESC) FILTER (WHERE due IS NOT NULL) AS due, \
                  first_value(verdict ORDER BY seq DESC) FILTER (WHERE verdict IS NOT NULL) AS verdict, \
                  first_value(flag ORDER BY seq DESC) FILTER (WHERE flag IS NOT NULL) AS flag, \
                  first_value(transfer ORDER BY seq DESC) FILTER (WHERE transfer IS NOT NULL) AS transfer, \
                  sum(recovered) AS recovered, sum(back_paid) AS back_paid, sum(people) AS people, \
                  max(case_no) AS case_no \
           FROM case_events GROUP BY case_id), \
         held AS ( \
           SELECT case_id, count(*) AS findings, sum(amount) AS amount, min(period) AS first_period, max(period) AS last_period \
           FROM case_findings GROUP BY case_id), \
         clock AS (SELECT coalesce(${today}, current_date()) AS today) \
         SELECT e.case_id, e.rule_id, e.subject, e.village_code, e.state, h.flag, h.unit_code, h.due, \
                CASE WHEN e.state IN ('已交办', '整改中') AND h.due < k.today THEN '逾期' \
                     WHEN e.state IN ('已交办', '整改中') AND h.due <= k.today + ${due_soon_span} THEN '临期' END AS deadline, \
                CASE WHEN e.state IN ('已交办', '整改中') AND h.due < k.today THEN k.today - h.due END AS days_overdue, \
                h.verdict, h.transfer, h.recovered, h.back_paid, h.people, f.findings, f.amount, f.first_period, f.last_period, \
                h.found_at, e.at AS changed_at, e.user AS changed_by, h.events, coalesce(h.case_no, e.case_id) AS case_no \
         FROM case_events e JOIN history h ON h.case_id = e.case_id AND h.events = e.seq \
         LEFT JOIN held f ON f.case_id = e.case_id CROSS JOIN clock k",
    ),
    ("latest_risk_scores", "SELECT * FROM risk_scores WHERE run_id = (SELECT max(run_id) FROM runs WHERE kind = 'rules' AND status = 'ok')"),
    // The case funnel, defined once (the overview's panel, the queue's
    // `stage` filter, the letters and the tests all read these two views):
    // its steps in order, and every live case (not 已撤销) at every step it
    // has passed — 交办 (handed to a unit), 已核查 (a verdict given), 属实
    // (属实 or 部分属实), 整改完成 (已整改 or 已销号), 销号, 线索移交, 立案.
    ("funnel_stages", "SELECT * FROM (VALUES (1, '疑点'), (2, '交办'), (3, '已核查'), (4, '属实'), (5, '整改完成'), (6, '销号'), (7, '线索移交'), (8, '立案')) AS s(step, stage)"),
    (
        "case_stages",
        "SELECT c.case_id, s.step, s.stage FROM cases c CROSS JOIN funnel_stages s \
         WHERE c.state <> '已撤销' AND CASE s.step \
           WHEN 1 THEN true \
           WHEN 2 THEN c.state <> '待交办' \
           WHEN 3 THEN c.verdict IS NOT NULL \
           WHEN 4 THEN c.verdict IN ('属实', '部分属实') \
           WHEN 5 THEN c.state IN ('已整改', '已销号') \
           WHEN 6 THEN c.state = '已销号' \
           WHEN 7 THEN c.transfer IS NOT NULL \
           WHEN 8 THEN c.transfer IN ('立案', '党纪政务处分') END",
    ),
];

/// Builds a session over every table of `lake`.
pub async fn session(lake: &Lake, options: &SessionOptions) -> Result<SessionContext, QueryError> {
    let limit = usize::try_from(options.memory_limit_mb).unwrap_or(usize::MAX / (1 << 20)) << 20;
    let pool = TrackConsumersPool::new(FairSpillPool::new(limit), NonZeroUsize::new(5).expect("non-zero"));
    let mut runtime = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(RepartitionNeverSpills(pool)));
    if let Some(dir) = &options.spill_dir {
        std::fs::create_dir_all(dir)?;
        runtime = runtime.with_temp_file_path(dir.clone());
    }
    let cores = std::thread::available_parallelism().map_or(2, NonZeroUsize::get);
    let config = SessionConfig::new()
        .with_target_partitions(cores)
        .with_information_schema(true)
        .with_extension(Arc::new(options.sources.clone()))
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
        // Joins run in the order the SQL writes them (see `rules`): swapping
        // by file statistics put 34M payments on a hash join's build side
        // once a table's files were compacted (fewer, larger files give the
        // planner row counts), so a layout change could make a rule 100×
        // slower or exhaust memory.
        .set_bool("datafusion.optimizer.join_reordering", false);
    let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
    udf::register(&ctx);
    let zone = options.timezone.parse().map_err(|_| QueryError::Usage(format!("[server] timezone「{}」不是有效的时区(如 Asia/Shanghai)", options.timezone)))?;
    ctx.register_udf(udf::local_time(zone));
    let present = lake.tables()?;
    if let Some((name, _)) = options.table_versions.iter().find(|(name, _)| !present.contains(name)) {
        return Err(QueryError::Usage(format!("湖中没有表「{name}」(有: {})", present.join("、"))));
    }
    let mut providers: Vec<(String, Arc<dyn TableProvider>)> = Vec::new();
    for name in &present {
        let mut table = lake.table(name).await?.expect("listed table exists");
        if let Some(at) = options.as_of_time {
            table.load_with_datetime(at).await?;
        }
        if let Some((_, version)) = options.table_versions.iter().find(|(n, _)| n == name) {
            table.load_version(*version).await.map_err(|e| QueryError::Usage(format!("表「{name}」没有版本 {version}: {e}")))?;
        }
        table.update_datafusion_session(&ctx.state())?;
        providers.push((name.clone(), table.table_provider().await?));
    }
    // A table not written yet is there, empty: a query or panel over it
    // answers "nothing" rather than failing before the first load or run.
    let absent = options.sources.all().map(|s| (s.name, xuncha_core::contract::schema(s))).chain(SYSTEM_TABLES.iter().map(|(name, schema)| (*name, schema())));
    for (name, schema) in absent.filter(|(name, _)| !present.iter().any(|p| p == name)) {
        providers.push((name.to_string(), Arc::new(MemTable::try_new(schema, vec![vec![]])?)));
    }
    match &options.scope {
        None => {
            for (name, provider) in providers {
                ctx.register_table(name.as_str(), provider)?;
            }
        }
        Some(code) => crate::scope::register_scoped(&ctx, &options.sources, providers, &crate::scope::scope_prefix(code)?).await?,
    }
    ctx.register_table("rule_catalogue", Arc::new(rule_catalogue(&catalogue(options.rules_dir.as_deref())?)?))?;
    ctx.register_table("labels", Arc::new(labels(&options.sources)?))?;
    for (name, sql) in VIEWS {
        ctx.register_table(*name, ctx.sql(sql).await?.into_view())?;
    }
    let clock = [("today", sheet::date(options.today)), ("due_soon_span", sheet::days(options.due_soon_days.into()))];
    for (name, sql) in RUN_VIEWS {
        let view = sheet::Bound::new(&sheet::placeholders(sql, name)?, &clock, name)?;
        ctx.register_table(*name, view.frame(&ctx).await?.into_view())?;
    }
    Ok(ctx)
}

/// The rule catalogue as a table: what each rule means, for analysts,
/// the dashboard and the reports.
/// `labels` (kind, code, label): the words a page shows for what the lake
/// stores as codes — each source's title (`source`) and each quarantine
/// reason kind (`reason`).
fn labels(sources: &Catalog) -> Result<MemTable, QueryError> {
    let rows: Vec<(&'static str, &'static str, &'static str)> =
        sources.all().map(|s| ("source", s.name, s.title)).chain(xuncha_core::system::REASON_KINDS.iter().map(|(kind, words)| ("reason", *kind, *words))).collect();
    let schema = Arc::new(Schema::new(["kind", "code", "label"].iter().map(|n| Field::new(*n, DataType::Utf8, false)).collect::<Vec<_>>()));
    let column = |f: fn(&(&'static str, &'static str, &'static str)) -> &'static str| Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>()) as _;
    let batch = RecordBatch::try_new(schema.clone(), vec![column(|r| r.0), column(|r| r.1), column(|r| r.2)])?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

fn rule_catalogue(rules: &[Rule]) -> Result<MemTable, QueryError> {
    let names = ["rule_id", "title", "severity", "sector", "topic", "description", "origin"];
    let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, DataType::Utf8, false)).collect::<Vec<_>>()));
    let column = |f: fn(&Rule) -> &str| Arc::new(rules.iter().map(|r| Some(f(r))).collect::<StringArray>()) as _;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![column(|r| &r.id), column(|r| &r.title), column(|r| &r.severity), column(|r| &r.sector), column(|r| &r.topic), column(|r| &r.description), column(|r| &r.origin)],
    )?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repartition_is_counted_but_never_refused_and_the_others_are_limited() {
        let pool: Arc<dyn MemoryPool> = Arc::new(RepartitionNeverSpills(FairSpillPool::new(1000)));
        let repartition = MemoryConsumer::new("RepartitionExec[0]").with_can_spill(true).register(&pool);
        repartition.try_grow(5000).expect("a repartition is never refused");
        assert_eq!(pool.reserved(), 5000, "but it is counted");
        let join = MemoryConsumer::new("HashJoinInput[0]").register(&pool);
        assert!(join.try_grow(10).is_err(), "the others see the repartition's memory");
        drop(repartition);
        join.try_grow(900).expect("freed when the repartition is done");
        assert!(join.try_grow(200).is_err(), "and the limit holds for them");
    }

    #[test]
    fn no_declared_source_can_take_a_view_name() {
        for (name, _) in VIEWS.iter().chain(RUN_VIEWS) {
            assert!(xuncha_core::declared::RESERVED_NAMES.contains(name), "{name}");
        }
        assert!(xuncha_core::declared::RESERVED_NAMES.contains(&"rule_catalogue"));
        assert!(xuncha_core::declared::RESERVED_NAMES.contains(&"labels"));
    }
}
