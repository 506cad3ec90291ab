//! Shared helpers: running the `xuncha` binary, generated inboxes reused
//! across tests, and reading lake tables back.

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::util::display::array_value_to_string;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Runs `xuncha` with `args`, returning its output (never panics on exit status).
pub(crate) fn xuncha(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xuncha")).args(args).env_remove("XUNCHA_LAKE").output().expect("xuncha runs")
}

/// Runs `xuncha` with `input` on its standard input; its stdout and stderr.
pub(crate) fn xuncha_with_stdin(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(args)
        .env_remove("XUNCHA_LAKE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("xuncha runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("input written");
    let out = child.wait_with_output().expect("xuncha ends");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `xuncha` and asserts success.
pub(crate) fn xuncha_ok(args: &[&str]) -> String {
    let out = xuncha(args);
    assert!(out.status.success(), "xuncha {args:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder kept for the whole test run (under the target dir's tmp).
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("it").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A generated inbox (made once per test run and scale).
pub(crate) fn generated(scale: &'static str) -> &'static Path {
    static SAMPLE: OnceLock<PathBuf> = OnceLock::new();
    static COUNTY: OnceLock<PathBuf> = OnceLock::new();
    let cell = if scale == "sample" { &SAMPLE } else { &COUNTY };
    cell.get_or_init(|| {
        let dir = scratch(&format!("inbox-{scale}"));
        xuncha_ok(&["gen", "--scale", scale, "--seed", "2026", "--out", dir.to_str().expect("utf-8 path")]);
        dir
    })
}

/// The lake of a generated inbox, ingested once per test run and scale.
pub(crate) fn ingested(scale: &'static str) -> &'static Path {
    static SAMPLE: OnceLock<PathBuf> = OnceLock::new();
    static COUNTY: OnceLock<PathBuf> = OnceLock::new();
    let cell = if scale == "sample" { &SAMPLE } else { &COUNTY };
    cell.get_or_init(|| {
        let lake = scratch(&format!("lake-{scale}"));
        let out = xuncha_ok(&["--lake", lake.to_str().expect("utf-8 path"), "ingest", generated(scale).to_str().expect("utf-8 path")]);
        assert!(out.contains("拒收 0 个文件"), "{out}");
        lake
    })
}

/// Reads a CSV written by the generator as string records (header skipped).
pub(crate) fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect()
}

/// Runs SQL over the lake with xuncha's own session (tables, UDFs, views).
pub(crate) fn query(lake: &Path, sql: &str) -> Vec<RecordBatch> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let lake = xuncha_core::lake::Lake::open(lake).expect("lake");
        let ctx = xuncha_queries::session::session(&lake, &xuncha_queries::session::SessionOptions::default()).await.expect("session");
        ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).collect().await.expect("collect")
    })
}

/// Query results as rows of display strings.
pub(crate) fn rows(lake: &Path, sql: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for batch in query(lake, sql) {
        for r in 0..batch.num_rows() {
            out.push((0..batch.num_columns()).map(|c| array_value_to_string(batch.column(c).as_ref(), r).expect("display")).collect());
        }
    }
    out
}

/// The Delta version of every table of the lake.
pub(crate) fn versions(lake: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(lake).expect("lake dir") {
        let path = entry.expect("entry").path();
        let log = path.join("_delta_log");
        if log.is_dir() {
            let commits = std::fs::read_dir(&log).expect("log").filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))).count();
            out.insert(path.file_name().expect("name").to_string_lossy().into_owned(), commits);
        }
    }
    out
}

/// `python3` for the peers, without the test harness's `RUST_MIN_STACK`
/// (inherited, it aborts the Rust inside Python deltalake).
/// The number of files under `dir`, at any depth.
pub(crate) fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.map(|e| e.expect("entry").path()).map(|p| if p.is_dir() { count_files(&p) } else { 1 }).sum())
}

pub(crate) fn python3() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env_remove("RUST_MIN_STACK");
    cmd
}

/// Every valid citizen ID number in a text (a run of exactly 18 digits, or
/// 17 and an X, that passes the GB 11643 check).
pub(crate) fn full_ids(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == 'X')).filter(|s| s.len() == 18 && xuncha_core::values::id_valid(s)).map(String::from).collect()
}
