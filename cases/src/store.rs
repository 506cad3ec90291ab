//! Cases in the lake: every change is one event appended to `case_events`
//! (one Delta commit for a whole batch of changes; nothing is updated in
//! place), and a case's findings are appended to `case_findings` the first
//! time a run makes them. The `cases` view (queries::session) is each
//! case as its events leave it.
//!
//! Writers take the lake's `cases` lock, read the cases' current state from
//! the latest table versions, check every change, then commit: two people
//! changing one case are served one after the other, and the second is
//! refused by name ("已由 张三 于 … 改为「属实」") when the first moved the
//! case away from the state the second expects. Per case, `seq` counts its
//! events from 1 without a gap or a repeat.

use crate::CaseError;
use crate::state::{Change, State};
use arrow::array::{ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;
use std::sync::Arc;
use xuncha_core::lake::{Lake, LakeLock};
use xuncha_queries::report::q;
use xuncha_queries::session::{SessionOptions, session};
use xuncha_queries::sheet::{Bound, text, texts};
use xuncha_queries::table::TextTable;

/// Who makes a change, and what they may see: a place (a county, town or
/// village code, as the dashboard's scoped users have; `None`: the whole
/// lake) and, for a unit (整改责任单位), only the cases handed to it.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user: String,
    pub scope: Option<String>,
    /// The unit's code: only cases whose latest hand-over names it.
    pub unit: Option<String>,
}

impl Actor {
    /// Why this actor may not make one of `changes` (a unit makes only the
    /// changes [`Change::unit_may`] allows), or `None`. The form and the
    /// 交办单 import both ask this.
    pub(crate) fn may_not(&self, changes: &[Change]) -> Option<String> {
        let forbidden = changes.iter().find(|c| self.unit.is_some() && !c.unit_may())?;
        Some(format!("承办单位不能办理「{}」(由巡察办办理)", forbidden.action()))
    }
}

/// One row of `case_events`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub case_id: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The month (YYYY-MM) the data had reached: the latest run's as_of.
    pub data_month: Option<String>,
    pub user: String,
    pub action: String,
    pub state: String,
    pub flag: Option<String>,
    pub rule_id: String,
    pub subject: String,
    pub village_code: Option<String>,
    pub unit_code: Option<String>,
    pub due: Option<NaiveDate>,
    pub verdict: Option<String>,
    pub note: Option<String>,
    /// Cents (Decimal(18,2) as stored).
    pub recovered: Option<i128>,
    pub back_paid: Option<i128>,
    pub people: Option<i64>,
    pub transfer: Option<String>,
    pub run_id: Option<String>,
    pub detail: Option<String>,
    /// The case's number, on its first event only.
    pub case_no: Option<String>,
}

/// A case as it stands (a row of the `cases` view).
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub case_id: String,
    pub rule_id: String,
    pub subject: String,
    pub village_code: Option<String>,
    pub state: State,
    pub flag: Option<String>,
    pub unit_code: Option<String>,
    pub events: i64,
    pub changed_by: String,
    pub changed_at: String,
}

/// The writer's hold on the cases: the lock and a session at the tables'
/// latest versions.
pub(crate) struct Writer<'a> {
    pub(crate) lake: &'a Lake,
    pub(crate) ctx: SessionContext,
    _lock: LakeLock,
}

impl<'a> Writer<'a> {
    pub(crate) async fn open(lake: &'a Lake) -> Result<Writer<'a>, CaseError> {
        let lock = lake.lock("cases", "另一个操作正在修改线索").await?;
        // A lake written before `case_events` gained a column gains it now
        // (an empty append that merges the schema), so the views can read it.
        if let Some(table) = lake.table("case_events").await?
            && table.snapshot().is_ok_and(|s| s.schema().fields().count() < xuncha_core::system::case_events_schema().fields().len())
        {
            lake.append("case_events", xuncha_core::system::case_events_schema(), Vec::new(), None).await?;
        }
        let ctx = session(lake, &SessionOptions::default()).await?;
        Ok(Writer { lake, ctx, _lock: lock })
    }

    /// The current state of these cases (all of them when `ids` is empty).
    pub(crate) async fn current(&self, ids: &[String]) -> Result<BTreeMap<String, Current>, CaseError> {
        let values = [("all", ScalarValue::Boolean(Some(ids.is_empty()))), ("ids", texts(ids))];
        let optional = |v: String| (!v.is_empty()).then_some(v);
        let mut out = BTreeMap::new();
        for r in xuncha_queries::report::rows::<q::cases::CurrentRow>(&self.ctx, &values).await? {
            let case = Current {
                state: State::parse(&r.state)?,
                village_code: optional(r.village_code),
                flag: optional(r.flag),
                unit_code: optional(r.unit_code),
                events: r.events.unwrap_or(0),
                changed_by: r.changed_by,
                changed_at: r.changed_at,
                rule_id: r.rule_id,
                subject: r.subject,
                case_id: r.case_id.clone(),
            };
            out.insert(r.case_id, case);
        }
        Ok(out)
    }

    /// Appends events in one commit (tagged `app_id` when given).
    pub(crate) async fn append(&self, events: &[Event], app_id: Option<&str>) -> Result<(), CaseError> {
        if !events.is_empty() {
            let batch = events_batch(events)?;
            crate::history::vouch(self.lake, &events[0].user, &batch).await?;
            self.lake.append("case_events", xuncha_core::system::case_events_schema(), vec![batch], app_id).await?;
        }
        Ok(())
    }

    /// Whether a commit tagged `app_id` is already in `case_events`.
    pub(crate) async fn committed(&self, app_id: &str) -> Result<bool, CaseError> {
        Ok(Lake::has_transaction(self.lake.table("case_events").await?.as_ref(), app_id).await?)
    }
}

/// Whether a case is within the actor's scope (and, for a unit, handed to it).
pub(crate) fn visible(actor: &Actor, case: &Current) -> bool {
    let place = match (&actor.scope, case.village_code.as_deref()) {
        (None, _) => true,
        (Some(scope), Some(village)) => xuncha_queries::scope::scope_prefix(scope).is_ok_and(|prefix| village.starts_with(&prefix)),
        (Some(_), None) => false,
    };
    place && actor.unit.as_ref().is_none_or(|unit| case.unit_code.as_ref() == Some(unit))
}

/// Whether a path segment has a case number's shape: a rule id, a dash and
/// 10 (numbered before keyed numbers) or 12 hex digits.
pub fn is_case_id(id: &str) -> bool {
    id.rsplit_once('-').is_some_and(|(rule, number)| {
        !rule.is_empty() && rule.len() <= 64 && rule.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') && xuncha_core::keys::is_identifier(number, &[10, 12])
    })
}

/// Case `id` as `actor` may see it in `ctx` (the actor's session: scoped
/// for a scoped user): its row of the `case` query, or `None` — for an id
/// of the wrong shape, a case that does not exist, one outside the scope,
/// and, for a unit, one not handed to it alike, so a guess tells nothing.
pub async fn visible_case(ctx: &SessionContext, actor: &Actor, id: &str) -> Result<Option<TextTable>, CaseError> {
    if !is_case_id(id) {
        return Ok(None);
    }
    let case = xuncha_queries::report::document(ctx, q::cases::CASE, &[("case_id", text(Some(id)))]).await?;
    let handed_to = case.index("承办单位").and_then(|i| case.rows.first().map(|r| r[i].as_str()));
    let seen = !case.rows.is_empty() && actor.unit.as_deref().is_none_or(|unit| handed_to == Some(unit));
    Ok(seen.then_some(case))
}

/// Makes `change` to each of `ids` as `actor`, all or none, in one commit;
/// `expect` (when given) is the state the actor saw. Returns the events.
pub async fn apply(lake: &Lake, actor: &Actor, ids: &[String], change: &Change, expect: Option<State>) -> Result<Vec<Event>, CaseError> {
    if ids.is_empty() {
        return Err(CaseError::Invalid("没有选中任何线索".into()));
    }
    // A case listed twice is changed once.
    let mut seen = std::collections::BTreeSet::new();
    let batch: Vec<(String, Vec<Change>)> = ids.iter().filter(|id| seen.insert(id.as_str())).map(|id| (id.clone(), vec![change.clone()])).collect();
    apply_batch(lake, actor, &batch, expect, None).await
}

/// The flag the data sets when a handled problem stopped (see `sync`).
pub const DATA_CONFIRMED: &str = "数据核验通过";

/// Whether a case may be closed with others in one go: 已整改, and the data
/// has confirmed its problem stopped (数据核验通过). Others are closed one by
/// one, on their page.
pub fn closable_in_bulk(state: State, flag: &str) -> bool {
    state == State::Rectified && flag == DATA_CONFIRMED
}

/// 销号 of several cases at once, all or none: each must be
/// [`closable_in_bulk`]; one that is not is refused by its id.
pub async fn close_confirmed(lake: &Lake, actor: &Actor, ids: &[String], note: &str) -> Result<Vec<Event>, CaseError> {
    {
        let writer = Writer::open(lake).await?;
        let current = writer.current(ids).await?;
        for id in ids {
            let case = current.get(id).filter(|c| visible(actor, c)).ok_or_else(|| CaseError::NotFound(id.clone()))?;
            if !closable_in_bulk(case.state, case.flag.as_deref().unwrap_or_default()) {
                return Err(CaseError::Invalid(format!(
                    "线索 {id} 是「{}」{},不能批量销号:批量销号只用于已整改且经数据核验通过的线索,其余请打开线索逐条核实后销号;未执行",
                    case.state.label(),
                    case.flag.as_deref().map_or(String::from("、尚无数据核验结果"), |f| format!("、数据核验「{f}」"))
                )));
            }
        }
    }
    apply(lake, actor, ids, &Change::Close { note: note.to_string() }, Some(State::Rectified)).await
}

/// Makes several changes to one case in order, all or none, in one commit
/// (a unit's verdict with its measures and money).
pub async fn apply_changes(lake: &Lake, actor: &Actor, id: &str, changes: &[Change], expect: Option<State>) -> Result<Vec<Event>, CaseError> {
    apply_batch(lake, actor, &[(id.to_string(), changes.to_vec())], expect, None).await
}

/// Makes each case's changes in order, every one checked, all in one
/// commit (tagged `app_id` when given, so that the same batch is never
/// committed twice). Returns the events.
pub(crate) async fn apply_batch(lake: &Lake, actor: &Actor, batch: &[(String, Vec<Change>)], expect: Option<State>, app_id: Option<&str>) -> Result<Vec<Event>, CaseError> {
    let writer = Writer::open(lake).await?;
    let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    let current = writer.current(&ids).await?;
    let data_month = TextTable::query(&writer.ctx, "SELECT coalesce(to_char(max(as_of), '%Y-%m'), '') FROM runs WHERE kind = 'rules' AND status = 'ok'").await?.scalar().to_string();
    let now = Utc::now();
    let mut events = Vec::new();
    // Where each case stands as the batch goes: a case listed twice
    // continues from its first entry (its events numbered on, never repeated).
    let mut reached: BTreeMap<&str, (State, i64)> = BTreeMap::new();
    for (id, changes) in batch {
        let case = current.get(id).filter(|c| visible(actor, c)).ok_or_else(|| CaseError::NotFound(id.clone()))?;
        let who = || format!("(最近一次由 {} 于 {} 改为「{}」)", case.changed_by, case.changed_at, case.state.label());
        let (mut state, mut seq) = reached.get(id.as_str()).copied().unwrap_or((case.state, case.events));
        if let Some(expected) = expect
            && expected != state
        {
            return Err(CaseError::Conflict(format!("线索 {id} 已不是「{}」{},未执行", expected.label(), who())));
        }
        if let Some(why) = actor.may_not(changes) {
            return Err(CaseError::Invalid(format!("{why},未执行")));
        }
        for change in changes {
            // A change written wrong (no reason, no text) is refused as such;
            // one the case's state does not take is a conflict.
            if let Some(why) = change.written_wrong() {
                return Err(CaseError::Invalid(format!("线索 {id}:{why},未执行")));
            }
            state = change.next(state).map_err(|why| CaseError::Conflict(format!("线索 {id}:{why}{},未执行", who())))?;
            seq += 1;
            let mut event = Event {
                case_id: id.clone(),
                seq,
                at: now,
                data_month: (!data_month.is_empty()).then(|| data_month.clone()),
                user: actor.user.clone(),
                action: change.action().into(),
                state: state.label().into(),
                rule_id: case.rule_id.clone(),
                subject: case.subject.clone(),
                village_code: case.village_code.clone(),
                detail: app_id.map(|a| serde_json::json!({ "import": a }).to_string()),
                ..Event::default()
            };
            match change {
                Change::Assign { unit, due } => (event.unit_code, event.due) = (Some(unit.clone()), Some(*due)),
                Change::Verdict { verdict, note } => (event.verdict, event.note) = (Some(verdict.label().into()), Some(note.clone())),
                Change::Rectify { measures, due } => (event.note, event.due) = (Some(measures.clone()), Some(*due)),
                Change::Rectified { note } | Change::Close { note } => event.note = (!note.is_empty()).then(|| note.clone()),
                Change::Instruct { note } | Change::Supervise { note } => event.note = Some(note.clone()),
                Change::Transfer { outcome, note } => (event.transfer, event.note) = (Some(outcome.clone()), (!note.is_empty()).then(|| note.clone())),
                Change::Money { recovered, back_paid, people } => (event.recovered, event.back_paid, event.people) = (*recovered, *back_paid, *people),
            }
            events.push(event);
        }
        reached.insert(id.as_str(), (state, seq));
    }
    writer.append(&events, app_id).await?;
    Ok(events)
}

/// The ids of the cases matching a selection, within the actor's scope (for
/// changing many at once: by rule, town or village, state).
pub async fn select(lake: &Lake, actor: &Actor, rule: Option<&str>, place: Option<&str>, state: Option<State>) -> Result<Vec<String>, CaseError> {
    let ctx = session(lake, &SessionOptions { scope: actor.scope.clone(), ..SessionOptions::default() }).await?;
    let prefix = place.map(xuncha_queries::scope::scope_prefix).transpose()?;
    let query = Bound::new(
        "SELECT case_id FROM cases \
         WHERE ($unit IS NULL OR unit_code = $unit) AND ($rule IS NULL OR rule_id = $rule) \
           AND ($prefix IS NULL OR starts_with(village_code, $prefix)) AND ($state IS NULL OR state = $state) \
         ORDER BY case_id",
        &[("unit", text(actor.unit.as_deref())), ("rule", text(rule)), ("prefix", text(prefix.as_deref())), ("state", text(state.map(State::label)))],
        "select cases",
    )?;
    Ok(TextTable::run(&ctx, &query).await?.rows.into_iter().map(|mut r| r.swap_remove(0)).collect())
}

fn events_batch(events: &[Event]) -> Result<RecordBatch, CaseError> {
    let text = |f: &dyn Fn(&Event) -> Option<String>| -> ArrayRef { Arc::new(events.iter().map(f).collect::<StringArray>()) };
    let money = |f: &dyn Fn(&Event) -> Option<i128>| -> Result<ArrayRef, CaseError> { Ok(Arc::new(events.iter().map(f).collect::<Decimal128Array>().with_precision_and_scale(18, 2)?)) };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let columns: Vec<ArrayRef> = vec![
        text(&|e| Some(e.case_id.clone())),
        Arc::new(events.iter().map(|e| e.seq).collect::<Int64Array>()),
        Arc::new(TimestampMicrosecondArray::from(events.iter().map(|e| e.at.timestamp_micros()).collect::<Vec<_>>()).with_timezone("UTC")),
        text(&|e| e.data_month.clone()),
        text(&|e| Some(e.user.clone())),
        text(&|e| Some(e.action.clone())),
        text(&|e| Some(e.state.clone())),
        text(&|e| e.flag.clone()),
        text(&|e| Some(e.rule_id.clone())),
        text(&|e| Some(e.subject.clone())),
        text(&|e| e.village_code.clone()),
        text(&|e| e.unit_code.clone()),
        Arc::new(events.iter().map(|e| e.due.map(|d| i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX))).collect::<Date32Array>()),
        text(&|e| e.verdict.clone()),
        text(&|e| e.note.clone()),
        money(&|e| e.recovered)?,
        money(&|e| e.back_paid)?,
        Arc::new(events.iter().map(|e| e.people).collect::<Int64Array>()),
        text(&|e| e.transfer.clone()),
        text(&|e| e.run_id.clone()),
        text(&|e| e.detail.clone()),
        text(&|e| e.case_no.clone()),
    ];
    Ok(RecordBatch::try_new(xuncha_core::system::case_events_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Verdict;

    #[tokio::test]
    async fn what_a_scoped_user_cannot_see_they_cannot_change() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path()).unwrap();
        let found = |case: &str, village: &str| Event {
            case_id: case.into(),
            seq: 1,
            at: Utc::now(),
            user: "系统".into(),
            action: "发现".into(),
            state: "已交办".into(),
            rule_id: "deceased_paid".into(),
            subject: "x".into(),
            village_code: Some(village.into()),
            ..Event::default()
        };
        let writer = Writer::open(&lake).await.unwrap();
        writer.append(&[found("a", "430223101201"), found("b", "430223102203")], None).await.unwrap();
        drop(writer);
        let town = Actor { user: "town".into(), scope: Some("430223101000".into()), unit: None };
        let verdict = Change::Verdict { verdict: Verdict::True, note: "核实".into() };
        let err = apply(&lake, &town, &["b".into()], &verdict, None).await.unwrap_err();
        assert!(matches!(err, CaseError::NotFound(_)), "{err}");
        let err = apply(&lake, &town, &["a".into(), "b".into()], &verdict, None).await.unwrap_err();
        assert!(matches!(err, CaseError::NotFound(_)), "all or none: {err}");
        assert_eq!(select(&lake, &town, None, None, None).await.unwrap(), ["a"]);
        let events = apply(&lake, &town, &["a".into()], &verdict, None).await.unwrap();
        assert_eq!((events[0].seq, events[0].state.as_str(), events[0].user.as_str()), (2, "属实", "town"));
        let county = Actor { user: "county".into(), scope: None, unit: None };
        assert_eq!(apply(&lake, &county, &["b".into()], &verdict, None).await.unwrap().len(), 1);
        // A unit sees and answers only what was handed to it.
        let unit = Actor { user: "unit".into(), scope: None, unit: Some("430223101000".into()) };
        assert!(select(&lake, &unit, None, None, None).await.unwrap().is_empty());
        assert!(matches!(apply(&lake, &unit, &["a".into()], &verdict, None).await.unwrap_err(), CaseError::NotFound(_)));
        let writer = Writer::open(&lake).await.unwrap();
        writer.append(&[Event { state: "待交办".into(), ..found("c", "430223102203") }], None).await.unwrap();
        drop(writer);
        let assign = Change::Assign { unit: "430223101000".into(), due: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap() };
        apply(&lake, &county, &["c".into()], &assign, None).await.unwrap();
        assert_eq!(select(&lake, &unit, None, None, None).await.unwrap(), ["c"], "handed to it, wherever the case is");
        assert_eq!(apply(&lake, &unit, &["c".into()], &verdict, None).await.unwrap()[0].user, "unit");
    }

    #[tokio::test]
    async fn only_cases_the_data_confirmed_are_closed_in_bulk() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path()).unwrap();
        let rectified = |case: &str, flag: Option<&str>| Event {
            case_id: case.into(),
            seq: 1,
            at: Utc::now(),
            user: "系统".into(),
            action: "整改完成".into(),
            state: "已整改".into(),
            flag: flag.map(String::from),
            rule_id: "deceased_paid".into(),
            subject: case.into(),
            village_code: Some("430223101201".into()),
            ..Event::default()
        };
        let writer = Writer::open(&lake).await.unwrap();
        writer.append(&[rectified("a", Some(DATA_CONFIRMED)), rectified("b", Some(DATA_CONFIRMED)), rectified("c", None), rectified("d", Some("整改不实"))], None).await.unwrap();
        drop(writer);
        let office = Actor { user: "analyst".into(), scope: None, unit: None };
        for bad in ["c", "d"] {
            let err = close_confirmed(&lake, &office, &["a".into(), bad.into()], "").await.unwrap_err().to_string();
            assert!(err.contains(&format!("线索 {bad}")) && err.contains("逐条"), "{err}");
        }
        assert_eq!(select(&lake, &office, None, None, Some(State::Closed)).await.unwrap(), Vec::<String>::new(), "all or none");
        assert_eq!(close_confirmed(&lake, &office, &["a".into(), "b".into()], "数据核验通过,批量销号").await.unwrap().len(), 2);
        assert_eq!(select(&lake, &office, None, None, Some(State::Closed)).await.unwrap(), ["a", "b"]);
        assert!(closable_in_bulk(State::Rectified, DATA_CONFIRMED) && !closable_in_bulk(State::Rectifying, DATA_CONFIRMED) && !closable_in_bulk(State::Rectified, ""));
    }
}
