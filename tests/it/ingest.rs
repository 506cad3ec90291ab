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
    let lake = scratch("lake-sample");
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
    let out = std::process::Command::new("python3").args(["-c", STDNUM_CHECK, list.to_str().unwrap()]).output().expect("python3 (installed by scripts/setup)");
    assert!(out.status.success(), "python-stdnum rejects generated IDs: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn county_inbox_lands_whole_with_exact_quarantine() {
    let lake = scratch("lake-county");
    ingest_and_check(generated("county"), &lake);
}
