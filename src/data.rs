//! The commands that write the lake: `gen` (a synthetic inbox), `ingest`,
//! `optimize` and `vacuum`.

use crate::{Ctx, runtime};
use anyhow::Context;
use std::path::Path;
use xuncha_core::lake::Lake;
use xuncha_core::values;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, Tally, ingest};
use xuncha_synth::{GenConfig, Scale, generate};

/// `xuncha gen`.
pub(crate) fn generate_inbox(scale: Scale, seed: u64, out: &Path) -> anyhow::Result<()> {
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

/// `xuncha ingest`.
pub(crate) fn ingest_inbox(ctx: &Ctx, inbox: &Path, dry_run: bool) -> anyhow::Result<()> {
    ingest_command(&ctx.open_lake()?, inbox, IngestOptions { dry_run, config: ctx.config.ingest.clone() })
}

/// `xuncha check`: what an ingest of the inbox would do, file by file.
pub(crate) fn check_inbox(ctx: &Ctx, inbox: &Path) -> anyhow::Result<()> {
    let options = IngestOptions { dry_run: true, config: ctx.config.ingest.clone() };
    let reports = runtime()?.block_on(ingest(&ctx.open_lake()?, inbox, &options))?;
    for r in &reports {
        println!("{}  (数据来源: {})", r.shown_file(), r.source);
        match &r.outcome {
            FileOutcome::Loaded => {
                println!("  格式 {}", r.format);
                for c in &r.columns {
                    println!("  表头「{}」→ {}({})", values::excerpt(&c.header, 60), c.column.unwrap_or("-"), c.via);
                }
                println!("  读取 {} 行: 可入库 {} 行, 将隔离 {} 行, 跳过 {} 行(空行、合计行)", r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped);
                for q in &r.quarantine {
                    println!("  隔离 {} 行 [{}{}],例如:", q.rows, q.kind, q.column.map(|c| format!(" {c}")).unwrap_or_default());
                    for (row, reason) in &q.examples {
                        println!("    第 {row} 行: {}", values::excerpt(reason, 300));
                    }
                }
            }
            FileOutcome::AlreadyIngested => println!("  同一文件(内容哈希相同)已入库,不会再读"),
            FileOutcome::Rejected(why) => println!("  将被拒收: {why}"),
            FileOutcome::Skipped(why) => println!("  不读取: {why}"),
        }
        for note in &r.notes {
            println!("  提示: {note}");
        }
    }
    let t = Tally::of(&reports);
    println!("[检查,未写入] {} 个文件: 可入库 {} 行, 将隔离 {} 行, 将拒收 {} 个文件", reports.len(), t.rows_loaded, t.rows_quarantined, t.files_rejected);
    if t.files_rejected > 0 {
        anyhow::bail!("{} 个文件将被拒收(原因及 xuncha.toml 的改法见上)", t.files_rejected);
    }
    Ok(())
}

fn ingest_command(lake: &Lake, inbox: &Path, options: IngestOptions) -> anyhow::Result<()> {
    let reports = runtime()?.block_on(ingest(lake, inbox, &options))?;
    for r in &reports {
        let file = r.shown_file();
        match &r.outcome {
            FileOutcome::Loaded => println!("入库 {file:<56} {:<18} 读取 {:>8} 行  入库 {:>8}  隔离 {:>5}", r.format, r.rows_read, r.rows_loaded, r.rows_quarantined),
            FileOutcome::AlreadyIngested => println!("跳过 {file:<56} 同一文件(内容哈希相同)已入库"),
            FileOutcome::Rejected(why) => println!("拒收 {file:<56} {why}"),
            FileOutcome::Skipped(why) => println!("未读 {file:<56} {why}"),
        }
        for note in &r.notes {
            println!("     提示: {note}");
        }
    }
    let t = Tally::of(&reports);
    println!(
        "{}{} 个文件: 入库 {} 行, 隔离 {} 行, 拒收 {} 个文件, 跳过 {} 个已入库文件{}",
        if options.dry_run { "[试运行,未写入] " } else { "" },
        reports.len(),
        t.rows_loaded,
        t.rows_quarantined,
        t.files_rejected,
        t.files_already_loaded,
        if t.files_unread > 0 { format!(", {} 个未读取(原因见上)", t.files_unread) } else { String::new() }
    );
    if t.files_rejected > 0 {
        anyhow::bail!("{} 个文件被拒收,未入库(原因见上)", t.files_rejected);
    }
    Ok(())
}

pub(crate) fn vacuum(lake: &Lake, tables: Vec<String>, retain_hours: u32, dry_run: bool) -> anyhow::Result<()> {
    let retain = chrono::Duration::hours(i64::from(retain_hours));
    let done = runtime()?.block_on(lake.maintain(&tables, false, Some((retain, dry_run))))?;
    let verb = if dry_run { "可删除" } else { "已删除" };
    let mut total = 0;
    for table in &done {
        let files = table.deleted.as_ref().map_or(0, Vec::len);
        println!("清理 {:<20} {verb} {files} 个不再读取的文件", table.table);
        total += files;
    }
    println!("共{verb} {total} 个文件(保留最近 {retain_hours} 小时内各版本读取的文件){}", if dry_run { ";预演,未删除" } else { "" });
    Ok(())
}

pub(crate) fn optimize(lake: &Lake, tables: Vec<String>) -> anyhow::Result<()> {
    for table in runtime()?.block_on(lake.maintain(&tables, true, None))? {
        match table.compaction {
            Some(c) if c.files_removed > 0 => println!("整理 {:<20} {} 个小文件 -> {} 个文件", table.table, c.files_removed, c.files_added),
            _ => println!("整理 {:<20} 无需整理", table.table),
        }
    }
    Ok(())
}
