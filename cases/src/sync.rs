//! After each run: findings become cases, and the data says whether a
//! handled problem stopped.
//!
//! - A subject found for the first time opens a case (待交办); a case's new
//!   findings are added to `case_findings` with the run and the table
//!   versions it read; a dismissed case (排除) reopens only when a new
//!   finding about its subject appears.
//! - For rules whose findings carry payment periods (`-- recheck: periods`):
//!   a case handed over whose subject no longer appears in a period after the
//!   month it was handed over (the month the data had reached then: the
//!   latest run's as_of, not the calendar) is flagged 数据核验通过; a case 整改中 or 已整改
//!   still found in a period after its rectification was recorded is
//!   flagged 整改不实 (and is 整改中 again); a closed case found in a period
//!   after its closing is flagged 反弹 and reopened (整改中). Rules about
//!   one-off events (a contract, a voucher) get no data check.
//!
//! Only the rules of the run are touched (`run --rules a,b`).

use crate::CaseError;
use crate::state::State;
use crate::store::{Event, Writer};
use chrono::Utc;
use std::collections::BTreeMap;
use xuncha_core::lake::Lake;
use xuncha_queries::rules::Rule;
use xuncha_queries::run::RunReport;
use xuncha_queries::table::{TextTable, quote};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub opened: usize,
    pub reopened: usize,
    pub findings_added: usize,
    pub verified_by_data: usize,
    pub not_rectified: usize,
    pub rebounded: usize,
}

/// The user name of the events the data makes.
pub const SYSTEM_USER: &str = "系统(数据比对)";

/// Folds the findings of run `report` into cases.
pub async fn sync(lake: &Lake, report: &RunReport, rules: &[Rule]) -> Result<Synced, CaseError> {
    let ran: Vec<&Rule> = rules.iter().filter(|r| report.rules.iter().any(|o| o.rule_id == r.id && o.error.is_none())).collect();
    if ran.is_empty() {
        return Ok(Synced::default());
    }
    let writer = Writer::open(lake).await?;
    let found = ran
        .iter()
        .map(|r| {
            format!(
                "SELECT rule_id, coalesce(CAST(({}) AS VARCHAR), entity_key) AS subject, entity_key, village_code, period, amount FROM findings WHERE run_id = {} AND rule_id = {}",
                r.subject,
                quote(&report.run_id),
                quote(&r.id)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let found = format!("SELECT rule_id || '-' || left(encode(sha256(rule_id || '|' || subject), 'hex'), 10) AS case_id, * FROM ({found})");
    // The new findings (never held by their case), written with the run.
    let versions = serde_json::to_string(&report.table_versions.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap_or_default();
    let fresh = writer
        .ctx
        .sql(&format!(
            "SELECT f.case_id, f.rule_id, f.entity_key, f.village_code, f.period, f.amount, {} AS run_id, {} AS table_versions \
             FROM ({found}) f LEFT ANTI JOIN case_findings c ON c.case_id = f.case_id AND c.entity_key = f.entity_key",
            quote(&report.run_id),
            quote(&versions)
        ))
        .await?
        .collect()
        .await?;
    // Per case of the run: its subject, village, latest period and new findings.
    let per_case = TextTable::query(
        &writer.ctx,
        &format!(
            "SELECT f.case_id, min(f.rule_id), min(f.subject), coalesce(min(f.village_code), ''), coalesce(max(f.period), ''), \
                    count(n.entity_key), coalesce(string_agg(DISTINCT n.period, ','), '') \
             FROM ({found}) f LEFT JOIN (SELECT case_id, entity_key, period FROM ({found}) x LEFT ANTI JOIN case_findings c USING (case_id, entity_key)) n \
               ON n.case_id = f.case_id AND n.entity_key = f.entity_key \
             GROUP BY f.case_id ORDER BY f.case_id"
        ),
    )
    .await?;
    // When each existing case of these rules was handed over, rectified, closed.
    let rule_list = ran.iter().map(|r| quote(&r.id)).collect::<Vec<_>>().join(", ");
    let milestones = TextTable::query(
        &writer.ctx,
        &format!(
            "SELECT case_id, coalesce(max(data_month) FILTER (WHERE action = '交办'), ''), \
                    coalesce(max(data_month) FILTER (WHERE action IN ('整改', '整改完成')), ''), \
                    coalesce(max(data_month) FILTER (WHERE action = '销号'), '') \
             FROM case_events WHERE rule_id IN ({rule_list}) GROUP BY case_id"
        ),
    )
    .await?;
    let milestones: BTreeMap<String, [String; 3]> = milestones.rows.into_iter().map(|r| (r[0].clone(), [r[1].clone(), r[2].clone(), r[3].clone()])).collect();
    let existing: BTreeMap<String, crate::store::Current> = writer.current(&[]).await?.into_iter().filter(|(_, c)| ran.iter().any(|r| r.id == c.rule_id)).collect();
    let recheck = |rule: &str| ran.iter().any(|r| r.id == rule && r.recheck);

    let now = Utc::now();
    let mut events = Vec::new();
    let mut synced = Synced::default();
    let event = |case: &str, seq: i64, action: &str, state: State, flag: Option<&str>, rule: &str, subject: &str, village: Option<String>, detail: String| Event {
        case_id: case.into(),
        seq,
        at: now,
        data_month: Some(report.as_of.format("%Y-%m").to_string()),
        user: SYSTEM_USER.into(),
        action: action.into(),
        state: state.label().into(),
        flag: flag.map(String::from),
        rule_id: rule.into(),
        subject: subject.into(),
        village_code: village,
        run_id: Some(report.run_id.clone()),
        detail: Some(detail),
        ..Event::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for r in &per_case.rows {
        let (case_id, rule, subject, latest, new_count) = (&r[0], &r[1], &r[2], &r[4], r[5].parse::<usize>().unwrap_or(0));
        let village = (!r[3].is_empty()).then(|| r[3].clone());
        let detail = serde_json::json!({ "run_id": report.run_id, "new_findings": new_count, "new_periods": r[6], "latest_period": latest, "table_versions": report.table_versions.iter().cloned().collect::<BTreeMap<_, _>>() }).to_string();
        seen.insert(case_id.clone());
        synced.findings_added += new_count;
        let Some(case) = existing.get(case_id) else {
            events.push(event(case_id, 1, "发现", State::Pending, None, rule, subject, village, detail));
            synced.opened += 1;
            continue;
        };
        let seq = case.events + 1;
        let [handed, rectified, closed] = milestones.get(case_id).cloned().unwrap_or_default();
        let after = |month: &str| !month.is_empty() && latest.as_str() > month;
        match case.state {
            State::Dismissed if new_count > 0 => {
                events.push(event(case_id, seq, "重新发现", State::Pending, None, rule, subject, village, detail));
                synced.reopened += 1;
            }
            State::Closed if recheck(rule) && after(&closed) => {
                events.push(event(case_id, seq, "反弹", State::Rectifying, Some("反弹"), rule, subject, village, detail));
                synced.rebounded += 1;
            }
            State::Rectifying | State::Rectified if recheck(rule) && after(&rectified) && case.flag.as_deref() != Some("整改不实") => {
                events.push(event(case_id, seq, "整改不实", State::Rectifying, Some("整改不实"), rule, subject, village, detail));
                synced.not_rectified += 1;
            }
            _ if recheck(rule) && !handed.is_empty() && !after(&handed) && case.flag.is_none() && case.state != State::Dismissed => {
                events.push(event(case_id, seq, "数据核验通过", case.state, Some("数据核验通过"), rule, subject, village, detail));
                synced.verified_by_data += 1;
            }
            _ if new_count > 0 => events.push(event(case_id, seq, "追加发现", case.state, None, rule, subject, village, detail)),
            _ => {}
        }
    }
    // Handed-over cases whose subject this run no longer finds at all.
    for (case_id, case) in &existing {
        let handed = milestones.get(case_id).is_some_and(|m| !m[0].is_empty());
        if seen.contains(case_id) || !recheck(&case.rule_id) || !handed || case.flag.as_deref() == Some("数据核验通过") || case.state == State::Dismissed {
            continue;
        }
        let detail = serde_json::json!({ "run_id": report.run_id, "found": false }).to_string();
        events.push(event(case_id, case.events + 1, "数据核验通过", case.state, Some("数据核验通过"), &case.rule_id, &case.subject, case.village_code.clone(), detail));
        synced.verified_by_data += 1;
    }
    if !fresh.is_empty() && fresh.iter().any(|b| b.num_rows() > 0) {
        lake.append("case_findings", xuncha_core::system::case_findings_schema(), cast_findings(fresh)?, Some(&format!("xuncha-cases:{}", report.run_id))).await?;
    }
    writer.append(&events, None).await?;
    Ok(synced)
}

/// The fresh findings in `case_findings`' exact schema (the query's
/// columns carry the same types; only nullability may differ).
fn cast_findings(batches: Vec<arrow::array::RecordBatch>) -> Result<Vec<arrow::array::RecordBatch>, CaseError> {
    let schema = xuncha_core::system::case_findings_schema();
    batches
        .into_iter()
        .map(|b| {
            let columns = b.columns().iter().zip(schema.fields()).map(|(c, f)| arrow::compute::cast(c, f.data_type())).collect::<Result<Vec<_>, _>>()?;
            Ok(arrow::array::RecordBatch::try_new(schema.clone(), columns)?)
        })
        .collect()
}
