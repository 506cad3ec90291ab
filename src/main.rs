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
    /// Run the cross-matching rules into `findings` (and a `runs` row).
    Run {
        /// Reference date (default: the last day of the latest payment period).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Only these rules, comma-separated.
        #[arg(long, value_delimiter = ',')]
        rules: Vec<String>,
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
    /// Read-only SQL over every lake table; without a query, an interactive shell.
    ///
    /// Functions: id_valid(id), id_birth_date(id), id_gender(id), id_region(id),
    /// age_on(birth_date, day), norm_name(name), mask_id(id), mask_name(name),
    /// month_start(period), month_end(period). Views: villages, death_dates,
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!("xuncha: {}", text.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    let lake_path = cli.lake.clone().or_else(|| config.lake.clone()).unwrap_or_else(|| PathBuf::from("./lake"));
    let open_lake = || Lake::open(&lake_path).with_context(|| format!("opening lake {}", lake_path.display()));
    let session_options = SessionOptions { memory_limit_mb: config.engine.memory_limit_mb, spill_dir: None, as_of_time: None, rules_dir: config.rules.dir.clone() };
    match cli.command {
        Command::Gen { scale, seed, out } => gen_command(scale, seed, &out),
        Command::Ingest { inbox, dry_run } => ingest_command(&open_lake()?, &inbox, dry_run),
        Command::Run { as_of, rules } => {
            let lake = open_lake()?;
            let options = RunOptions { as_of, rules, thresholds: config.thresholds.clone(), rules_dir: config.rules.dir.clone(), risk: config.risk.clone(), session: session_options };
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
        Command::Plan { term, per_round } => {
            let lake = open_lake()?;
            let rt = runtime()?;
            let ctx = rt.block_on(session(&lake, &session_options))?;
            let plan = rt.block_on(xuncha_queries::plan::plan(&ctx, term.as_deref(), per_round, config.report.rounds_per_term))?;
            print_plan(&plan);
            Ok(())
        }
        Command::Sql { query, format, out, at } => {
            let lake = open_lake()?;
            let timeout = Duration::from_secs(config.engine.query_timeout_secs);
            let options = SessionOptions { as_of_time: at, ..session_options };
            let rt = runtime()?;
            let ctx = rt.block_on(session(&lake, &options))?;
            match query {
                Some(q) => rt.block_on(sql_once(&ctx, &q, format, out.as_deref(), timeout)),
                None => shell(&rt, &ctx, &lake_path, timeout),
            }
        }
    }
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

fn ingest_command(lake: &Lake, inbox: &Path, dry_run: bool) -> anyhow::Result<()> {
    let reports = runtime()?.block_on(ingest(lake, inbox, &IngestOptions { dry_run }))?;
    let (mut loaded, mut quarantined, mut rejected, mut skipped) = (0u64, 0u64, 0usize, 0usize);
    for r in &reports {
        match &r.outcome {
            FileOutcome::Loaded => {
                println!("入库 {:<56} {:<18} 读取 {:>8} 行  入库 {:>8}  隔离 {:>5}", r.file, r.format, r.rows_read, r.rows_loaded, r.rows_quarantined);
                loaded += r.rows_loaded;
                quarantined += r.rows_quarantined;
            }
            FileOutcome::AlreadyIngested => {
                println!("跳过 {:<56} 同一文件(内容哈希相同)已入库", r.file);
                skipped += 1;
            }
            FileOutcome::Rejected(why) => {
                println!("拒收 {:<56} {why}", r.file);
                rejected += 1;
            }
        }
    }
    println!(
        "{}{} 个文件: 入库 {loaded} 行, 隔离 {quarantined} 行, 拒收 {rejected} 个文件, 跳过 {skipped} 个已入库文件",
        if dry_run { "[试运行,未写入] " } else { "" },
        reports.len()
    );
    if rejected > 0 {
        anyhow::bail!("{rejected} 个文件被拒收,未入库(原因见上)");
    }
    Ok(())
}

async fn sql_once(ctx: &datafusion::prelude::SessionContext, sql: &str, format: Format, out: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
    if format == Format::Parquet && out.is_none() {
        anyhow::bail!("--format parquet 需要 --out FILE");
    }
    let (schema, batches) = guard::query(ctx, sql, timeout).await?;
    match out {
        Some(path) => output::write(format, &schema, &batches, std::io::BufWriter::new(std::fs::File::create(path)?))?,
        None => output::write(format, &schema, &batches, std::io::BufWriter::new(std::io::stdout()))?,
    }
    Ok(())
}

/// The interactive shell: history, `\d`, `\d TABLE`, `\q`.
fn shell(rt: &tokio::runtime::Runtime, ctx: &datafusion::prelude::SessionContext, lake: &Path, timeout: Duration) -> anyhow::Result<()> {
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
            if let Err(e) = rt.block_on(sql_once(ctx, &sql, Format::Table, None, timeout)) {
                eprintln!("错误: {}", format!("{e:#}").lines().next().unwrap_or_default());
            }
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}
