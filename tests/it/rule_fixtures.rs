//! Golden tests of every rule: each folder of `queries/tests/fixtures/<rule>/`
//! is a small hand-made inbox (with a README of the boundaries it pins),
//! `as_of.txt` and `expected.csv`, the entity keys the rule must find. The
//! inbox goes through the real ingest into a real Delta lake, the rule runs
//! on DataFusion, and the findings must be exactly the expected keys.
//!
//! The findings then become cases, and each case's words — the rule's
//! `-- sentence:` over its findings, what the case page, the 交办单 and the
//! letters say — must equal `tests/golden/evidence/<rule>.txt`
//! (`XUNCHA_UPDATE_GOLDEN=1` rewrites them); no rule may fall back to the
//! plain count, leave a placeholder, or show a column without a Chinese name.

use datafusion::arrow::util::display::array_value_to_string;
use std::collections::BTreeSet;
use std::path::Path;
use xuncha_core::lake::Lake;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, ingest};
use xuncha_queries::run::{RunOptions, run};
use xuncha_queries::session::{SessionOptions, session};

async fn check(fixture: &Path, rules: &[xuncha_queries::rules::Rule]) -> Result<(), String> {
    let rule = fixture.file_name().unwrap().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&dir.path().join("lake")).unwrap();
    for report in ingest(&lake, fixture, &IngestOptions::default()).await.unwrap() {
        if report.outcome != FileOutcome::Loaded || report.rows_quarantined > 0 {
            return Err(format!("{rule}: fixture file {} did not load cleanly: {report:?}", report.file));
        }
    }
    let as_of = std::fs::read_to_string(fixture.join("as_of.txt")).unwrap().trim().parse().unwrap();
    // The fixture holds only what the rule's logic needs: run it on that.
    let report = run(&lake, &RunOptions { as_of: Some(as_of), rules: vec![rule.clone()], run_on_partial_data: true, ..RunOptions::default() }).await.unwrap();
    xuncha_cases::sync(&lake, &report, rules, "巡线").await.unwrap();
    if let Some(e) = &report.rules[0].error {
        return Err(format!("{rule}: {e}"));
    }
    let ctx = session(&lake, &SessionOptions::default()).await.unwrap();
    let batches = ctx.sql("SELECT entity_key FROM latest_findings").await.unwrap().collect().await.unwrap();
    let found: BTreeSet<String> = batches.iter().flat_map(|b| (0..b.num_rows()).map(|r| array_value_to_string(b.column(0), r).unwrap())).collect();
    let expected: BTreeSet<String> = std::fs::read_to_string(fixture.join("expected.csv")).unwrap().lines().skip(1).map(str::to_string).collect();
    if found != expected {
        return Err(format!("{rule}: missing {:?}, unexpected {:?}", expected.difference(&found).collect::<Vec<_>>(), found.difference(&expected).collect::<Vec<_>>()));
    }
    words(&ctx, &rule, rules).await
}

/// Each case of the fixture in words, against the golden file.
async fn words(ctx: &datafusion::prelude::SessionContext, rule: &str, rules: &[xuncha_queries::rules::Rule]) -> Result<(), String> {
    let template = rules.iter().find(|r| r.id == rule).and_then(|r| r.sentence.clone()).ok_or(format!("{rule}: no `-- sentence:` in its header"))?;
    let described = xuncha_queries::evidence::describe(ctx, rules, None, None, &xuncha_queries::evidence::in_full).await.map_err(|e| e.to_string())?;
    // Case numbers are keyed MACs, different in every lake: the cases are
    // told in the order of their words.
    let mut told = Vec::new();
    for d in described.values() {
        if d.sentence.contains(['{', '}']) {
            return Err(format!("{rule}: a placeholder left in {:?}", d.sentence));
        }
        if let Some(english) = d.columns.iter().find(|c| c.is_ascii()) {
            return Err(format!("{rule}: evidence column {english} has no Chinese name (evidence::LABELS)"));
        }
        let mut case = format!("\n{}\n{}\n", d.sentence, d.columns.join(" | "));
        for row in &d.rows {
            case.push_str(&format!("{}\n", row.join(" | ")));
        }
        told.push(case);
    }
    told.sort();
    let text = format!("# {rule}\n# {template}\n{}", told.concat());
    if described.is_empty() {
        return Err(format!("{rule}: the fixture's findings became no cases"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/evidence").join(format!("{rule}.txt"));
    if std::env::var_os("XUNCHA_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).map_err(|_| format!("{} is missing (XUNCHA_UPDATE_GOLDEN=1 writes it)", path.display()))?;
    if text != expected {
        return Err(format!("{rule}: its cases' words differ from {}:\n{text}", path.display()));
    }
    Ok(())
}

#[tokio::test]
async fn every_rule_finds_exactly_its_fixture_entities() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/fixtures");
    let mut fixtures: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    fixtures.sort();
    let rules = xuncha_queries::rules::catalogue(None).unwrap();
    assert_eq!(fixtures.len(), rules.len(), "every rule has a fixture");
    let mut failures = Vec::new();
    for fixture in &fixtures {
        if let Err(e) = check(fixture, &rules).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
