//! `xuncha run` end to end against the generator's answer key (precision and
//! recall 1.0, rule by rule), and `xuncha sql`'s read-only guard.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn findings_match_answer_key(scale: &'static str) {
    let lake = ingested(scale);
    let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "run"]);
    assert!(out.contains("状态 ok"), "{out}");
    let key: BTreeSet<(String, String)> = read_csv(&generated(scale).join("answer_key.csv")).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let found: BTreeSet<(String, String)> = rows(lake, "SELECT rule_id, entity_key FROM latest_findings").into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let mut report = BTreeMap::new();
    for rule in xuncha_core::contract::RULE_IDS {
        let want: BTreeSet<_> = key.iter().filter(|(r, _)| r == rule).collect();
        let got: BTreeSet<_> = found.iter().filter(|(r, _)| r == rule).collect();
        if want != got {
            let missing: Vec<_> = want.difference(&got).take(3).collect();
            let extra: Vec<_> = got.difference(&want).take(3).collect();
            report.insert(*rule, format!("want {} got {}; missing {missing:?}; extra {extra:?}", want.len(), got.len()));
        }
        assert!(!want.is_empty(), "{rule}: the answer key has no entity");
    }
    assert!(report.is_empty(), "findings differ from the answer key:\n{report:#?}");
}

#[test]
fn sample_findings_equal_the_answer_key() {
    findings_match_answer_key("sample");
}

#[test]
fn county_findings_equal_the_answer_key() {
    findings_match_answer_key("county");
}

/// Statements an analyst's console must refuse, each with a clear message and
/// nothing written to disk.
const REFUSED: &[&str] = &[
    "CREATE TABLE t (a INT)",
    "CREATE TABLE t AS SELECT * FROM population",
    "CREATE OR REPLACE TABLE t AS SELECT 1",
    "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
    "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 'data-samples'",
    "CREATE EXTERNAL TABLE t (a INT) STORED AS CSV LOCATION 'http://example.com/x.csv'",
    "CREATE VIEW v AS SELECT * FROM population",
    "CREATE OR REPLACE VIEW v AS SELECT 1",
    "CREATE SCHEMA s",
    "CREATE DATABASE d",
    "CREATE FUNCTION f(a INT) RETURNS INT RETURN a",
    "DROP TABLE population",
    "DROP VIEW villages",
    "DROP SCHEMA public",
    "DROP TABLE IF EXISTS findings",
    "INSERT INTO population SELECT * FROM population",
    "INSERT INTO population (id_number) VALUES ('1')",
    "INSERT OVERWRITE population SELECT * FROM population",
    "DELETE FROM population",
    "DELETE FROM findings WHERE rule_id = 'deceased_paid'",
    "UPDATE population SET name = 'x'",
    "UPDATE subsidy_payments SET amount = 0 WHERE payment_id = 'x'",
    "TRUNCATE TABLE population",
    "COPY population TO '/tmp/xuncha-refused.csv'",
    "COPY (SELECT * FROM population) TO '/tmp/xuncha-refused.parquet' STORED AS PARQUET",
    "COPY (SELECT 1) TO '/tmp/xuncha-refused.json'",
    "SELECT * INTO t FROM population",
    "SELECT id_number INTO TEMP t2 FROM population",
    "SET datafusion.execution.target_partitions = 1",
    "SET TIME ZONE 'UTC'",
    "RESET datafusion.execution.batch_size",
    "PREPARE p AS SELECT * FROM population",
    "EXECUTE p",
    "DEALLOCATE p",
    "BEGIN",
    "START TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "SELECT 1; DROP TABLE population",
    "SELECT 1; SELECT 2",
    "SELECT * FROM population; DELETE FROM population",
    "EXPLAIN CREATE TABLE t AS SELECT 1",
    "EXPLAIN INSERT INTO population SELECT * FROM population",
    "EXPLAIN COPY (SELECT 1) TO '/tmp/xuncha-refused.csv'",
    "EXPLAIN ANALYZE INSERT INTO population SELECT * FROM population",
    "EXPLAIN DELETE FROM population",
    "EXPLAIN CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM 'data-samples/population/430223101000_户籍人口.csv'",
    "SELECT * FROM 'http://example.com/data.parquet'",
    "SELECT * FROM 's3://bucket/data.parquet'",
    "SELECT * FROM \"/etc/hosts\"",
    "ALTER TABLE population ADD COLUMN x INT",
    "ANALYZE TABLE population",
    "VACUUM population",
    "",
    "   ;  ",
];

#[test]
fn sql_refuses_everything_but_reading() {
    let dir = scratch("lake-refusals");
    xuncha_ok(&["--lake", dir.to_str().unwrap(), "ingest", generated("sample").to_str().unwrap()]);
    let lake = dir.as_path();
    let before = versions(lake);
    // Files of the lake's tables (the audit log under `_xuncha/` records each attempt).
    let table_files = || count_files(lake) - count_files(&lake.join("_xuncha"));
    let lake_files_before = table_files();
    for statement in REFUSED {
        let out = xuncha(&["--lake", lake.to_str().unwrap(), "sql", statement]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{statement:?} was not refused: {}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(stderr.lines().count(), 1, "{statement:?}: one clear line, got {stderr}");
        assert!(stderr.starts_with("xuncha: "), "{statement:?}: {stderr}");
    }
    assert!(REFUSED.len() >= 50);
    assert_eq!(versions(lake), before, "no table changed");
    assert_eq!(table_files(), lake_files_before, "no file appeared in the lake's tables");
    let audited = std::fs::read_to_string(lake.join("_xuncha/audit.jsonl")).unwrap_or_default();
    assert!(audited.matches("\"action\":\"sql_cli\"").count() >= REFUSED.len(), "every attempt is in the audit log");
    for leaked in ["/tmp/xuncha-refused.csv", "/tmp/xuncha-refused.parquet", "/tmp/xuncha-refused.json"] {
        assert!(!Path::new(leaked).exists(), "{leaked} was written");
    }
    let typo = xuncha(&["--lake", lake.to_str().unwrap(), "sql", "SELECT count(* FROM population"]);
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(stderr.starts_with("xuncha: SQL 语法错误:") && stderr.matches("Expected").count() == 1, "a syntax error is said once: {stderr}");
    let ok = xuncha_ok(&["--lake", lake.to_str().unwrap(), "sql", "SELECT count(*) AS n FROM population WHERE id_valid(id_number)", "--format", "csv"]);
    assert!(ok.lines().nth(1).is_some_and(|n| n.parse::<u64>().is_ok_and(|n| n > 5000)), "{ok}");
}

/// A join over the county data under a tiny memory limit spills or fails with
/// a clear "resources exhausted" message; it never crashes.
#[test]
fn a_big_join_under_a_small_memory_limit_spills_or_says_so() {
    let lake = ingested("county");
    let dir = scratch("small-memory");
    let config = dir.join("xuncha.toml");
    std::fs::write(&config, "[engine]\nmemory_limit_mb = 64\n").unwrap();
    let sql = "SELECT p.village_code, count(*) AS n, sum(s.amount) AS total FROM subsidy_payments s \
               JOIN population p ON p.id_number = s.id_number GROUP BY p.village_code ORDER BY total DESC";
    let out = xuncha(&["--lake", lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "sql", sql, "--format", "csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 200, "one row per village");
    } else {
        assert!(stderr.to_lowercase().contains("resources exhausted"), "must fail cleanly: {stderr}");
        assert_eq!(out.status.code(), Some(1), "an error exit, not a crash");
    }
}

/// Memory the pool does not see (here a 1 GB result gathered whole) still
/// has a cap: once the process has grown by twice the pool the query is
/// cancelled with one clear line, and nothing is written.
#[test]
fn a_query_growing_the_process_past_its_memory_cap_is_cancelled() {
    let dir = scratch("memory-cap");
    let config = dir.join("xuncha.toml");
    std::fs::write(&config, "[engine]\nmemory_limit_mb = 64\n").unwrap();
    let out_file = dir.join("huge.csv");
    let sql = "SELECT value, repeat('x', 1000) AS padding FROM generate_series(1, 1000000)";
    let lake = dir.join("lake");
    let (lake, config) = (lake.to_str().unwrap(), config.to_str().unwrap());
    let out = xuncha(&["--lake", lake, "--config", config, "sql", sql, "--format", "csv", "--out", out_file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "an error exit, not a crash: {stderr}");
    assert!(stderr.starts_with("xuncha: 内存不足") && stderr.contains("上限 128 MiB") && stderr.lines().count() == 1, "{stderr}");
    assert!(!out_file.exists(), "nothing written");
    let small = xuncha_ok(&["--lake", lake, "--config", config, "sql", "SELECT count(*) AS n FROM generate_series(1, 1000000)", "--format", "csv"]);
    assert_eq!(small.lines().nth(1), Some("1000000"), "a query within the cap runs");
}

/// Time travel: `--version TABLE=N` reads one table at a Delta version and
/// `--at TIME` every table as it was, so an old run's findings can be
/// reproduced; a table or version that does not exist is a clear error.
#[test]
fn sql_reads_tables_as_they_were() {
    let lake = scratch("lake-time-travel");
    let lake = lake.to_str().expect("utf-8 path");
    xuncha_ok(&["--lake", lake, "ingest", generated("sample").to_str().expect("utf-8 path")]);
    xuncha_ok(&["--lake", lake, "run"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let between = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    xuncha_ok(&["--lake", lake, "run"]);
    let runs = |extra: &[&str]| {
        let mut args = vec!["--lake", lake, "sql", "SELECT count(DISTINCT run_id) AS runs FROM findings", "--format", "csv"];
        args.extend_from_slice(extra);
        xuncha_ok(&args).lines().nth(1).expect("one row").to_string()
    };
    assert_eq!(runs(&[]), "2");
    assert_eq!(runs(&["--version", "findings=0"]), "1", "version 0 of findings is the first run's commit");
    assert_eq!(runs(&["--version", "findings=1"]), "2");
    assert_eq!(runs(&["--at", &between]), "1", "at a time between the runs");
    for (arg, says) in [("nosuch=1", "nosuch"), ("findings=99", "findings"), ("findings", "表名=版本号")] {
        let out = xuncha(&["--lake", lake, "sql", "SELECT 1", "--version", arg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "--version {arg}: {err}");
    }
}
