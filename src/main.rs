//! The `xuncha` command line: argument parsing only; the work lives in the
//! `pipeline`, `queries` and `dashboard` crates.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use xuncha_pipeline::config::Config;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, ingest};
use xuncha_pipeline::lake::Lake;
use xuncha_pipeline::synth::{GenConfig, Scale, generate};
use xuncha_queries::output::{self, Format};
use xuncha_queries::run::{RunOptions, run};
use xuncha_queries::session::{SessionOptions, session};
use xuncha_queries::{catalog, guard};

/// mimalloc: ingest and the rules allocate many small strings on every core,
/// where it is markedly faster than the system allocator. Built without
/// transparent huge pages (`no_thp`): each fresh 2 MiB page is zeroed whole
/// by the kernel at its first touch, which cost a third of ingest's CPU and
/// 7 s of system time in the city rule suite (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mi_option_e`, mimalloc.h; the
/// Rust bindings name no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before it goes back to the
/// OS, for the commands that ingest (mimalloc's default is one second).
/// Ingest frees a sorted run of about 1 GiB and types the next one at once:
/// returned, every page was faulted in and zeroed again (12 s of system
/// time in a city-scale ingest with the default; bench/RESULTS.md). `ingest`
/// ends when its files are loaded, so it never returns memory (`-1`): its
/// peak is what it holds anyway. `demo` and `schedule` live on as servers
/// and keep memory two seconds. The rule suite gains nothing from either
/// and peaks higher, so the other commands keep the default.
#[allow(unsafe_code)]
fn keep_freed_memory(milliseconds: std::ffi::c_long) {
    // SAFETY: sets one integer option; mimalloc reads its options at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, milliseconds) };
}

/// 巡察大数据比对与整改跟踪平台
#[derive(Debug, Parser)]
#[command(name = "xuncha", version, about)]
struct Cli {
    /// The lake folder (also XUNCHA_LAKE, or `lake` in xuncha.toml; default ./lake).
    #[arg(long, global = true, env = "XUNCHA_LAKE")]
    lake: Option<PathBuf>,
    /// The configuration file.
    #[arg(long, global = true, default_value = "xuncha.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
}

#[derive(Debug, Subcommand)]
enum ReportKind {
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
enum AuditAction {
    /// Check that no entry was changed, deleted, reordered or cut off and
    /// that the log was not rebuilt (exit 1 if so).
    Verify,
    /// Print the entries, oldest first.
    List,
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Add a user; the password is read from XUNCHA_PASSWORD or asked for.
    Add {
        name: String,
        /// leader (aggregates, masked), analyst (details, SQL) or admin (users, audit).
        #[arg(long)]
        role: String,
        /// Only this county, town or village (12-digit code).
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Ingest { .. } => keep_freed_memory(-1),
        Command::Demo { .. } | Command::Schedule { .. } => keep_freed_memory(2000),
        _ => {}
    }
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!("xuncha: {}", text.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
    }
}

/// The async runtime; its workers get 8 MiB stacks (DataFusion's plans and
/// expressions are walked recursively; the SQL guard bounds their depth).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(8 << 20).build()?)
}

/// Who runs this command, for the audit log (`xuncha sql` by the OS user).
fn os_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).map_or_else(|_| "命令行".to_string(), |u| format!("{u}(命令行)"))
}

fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    let lake_path = cli.lake.clone().or_else(|| config.lake.clone()).unwrap_or_else(|| PathBuf::from("./lake"));
    let open_lake = || Lake::open(&lake_path).with_context(|| format!("opening lake {}", lake_path.display()));
    let session_options = SessionOptions { memory_limit_mb: config.engine.memory_limit_mb, rules_dir: config.rules.dir.clone(), ..SessionOptions::default() };
    match cli.command {
        Command::Gen { scale, seed, out } => gen_command(scale, seed, &out),
        Command::Ingest { inbox, dry_run } => ingest_command(&open_lake()?, &inbox, IngestOptions { dry_run, config: config.ingest.clone() }),
        Command::Optimize { tables } => optimize_command(&open_lake()?, tables),
        Command::Vacuum { tables, retain_hours, dry_run } => vacuum_command(&open_lake()?, tables, retain_hours, dry_run),
        Command::Run { as_of, rules } => {
            let lake = open_lake()?;
            let options = RunOptions { as_of, rules, ..RunOptions::configured(&config, session_options) };
            let report = runtime()?.block_on(run(&lake, &options))?;
            for r in &report.rules {
                match &r.error {
                    None => println!("  {:<32} {:>7} 条  {:>6} ms", r.rule_id, r.findings, r.millis),
                    Some(e) => println!("  {:<32} 出错: {e}", r.rule_id),
                }
            }
            println!("运行 {} (参考日 {}): {} 条比对发现, {} 个村风险评分, 状态 {}", report.run_id, report.as_of, report.findings, report.risk_scores, report.status);
            if report.status != "ok" {
                anyhow::bail!("部分规则出错,见上");
            }
            Ok(())
        }
        Command::Rules { show, as_of } => {
            let rules = xuncha_queries::rules::catalogue(config.rules.dir.as_deref())?;
            let Some(id) = show else {
                for r in &rules {
                    println!("{:<32} {:<4} {:<8} {:<10} {}  ({})", r.id, r.severity, r.sector, r.topic, r.title, r.origin);
                }
                return Ok(());
            };
            let rule = rules.iter().find(|r| r.id == id).with_context(|| format!("没有规则「{id}」;`xuncha rules` 列出全部规则"))?;
            let as_of = match as_of {
                Some(d) => d,
                None => {
                    let rt = runtime()?;
                    let ctx = rt.block_on(session(&open_lake()?, &session_options))?;
                    rt.block_on(xuncha_queries::run::default_as_of(&ctx))?
                }
            };
            let params = xuncha_queries::rules::Params { as_of, thresholds: config.thresholds.clone() };
            println!("{}", params.bind(&rule.sql, &rule.id)?);
            Ok(())
        }
        Command::Plan { term, per_round } => {
            let lake = open_lake()?;
            let rt = runtime()?;
            let ctx = rt.block_on(session(&lake, &session_options))?;
            let plan = rt.block_on(xuncha_queries::plan::plan(&ctx, term.as_deref(), per_round, config.report.rounds_per_term))?;
            print_plan(&plan);
            Ok(())
        }
        Command::Serve { addr } => {
            let lake = open_lake()?;
            let state = dashboard_state(lake, &config, session_options);
            if state.users.list()?.is_empty() {
                anyhow::bail!("还没有任何用户;先用 xuncha user add 名称 --role admin 创建");
            }
            println!("仪表盘: http://{addr}/  (Ctrl-C 停止)");
            runtime()?.block_on(xuncha_dashboard::serve(state, addr))?;
            Ok(())
        }
        Command::Demo { addr, inbox, no_serve } => demo(&open_lake()?, &config, session_options, &inbox, addr, no_serve),
        Command::Schedule { serve } => {
            let lake = open_lake()?;
            let server = serve.map(|addr| (dashboard_state(lake.clone(), &config, session_options.clone()), addr));
            if let Some(addr) = serve {
                println!("仪表盘: http://{addr}/");
            }
            println!("调度器已启动: {} 个任务 (Ctrl-C 停止)", config.schedule.jobs.len());
            runtime()?.block_on(xuncha_dashboard::jobs::schedule(lake, config.clone(), session_options, server))?;
            println!("调度器已停止");
            Ok(())
        }
        Command::Report { kind: ReportKind::CommonIssues { sector, topic, as_of, format, out } } => {
            let lake = open_lake()?;
            let format: xuncha_dashboard::report::Format = format.parse()?;
            let rt = runtime()?;
            let ctx = rt.block_on(session(&lake, &session_options))?;
            let report = rt.block_on(xuncha_dashboard::report::build(&ctx, &xuncha_dashboard::report::ReportOptions { sector, topic, as_of }, &config.report))?;
            xuncha_dashboard::report::write(&report, format, &out).with_context(|| format!("writing {}", out.display()))?;
            println!("专题报告已写入 {}: {} 类共性问题(标准: ≥{} 个乡镇, 共 {} 个)", out.display(), report.common().count(), report.threshold, report.towns_total);
            Ok(())
        }
        Command::Audit { action } => {
            let log = xuncha_dashboard::audit::AuditLog::open(open_lake()?.root(), config.server.audit_anchor_dir.as_deref());
            match action {
                AuditAction::Verify => match log.verify()? {
                    Ok(n) => println!("审计日志校验通过: {n} 条记录"),
                    Err(e) => anyhow::bail!("审计日志校验失败: {e}"),
                },
                AuditAction::List => {
                    for e in log.entries()? {
                        println!("{:>6} {} {:<12} {:<14} {}", e.seq, e.at, e.user, e.action, e.detail);
                    }
                }
            }
            Ok(())
        }
        Command::User { action } => user_command(&xuncha_dashboard::users::UserStore::of_lake(open_lake()?.root()), action),
        Command::Sql { query, format, out, at, versions } => {
            let lake = open_lake()?;
            let audit = xuncha_dashboard::audit::AuditLog::open(lake.root(), config.server.audit_anchor_dir.as_deref());
            let timeout = Duration::from_secs(config.engine.query_timeout_secs);
            let options = SessionOptions { as_of_time: at, table_versions: versions, ..session_options };
            let rt = runtime()?;
            let ctx = rt.block_on(session(&lake, &options))?;
            match query {
                Some(q) => rt.block_on(sql_once(&ctx, &audit, &q, format, out.as_deref(), timeout)),
                None => shell(&rt, &ctx, &audit, &lake_path, timeout),
            }
        }
    }
}

/// `findings=3` as (table, version).
fn table_version(text: &str) -> Result<(String, u64), String> {
    let (table, version) = text.split_once('=').ok_or_else(|| format!("「{text}」应写成 表名=版本号,如 findings=3"))?;
    let version = version.trim().parse::<u64>().map_err(|_| format!("「{version}」不是版本号"))?;
    Ok((table.trim().to_string(), version))
}

fn gen_command(scale: Scale, seed: u64, out: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let summary = generate(&GenConfig { scale, seed, out: out.to_path_buf() }).with_context(|| format!("generating into {}", out.display()))?;
    println!(
        "生成完成: {} 个村, {} 人, {} 行坏数据, 参考日期 {}, 用时 {:.1}s",
        summary.villages,
        summary.people,
        summary.bad_rows,
        summary.as_of.map(|d| d.to_string()).unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    for (source, rows) in &summary.rows {
        println!("  {source:<18} {rows:>10} 行");
    }
    for (rule, n) in &summary.answer_key {
        println!("  答案 {rule:<32} {n:>6}");
    }
    Ok(())
}

fn dashboard_state(lake: Lake, config: &Config, session_options: SessionOptions) -> std::sync::Arc<xuncha_dashboard::AppState> {
    let limits = xuncha_dashboard::limits(&config.engine, &config.server);
    let audit = xuncha_dashboard::audit::AuditLog::open(lake.root(), config.server.audit_anchor_dir.as_deref());
    xuncha_dashboard::AppState::new(lake, session_options, config.report.clone(), limits, audit)
}

/// `xuncha demo`: ingest the sample inbox (a no-op when already loaded), run
/// the rules when new data arrived, give each demo login a fresh password,
/// and serve.
fn demo(lake: &Lake, config: &Config, session_options: SessionOptions, inbox: &Path, addr: std::net::SocketAddr, no_serve: bool) -> anyhow::Result<()> {
    let generated;
    let inbox = if inbox.is_dir() {
        inbox.to_path_buf()
    } else {
        generated = tempfile::tempdir()?;
        println!("未找到 {},按同一种子生成样例数据 …", inbox.display());
        generate(&GenConfig { scale: Scale::Sample, seed: 2026, out: generated.path().to_path_buf() })?;
        generated.path().to_path_buf()
    };
    let rt = runtime()?;
    let reports = rt.block_on(ingest(lake, &inbox, &IngestOptions { dry_run: false, config: config.ingest.clone() }))?;
    let loaded: u64 = reports.iter().filter(|r| matches!(r.outcome, FileOutcome::Loaded)).map(|r| r.rows_loaded).sum();
    println!("样例数据入库: {} 个文件, 新入库 {loaded} 行", reports.len());
    let has_run = lake.tables()?.iter().any(|t| t == "runs");
    if loaded > 0 || !has_run {
        let report = rt.block_on(run(lake, &RunOptions::configured(config, session_options.clone())))?;
        println!("比对运行 {}: {} 条发现, {} 个村风险评分", report.run_id, report.findings, report.risk_scores);
    }
    let store = xuncha_dashboard::users::UserStore::of_lake(lake.root());
    let first_town = rt.block_on(async {
        let ctx = session(lake, &session_options).await?;
        let t = xuncha_queries::table::TextTable::query(&ctx, "SELECT min(town_code) FROM villages").await?;
        Ok::<_, xuncha_queries::QueryError>(t.scalar().to_string())
    })?;
    println!("演示账号(密码每次启动重新生成):");
    let demo_users = [("admin", "admin", None), ("analyst", "analyst", None), ("leader", "leader", None), ("town_leader", "leader", Some(first_town))];
    for (name, role, scope) in demo_users {
        let password = random_password();
        store.put(name, role.parse()?, scope.clone().filter(|s| !s.is_empty()), &password, true)?;
        println!("  {name:<12} 密码 {password}  角色 {role}{}", scope.map(|s| format!("  范围 {s}")).unwrap_or_default());
    }
    if no_serve {
        return Ok(());
    }
    println!("仪表盘: http://{addr}/  (Ctrl-C 停止)");
    rt.block_on(xuncha_dashboard::serve(dashboard_state(lake.clone(), config, session_options), addr))?;
    Ok(())
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("XUNCHA_PASSWORD") {
        return Ok(p);
    }
    let first = rpassword::prompt_password("密码: ")?;
    let again = rpassword::prompt_password("再输一次: ")?;
    if first != again {
        anyhow::bail!("两次输入的密码不一致");
    }
    Ok(first)
}

fn user_command(store: &xuncha_dashboard::users::UserStore, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Add { name, role, scope, bulk_identity } => {
            let role = role.parse()?;
            store.put(&name, role, scope, &read_password()?, false)?;
            if bulk_identity {
                store.update(&name, None, None, Some(true))?;
            }
            println!("已添加用户 {name}");
        }
        UserAction::Set { name, role, scope, bulk_identity } => {
            let role = role.map(|r| r.parse()).transpose()?;
            let scope = scope.map(|s| if s == "all" { None } else { Some(s) });
            store.update(&name, role, scope, bulk_identity)?;
            println!("已修改用户 {name};其已登录的会话随即失效");
        }
        UserAction::Remove { name } => {
            store.remove(&name)?;
            println!("已删除用户 {name};其已登录的会话随即失效");
        }
        UserAction::Passwd { name } => {
            store.set_password(&name, &read_password()?)?;
            println!("已修改 {name} 的密码");
        }
        UserAction::List => {
            for u in store.list()? {
                println!("{:<16} {:<8} {:<14} {}", u.name, u.role.label(), u.scope.as_deref().unwrap_or("全部"), if u.bulk_identity { "完整身份" } else { "" });
            }
        }
    }
    Ok(())
}

fn print_plan(plan: &xuncha_queries::plan::Plan) {
    println!(
        "{} 巡察计划: 共 {} 个村(社区), 已巡察 {}, 未巡察 {}; 已开展 {} 轮, 剩余 {} 轮, 每轮建议 {} 个",
        plan.term,
        plan.villages_total,
        plan.inspected,
        plan.villages.len(),
        plan.rounds_done,
        plan.rounds_left,
        plan.per_round
    );
    if plan.on_track {
        println!("届内全覆盖: 可按期完成(按每轮 {:.1} 个的进度)", plan.capacity);
    } else {
        println!("届内全覆盖: 有风险 —— 按每轮 {:.1} 个的进度, 剩余 {} 轮不足以覆盖 {} 个村", plan.capacity, plan.rounds_left, plan.villages.len());
    }
    for v in &plan.villages {
        let score = v.score.map_or_else(|| "—".to_string(), |s| format!("{s:.1}"));
        println!("  第{:>2}轮  {}  {:<10} {:<10} {:>6}  {}", v.round_no, v.village_code, v.town_name, v.village_name, score, v.tier);
    }
}

/// The tables a maintenance command works on: those named, every one of
/// them checked before any table is touched, or else every table.
fn maintained_tables(lake: &Lake, tables: Vec<String>) -> anyhow::Result<Vec<String>> {
    let present = lake.tables()?;
    if let Some(unknown) = tables.iter().find(|t| !present.contains(t)) {
        anyhow::bail!("湖中没有表「{unknown}」(有: {})", present.join("、"));
    }
    Ok(if tables.is_empty() { present } else { tables })
}

fn vacuum_command(lake: &Lake, tables: Vec<String>, retain_hours: u32, dry_run: bool) -> anyhow::Result<()> {
    let names = maintained_tables(lake, tables)?;
    let runtime = runtime()?;
    let retain = chrono::Duration::hours(i64::from(retain_hours));
    let (mut total, verb) = (0, if dry_run { "可删除" } else { "已删除" });
    for name in names {
        let Some(files) = runtime.block_on(lake.vacuum(&name, retain, dry_run))? else {
            anyhow::bail!("表「{name}」在清理时已不存在");
        };
        println!("清理 {name:<20} {verb} {} 个不再读取的文件", files.len());
        total += files.len();
    }
    println!("共{verb} {total} 个文件(保留最近 {retain_hours} 小时内各版本读取的文件){}", if dry_run { ";预演,未删除" } else { "" });
    Ok(())
}

fn optimize_command(lake: &Lake, tables: Vec<String>) -> anyhow::Result<()> {
    let names = maintained_tables(lake, tables)?;
    let runtime = runtime()?;
    for name in names {
        match runtime.block_on(lake.optimize(&name))? {
            Some(c) if c.files_removed > 0 => println!("整理 {name:<20} {} 个小文件 -> {} 个文件", c.files_removed, c.files_added),
            Some(_) => println!("整理 {name:<20} 无需整理"),
            None => anyhow::bail!("表「{name}」在整理时已不存在"),
        }
    }
    Ok(())
}

fn ingest_command(lake: &Lake, inbox: &Path, options: IngestOptions) -> anyhow::Result<()> {
    let reports = runtime()?.block_on(ingest(lake, inbox, &options))?;
    let (mut loaded, mut quarantined, mut rejected, mut skipped, mut unread) = (0u64, 0u64, 0usize, 0usize, 0usize);
    for r in &reports {
        let file = r.shown_file();
        match &r.outcome {
            FileOutcome::Loaded => {
                println!("入库 {file:<56} {:<18} 读取 {:>8} 行  入库 {:>8}  隔离 {:>5}", r.format, r.rows_read, r.rows_loaded, r.rows_quarantined);
                loaded += r.rows_loaded;
                quarantined += r.rows_quarantined;
            }
            FileOutcome::AlreadyIngested => {
                println!("跳过 {file:<56} 同一文件(内容哈希相同)已入库");
                skipped += 1;
            }
            FileOutcome::Rejected(why) => {
                println!("拒收 {file:<56} {why}");
                rejected += 1;
            }
            FileOutcome::Skipped(why) => {
                println!("未读 {file:<56} {why}");
                unread += 1;
            }
        }
        for note in &r.notes {
            println!("     提示: {note}");
        }
    }
    println!(
        "{}{} 个文件: 入库 {loaded} 行, 隔离 {quarantined} 行, 拒收 {rejected} 个文件, 跳过 {skipped} 个已入库文件{}",
        if options.dry_run { "[试运行,未写入] " } else { "" },
        reports.len(),
        if unread > 0 { format!(", {unread} 个未读取(原因见上)") } else { String::new() }
    );
    if rejected > 0 {
        anyhow::bail!("{rejected} 个文件被拒收,未入库(原因见上)");
    }
    Ok(())
}

/// Runs one query from the command line; audited before it runs, like the console's.
async fn sql_once(ctx: &datafusion::prelude::SessionContext, audit: &xuncha_dashboard::audit::AuditLog, sql: &str, format: Format, out: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
    if format == Format::Parquet && out.is_none() {
        anyhow::bail!("--format parquet 需要 --out FILE");
    }
    let target = out.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    audit.record(&os_user(), "sql_cli", &format!("[{format:?} → {target}] {}", sql.trim())).context("审计日志写入失败,未执行")?;
    let (schema, batches) = guard::query(ctx, sql, &guard::QueryLimits { timeout, max_rows: None, max_bytes: None }).await?;
    match out {
        Some(path) => output::write(format, &schema, &batches, std::io::BufWriter::new(std::fs::File::create(path)?))?,
        None => {
            let mut stdout = PipedStdout { inner: std::io::BufWriter::new(std::io::stdout()), closed: false };
            match output::write(format, &schema, &batches, &mut stdout) {
                // The reader went away (`xuncha sql … | head`): nothing is wrong.
                Err(_) if stdout.closed => {}
                written => written?,
            }
        }
    }
    Ok(())
}

/// Standard output that notes when its reader has gone away.
struct PipedStdout {
    inner: std::io::BufWriter<std::io::Stdout>,
    closed: bool,
}

impl std::io::Write for PipedStdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.inner.write(bytes).inspect_err(|e| self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The interactive shell: history, `\d`, `\d TABLE`, `\q`.
fn shell(rt: &tokio::runtime::Runtime, ctx: &datafusion::prelude::SessionContext, audit: &xuncha_dashboard::audit::AuditLog, lake: &Path, timeout: Duration) -> anyhow::Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = lake.join(".xuncha_history");
    let _ = editor.load_history(&history);
    println!("xuncha SQL(只读)。\\d 列出表, \\d 表名 查看列, \\q 退出。语句以 ; 结束。");
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "xuncha> " } else { "   ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(_) => break,
        };
        let trimmed = line.trim();
        if buffer.is_empty() && trimmed.starts_with('\\') {
            let _ = editor.add_history_entry(trimmed);
            match trimmed.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["\\q"] => break,
                ["\\d"] => match rt.block_on(catalog::tables(ctx)) {
                    Ok(tables) => tables.iter().for_each(|(name, title)| println!("  {name:<24} {title}")),
                    Err(e) => eprintln!("错误: {e}"),
                },
                ["\\d", table] => match rt.block_on(catalog::columns(ctx, table)) {
                    Ok(columns) => columns.iter().for_each(|(name, ty, header)| println!("  {name:<28} {ty:<28} {header}")),
                    Err(e) => eprintln!("错误: {e}"),
                },
                _ => eprintln!("未知命令;可用 \\d、\\d 表名、\\q"),
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if trimmed.ends_with(';') {
            let sql = std::mem::take(&mut buffer);
            let _ = editor.add_history_entry(sql.trim());
            if let Err(e) = rt.block_on(sql_once(ctx, audit, &sql, Format::Table, None, timeout)) {
                eprintln!("错误: {}", format!("{e:#}").lines().next().unwrap_or_default());
            }
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}
