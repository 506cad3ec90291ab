//! The case history vouched for by the audit log. `case_events` is a lake
//! table: one who can write the lake's files could commit an event by hand
//! (已交办 → 已销号, "by" a unit) and it would look real. So every commit of
//! case events is first recorded in the audit log — which is chained,
//! signed and anchored outside the lake — as `case_commit` with the
//! commit's time, its number of events and a digest of them; events
//! committed before this began are vouched for once, together, by a
//! `case_baseline` entry. [`verify_history`] (run by `xuncha audit verify`)
//! finds every event no entry vouches for.
//!
//! The entry is written before the commit: a crash between the two leaves
//! an entry that vouches for nothing, which is harmless; never an event
//! without its entry.

use crate::CaseError;
use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use xuncha_core::audit::AuditLog;
use xuncha_core::lake::Lake;

/// The audit action that vouches for one commit of case events.
const COMMIT: &str = "case_commit";
/// The audit action that vouches for the events committed before commits were vouched for.
const BASELINE: &str = "case_baseline";

/// Each event as a line of its columns' values (the commit's time first), sorted.
fn event_lines(batches: &[RecordBatch]) -> Result<Vec<(String, String)>, CaseError> {
    let options = FormatOptions::default().with_null("∅");
    let mut lines = Vec::new();
    for batch in batches {
        let at = batch.schema().index_of("at")?;
        let formatters = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let values: Vec<String> = formatters.iter().map(|f| f.value(row).to_string()).collect();
            lines.push((values[at].clone(), values.join("\u{1f}")));
        }
    }
    lines.sort();
    Ok(lines)
}

/// How many events, and the digest of their sorted lines.
fn digest<'a>(lines: impl Iterator<Item = &'a String>) -> (usize, String) {
    let mut hash = Sha256::new();
    let mut n = 0;
    for line in lines {
        hash.update(line.as_bytes());
        hash.update([b'\n']);
        n += 1;
    }
    (n, hex::encode(hash.finalize()))
}

/// By commit time: (events, digest).
fn commits(lines: &[(String, String)]) -> BTreeMap<String, (usize, String)> {
    let mut by_time: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for (at, line) in lines {
        by_time.entry(at).or_default().push(line);
    }
    by_time.into_iter().map(|(at, lines)| (at.to_string(), digest(lines.into_iter()))).collect()
}

/// Records in the audit log what vouches for `batch` (about to be committed
/// by `user`): the events before any were vouched for, the first time, and
/// then each commit.
pub(crate) async fn vouch(lake: &Lake, user: &str, batch: &RecordBatch) -> Result<(), CaseError> {
    let audit = AuditLog::open(lake);
    if !audit.has_action(BASELINE)? {
        let before = read_events(lake).await?;
        let lines = event_lines(&before)?;
        let (n, digest) = digest(lines.iter().map(|(_, l)| l));
        audit.record(user, BASELINE, &format!("{n}|{digest}"))?;
    }
    for (at, (n, digest)) in commits(&event_lines(std::slice::from_ref(batch))?) {
        audit.record(user, COMMIT, &format!("{at}|{n}|{digest}"))?;
    }
    Ok(())
}

async fn read_events(lake: &Lake) -> Result<Vec<RecordBatch>, CaseError> {
    let ctx = xuncha_queries::session::session(lake, &xuncha_queries::session::SessionOptions::default()).await?;
    Ok(ctx.table("case_events").await?.collect().await?)
}

/// What the audit log does not vouch for in `case_events`: each problem in
/// words (empty when every event is vouched for).
pub async fn verify_history(lake: &Lake) -> Result<Vec<String>, CaseError> {
    let audit = AuditLog::open(lake);
    let mut vouched: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut baseline = None;
    for entry in audit.entries()? {
        match entry.action.as_str() {
            COMMIT => {
                let mut parts = entry.detail.splitn(3, '|');
                if let (Some(at), Some(n), Some(digest)) = (parts.next(), parts.next(), parts.next()) {
                    vouched.insert(at.to_string(), (n.parse().unwrap_or(0), digest.to_string()));
                }
            }
            BASELINE if baseline.is_none() => baseline = entry.detail.split_once('|').map(|(n, d)| (n.parse::<usize>().unwrap_or(0), d.to_string())),
            _ => {}
        }
    }
    let lines = event_lines(&read_events(lake).await?)?;
    let found = commits(&lines);
    let mut problems = Vec::new();
    let mut unvouched: Vec<&String> = Vec::new();
    for (at, figures) in &found {
        match vouched.get(at) {
            Some(v) if v == figures => {}
            Some(_) => problems.push(format!("{at} 提交的处置记录与审计日志所记不符(被改动或增删),涉及线索 {}", cases_of(lines.iter().filter(|(a, _)| a == at).map(|(_, l)| l)))),
            None => unvouched.extend(lines.iter().filter(|(a, _)| a == at).map(|(_, l)| l)),
        }
    }
    if unvouched.is_empty() && baseline.as_ref().is_some_and(|(n, _)| *n > 0) {
        problems.push("审计日志所记的早期处置记录已不在湖中(被删除)".into());
    }
    if !unvouched.is_empty() {
        unvouched.sort();
        let figures = digest(unvouched.iter().copied());
        if baseline.as_ref() != Some(&figures) {
            problems.push(format!("{} 条处置记录没有审计日志为凭(不是本系统写入的),涉及线索 {}", unvouched.len(), cases_of(unvouched.iter().copied())));
        }
    }
    Ok(problems)
}

/// The cases of some event lines (their first column), the first five named.
fn cases_of<'a>(lines: impl Iterator<Item = &'a String>) -> String {
    let cases: std::collections::BTreeSet<&str> = lines.filter_map(|l| l.split('\u{1f}').next()).collect();
    let shown: Vec<&str> = cases.iter().take(5).copied().collect();
    format!("{}{}", shown.join("、"), if cases.len() > 5 { " 等" } else { "" })
}
