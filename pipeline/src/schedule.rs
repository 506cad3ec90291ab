//! Scheduled jobs (`xuncha schedule`): when each job is due, retries with
//! backoff, no overlapping runs, one scheduler per lake, and the inbox
//! hand-over (only complete files are taken; loaded files go to
//! `archive/<date>/`, rejected ones to `rejected/<date>/` with a
//! `.reason.txt`).
//!
//! The clock is injected (`Planner::due(now)`), so the timing logic is tested
//! without sleeping. Missed runs after downtime are coalesced: a job whose
//! due time passed while the scheduler was down runs once at start.
//!
//! ```toml
//! timezone = "Asia/Shanghai"        # in [schedule]; the default
//! [[schedule.jobs]]
//! name = "民政数据"
//! cron = "0 */10 * * * *"           # sec min hour day month weekday
//! action = "ingest"                 # ingest | run | report | maintain
//! inbox = "/data/inbox"             # for ingest
//! then_run = true                   # after new rows, re-run rules and scores
//! retries = 3
//! retry_backoff_secs = 60           # doubled each retry
//! [[schedule.jobs]]
//! name = "专题报告"
//! cron = "0 0 7 * * Mon"
//! action = "report"
//! out = "/data/reports"
//! [[schedule.jobs]]
//! name = "整理湖"
//! cron = "0 30 2 * * Sun"
//! action = "maintain"               # optimize every table, then vacuum
//! retain_hours = 168                # files a version of the last week reads stay
//! ```

use crate::PipelineError;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use xuncha_core::config::{Action, JobConfig, ScheduleConfig};

/// A job with its parsed schedule.
#[derive(Debug, Clone)]
pub struct Job {
    pub config: JobConfig,
    schedule: cron::Schedule,
}

/// Parses and checks the jobs of a configuration.
pub fn jobs(config: &ScheduleConfig) -> Result<(Tz, Vec<Job>), PipelineError> {
    let tz = Tz::from_str(&config.timezone).map_err(|_| PipelineError::Config(format!("[schedule] timezone「{}」不是有效的时区(如 Asia/Shanghai)", config.timezone)))?;
    let mut out = Vec::new();
    for job in &config.jobs {
        let schedule = cron::Schedule::from_str(&job.cron).map_err(|e| PipelineError::Config(format!("任务「{}」的 cron「{}」无效: {e}(格式: 秒 分 时 日 月 周)", job.name, job.cron)))?;
        match job.action {
            Action::Ingest if job.inbox.is_none() => return Err(PipelineError::Config(format!("任务「{}」(ingest) 需要 inbox", job.name))),
            Action::Report if job.out.is_none() => return Err(PipelineError::Config(format!("任务「{}」(report) 需要 out", job.name))),
            _ => {}
        }
        if out.iter().any(|j: &Job| j.config.name == job.name) {
            return Err(PipelineError::Config(format!("任务名「{}」重复", job.name)));
        }
        out.push(Job { config: job.clone(), schedule });
    }
    Ok((tz, out))
}

/// The state of one job between runs.
#[derive(Debug, Clone, Default, PartialEq)]
struct JobState {
    /// When it is next due.
    next: Option<DateTime<Utc>>,
    /// Failed attempts of the current due run.
    attempts: u32,
    running: bool,
}

/// Decides which jobs run when; owns no clock.
#[derive(Debug)]
pub struct Planner {
    tz: Tz,
    jobs: Vec<Job>,
    state: HashMap<String, JobState>,
}

impl Planner {
    /// A planner started at `now`; `last_runs` are each job's last finished
    /// run (from the `runs` table), so runs missed while down happen once now.
    pub fn new(tz: Tz, jobs: Vec<Job>, now: DateTime<Utc>, last_runs: &HashMap<String, DateTime<Utc>>) -> Planner {
        let mut state = HashMap::new();
        for job in &jobs {
            let next = match last_runs.get(&job.config.name) {
                Some(last) => next_after(&job.schedule, tz, *last).map(|due| if due <= now { now } else { due }),
                None => next_after(&job.schedule, tz, now),
            };
            state.insert(job.config.name.clone(), JobState { next, ..JobState::default() });
        }
        Planner { tz, jobs, state }
    }

    /// The jobs due at `now` that are not already running; they are marked running.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let mut out = Vec::new();
        for job in &self.jobs {
            let state = self.state.get_mut(&job.config.name).expect("every job has a state");
            if !state.running && state.next.is_some_and(|next| next <= now) {
                state.running = true;
                out.push(job.clone());
            }
        }
        out
    }

    /// Records how a job's run ended at `now`: on success (or retries spent)
    /// the next due time follows the schedule; on failure it is retried after
    /// the backoff, doubled for each attempt.
    pub fn finished(&mut self, name: &str, ok: bool, now: DateTime<Utc>) {
        let Some(job) = self.jobs.iter().find(|j| j.config.name == name) else { return };
        let state = self.state.get_mut(name).expect("every job has a state");
        state.running = false;
        if !ok && state.attempts < job.config.retries {
            let backoff = job.config.retry_backoff_secs.saturating_mul(1 << state.attempts.min(16));
            state.attempts += 1;
            state.next = Some(now + chrono::Duration::seconds(i64::try_from(backoff).unwrap_or(i64::MAX / 2)));
        } else {
            state.attempts = 0;
            state.next = next_after(&job.schedule, self.tz, now);
        }
    }

    /// When the next job is due (to sleep until then).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.state.values().filter(|s| !s.running).filter_map(|s| s.next).min()
    }
}

fn next_after(schedule: &cron::Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&after.with_timezone(&tz)).next().map(|d| d.with_timezone(&Utc))
}

/// One scheduler per lake: holds `<lake>/_xuncha/scheduler.lock` while alive.
#[derive(Debug)]
pub struct SchedulerLock {
    _file: std::fs::File,
}

impl SchedulerLock {
    /// Takes the lock, or says that another scheduler has it.
    pub fn acquire(lake_root: &Path) -> Result<SchedulerLock, PipelineError> {
        let dir = lake_root.join("_xuncha");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("scheduler.lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(SchedulerLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(PipelineError::Config(format!("另一个 xuncha schedule 正在使用这个数据湖({} 已被锁定);同一数据湖只能运行一个调度器", path.display()))),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

/// Watches an inbox's files and says which are complete.
#[derive(Debug, Default)]
pub struct Settler {
    seen: HashMap<PathBuf, (u64, Option<SystemTime>, SystemTime)>,
}

impl Settler {
    /// The delivered files (of `sources` of `catalog`, or all) that are
    /// complete at `now`: a `.done` marker beside them, or size and time
    /// unchanged for `settle`.
    pub fn complete(&mut self, inbox: &Path, catalog: &xuncha_core::declared::Catalog, sources: &[String], settle: Duration, now: SystemTime) -> Result<Vec<PathBuf>, PipelineError> {
        let mut out = Vec::new();
        for source in catalog.all().filter(|s| sources.is_empty() || sources.iter().any(|w| w == s.name)) {
            let folder = inbox.join(source.name);
            if !folder.is_dir() {
                continue;
            }
            for file in crate::ingest::delivered_files(&folder)? {
                let meta = std::fs::metadata(&file)?;
                let marker = PathBuf::from(format!("{}.done", file.display()));
                let (size, modified) = (meta.len(), meta.modified().ok());
                let first_seen = match self.seen.get(&file) {
                    Some((s, m, since)) if *s == size && *m == modified => *since,
                    _ => {
                        self.seen.insert(file.clone(), (size, modified, now));
                        now
                    }
                };
                let quiet = modified.map_or(Duration::ZERO, |m| now.duration_since(m).unwrap_or_default());
                if marker.exists() || (now.duration_since(first_seen).unwrap_or_default() >= settle && quiet >= settle) {
                    out.push(file);
                }
            }
        }
        self.seen.retain(|p, _| p.exists());
        Ok(out)
    }
}

/// Moves a handled file (and its `.done` marker) to `<inbox>/<archive|rejected>/<date>/<source>/`,
/// writing `<file>.reason.txt` beside a rejected one.
pub fn file_away(inbox: &Path, file: &Path, date: NaiveDate, rejection: Option<&str>) -> Result<PathBuf, PipelineError> {
    let source = file.parent().and_then(Path::file_name).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = inbox.join(if rejection.is_some() { "rejected" } else { "archive" }).join(date.to_string()).join(source);
    std::fs::create_dir_all(&folder)?;
    let name = file.file_name().ok_or_else(|| PipelineError::Config(format!("not a file: {}", file.display())))?;
    let mut target = folder.join(name);
    let mut n = 1;
    while target.exists() {
        target = folder.join(format!("{}.{n}", name.to_string_lossy()));
        n += 1;
    }
    std::fs::rename(file, &target)?;
    let marker = PathBuf::from(format!("{}.done", file.display()));
    if marker.exists() {
        std::fs::remove_file(marker)?;
    }
    if let Some(reason) = rejection {
        std::fs::write(format!("{}.reason.txt", target.display()), format!("{reason}\n"))?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn job(name: &str, cron: &str, retries: u32) -> JobConfig {
        JobConfig { name: name.into(), cron: cron.into(), action: Action::Run, inbox: None, sources: vec![], then_run: true, out: None, retries, retry_backoff_secs: 60, retain_hours: 168 }
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap()
    }

    fn planner(configs: Vec<JobConfig>, now: DateTime<Utc>, last: &[(&str, DateTime<Utc>)]) -> Planner {
        let (tz, jobs) = jobs(&ScheduleConfig { jobs: configs, ..ScheduleConfig::default() }).unwrap();
        Planner::new(tz, jobs, now, &last.iter().map(|(n, t)| ((*n).to_string(), *t)).collect())
    }

    #[test]
    fn due_times_follow_cron_in_the_local_time_zone() {
        // 08:00 Asia/Shanghai is 00:00 UTC.
        let mut p = planner(vec![job("早八点", "0 0 8 * * *", 0)], at(0, 0, 0) - chrono::Duration::seconds(1), &[]);
        assert!(p.due(at(0, 0, 0) - chrono::Duration::seconds(1)).is_empty());
        assert_eq!(p.next_due(), Some(at(0, 0, 0)));
        assert_eq!(p.due(at(0, 0, 0)).len(), 1);
        assert!(p.due(at(0, 0, 5)).is_empty(), "a running job is not started twice");
        p.finished("早八点", true, at(0, 3, 0));
        assert_eq!(p.next_due(), Some(at(0, 0, 0) + chrono::Duration::days(1)));
    }

    #[test]
    fn a_run_missed_while_down_happens_once_at_start() {
        let last = at(1, 0, 0);
        let mut p = planner(vec![job("每小时", "0 0 * * * *", 0)], at(5, 30, 0), &[("每小时", last)]);
        assert_eq!(p.due(at(5, 30, 0)).len(), 1, "missed 02:00–05:00: one catch-up run");
        p.finished("每小时", true, at(5, 31, 0));
        assert_eq!(p.next_due(), Some(at(6, 0, 0)));
        let fresh = planner(vec![job("每小时", "0 0 * * * *", 0)], at(5, 30, 0), &[("每小时", at(5, 0, 0))]);
        assert_eq!(fresh.next_due(), Some(at(6, 0, 0)), "nothing missed, nothing early");
    }

    #[test]
    fn failures_retry_with_doubling_backoff_then_wait_for_the_schedule() {
        let mut p = planner(vec![job("入库", "0 0 * * * *", 2)], at(0, 59, 0), &[]);
        assert_eq!(p.due(at(1, 0, 0)).len(), 1);
        p.finished("入库", false, at(1, 0, 10));
        assert_eq!(p.next_due(), Some(at(1, 1, 10)), "first retry after 60 s");
        assert_eq!(p.due(at(1, 1, 10)).len(), 1);
        p.finished("入库", false, at(1, 1, 20));
        assert_eq!(p.next_due(), Some(at(1, 3, 20)), "second retry after 120 s");
        assert_eq!(p.due(at(1, 3, 20)).len(), 1);
        p.finished("入库", false, at(1, 3, 30));
        assert_eq!(p.next_due(), Some(at(2, 0, 0)), "retries spent: back to the schedule");
    }

    #[test]
    fn bad_jobs_are_named() {
        let bad = jobs(&ScheduleConfig { jobs: vec![job("x", "every minute", 0)], ..ScheduleConfig::default() });
        assert!(bad.unwrap_err().to_string().contains("every minute"));
        let mut ingest = job("y", "0 * * * * *", 0);
        ingest.action = Action::Ingest;
        assert!(jobs(&ScheduleConfig { jobs: vec![ingest], ..ScheduleConfig::default() }).unwrap_err().to_string().contains("inbox"));
        assert!(jobs(&ScheduleConfig { timezone: "Mars/Olympus".into(), ..ScheduleConfig::default() }).is_err());
    }

    #[test]
    fn only_settled_or_marked_files_are_complete_and_filing_away_keeps_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("deaths");
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("a.csv");
        std::fs::write(&file, "x").unwrap();
        let mut settler = Settler::default();
        let t0 = SystemTime::now() + Duration::from_secs(1);
        let settle = Duration::from_secs(5);
        assert!(settler.complete(dir.path(), &Default::default(), &[], settle, t0).unwrap().is_empty(), "just seen");
        assert_eq!(settler.complete(dir.path(), &Default::default(), &[], settle, t0 + Duration::from_secs(6)).unwrap(), vec![file.clone()]);
        let growing = folder.join("b.csv");
        std::fs::write(&growing, "1").unwrap();
        assert!(!settler.complete(dir.path(), &Default::default(), &[], settle, t0 + Duration::from_secs(7)).unwrap().contains(&growing));
        std::fs::write(folder.join("b.csv.done"), "").unwrap();
        assert!(settler.complete(dir.path(), &Default::default(), &[], settle, t0 + Duration::from_secs(7)).unwrap().contains(&growing), "a .done marker completes it");
        assert!(settler.complete(dir.path(), &Default::default(), &["population".into()], settle, t0 + Duration::from_secs(60)).unwrap().is_empty(), "other sources only");

        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let archived = file_away(dir.path(), &file, day, None).unwrap();
        assert_eq!(archived, dir.path().join("archive/2026-11-26/deaths/a.csv"));
        let rejected = file_away(dir.path(), &growing, day, Some("缺少必填列")).unwrap();
        assert!(!folder.join("b.csv.done").exists());
        assert_eq!(std::fs::read_to_string(format!("{}.reason.txt", rejected.display())).unwrap(), "缺少必填列\n");
    }

    #[test]
    fn one_scheduler_per_lake() {
        let dir = tempfile::tempdir().unwrap();
        let held = SchedulerLock::acquire(dir.path()).unwrap();
        assert!(SchedulerLock::acquire(dir.path()).unwrap_err().to_string().contains("只能运行一个调度器"));
        drop(held);
        assert!(SchedulerLock::acquire(dir.path()).is_ok());
    }
}
