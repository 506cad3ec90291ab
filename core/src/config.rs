//! `xuncha.toml`: the one configuration file. Strict: an unknown key is an
//! error that names it. Every setting has a default, so the file is optional.
//!
//! ```toml
//! lake = "./lake"
//! [rules]
//! dir = "my-rules"            # more rule files beside the built-in ones
//! complete_for_period = ["subsidy_payments"]  # a rule reading these waits for the run's month
//! [thresholds]
//! split_limit = 100000        # 拆分工程: the tendering limit (yuan)
//! split_window_days = 90
//! travel_min = 2000           # 公款旅游: minimum amount (yuan)
//! travel_keywords = ["旅游", "景区", "门票", "度假", "参观学习", "考察学习"]
//! rebound_days = 180          # 整改反弹: window after rectification
//! shared_account_households = 3
//! [engine]
//! memory_limit_mb = 4096
//! query_timeout_secs = 120
//! [risk]                      # 村级风险评分
//! high_share = 0.15           # top 15% of a county: 高风险
//! medium_share = 0.35         # next 35%: 中风险
//! [risk.weights]              # any component left out keeps its default weight
//! petitions_per_1000 = 0.15
//! months_since_inspection = 0.10
//! [report]
//! common_min_towns = 3        # a topic is common in ≥ max(3, 30% of) the towns
//! common_town_share = 0.30
//! rounds_per_term = 10        # 巡察 rounds in one term (届), for the plan
//! [server]
//! session_ttl_secs = 28800    # a login lasts 8 hours without activity
//! max_rows = 5000             # SQL console: rows shown or downloaded
//! console_slots = 2           # SQL console: queries running at once
//! [ingest.money_ceilings]     # an amount above its column's ceiling is quarantined (yuan)
//! "subsidy_payments.amount" = 1000000
//! ```

use crate::CoreError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The lake folder; the command line's `--lake` and `XUNCHA_LAKE` win.
    pub lake: Option<PathBuf>,
    pub rules: RulesConfig,
    pub thresholds: Thresholds,
    pub engine: EngineConfig,
    pub risk: RiskConfig,
    pub report: ReportConfig,
    pub server: ServerConfig,
    /// Scheduled jobs (see `schedule`).
    pub schedule: ScheduleConfig,
    pub ingest: IngestConfig,
    pub cases: CasesConfig,
    /// Header spellings for every source: `"证件号码" = "id_number"` (see `mapping`).
    pub headers: std::collections::BTreeMap<String, String>,
    /// Per source: `[sources.NAME.headers]`.
    pub sources: std::collections::BTreeMap<String, SourceConfig>,
}

/// `[sources.NAME]`: a department's own spellings for one source, and,
/// for a name the contract does not have, the source's declaration (see
/// [`crate::declared`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Header spelling → the column name.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Column → (a department's value → an allowed value).
    pub values: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// A declared source's Chinese title.
    pub title: Option<String>,
    /// A declared source's key columns.
    pub key: Vec<String>,
    /// The column holding a declared source's village code.
    pub scope: Option<String>,
    /// A declared source's columns.
    pub columns: Vec<crate::declared::ColumnDeclaration>,
}

impl SourceConfig {
    fn declaration(&self) -> crate::declared::SourceDeclaration {
        crate::declared::SourceDeclaration { title: self.title.clone(), key: self.key.clone(), scope: self.scope.clone(), columns: self.columns.clone() }
    }
}

/// The `[cases]` section: time limits of the case workflow.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CasesConfig {
    /// A case due within this many days shows yellow (临期); past due, red (逾期).
    pub due_soon_days: u32,
    /// The date deadlines are measured against, instead of the calendar's:
    /// for drills, training and tests only ("as if today were …"), YYYY-MM-DD.
    pub today: Option<String>,
    /// What a case number starts with: `攸巡线` makes `攸巡线〔2026〕0001号`
    /// (the year the case was found, then its number in that year).
    pub number_prefix: String,
}

impl CasesConfig {
    /// The configured `today`, checked.
    pub fn today(&self) -> Result<Option<chrono::NaiveDate>, String> {
        self.today.as_deref().map(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| format!("[cases] today「{t}」应为 YYYY-MM-DD 格式的日期"))).transpose()
    }
}

impl Default for CasesConfig {
    fn default() -> Self {
        CasesConfig { due_soon_days: 7, today: None, number_prefix: "巡线".into() }
    }
}

/// What ingest accepts beyond the contract's types.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// `"source.column"` → the largest amount (yuan, either sign) a
    /// department could mean in that money column; a larger one is
    /// quarantined as `bad_money`. Overrides [`DEFAULT_MONEY_CEILINGS`].
    pub money_ceilings: std::collections::BTreeMap<String, u64>,
    /// The header mappings in force (from `[headers]` and
    /// `[sources.NAME.headers]`, checked by [`Config::parse`]).
    #[serde(skip)]
    pub headers: crate::mapping::HeaderMappings,
    /// The value mappings in force (from `[sources.NAME.values.COLUMN]`).
    #[serde(skip)]
    pub values: crate::mapping::ValueMappings,
    /// The sources in force: the contract's and those `[sources.NAME]` declares.
    #[serde(skip)]
    pub sources: crate::declared::Catalog,
}

/// The shipped ceilings: no single livelihood payment reaches a million
/// yuan (the largest, 危房改造, is tens of thousands), nor a welfare job's
/// monthly wage a hundred thousand. Other money columns are bounded only
/// by what Decimal(18,2) holds.
pub const DEFAULT_MONEY_CEILINGS: &[(&str, u64)] = &[("subsidy_payments.amount", 1_000_000), ("welfare_jobs.monthly_wage", 100_000)];

impl IngestConfig {
    /// The ceiling of money column `column` of `source`, if it has one.
    pub fn money_ceiling(&self, source: &str, column: &str) -> Option<u64> {
        let key = format!("{source}.{column}");
        self.money_ceilings.get(&key).copied().or_else(|| DEFAULT_MONEY_CEILINGS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
    }

    /// Every key names a money column of a source.
    fn check(&self) -> Result<(), String> {
        for key in self.money_ceilings.keys() {
            let column = key.split_once('.').and_then(|(s, c)| self.sources.get(s)?.column(c));
            if !column.is_some_and(|c| c.ty == crate::contract::ColumnType::Money) {
                return Err(format!("[ingest.money_ceilings] 中的「{key}」不是金额列(应写成 \"数据源.列名\",如 \"subsidy_payments.amount\")"));
            }
        }
        Ok(())
    }
}

/// Dashboard limits and security settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A login ends after this long without a request …
    pub session_ttl_secs: u64,
    /// … and after this long in any case.
    pub session_max_secs: u64,
    /// Rows shown or exported by the SQL console.
    pub max_rows: usize,
    /// The SQL console's result size in memory, in MiB.
    pub max_result_mb: usize,
    /// Console queries running at once.
    pub console_slots: usize,
    /// Session cookies carry `Secure` (serve over TLS, or behind a TLS proxy).
    pub secure_cookies: bool,
    /// A request with `X-Forwarded-Proto: https` (from a trusted reverse
    /// proxy) gets a `Secure` cookie even without `secure_cookies`.
    pub trust_forwarded_proto: bool,
    /// Rows with full ID numbers a bulk-identity user may take from the SQL
    /// console per day; beyond it the console masks as for everyone else.
    pub bulk_identity_daily_rows: usize,
    /// Where the audit log's anchor and key are kept: outside the lake, so
    /// that one who can write the lake cannot cut or rebuild the log unseen
    /// (default: `$XDG_STATE_HOME/xuncha` or `~/.local/state/xuncha`).
    pub audit_anchor_dir: Option<std::path::PathBuf>,
    /// A request's body (a form, an upload) must arrive within this many
    /// seconds; a client trickling it byte by byte is let go.
    pub body_read_secs: u64,
    /// The office's time zone: every time a page, letter or export shows
    /// is in it (`2026年12月7日 12:57`); the lake keeps UTC.
    pub timezone: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            session_ttl_secs: 8 * 3600,
            session_max_secs: 12 * 3600,
            max_rows: 5_000,
            max_result_mb: 32,
            console_slots: 2,
            secure_cookies: false,
            trust_forwarded_proto: false,
            bulk_identity_daily_rows: 2_000,
            audit_anchor_dir: None,
            body_read_secs: 20,
            timezone: "Asia/Shanghai".into(),
        }
    }
}

/// How village risk scores are weighted and cut into tiers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Component name → weight; components not named keep their default
    /// weight. The query layer rejects a name that is not a component.
    pub weights: std::collections::BTreeMap<String, f64>,
    /// Share of a county's villages rated 高风险 (highest scores).
    pub high_share: f64,
    /// Share rated 中风险 after those.
    pub medium_share: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig { weights: Default::default(), high_share: 0.15, medium_share: 0.35 }
    }
}

/// Common-issue reports and the inspection plan.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// A topic is common when found in at least this many towns …
    pub common_min_towns: u32,
    /// … and at least this share of the scope's towns.
    pub common_town_share: f64,
    /// Rounds in one term (届), for full-coverage planning.
    pub rounds_per_term: u32,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig { common_min_towns: 3, common_town_share: 0.30, rounds_per_term: 10 }
    }
}

/// Where rules come from besides the built-in catalogue.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// A folder of `<rule_id>.sql` files added to (or replacing) built-in rules.
    pub dir: Option<PathBuf>,
    /// Sources complete for a run only when they hold rows of the run's
    /// month (their month column): a rule reading one waits until then.
    /// Every source a rule reads must at least have been delivered.
    pub complete_for_period: Vec<String>,
}

/// The cut-offs of the rules; each finding's evidence records the ones used.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub split_limit: u64,
    pub split_window_days: u32,
    pub travel_min: u64,
    pub travel_keywords: Vec<String>,
    pub rebound_days: u32,
    pub shared_account_households: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            split_limit: 100_000,
            split_window_days: 90,
            travel_min: 2_000,
            travel_keywords: ["旅游", "景区", "门票", "度假", "参观学习", "考察学习"].map(String::from).to_vec(),
            rebound_days: 180,
            shared_account_households: 3,
        }
    }
}

/// Query engine limits.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Memory for query execution; beyond it operators spill to disk.
    pub memory_limit_mb: u64,
    /// Analysts' queries are cancelled after this long.
    pub query_timeout_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { memory_limit_mb: 4096, query_timeout_secs: 120 }
    }
}

impl Config {
    /// Reads `path`, or the defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Config, CoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| CoreError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Parses the text of a `xuncha.toml`.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, source) in &config.sources {
            let declaration = source.declaration();
            if crate::contract::source(name).is_none() {
                config.ingest.sources.declare(name, &declaration)?;
            } else if !declaration.is_empty() {
                return Err(format!("[sources.{name}]:「{name}」是合同规定的数据来源,它的列、key 和 scope 不能改;这里只能写 headers 和 values 映射"));
            }
        }
        config.ingest.check()?;
        let per_source = config.sources.iter().map(|(name, s)| (name.clone(), s.headers.clone())).collect();
        config.ingest.headers = crate::mapping::HeaderMappings::new(&config.headers, &per_source, &config.ingest.sources)?;
        let values = config.sources.iter().map(|(name, s)| (name.clone(), s.values.clone())).collect();
        config.ingest.values = crate::mapping::ValueMappings::new(&values, &config.ingest.sources)?;
        config.cases.today()?;
        Ok(config)
    }
}

/// The `[schedule]` section.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    pub timezone: String,
    /// A file is complete when its size and time have not changed for this long
    /// (or when a `<file>.done` marker sits beside it).
    pub settle_secs: u64,
    pub jobs: Vec<JobConfig>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { timezone: "Asia/Shanghai".into(), settle_secs: 10, jobs: Vec::new() }
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Load the complete files of an inbox, then archive or reject them.
    Ingest,
    /// Run the rules and risk scores.
    Run,
    /// Write the common-issue report into a folder.
    Report,
    /// Compact every table's small files (`xuncha optimize`), then delete
    /// the files no version of the last `retain_hours` reads (`xuncha vacuum`).
    Maintain,
}

/// One `[[schedule.jobs]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    pub name: String,
    pub cron: String,
    pub action: Action,
    pub inbox: Option<PathBuf>,
    /// Only these sources of the inbox (all when empty).
    #[serde(default)]
    pub sources: Vec<String>,
    /// After an ingest that loaded rows, run the rules and scores too.
    #[serde(default = "yes")]
    pub then_run: bool,
    /// Report folder (report jobs).
    pub out: Option<PathBuf>,
    #[serde(default = "three")]
    pub retries: u32,
    #[serde(default = "minute")]
    pub retry_backoff_secs: u64,
    /// Maintain jobs: keep the files the versions of this many hours read.
    #[serde(default = "week_hours")]
    pub retain_hours: u32,
}

fn yes() -> bool {
    true
}
fn three() -> u32 {
    3
}
fn week_hours() -> u32 {
    168
}
fn minute() -> u64 {
    60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_full_file_parse() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("lake = \"/data/lake\"\n[thresholds]\nsplit_limit = 50000\n[engine]\nmemory_limit_mb = 1024\n").unwrap();
        assert_eq!(c.thresholds.split_limit, 50_000);
        assert_eq!(c.thresholds.rebound_days, 180);
        assert_eq!(c.engine.memory_limit_mb, 1024);
        let c = Config::parse("[risk]\nhigh_share = 0.2\n[risk.weights]\npetitions_per_1000 = 0.5\n").unwrap();
        assert_eq!(c.risk.weights["petitions_per_1000"], 0.5);
        assert_eq!(c.risk.medium_share, 0.35);
    }

    #[test]
    fn money_ceilings_override_the_defaults_and_name_money_columns_only() {
        let c = Config::parse("[ingest.money_ceilings]\n\"contracts.amount\" = 5000000\n").unwrap();
        assert_eq!(c.ingest.money_ceiling("contracts", "amount"), Some(5_000_000));
        assert_eq!(c.ingest.money_ceiling("subsidy_payments", "amount"), Some(1_000_000), "a default kept");
        assert_eq!(Config::default().ingest.money_ceiling("finance_vouchers", "amount"), None);
        for bad in ["\"contracts.title\" = 1", "\"nowhere.amount\" = 1", "amount = 1"] {
            let e = Config::parse(&format!("[ingest.money_ceilings]\n{bad}\n")).unwrap_err();
            assert!(e.contains("不是金额列"), "{bad}: {e}");
        }
    }

    /// The declared source of README (`tests/fixtures/declared-source.toml`).
    const DISABLED: &str = include_str!("../../tests/fixtures/declared-source.toml");

    #[test]
    fn a_declared_source_is_a_source_with_the_contract_types() {
        let c = Config::parse(DISABLED).unwrap();
        let s = c.ingest.sources.get("disabled_persons").expect("declared");
        assert_eq!((s.title, s.key), ("残疾人名册", &["id_number"][..]));
        assert_eq!(s.scope, crate::contract::Scope::Code("village_code"));
        assert_eq!(s.column("village_code").unwrap().ty, crate::contract::ColumnType::Code, "the scope column is a division code");
        assert!(matches!(s.column("level").unwrap().ty, crate::contract::ColumnType::Enum(["一级", "二级", "三级", "四级"])));
        assert_eq!(c.ingest.sources.all().count(), 17);
        assert_eq!(s.columns.len(), 5);
        let via = |h: &str| c.ingest.headers.column(s, h).map(|(i, via)| (s.columns[i].name, via));
        assert_eq!(via("残疾人身份证号"), Some(("id_number", crate::mapping::Via::Alias)));
        assert_eq!(via("残疾证号码"), Some(("id_number", crate::mapping::Via::Configured)));
        assert_eq!(via("身份证号"), Some(("id_number", crate::mapping::Via::Contract)), "the contract's header normalization holds");
        assert_eq!(c.ingest.values.of("disabled_persons", "level").unwrap()["一级残疾"], "一级");
    }

    #[test]
    fn a_bad_declaration_is_named() {
        let bad = |from: &str, to: &str, wanted: &str| {
            assert!(DISABLED.contains(from), "{from}");
            let e = Config::parse(&DISABLED.replacen(from, to, 1)).unwrap_err();
            assert!(e.contains(wanted), "{from} → {to}: {e}");
        };
        bad("type = \"date\"", "type = \"datetime\"", "类型「datetime」不是合同的类型");
        bad("key = [\"id_number\"]", "key = [\"certificate\"]", "key 中的「certificate」不是已声明的列");
        bad("key = [\"id_number\"]", "key = [\"level\"]", "必须是必填列");
        bad("key = [\"id_number\"]\n", "", "缺少 key");
        bad("scope = \"village_code\"", "scope = \"town\"", "scope 中的「town」不是已声明的列");
        bad("scope = \"village_code\"", "scope = \"certified_date\"", "应为 str 类型");
        bad("required = true\naliases", "required = true\nrequierd = true\naliases", "requierd");
        bad("title = \"残疾人名册\"", "titel = \"残疾人名册\"", "titel");
        bad("name = \"id_number\"", "name = \"certificate\"", "列名须含 id_number");
        bad("name = \"name\"", "name = \"holder\"", "列名须以 name 结尾");
        bad("name = \"level\"", "name = \"village_code\"", "列名重复");
        bad("header = \"发证日期\"", "header = \"残疾人身份证号\"", "表头「残疾人身份证号」与列「id_number」");
        let e = Config::parse(&DISABLED.replace("disabled_persons", "findings")).unwrap_err();
        assert!(e.contains("湖中已有的表"), "{e}");
        bad("\"残疾证号码\" = \"id_number\"", "\"残疾证号码\" = \"idnumber\"", "没有列「idnumber」");
        bad("\"一级残疾\" = \"一级\"", "\"一级残疾\" = \"特级\"", "「特级」不在允许值之内");
        let e = Config::parse("[sources.population]\nkey = [\"name\"]\n").unwrap_err();
        assert!(e.contains("是合同规定的数据来源"), "{e}");
        let e = Config::parse("[sources.flood_relief.headers]\n\"x\" = \"y\"\n").unwrap_err();
        assert!(e.contains("[[sources.flood_relief.columns]]"), "{e}");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let e = Config::parse("[thresholds]\nsplit_limt = 5\n").unwrap_err();
        assert!(e.contains("split_limt"), "{e}");
    }
}
