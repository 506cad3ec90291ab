//! The command line's arguments: every command and its options (clap).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use xuncha_queries::output::Format;
use xuncha_synth::Scale;

/// 巡察大数据比对与整改跟踪平台
#[derive(Debug, Parser)]
#[command(name = "xuncha", version, about)]
pub(crate) struct Cli {
    /// The lake folder (also XUNCHA_LAKE, or `lake` in xuncha.toml; default ./lake).
    #[arg(long, global = true, env = "XUNCHA_LAKE")]
    pub(crate) lake: Option<PathBuf>,
    /// The configuration file.
    #[arg(long, global = true, default_value = "xuncha.toml")]
    pub(crate) config: PathBuf,
    /// The log on standard error: `text` for a person, `json` (one object a
    /// line) for a log collector. Levels from RUST_LOG (default: xuncha's
    /// events from INFO, the libraries' from WARN).
    #[arg(long, global = true, value_enum, default_value = "text", env = "XUNCHA_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a synthetic inbox with its answer key and expected quarantine.
    Gen {
        /// sample (1 county, 40 villages), county (~250 villages) or city (~1,500 villages).
        #[arg(long, default_value = "sample")]
        scale: Scale,
        /// Same seed, same bytes.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Folder to write the inbox into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load every file of an inbox's source folders into the lake.
    Ingest {
        /// The inbox: one sub-folder per source (population/, subsidy_payments/, …).
        inbox: PathBuf,
        /// Read and type everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check a delivery before loading it: for each file, its source, how
    /// each header is read (contract, alias, mapping of xuncha.toml, shipped
    /// spelling, village name), and how many rows would load or be
    /// quarantined and why. Writes nothing.
    Check {
        /// The inbox: one sub-folder per source.
        inbox: PathBuf,
    },
    /// Compact each table's small data files (every delivered file adds its
    /// own) into a few large ones, so that every query opens fewer files.
    /// Rows and versions are unchanged; old files stay for time travel.
    Optimize {
        /// Only these tables (default: every table of the lake).
        tables: Vec<String>,
    },
    /// Delete the data files no recent version reads (replaced by optimize
    /// or an upsert, or never committed: a killed ingest's writes). Time
    /// travel to versions older than the retention fails afterwards.
    Vacuum {
        /// Only these tables (default: every table of the lake).
        tables: Vec<String>,
        /// Keep every file that a version of the last N hours reads
        /// (default: Delta's 168 hours, 7 days). 0 deletes every file the
        /// current version does not read, including those of an ingest
        /// running at that moment: use it only when nothing else runs.
        #[arg(long, default_value_t = 168)]
        retain_hours: u32,
        /// List what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the cross-matching rules into `findings` (and a `runs` row).
    Run {
        /// Reference date (default: the last day of the latest payment period).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Only these rules, comma-separated.
        #[arg(long, value_delimiter = ',')]
        rules: Vec<String>,
    },
    /// The rule catalogue: every rule with its title, severity, sector and
    /// topic; `--show ID` prints the rule's SQL as it runs (thresholds of
    /// xuncha.toml and the reference date filled in).
    Rules {
        /// Print this rule's SQL, placeholders filled in.
        #[arg(long)]
        show: Option<String>,
        /// Reference date for --show (default: as `run`).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// The inspection plan: villages not yet inspected in a term, riskiest first, in proposed rounds.
    Plan {
        /// The term (届次), e.g. 十三届; default: the latest term inspected.
        #[arg(long)]
        term: Option<String>,
        /// Villages per proposed round (default: what the rounds left need).
        #[arg(long)]
        per_round: Option<usize>,
    },
    /// The dashboard and its pages.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
    /// The embedded default: a lake from data-samples/, every rule and score, demo logins, the dashboard.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The sample inbox (generated identically when the folder is missing).
        #[arg(long, default_value = "data-samples")]
        inbox: PathBuf,
        /// Build the lake and print the logins, but do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// Run the scheduled jobs of xuncha.toml [schedule] until stopped (Ctrl-C / SIGTERM).
    Schedule {
        /// Also serve the dashboard at this address.
        #[arg(long)]
        serve: Option<std::net::SocketAddr>,
    },
    /// Thematic reports: `report common-issues`.
    Report {
        #[command(subcommand)]
        kind: ReportKind,
    },
    /// The audit log: `audit verify` checks its hash chain, `audit list` prints it.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Dashboard users: add, passwd, list.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Read-only SQL over every lake table; without a query, an interactive shell.
    ///
    /// Functions: id_valid(id), id_birth_date(id), id_gender(id), id_region(id),
    /// age_on(birth_date, day), norm_name(name), mask_id(id), mask_name(name),
    /// month_start(period), month_end(period), hash64(a, b, ...). Views: villages, death_dates,
    /// latest_findings, latest_risk_scores.
    Sql {
        /// The query (one SELECT / WITH / EXPLAIN statement).
        query: Option<String>,
        /// table, csv, json (JSON Lines) or parquet (needs --out).
        #[arg(long, default_value = "table")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Read the tables as they were at this time (RFC 3339), to reproduce old findings.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// Read a table at a Delta version, TABLE=VERSION (repeatable; versions
        /// are in `ingest_batches`, `runs` and each table's _delta_log).
        #[arg(long = "version", value_name = "TABLE=VERSION", value_parser = table_version)]
        versions: Vec<(String, u64)>,
    },
    /// Cases (线索处置): what each run found, handed to units, verified,
    /// rectified and closed; every change an event in the lake, audited.
    Cases {
        #[command(subcommand)]
        action: CasesAction,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CasesAction {
    /// The cases as they stand.
    List {
        /// Only cases in this state (待交办, 已交办, 属实, 部分属实, 排除, 整改中, 已整改, 已销号).
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        /// Only cases handed to this unit.
        #[arg(long)]
        unit: Option<String>,
        /// Only cases past (逾期) or near (临期) their time limit.
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// One case: its state, findings and every event, with the table
    /// versions of the run that found it.
    Show { id: String },
    /// 交办: hand cases to a unit with a time limit for verifying them
    /// (the cases named, or those selected by --rule/--place/--state).
    Assign {
        ids: Vec<String>,
        #[arg(long)]
        rule: Option<String>,
        /// A county, town or village code: its cases.
        #[arg(long)]
        place: Option<String>,
        /// Only cases in this state (with --rule/--place).
        #[arg(long, default_value = "待交办")]
        state: String,
        /// The unit: a town, village or department code.
        #[arg(long)]
        unit: String,
        /// 核查时限 (YYYY-MM-DD).
        #[arg(long)]
        due: chrono::NaiveDate,
    },
    /// 核查: the unit's verdict (属实, 部分属实 or 不属实 with its reason).
    Verdict {
        id: String,
        #[arg(long)]
        result: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        expect: Expect,
    },
    /// 整改: the measures and 整改时限.
    Rectify {
        id: String,
        #[arg(long)]
        measures: String,
        #[arg(long)]
        due: chrono::NaiveDate,
        #[command(flatten)]
        expect: Expect,
    },
    /// 整改完成: the unit reports the rectification done.
    Done {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        expect: Expect,
    },
    /// 销号: close a rectified case.
    Close {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        expect: Expect,
    },
    /// 线索移交 to the discipline commission, or its outcome (已移交, 初核, 立案, 党纪政务处分, 了结).
    Transfer {
        id: String,
        #[arg(long, default_value = "已移交")]
        outcome: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Write a unit's 交办单 (XLSX): its cases awaiting a verdict, with the
    /// full identity to verify (audited) and columns to fill.
    Export {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Read a filled 交办单 back: bad rows are listed with their row number
    /// and reason, the good rows land in one commit; a re-import changes nothing.
    Import { file: PathBuf },
    /// Money and people: 追缴 (recovered), 补发 (back-paid, yuan), 处理人数.
    Money {
        id: String,
        #[arg(long)]
        recovered: Option<String>,
        #[arg(long)]
        back_paid: Option<String>,
        #[arg(long)]
        people: Option<i64>,
    },
}

/// The state a change expects its case to be in (refused as a conflict otherwise).
#[derive(Debug, clap::Args)]
pub(crate) struct Expect {
    #[arg(long = "expect")]
    pub(crate) state: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportKind {
    /// 共性问题专题报告: topics found in many towns, ranked, with cases, charts and tables.
    CommonIssues {
        /// Only this sector (行业领域), e.g. 民政.
        #[arg(long, conflicts_with = "topic")]
        sector: Option<String>,
        /// Only this topic (问题类别), e.g. 低保.
        #[arg(long)]
        topic: Option<String>,
        /// Count problems found and findings made up to this day.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// html (one file), md (charts as SVG files beside it) or docx.
        #[arg(long, default_value = "html")]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditAction {
    /// Check that no entry was changed, deleted, reordered or cut off and
    /// that the log was not rebuilt (exit 1 if so).
    Verify,
    /// Print the entries, oldest first.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserAction {
    /// Add a user; the password is read from XUNCHA_PASSWORD or asked for.
    Add {
        name: String,
        /// unit (整改责任单位: only the cases handed to it), leader (aggregates,
        /// masked), analyst (details, SQL, cases) or admin (users, audit).
        #[arg(long)]
        role: String,
        /// Only this county, town or village (12-digit code); for a unit, its
        /// own code (town, village or department), required.
        #[arg(long)]
        scope: Option<String>,
        /// May take full identities from the SQL console in bulk (daily cap:
        /// [server] bulk_identity_daily_rows); audited.
        #[arg(long)]
        bulk_identity: bool,
    },
    /// Set a user's password (from XUNCHA_PASSWORD or asked for); their sessions end.
    Passwd { name: String },
    /// Change a user's role, scope or bulk identity; their sessions end.
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        /// A 12-digit county, town or village code, or `all` for everything.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        bulk_identity: Option<bool>,
    },
    /// Remove a user; their sessions end.
    Remove { name: String },
    /// List users.
    List,
}

/// `findings=3` as (table, version).
fn table_version(text: &str) -> Result<(String, u64), String> {
    let (table, version) = text.split_once('=').ok_or_else(|| format!("「{text}」应写成 表名=版本号,如 findings=3"))?;
    let version = version.trim().parse::<u64>().map_err(|_| format!("「{version}」不是版本号"))?;
    Ok((table.trim().to_string(), version))
}
