//! The house's shape, checked (issue 33): data flows one way, so the
//! dashboard and the command line hold no SQL and no case-state logic (they
//! call `xuncha_queries` sheets and `xuncha_cases`) and read query results
//! by typed rows or column names, never by a column's position; the
//! ingest's file reader makes no call up into its parent module.

use crate::hostile::workspace_sources;

/// The statements a string literal of SQL starts with.
const SQL_STARTS: &[&str] = &["SELECT ", "WITH ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "COPY "];

/// Whether a line of Rust holds a string literal that starts a SQL statement.
fn holds_sql(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.split('"').skip(1).step_by(2).any(|literal| SQL_STARTS.iter().any(|s| literal.trim_start().starts_with(s)))
}

/// Whether a line of Rust decides something by a case's state: it names a
/// state (a variant, or a label compared as text).
fn decides_by_state(line: &str) -> bool {
    const VARIANTS: &[&str] = &["Pending", "Assigned", "Confirmed", "PartlyConfirmed", "Dismissed", "Rectifying", "Rectified", "Closed", "Withdrawn"];
    const LABELS: &[&str] = &["待交办", "已交办", "属实", "部分属实", "排除", "整改中", "已整改", "已销号", "已撤销"];
    let code = line.split("//").next().unwrap_or_default();
    VARIANTS.iter().any(|v| code.contains(&format!("State::{v}"))) || LABELS.iter().any(|l| ["==", "!="].iter().any(|op| code.contains(&format!("{op} \"{l}\""))))
}

/// Whether a line reads a result row's column by position (`r[0]`, `row[2]`).
fn reads_by_position(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices('[').any(|(at, _)| {
        let digits: String = code[at + 1..].chars().take_while(char::is_ascii_digit).collect();
        let closed = !digits.is_empty() && code[at + 1 + digits.len()..].starts_with(']');
        let name: String = code[..at].chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<Vec<_>>().into_iter().rev().collect();
        closed && ["r", "row", "t", "cells", "record"].contains(&name.as_str())
    })
}

#[test]
fn the_dashboard_and_the_cli_hold_no_sql_and_no_case_state_logic() {
    let mut found = Vec::new();
    for (file, lines) in workspace_sources().iter().filter(|(f, _)| f.starts_with("dashboard/") || f.starts_with("src/")) {
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if holds_sql(line) {
                found.push(format!("{file}:{}: SQL: {}", i + 1, line.trim()));
            }
            if decides_by_state(line) {
                found.push(format!("{file}:{}: case state: {}", i + 1, line.trim()));
            }
        }
    }
    // Results are read by typed rows (`-- row:` in a sheet) or by column name
    // everywhere above the lake, never by a column's position.
    for (file, lines) in workspace_sources().iter().filter(|(f, _)| ["dashboard/", "src/", "queries/src/", "cases/src/"].iter().any(|d| f.starts_with(d))) {
        for (i, line) in lines.iter().enumerate() {
            if reads_by_position(line) && !line.trim_start().starts_with("//") {
                found.push(format!("{file}:{}: a column read by position: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "put SQL in a queries/ sheet, case rules in xuncha_cases, and read rows by a `-- row:` struct or by column name:\n{}", found.join("\n"));
    // The checks find what they look for.
    assert!(holds_sql(r#"TextTable::query(ctx, "SELECT rule_id FROM rule_catalogue")"#) && !holds_sql(r#"label { "选择 SELECT" }"#));
    assert!(decides_by_state("matches!(current, CaseState::Confirmed | CaseState::Closed)") && decides_by_state(r#"row[s] == "待交办""#));
    assert!(!decides_by_state("current.actions(party)") && !decides_by_state("CaseState::parse(label)"));
    assert!(reads_by_position("rows.iter().map(|r| r[0].clone())") && reads_by_position("option value=(row[12])"));
    assert!(!reads_by_position("let row = &case.rows[0];") && !reads_by_position("bytes[17] == b'X'") && !reads_by_position("row[i]"));
}

#[test]
fn the_file_reader_makes_no_call_up_into_the_ingest() {
    let sources = workspace_sources();
    let (_, file) = sources.iter().find(|(f, _)| f == "pipeline/src/ingest/file.rs").expect("file.rs");
    let children = ["header", "read", "records", "typing", "villages"];
    let up: Vec<String> = file
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("super::") || l.contains("crate::ingest::"))
        .filter(|(_, l)| !children.iter().any(|c| l.trim_start().starts_with(&format!("use super::{c}"))))
        .map(|(i, l)| format!("{}: {}", i + 1, l.trim()))
        .collect();
    assert!(up.is_empty(), "file.rs calls into ingest/mod.rs:\n{}", up.join("\n"));
}

#[test]
fn every_quarantine_reason_the_pipeline_writes_has_words() {
    const FAMILIES: &[&str] = &["bad_", "missing_", "unknown_", "ambiguous_", "duplicate_", "conflicting_", "total_"];
    let mut written = std::collections::BTreeSet::new();
    for (_, lines) in workspace_sources().iter().filter(|(f, _)| f.starts_with("pipeline/src/")) {
        for line in lines {
            for literal in line.split('"').skip(1).step_by(2) {
                if FAMILIES.iter().any(|f| literal.starts_with(f)) && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    written.insert(literal.to_string());
                }
            }
        }
    }
    let worded: std::collections::BTreeSet<String> = xuncha_core::system::REASON_KINDS.iter().map(|(k, _)| k.to_string()).collect();
    assert!(written.len() >= 16, "the scan finds the pipeline's reason kinds: {written:?}");
    assert_eq!(written, worded, "each reason kind the pipeline writes has its words in REASON_KINDS, and no other");
}

#[test]
fn every_audited_action_is_shown_in_words() {
    let admin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/src/admin.rs")).unwrap();
    let mut recorded = std::collections::BTreeSet::new();
    for (_, lines) in workspace_sources().iter().filter(|(f, _)| !f.starts_with("tests/")) {
        for line in lines {
            let Some(at) = line.find(".record(").filter(|_| line.contains("audit")) else { continue };
            if let Some(name) = line[at..].split('"').nth(1).filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')) {
                recorded.insert(name.to_string());
            }
        }
    }
    assert!(recorded.len() >= 15, "the scan finds the audited actions: {recorded:?}");
    let missing: Vec<&String> = recorded.iter().filter(|name| !admin.contains(&format!("(\"{name}\", \""))).collect();
    assert!(missing.is_empty(), "audited actions without words on the audit page: {missing:?}");
}
