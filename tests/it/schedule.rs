//! `xuncha schedule` end to end: a one-second ingest job on a temp lake with
//! the dashboard in the same process. The sample inbox dropped in lands,
//! findings and the dashboard follow; a file still being written is not
//! taken early; a second scheduler is refused; SIGKILL mid-ingest and a
//! restart lose and duplicate nothing. A maintain job compacts and vacuums.

use crate::common::{count_files, generated, rows, scratch, xuncha, xuncha_ok};
use crate::dashboard::{between, client, session_set_cookie, try_login};
use reqwest::header::COOKIE;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `xuncha schedule`, killed (SIGKILL) when dropped, so that a
/// failing test leaves no scheduler behind to write into the next run's lake.
struct Scheduler(Child);

impl Drop for Scheduler {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `xuncha schedule`, its output appended to `log` (shown when a wait times out).
fn start(lake: &Path, config: &Path, port: u16, log: &Path) -> Scheduler {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Scheduler(
        Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .args(["--lake", lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "schedule", "--serve", &format!("127.0.0.1:{port}")])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("xuncha schedule starts"),
    )
}

fn wait_until(what: &str, limit: Duration, log: &Path, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; the scheduler printed:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn delivered(inbox: &Path) -> usize {
    std::fs::read_dir(inbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !["archive", "rejected"].contains(&e.file_name().to_str().unwrap()))
        .map(|e| std::fs::read_dir(e.path()).unwrap().count())
        .sum()
}

#[test]
fn scheduled_ingest_archives_runs_serves_and_survives_a_kill() {
    let dir = scratch("schedule");
    let (lake, inbox, config, log) = (dir.join("lake"), dir.join("inbox"), dir.join("xuncha.toml"), dir.join("scheduler.log"));
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        &config,
        format!("[schedule]\nsettle_secs = 5\n[[schedule.jobs]]\nname = \"入库\"\ncron = \"* * * * * *\"\naction = \"ingest\"\ninbox = \"{}\"\nretry_backoff_secs = 1\n", inbox.display()),
    )
    .unwrap();
    let lake_s = lake.to_str().unwrap();
    let add = Command::new(env!("CARGO_BIN_EXE_xuncha")).args(["--lake", lake_s, "user", "add", "boss", "--role", "leader"]).env("XUNCHA_PASSWORD", "boss password").output().unwrap();
    assert!(add.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let scheduler = start(&lake, &config, port, &log);
    std::thread::sleep(Duration::from_secs(1));
    let second = xuncha(&["--lake", lake_s, "--config", config.to_str().unwrap(), "schedule"]);
    assert!(!second.status.success() && String::from_utf8_lossy(&second.stderr).contains("只能运行一个调度器"));

    // A file written slowly is not taken while it grows.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let deaths: PathBuf = std::fs::read_dir(samples.join("deaths")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "csv")).expect("a deaths CSV");
    let bytes = std::fs::read(&deaths).unwrap();
    std::fs::create_dir_all(inbox.join("deaths")).unwrap();
    let slow = inbox.join("deaths").join(deaths.file_name().unwrap());
    for chunk in 0..6 {
        let end = bytes.len() * (chunk + 1) / 6;
        std::fs::write(&slow, &bytes[..end]).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert!(!inbox.join("archive").exists(), "taken while still being written (chunk {chunk})");
    }
    wait_until("the slow file to be archived", Duration::from_secs(60), &log, || !slow.exists());
    let batches = rows(&lake, "SELECT count(*) AS n FROM ingest_batches WHERE source = 'deaths'");
    assert_eq!(batches[0][0], "1", "loaded once, whole");

    // Kill it mid-ingest, restart, and the lake ends exact.
    copy_tree(&samples, &inbox);
    std::fs::remove_file(inbox.join("deaths").join(deaths.file_name().unwrap())).unwrap();
    let commits = || std::fs::read_dir(lake.join("ingest_batches/_delta_log")).map_or(0, |d| d.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))).count());
    let before = commits();
    wait_until("ingest to be under way", Duration::from_secs(60), &log, || commits() >= before + 5);
    drop(scheduler);
    assert!(delivered(&inbox) > 0, "killed before the job finished");
    let scheduler = start(&lake, &config, port, &log);
    wait_until("the inbox to empty", Duration::from_secs(180), &log, || delivered(&inbox) == 0);
    wait_until("the rules to run", Duration::from_secs(120), &log, || lake.join("findings").is_dir() && rows(&lake, "SELECT count(*) AS n FROM runs WHERE kind = 'rules'")[0][0] != "0");

    let reference = dir.join("reference");
    xuncha_ok(&["--lake", reference.to_str().unwrap(), "ingest", samples.to_str().unwrap()]);
    for table in ["population", "subsidy_payments", "deaths", "problems", "quarantine"] {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        assert_eq!(rows(&lake, &sql), rows(&reference, &sql), "{table}: nothing lost, nothing twice");
    }
    let archived = std::fs::read_dir(inbox.join("archive")).unwrap().count();
    assert!(archived >= 1);

    // The dashboard in the same process shows the fresh findings.
    let findings = rows(&lake, "SELECT count(*) AS n FROM latest_findings")[0][0].clone();
    let base = format!("http://127.0.0.1:{port}");
    let session = session_set_cookie(&try_login(&base, "boss", "boss password"));
    let page = client().get(format!("{base}/p/overview")).header(COOKIE, session.split(';').next().unwrap()).send().unwrap().text().unwrap();
    let kpis = between(&page, "id=\"kpis\"", "</section>");
    assert!(kpis.contains(&format!("<div class=\"value\">{findings}</div><div class=\"label\">比对发现</div>")), "overview shows {findings} findings");
    drop(scheduler);
}

/// A maintain job compacts every table and deletes the files no version
/// reads any more (retention 0 here); every row stays as it was.
#[test]
fn a_maintain_job_compacts_and_vacuums_and_changes_no_row() {
    let dir = scratch("schedule-maintain");
    let (lake, config, log) = (dir.join("lake"), dir.join("xuncha.toml"), dir.join("scheduler.log"));
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", generated("sample").to_str().unwrap()]);
    let data_files = |table: &str| count_files(&lake.join(table)) - count_files(&lake.join(table).join("_delta_log"));
    let counts = || {
        let mut all = ["population", "subsidy_payments", "deaths", "quarantine", "ingest_batches"].map(|t| rows(&lake, &format!("SELECT count(*) AS n FROM {t}"))).to_vec();
        all.push(rows(&lake, "SELECT CAST(sum(amount) AS VARCHAR) AS s, count(DISTINCT payment_id) AS n FROM subsidy_payments"));
        all
    };
    let (files_before, counts_before) = (data_files("subsidy_payments"), counts());
    std::fs::write(&config, "[schedule]\n[[schedule.jobs]]\nname = \"整理\"\ncron = \"* * * * * *\"\naction = \"maintain\"\nretain_hours = 0\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let scheduler = start(&lake, &config, port, &log);
    let done = || std::fs::read_to_string(&log).unwrap_or_default().lines().find(|l| l.contains("任务「整理」完成")).map(str::to_string);
    wait_until("the maintain job to finish once", Duration::from_secs(120), &log, || done().is_some());
    drop(scheduler);
    let line = done().unwrap();
    let stats: serde_json::Value = serde_json::from_str(&line[line.find('{').expect("the job's stats")..]).unwrap();
    assert!(stats["files_compacted"].as_u64().unwrap() > 0 && stats["files_deleted"].as_u64().unwrap() > 0, "{line}");
    let files_after = data_files("subsidy_payments");
    assert!(files_after < files_before / 4, "{files_before} data files -> {files_after}");
    assert_eq!(counts(), counts_before, "every row as it was");
}
