//! The `xuncha` command line: argument parsing only; the work lives in the
//! `pipeline`, `queries` and `dashboard` crates.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, ingest};
use xuncha_pipeline::lake::Lake;
use xuncha_pipeline::synth::{GenConfig, Scale, generate};

/// 巡察大数据比对与整改跟踪平台
#[derive(Debug, Parser)]
#[command(name = "xuncha", version, about)]
struct Cli {
    /// The lake folder (also XUNCHA_LAKE).
    #[arg(long, global = true, env = "XUNCHA_LAKE", default_value = "./lake")]
    lake: PathBuf,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xuncha: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Ingest { inbox, dry_run } => {
            let lake = Lake::open(&cli.lake).with_context(|| format!("opening lake {}", cli.lake.display()))?;
            let reports = runtime()?.block_on(ingest(&lake, &inbox, &IngestOptions { dry_run }))?;
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
        Command::Gen { scale, seed, out } => {
            let started = std::time::Instant::now();
            let summary = generate(&GenConfig { scale, seed, out: out.clone() }).with_context(|| format!("generating into {}", out.display()))?;
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
    }
}
