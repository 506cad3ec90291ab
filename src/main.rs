//! The `xuncha` command line: argument parsing only; the work lives in the
//! `pipeline`, `queries` and `dashboard` crates.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
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
