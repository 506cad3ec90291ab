//! Ingests of one inbox at once: two, three and four `xuncha ingest`
//! processes started together, ten times each, and ingests beside a
//! scheduler taking the same files. Every table ends exactly as one ingest
//! leaves it, and `ingest_batches` holds one row per file.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An inbox of a few sources of `data-samples/` (CSV in both encodings,
/// XLSX, JSON Lines; keys replaced across files; rows quarantined).
fn inbox() -> &'static Path {
    static INBOX: OnceLock<PathBuf> = OnceLock::new();
    INBOX.get_or_init(|| {
        let dir = scratch("concurrent-inbox");
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
        for source in ["deaths", "welfare_jobs", "attendance", "contracts", "cadres"] {
            std::fs::create_dir_all(dir.join(source)).unwrap();
            for entry in std::fs::read_dir(samples.join(source)).unwrap() {
                let path = entry.unwrap().path();
                std::fs::copy(&path, dir.join(source).join(path.file_name().unwrap())).unwrap();
            }
        }
        dir
    })
}

/// What a lake holds, table by table: rows, distinct keys, and for
/// `ingest_batches` rows and distinct files; the quarantine's rows.
fn contents(lake: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (table, key) in [
        ("deaths", "id_number || source"),
        ("welfare_jobs", "job_id"),
        ("attendance", "job_id || month"),
        ("contracts", "contract_id"),
        ("cadres", "id_number || org_code || position || CAST(start_date AS VARCHAR)"),
        ("ingest_batches", "file"),
        ("quarantine", "file || CAST(row_number AS VARCHAR)"),
    ] {
        let r = rows(lake, &format!("SELECT CAST(count(*) AS VARCHAR), CAST(count(DISTINCT {key}) AS VARCHAR) FROM {table}"));
        out.push((table.to_string(), r[0][0].clone(), r[0][1].clone()));
    }
    out
}

/// The lake one ingest of the inbox makes.
fn reference() -> &'static Vec<(String, String, String)> {
    static REFERENCE: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let lake = scratch("concurrent-reference");
        xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", inbox().to_str().unwrap()]);
        let contents = contents(&lake);
        for (table, rows, distinct) in &contents {
            assert_eq!(rows, distinct, "{table}: one ingest leaves no key twice");
        }
        contents
    })
}

fn ingest_process(lake: &Path, inbox: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xuncha ingest starts")
}

#[test]
fn concurrent_ingests_of_one_inbox_end_exact() {
    let files = count_files(inbox()) as u64;
    let want = reference();
    assert_eq!(want.iter().find(|t| t.0 == "ingest_batches").unwrap().1, files.to_string(), "a batch row per file");
    for processes in [2, 3, 4] {
        for trial in 0..10 {
            let lake = scratch(&format!("concurrent-{processes}-{trial}"));
            let children: Vec<_> = (0..processes).map(|_| ingest_process(&lake, inbox())).collect();
            let mut loaded_by = 0;
            for child in children {
                let out = child.wait_with_output().unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(out.status.success(), "{processes} at once, trial {trial}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
                loaded_by += usize::from(stdout.contains("入库 deaths/"));
            }
            assert_eq!(loaded_by, 1, "{processes} at once, trial {trial}: one ingest loads each file, the others find it loaded");
            assert_eq!(&contents(&lake), want, "{processes} at once, trial {trial}");
        }
    }
}

/// `xuncha ingest` beside a scheduler whose ingest job takes the same
/// files (and files them away): each file loaded once, by one of them.
#[test]
fn an_ingest_beside_a_scheduler_ends_exact() {
    let dir = scratch("concurrent-scheduler");
    let (lake, config) = (dir.join("lake"), dir.join("xuncha.toml"));
    let shared = dir.join("inbox");
    std::fs::create_dir_all(&shared).unwrap();
    for entry in std::fs::read_dir(inbox()).unwrap() {
        let from = entry.unwrap().path();
        let to = shared.join(from.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(&from).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        &config,
        format!("[schedule]\nsettle_secs = 0\n[[schedule.jobs]]\nname = \"入库\"\ncron = \"* * * * * *\"\naction = \"ingest\"\ninbox = \"{}\"\nthen_run = false\n", shared.display()),
    )
    .unwrap();
    let mut scheduler = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "schedule"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xuncha schedule starts");
    let manual: Vec<_> = (0..2).map(|_| ingest_process(&lake, &shared)).collect();
    for child in manual {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    // The scheduler files every delivered file away once it has seen it loaded.
    let deadline = Instant::now() + Duration::from_secs(120);
    let waiting =
        || std::fs::read_dir(&shared).unwrap().filter_map(Result::ok).filter(|e| !["archive", "rejected"].contains(&e.file_name().to_str().unwrap())).map(|e| count_files(&e.path())).sum::<usize>();
    while waiting() > 0 {
        assert!(Instant::now() < deadline, "the scheduler took the files");
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = scheduler.kill();
    let _ = scheduler.wait();
    assert_eq!(&contents(&lake), reference());
    assert_eq!(count_files(&shared.join("archive")), count_files(inbox()), "every file archived, none rejected");
}
