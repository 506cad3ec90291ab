//! `xuncha ingest` against the generator's expectations: every good row
//! lands, exactly the listed bad rows are quarantined, a re-run changes
//! nothing, and a peer validates the ID numbers that landed.

use crate::common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// Ingests `inbox` into `lake` and checks rows and quarantine against the
/// generator's lists.
fn ingest_and_check(inbox: &Path, lake: &Path) {
    let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    assert!(out.contains("拒收 0 个文件"), "{out}");
    check_against_generator(inbox, lake);
}

/// Checks a lake's rows and quarantine against the generator's lists.
fn check_against_generator(inbox: &Path, lake: &Path) {
    let expected: BTreeSet<Vec<String>> = read_csv(&inbox.join("expected_quarantine.csv")).into_iter().collect();
    let actual: BTreeSet<Vec<String>> = rows(lake, "SELECT source, file, CAST(row_number AS VARCHAR), reason_kind FROM quarantine").into_iter().collect();
    let missing: Vec<_> = expected.difference(&actual).take(5).collect();
    let extra: Vec<_> = actual.difference(&expected).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "quarantine differs: not quarantined {missing:?}; quarantined but good {extra:?}");
    for row in read_csv(&inbox.join("expected_counts.csv")) {
        let (source, want) = (&row[0], &row[1]);
        let got = rows(lake, &format!("SELECT count(*) FROM {source}"));
        assert_eq!(&got[0][0], want, "{source}: rows in the lake");
    }
}

/// GB 11643 validity by python-stdnum: format, check digit and birth date.
/// stdnum also refuses a region code that did not exist in the birth year
/// (InvalidComponent); the contract's validity does not include that, so
/// only the birth date is checked then.
const STDNUM_CHECK: &str = r#"
import sys
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent
def valid(n):
    try:
        ric.validate(n)
        return True
    except InvalidComponent:
        try:
            ric.get_birth_date(n)
            return True
        except Exception:
            return False
    except Exception:
        return False
ids = [l.strip() for l in open(sys.argv[1]) if l.strip()]
bad = [n for n in ids if not valid(n)]
print(len(ids), "checked;", len(bad), "invalid", bad[:5])
sys.exit(1 if bad or not ids else 0)
"#;

#[test]
fn sample_inbox_lands_whole_with_exact_quarantine_and_reingest_changes_nothing() {
    let lake = scratch("lake-sample-twice");
    ingest_and_check(generated("sample"), &lake);
    let before = versions(&lake);
    let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", generated("sample").to_str().unwrap()]);
    assert!(out.contains("入库 0 行"), "{out}");
    assert_eq!(versions(&lake), before, "a re-delivery must not commit anything");
    // A peer checks every ID number that landed in population.
    let ids: Vec<String> = rows(&lake, "SELECT id_number FROM population").into_iter().map(|r| r[0].clone()).collect();
    assert!(ids.len() > 5000);
    let list = lake.join("ids.txt");
    std::fs::write(&list, ids.join("\n")).unwrap();
    let out = python3().args(["-c", STDNUM_CHECK, list.to_str().unwrap()]).output().expect("python3 (installed by scripts/setup)");
    assert!(out.status.success(), "python-stdnum rejects generated IDs: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn county_inbox_lands_whole_with_exact_quarantine() {
    check_against_generator(generated("county"), ingested("county"));
}

/// Ingest killed with SIGKILL at twenty points, then run to the end: the
/// lake ends exact (every key once, every bad row once, every file once).
#[test]
fn ingest_killed_at_random_points_ends_exact() {
    let lake = scratch("lake-crash");
    let inbox = generated("sample");
    let mut delay_ms: u64 = 150;
    for _ in 0..20 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .args(["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        // A fixed pseudo-random walk over 150 ms … 1.5 s.
        delay_ms = 150 + (delay_ms * 7919 + 104_729) % 1350;
    }
    ingest_and_check(inbox, &lake);
    let files = read_csv(&inbox.join("expected_counts.csv")).len();
    assert!(files > 0);
    let batches = rows(&lake, "SELECT count(*), count(DISTINCT file) FROM ingest_batches");
    assert_eq!(batches[0][0], batches[0][1], "each file recorded once");
    for (table, key) in [("subsidy_payments", "payment_id"), ("population", "id_number"), ("finance_vouchers", "voucher_id")] {
        let r = rows(&lake, &format!("SELECT count(*), count(DISTINCT {key}) FROM {table}"));
        assert_eq!(r[0][0], r[0][1], "{table}: no key twice");
    }
    let q = rows(&lake, "SELECT count(*) FROM (SELECT DISTINCT file, row_number FROM quarantine)");
    let all = rows(&lake, "SELECT count(*) FROM quarantine");
    assert_eq!(q, all, "no quarantined row twice");
}

/// Every table is readable by a peer (Python deltalake + pyarrow) with the
/// same rows and columns.
#[test]
fn a_peer_reads_every_table() {
    let lake = scratch("lake-peer");
    let inbox = generated("sample");
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    let script = r#"
import sys, os, json
from deltalake import DeltaTable
out = {}
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name)
    if os.path.isdir(os.path.join(path, "_delta_log")):
        t = DeltaTable(path).to_pyarrow_table()
        out[name] = [t.num_rows, t.schema.names]
print(json.dumps(out))
# Python deltalake 1.6 can abort in interpreter teardown after its work is
# done; the answer is printed, so leave without the teardown.
sys.stdout.flush()
os._exit(0)
"#;
    let out = python3().args(["-c", script, lake.to_str().unwrap()]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let tables = peer.as_object().expect("object");
    assert!(tables.len() >= 18, "{tables:?}");
    for (name, seen) in tables {
        let ours = rows(&lake, &format!("SELECT count(*) FROM {name}"));
        assert_eq!(seen[0].to_string(), ours[0][0], "{name}: row count seen by the peer");
        let columns: Vec<String> = query(&lake, &format!("SELECT * FROM {name} LIMIT 1"))[0].schema().fields().iter().map(|f| f.name().clone()).collect();
        let peer_columns: Vec<String> = seen[1].as_array().expect("names").iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(peer_columns, columns, "{name}: columns seen by the peer");
    }
}

/// `xuncha optimize` compacts the small files every delivery adds: a peer
/// sees fewer files, every row and the quarantine stay exact, the version
/// before it can still be read, and a second optimize has nothing to do.
#[test]
fn optimize_compacts_small_files_and_changes_no_row() {
    let lake = scratch("lake-sample-optimize");
    ingest_and_check(generated("sample"), &lake);
    let l = lake.to_str().unwrap();
    let peer_files = || {
        let script = "import sys; from deltalake import DeltaTable; print(len(DeltaTable(sys.argv[1]).file_uris()))";
        let out = python3().args(["-c", script, lake.join("subsidy_payments").to_str().unwrap()]).output().expect("python3 (installed by scripts/setup)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().parse::<usize>().expect("a file count")
    };
    let files_before = peer_files();
    let version_before = versions(&lake)["subsidy_payments"] - 1;
    let count = "SELECT count(*) AS n FROM subsidy_payments";
    let rows_before = rows(&lake, count);

    let refused = xuncha(&["--lake", l, "optimize", "subsidy_payments", "no_such_table"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("no_such_table"));
    assert_eq!(peer_files(), files_before, "a bad name is refused before any table is compacted");

    let out = xuncha_ok(&["--lake", l, "optimize"]);
    let line = out.lines().find(|line| line.contains("subsidy_payments")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(&format!("{files_before} 个小文件")), "{line}");
    let files_after = peer_files();
    assert!((1..files_before).contains(&files_after), "{files_before} files -> {files_after}");
    check_against_generator(generated("sample"), &lake);
    let old = xuncha_ok(&["--lake", l, "sql", count, "--format", "csv", "--version", &format!("subsidy_payments={version_before}")]);
    assert_eq!(old.lines().nth(1), Some(rows_before[0][0].as_str()), "the version before optimize reads the same rows");

    let again = xuncha_ok(&["--lake", l, "optimize", "subsidy_payments"]);
    assert!(again.contains("无需整理"), "{again}");
    let missing = xuncha(&["--lake", l, "optimize", "no_such_table"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("no_such_table"));

    // Vacuum: a dry run names the files the compaction replaced and deletes
    // none; the real one deletes exactly those, every row stays, and the
    // version before the compaction can no longer be read.
    let table_dir = lake.join("subsidy_payments");
    // Data files only: vacuum commits too (Delta logs its start and end).
    let data_files = || count_files(&table_dir) - count_files(&table_dir.join("_delta_log"));
    let on_disk = data_files();
    let deleted = |out: &str, verb: &str| -> usize {
        let line = out.lines().find(|line| line.contains("subsidy_payments")).unwrap_or_else(|| panic!("{out}"));
        line.split(verb).nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"))
    };
    let dry = deleted(&xuncha_ok(&["--lake", l, "vacuum", "subsidy_payments", "--retain-hours", "0", "--dry-run"]), "可删除");
    assert!(dry >= files_before, "the {files_before} compacted files at least, got {dry}");
    assert_eq!(data_files(), on_disk, "a dry run deletes nothing");
    let done = deleted(&xuncha_ok(&["--lake", l, "vacuum", "subsidy_payments", "--retain-hours", "0"]), "已删除");
    assert_eq!(done, dry, "the real run deletes what the dry run named");
    assert_eq!(data_files(), on_disk - done);
    assert_eq!(peer_files(), files_after, "the current version keeps its files");
    check_against_generator(generated("sample"), &lake);
    let read_all = "SELECT count(DISTINCT payment_id) AS n FROM subsidy_payments";
    let gone = xuncha(&["--lake", l, "sql", read_all, "--version", &format!("subsidy_payments={version_before}")]);
    assert!(!gone.status.success(), "the version before the compaction no longer reads: {}", String::from_utf8_lossy(&gone.stdout));
    assert_eq!(deleted(&xuncha_ok(&["--lake", l, "vacuum", "--retain-hours", "0"]), "已删除"), 0, "nothing left to delete");
    let bad = xuncha(&["--lake", l, "vacuum", "subsidy_payments", "no_such_table"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("no_such_table"));
}
