//! `xuncha schedule`: runs the jobs of `[schedule]` until Ctrl-C / SIGTERM,
//! optionally with the dashboard in the same process.
//!
//! Jobs run one at a time (so never overlapping); each run is a `runs` row
//! (`kind = job:<name>`). An ingest job takes only complete files, loads
//! them, and files them away (`archive/` or `rejected/` with the reason).
//! A stop signal lets the job in progress finish: every file's commit is
//! atomic and exactly-once, so a hard kill loses and duplicates nothing and
//! the next start resumes with the files still in the inbox. A maintain
//! job compacts and vacuums every table; since jobs never overlap, it never
//! deletes the files of a scheduled ingest under way.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xuncha_core::config::Action;
use xuncha_core::config::Config;
use xuncha_core::lake::Lake;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, Tally, ingest_files};
use xuncha_pipeline::schedule::{self, Job, Planner, SchedulerLock, Settler};
use xuncha_queries::report::q;
use xuncha_queries::run::{RunOptions, RunRow, new_run_id, record};
use xuncha_queries::session::{SessionOptions, session};

/// Runs the scheduler (and the dashboard when `serve` is given) until stopped.
pub(crate) async fn schedule(lake: Lake, config: Config, session_options: SessionOptions, serve: Option<(Arc<xuncha_dashboard::AppState>, SocketAddr)>) -> anyhow::Result<()> {
    let _lock = SchedulerLock::acquire(lake.root())?;
    let (tz, jobs) = schedule::jobs(&config.schedule)?;
    if jobs.is_empty() {
        return Err(anyhow!("xuncha.toml 中没有 [[schedule.jobs]];示例见 README 的「定时任务」一节"));
    }
    let last = last_runs(&lake, &session_options).await;
    let mut planner = Planner::new(tz, jobs, Utc::now(), &last);
    let mut settler = Settler::default();
    let stop = xuncha_dashboard::shutdown();
    tokio::pin!(stop);
    let server = async {
        match serve {
            Some((state, addr)) => xuncha_dashboard::serve_until(state, addr, std::future::pending()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(server);
    loop {
        for job in planner.due(Utc::now()) {
            let started = Utc::now();
            let outcome = run_job(&lake, &config, &session_options, &job, &mut settler).await;
            let (ok, stats, error) = match &outcome {
                Ok(None) => {
                    // Nothing delivered: no record, or a busy inbox check would commit every second.
                    planner.finished(&job.config.name, true, Utc::now());
                    continue;
                }
                Ok(Some(stats)) => (true, stats.clone(), None),
                Err(e) => (false, "{}".to_string(), Some(e.to_string())),
            };
            let kind = format!("job:{}", job.config.name);
            let row = RunRow {
                run_id: &new_run_id(),
                kind: &kind,
                started,
                status: if ok { "ok" } else { "error" },
                as_of: None,
                findings: 0,
                risk_scores: 0,
                stats: &stats,
                thresholds: None,
                error: error.as_deref(),
            };
            let ms = (Utc::now() - started).num_milliseconds();
            match &error {
                None => tracing::info!(job = %job.config.name, ms, stats = %stats, "job finished"),
                Some(cause) => tracing::error!(job = %job.config.name, ms, cause = %xuncha_core::values::star_long_numbers(cause), "job failed"),
            }
            if let Err(e) = record(&lake, &row).await {
                tracing::error!(job = %job.config.name, cause = %xuncha_core::values::star_long_numbers(&e.to_string()), "job run record not written");
                eprintln!("任务「{}」的运行记录写入失败: {e}", job.config.name);
            }
            println!("{} 任务「{}」{}{}", Utc::now().with_timezone(&tz).format("%F %T"), job.config.name, if ok { "完成 " } else { "失败: " }, error.unwrap_or(stats));
            planner.finished(&job.config.name, ok, Utc::now());
        }
        let wait = planner.next_due().map_or(Duration::from_secs(1), |next| (next - Utc::now()).to_std().unwrap_or_default()).min(Duration::from_secs(1));
        tokio::select! {
            () = &mut stop => return Ok(()),
            result = &mut server => return Ok(result?),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Each job's last finished run, from `runs`.
async fn last_runs(lake: &Lake, options: &SessionOptions) -> HashMap<String, DateTime<Utc>> {
    let Ok(ctx) = session(lake, options).await else { return HashMap::new() };
    let Ok(runs) = xuncha_queries::report::rows::<q::system::LastJobRunsRow>(&ctx, &[]).await else {
        return HashMap::new();
    };
    let at = |text: &str| text.parse::<DateTime<Utc>>().ok().or_else(|| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|d| d.and_utc()));
    runs.into_iter().filter_map(|run| Some((run.job, at(&run.at)?))).collect()
}

/// One job run; its summary as JSON, or `None` when an ingest found no complete file.
async fn run_job(lake: &Lake, config: &Config, session_options: &SessionOptions, job: &Job, settler: &mut Settler) -> anyhow::Result<Option<String>> {
    let run_options = || RunOptions::configured(config, session_options.clone());
    match job.config.action {
        Action::Ingest => {
            let inbox = job.config.inbox.as_deref().expect("checked when parsed");
            let files = settler.complete(inbox, &config.ingest.sources, &job.config.sources, Duration::from_secs(config.schedule.settle_secs), SystemTime::now())?;
            if files.is_empty() {
                return Ok(None);
            }
            let reports = ingest_files(lake, inbox, &files, &IngestOptions { dry_run: false, config: config.ingest.clone() }).await?;
            let today = chrono::Local::now().date_naive();
            for (file, report) in files.iter().zip(&reports) {
                match &report.outcome {
                    FileOutcome::Rejected(why) => schedule::file_away(inbox, file, today, Some(why))?,
                    // Gone already: nothing to file away.
                    FileOutcome::Skipped(_) => continue,
                    _ => schedule::file_away(inbox, file, today, None)?,
                };
            }
            let tally = Tally::of(&reports);
            let mut summary = serde_json::json!({ "files": files.len(), "rows_loaded": tally.rows_loaded, "files_rejected": tally.files_rejected });
            if tally.rows_loaded > 0 && job.config.then_run {
                let (report, synced) = xuncha_cases::run_and_sync(lake, &run_options()).await?;
                summary["run_id"] = report.run_id.into();
                summary["findings"] = report.findings.into();
                summary["cases_opened"] = synced.opened.into();
            }
            Ok(Some(summary.to_string()))
        }
        Action::Run => {
            let (report, _) = xuncha_cases::run_and_sync(lake, &run_options()).await?;
            if report.status != "ok" {
                return Err(anyhow!("运行 {} 有规则出错", report.run_id));
            }
            Ok(Some(serde_json::json!({ "run_id": report.run_id, "findings": report.findings, "risk_scores": report.risk_scores }).to_string()))
        }
        Action::Maintain => {
            let retain = chrono::Duration::hours(i64::from(job.config.retain_hours));
            let done = lake.maintain(&[], true, Some((retain, false))).await?;
            let compacted: u64 = done.iter().filter_map(|t| t.compaction).map(|c| c.files_removed).sum();
            let deleted: usize = done.iter().filter_map(|t| t.deleted.as_ref()).map(Vec::len).sum();
            Ok(Some(serde_json::json!({ "files_compacted": compacted, "files_deleted": deleted, "retain_hours": job.config.retain_hours }).to_string()))
        }
        Action::Report => {
            let out = job.config.out.as_deref().expect("checked when parsed");
            std::fs::create_dir_all(out)?;
            let ctx = session(lake, session_options).await?;
            let built = xuncha_queries::report::build(&ctx, &xuncha_queries::report::ReportOptions::default(), &config.report).await?;
            let stem = format!("共性问题专题报告-{}", built.as_of);
            for (format, ext) in [(xuncha_dashboard::report::Format::Html, "html"), (xuncha_dashboard::report::Format::Docx, "docx")] {
                xuncha_dashboard::report::write(&built, format, &out.join(format!("{stem}.{ext}")))?;
            }
            Ok(Some(serde_json::json!({ "report": Path::new(out).join(&stem).display().to_string(), "common_topics": built.common().count() }).to_string()))
        }
    }
}
