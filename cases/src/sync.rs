//! After each run: findings become cases, and the data says whether a
//! handled problem stopped.
//!
//! - A subject found for the first time opens a case (待交办); a case's new
//!   findings are added to `case_findings` with the run and the table
//!   versions it read; a dismissed case (排除) reopens only when a new
//!   finding about its subject appears.
//! - For rules whose findings carry payment periods (`-- recheck: periods`):
//!   a case its unit has found true (属实 or 部分属实), whose findings carry
//!   payment periods (a subject that recurs month by month, so its absence
//!   from later months means something), and whose subject no longer appears
//!   in a period after the month it was handed over (the month the data had
//!   reached then: the latest run's as_of, not the calendar) is flagged
//!   数据核验通过 — never a case not yet answered, nor a one-off payment; a case 整改中 or 已整改
//!   still found in a period after its rectification was recorded is
//!   flagged 整改不实 (and is 整改中 again); a closed case found in a period
//!   after its closing is flagged 反弹 and reopened (整改中). Rules about
//!   one-off events (a contract, a voucher) get no data check.
//!
//! - A case still 待交办 whose subject the run no longer finds is withdrawn
//!   (已撤销: a run on part of the data found it); found again, it is
//!   待交办 once more (重新发现). Funnels and queues count live cases.
//!
//! Only the rules of the run are touched (`run --rules a,b`), and only
//! those that ran: a rule that waited for its sources leaves its cases.

use crate::CaseError;
use crate::state::State;
use crate::store::{Event, Writer};
use chrono::{Datelike, Utc};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use std::collections::BTreeMap;
use std::sync::Arc;
use xuncha_core::keys::KeyRing;
use xuncha_core::lake::Lake;
use xuncha_queries::report::q;
use xuncha_queries::rules::Rule;
use xuncha_queries::run::RunReport;
use xuncha_queries::sheet::{Bound, text, texts};
use xuncha_queries::table::TextTable;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub opened: usize,
    pub reopened: usize,
    pub findings_added: usize,
    pub verified_by_data: usize,
    pub not_rectified: usize,
    pub rebounded: usize,
    /// 待交办 cases of the run's rules that it no longer finds: 已撤销.
    pub withdrawn: usize,
}

/// The user name of the events the data makes.
pub const SYSTEM_USER: &str = "系统(数据比对)";

/// Folds the findings of run `report` into cases.
pub async fn sync(lake: &Lake, report: &RunReport, rules: &[Rule], number_prefix: &str) -> Result<Synced, CaseError> {
    let ran: Vec<&Rule> = rules.iter().filter(|r| report.rules.iter().any(|o| o.rule_id == r.id && o.ran())).collect();
    if ran.is_empty() {
        return Ok(Synced::default());
    }
    let writer = Writer::open(lake).await?;
    writer.ctx.register_udf(case_number(lake.keys().clone()));
    // Each rule's findings of the run with their subject (the rule's
    // `-- subject:` expression, SQL of the rule file; the run and rule ids
    // are bound), and the case they belong to: the existing case of that
    // rule and subject, or a new number (see `case_number`).
    let mut values: Vec<(String, ScalarValue)> = vec![("run_id".into(), text(Some(&report.run_id)))];
    let found = ran
        .iter()
        .enumerate()
        .map(|(i, r)| {
            values.push((format!("rule_{i}"), text(Some(&r.id))));
            // SQL code, not values: the rule file's subject expression and a placeholder's name.
            format!(
                "SELECT rule_id, coalesce(CAST(({}) AS VARCHAR), entity_key) AS subject, entity_key, village_code, period, amount FROM findings WHERE run_id = $run_id AND rule_id = $rule_{i}",
                r.subject
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    // SQL code, not values: the union above.
    let found = format!(
        "SELECT coalesce(e.case_id, case_number(s.rule_id, s.subject)) AS case_id, s.* FROM ({found}) s \
         LEFT JOIN (SELECT rule_id, subject, min(case_id) AS case_id FROM cases GROUP BY rule_id, subject) e ON e.rule_id = s.rule_id AND e.subject = s.subject"
    );
    // The new findings (never held by their case), written with the run.
    let versions = serde_json::to_string(&report.table_versions.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap_or_default();
    values.push(("versions".into(), text(Some(&versions))));
    let bind = |sql: String| Bound { sql, params: values.clone() };
    // SQL code, not values: `found`; the run and versions are bound.
    let fresh = bind(format!(
        "SELECT f.case_id, f.rule_id, f.entity_key, f.village_code, f.period, f.amount, $run_id AS run_id, $versions AS table_versions \
         FROM ({found}) f LEFT ANTI JOIN case_findings c ON c.case_id = f.case_id AND c.entity_key = f.entity_key"
    ))
    .frame(&writer.ctx)
    .await?
    .collect()
    .await?;
    // Per case of the run: its subject, village, latest period and new findings.
    let per_case = TextTable::run(
        &writer.ctx,
        // SQL code, not values: `found`.
        &bind(format!(
            "SELECT f.case_id, min(f.rule_id) AS rule_id, min(f.subject) AS subject, coalesce(min(f.village_code), '') AS village_code, \
                    coalesce(max(f.period), '') AS latest_period, count(n.entity_key) AS new_findings, coalesce(string_agg(DISTINCT n.period, ','), '') AS new_periods \
             FROM ({found}) f LEFT JOIN (SELECT case_id, entity_key, period FROM ({found}) x LEFT ANTI JOIN case_findings c USING (case_id, entity_key)) n \
               ON n.case_id = f.case_id AND n.entity_key = f.entity_key \
             GROUP BY f.case_id ORDER BY f.case_id"
        )),
    )
    .await?;
    // When each existing case of these rules was handed over, rectified, closed.
    let rule_ids: Vec<String> = ran.iter().map(|r| r.id.clone()).collect();
    let milestones: BTreeMap<String, q::cases::MilestonesRow> =
        xuncha_queries::report::rows::<q::cases::MilestonesRow>(&writer.ctx, &[("rules", texts(&rule_ids))]).await?.into_iter().map(|m| (m.case_id.clone(), m)).collect();
    let existing: BTreeMap<String, crate::store::Current> = writer.current(&[]).await?.into_iter().filter(|(_, c)| ran.iter().any(|r| r.id == c.rule_id)).collect();
    let recheck = |rule: &str| ran.iter().any(|r| r.id == rule && r.recheck);

    let now = Utc::now();
    // New cases are numbered on from the year's last number (the writer's
    // lock is held, so no two syncs hand out the same number).
    let year_prefix = format!("{number_prefix}〔{}〕", chrono::Local::now().year());
    let numbered = xuncha_queries::report::rows::<q::cases::NumberedRow>(&writer.ctx, &[("prefix", text(Some(&year_prefix)))]).await?;
    let mut last_number = numbered.first().and_then(|r| r.numbers).unwrap_or(0);
    let mut next_number = || {
        last_number += 1;
        Some(format!("{year_prefix}{last_number:04}号"))
    };
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
    let column = |name: &str| per_case.index(name).ok_or_else(|| CaseError::Invalid(format!("per-case query lacks {name}")));
    let [id_at, rule_at, subject_at, village_at, latest_at, new_at, periods_at] =
        [column("case_id")?, column("rule_id")?, column("subject")?, column("village_code")?, column("latest_period")?, column("new_findings")?, column("new_periods")?];
    for r in &per_case.rows {
        let (case_id, rule, subject, latest, new_count) = (&r[id_at], &r[rule_at], &r[subject_at], &r[latest_at], r[new_at].parse::<usize>().unwrap_or(0));
        let village = (!r[village_at].is_empty()).then(|| r[village_at].clone());
        let detail = serde_json::json!({ "run_id": report.run_id, "new_findings": new_count, "new_periods": r[periods_at], "latest_period": latest, "table_versions": report.table_versions.iter().cloned().collect::<BTreeMap<_, _>>() }).to_string();
        seen.insert(case_id.clone());
        synced.findings_added += new_count;
        let Some(case) = existing.get(case_id) else {
            events.push(Event { case_no: next_number(), ..event(case_id, 1, "发现", State::Pending, None, rule, subject, village, detail) });
            synced.opened += 1;
            continue;
        };
        let seq = case.events + 1;
        let m = milestones.get(case_id).cloned().unwrap_or_default();
        let (handed, rectified, closed) = (m.handed.as_str(), m.rectified.as_str(), m.closed.as_str());
        let after = |month: &str| !month.is_empty() && latest.as_str() > month;
        let checkable = recheck(rule) && !latest.is_empty() && data_checkable(&m);
        match case.state {
            State::Withdrawn => {
                events.push(event(case_id, seq, "重新发现", State::Pending, None, rule, subject, village, detail));
                synced.reopened += 1;
            }
            State::Dismissed if new_count > 0 => {
                events.push(event(case_id, seq, "重新发现", State::Pending, None, rule, subject, village, detail));
                synced.reopened += 1;
            }
            State::Closed if recheck(rule) && after(closed) => {
                events.push(event(case_id, seq, "反弹", State::Rectifying, Some("反弹"), rule, subject, village, detail));
                synced.rebounded += 1;
            }
            State::Rectifying | State::Rectified if recheck(rule) && after(rectified) && case.flag.as_deref() != Some("整改不实") => {
                events.push(event(case_id, seq, "整改不实", State::Rectifying, Some("整改不实"), rule, subject, village, detail));
                synced.not_rectified += 1;
            }
            _ if checkable && !after(handed) && case.flag.is_none() && case.state != State::Dismissed => {
                events.push(event(case_id, seq, "数据核验通过", case.state, Some("数据核验通过"), rule, subject, village, detail));
                synced.verified_by_data += 1;
            }
            _ if new_count > 0 => events.push(event(case_id, seq, "追加发现", case.state, None, rule, subject, village, detail)),
            _ => {}
        }
    }
    // Cases not yet handed over whose subject this run no longer finds (a
    // run on part of the data found them): withdrawn, with history.
    for (case_id, case) in existing.iter().filter(|(id, c)| c.state == State::Pending && !seen.contains(*id)) {
        let detail = serde_json::json!({ "run_id": report.run_id, "found": false }).to_string();
        events.push(event(case_id, case.events + 1, "撤销", State::Withdrawn, None, &case.rule_id, &case.subject, case.village_code.clone(), detail));
        synced.withdrawn += 1;
    }
    // Handed-over cases whose subject this run no longer finds at all.
    for (case_id, case) in &existing {
        let checkable = milestones.get(case_id).is_some_and(data_checkable);
        if seen.contains(case_id) || !recheck(&case.rule_id) || !checkable || case.flag.as_deref() == Some("数据核验通过") || case.state == State::Dismissed {
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

/// Whether the data can say a case's problem stopped: handed over, found
/// true by its unit, and about a subject found in payment periods.
fn data_checkable(m: &q::cases::MilestonesRow) -> bool {
    !m.handed.is_empty() && !m.answered.is_empty() && m.periods.unwrap_or(0) >= 1
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

/// Hex digits of a case number after its rule id.
const CASE_NUMBER_DIGITS: usize = 12;

/// `case_number(rule_id, subject)`: a new case's number, `<rule>-<12 hex>`,
/// the hex a keyed MAC of the rule and subject under the office's `ids.key`
/// (kept outside the lake). Stable for the same subject, so a finding finds
/// its case, but it says nothing of the subject (an ID number, an account)
/// to one who does not hold the key. Cases numbered before (unkeyed) keep
/// their numbers: sync finds a case by rule and subject first.
fn case_number(keys: KeyRing) -> ScalarUDF {
    create_udf(
        "case_number",
        vec![arrow::datatypes::DataType::Utf8, arrow::datatypes::DataType::Utf8],
        arrow::datatypes::DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let as_text = |a: &arrow::array::ArrayRef| arrow::compute::cast(a, &arrow::datatypes::DataType::Utf8);
            let (rules, subjects) = (as_text(&arrays[0])?, as_text(&arrays[1])?);
            let (rules, subjects) = (arrow::array::AsArray::as_string::<i32>(&rules), arrow::array::AsArray::as_string::<i32>(&subjects));
            let numbers = rules
                .iter()
                .zip(subjects.iter())
                .map(|(rule, subject)| match (rule, subject) {
                    (Some(rule), Some(subject)) => keys.identifier("case", &[rule, subject], CASE_NUMBER_DIGITS).map(|mac| Some(format!("{rule}-{mac}"))),
                    _ => Ok(None),
                })
                .collect::<Result<arrow::array::StringArray, _>>()
                .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
            Ok(ColumnarValue::Array(Arc::new(numbers)))
        }),
    )
}
