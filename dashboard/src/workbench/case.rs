//! `/case/{id}`: one case — what was found in words and as a table of the
//! matched rows (Chinese column names; the stored JSON behind a 原始数据
//! fold), its history, the runs and data versions that found it, and the
//! actions the user's role allows; `POST /case/{id}` makes one of them.
//!
//! Names, ID numbers and accounts are masked for everyone but the unit the
//! case was handed to (it must verify them); each view is audited.

use super::{Fields, actor, code, context, due_date, today, unit_picker};
use crate::auth::{Anyone, Authorized, Posted};
use crate::error::AppError;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use crate::{layout, mask};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::sync::Arc;
use xuncha_cases::{Action, Answer, Change, Party, State as CaseState, TRANSFER_OUTCOMES, Verdict};
use xuncha_queries::evidence::{self, Described};
use xuncha_queries::report::{QueryName, q};
use xuncha_queries::sheet::text;
use xuncha_queries::table::TextTable;

/// The case as the user may see it; any other id is "not found".
async fn visible(state: &AppState, session: &LoginSession, id: &str) -> Result<TextTable, AppError> {
    let ctx = context(state, session).await?;
    match xuncha_cases::visible_case(&ctx, &actor(session), id).await? {
        Some(case) => Ok(case),
        None => Err(AppError::not_found("没有这条线索", "没有这条线索(或不在您的范围内);请从线索列表进入。")),
    }
}

/// `GET /case/{id}`.
pub(crate) async fn case_page(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, Path(id): Path<String>) -> Result<Response, AppError> {
    let case = visible(&state, &session, &id).await?;
    state.audit.record(&session.user.name, "case_view", &id).map_err(AppError::internal("审计日志写入失败,未显示"))?;
    let ctx = context(&state, &session).await?;
    let in_full = session.user.role == Role::Unit;
    let shown = |key: &str, value: &str| if in_full { value.to_string() } else { mask::cell(key, value) };
    let rules = xuncha_queries::rules::catalogue(state.session_options.rules_dir.as_deref())?;
    let words = evidence::describe(&ctx, &rules, Some(&id), None, &shown).await?;
    let described = words.get(&id).cloned().unwrap_or_default();
    let query = |name: QueryName| {
        let ctx = ctx.clone();
        let id = id.clone();
        async move { xuncha_queries::report::document(&ctx, name, &[("case_id", text(Some(&id)))]).await.map_err(AppError::from) }
    };
    let (events, findings) = (query(q::cases::EVENTS).await?, query(q::cases::FINDINGS).await?);
    let row = &case.rows[0];
    let cell = |name: &str| case.index(name).map_or(String::new(), |i| row[i].clone());
    let current = CaseState::parse(&cell("状态")).ok();
    let units: Vec<q::filters::TownsRow> = xuncha_queries::report::rows(&ctx, &[]).await?;
    let office = party(session.user.role) == Party::Office;
    // 追缴 and 补发 beyond the money found: saved, but worth a second look.
    let decimal = |name: &str| cell(name).parse::<rust_decimal::Decimal>().unwrap_or_default();
    let returned = decimal("追缴金额元") + decimal("补发金额元");
    let over = (decimal("涉及金额元") > rust_decimal::Decimal::ZERO && returned > decimal("涉及金额元")).then(|| (returned, decimal("涉及金额元")));
    let body = html! {
        div.casehead {
            span.state { (cell("状态")) }
            @if !cell("数据核验").is_empty() { span class=(format!("flag {}", if cell("数据核验") == "数据核验通过" { "ok" } else { "bad" })) { (cell("数据核验")) } }
            @if !cell("时限状态").is_empty() { span class=(format!("deadline {}", if cell("时限状态") == "逾期" { "red" } else { "yellow" })) { (cell("时限状态")) } }
        }
        @if let Some((returned, found)) = over {
            p.warning { "追缴与补发合计 " (layout::thousands(&returned.to_string())) " 元,超过发现的涉及金额 " (layout::thousands(&found.to_string())) " 元。请核对是否录入有误;如确有依据(例如追回了发现期以外的款项),请在说明中写明。" }
        }
        table.fields { tbody {
            @for name in ["编号", "规则", "承办单位", "时限", "核查结论", "线索移交", "发现条数", "涉及金额元", "最早所属期", "最近所属期", "追缴金额元", "补发金额元", "处理人数", "发现时间"] {
                @let v = cell(name);
                @if !v.is_empty() { tr { th { (layout::header_words(name)) } td { (layout::readable(name, &v)) } } }
            }
        } }
        h2 { "发现情况" }
        (words_section(&described, in_full))
        h2 { "处置经过" }
        (timeline(&events, office))
        h2 { "发现明细" }
        (layout::table(&without(&findings, &["运行", "数据版本"]), &[], !in_full, None, None))
        @if office {
            details.raw {
                summary { "发现依据(运行与数据版本,供复现)" }
                p.note { "每条发现记录了发现它的运行和所读各表的 Delta 版本;即使数据此后被更正,也可用 " code { "xuncha sql --version 表=版本 …" } " 复现。" }
                (layout::table(&findings, &[], !in_full, None, None))
            }
        }
        @if let Some(current) = current { (actions(&session, &id, current, &units)) }
        p { a href="/cases" { "← 返回线索处置" } }
    };
    Ok(layout::page(&session, "/cases", &format!("线索 {}", cell("编号")), body))
}

/// The case in words, its findings as a table, and the stored evidence folded.
fn words_section(d: &Described, in_full: bool) -> Markup {
    let table = TextTable { columns: d.columns.clone(), rows: d.rows.clone() };
    html! {
        p.sentence { (d.sentence) }
        (layout::table(&table, &[], false, None, None))
        details.raw {
            summary { "原始数据" }
            @for raw in &d.raw {
                @let value = serde_json::from_str::<serde_json::Value>(raw).unwrap_or(serde_json::Value::Null);
                pre.evidence { (serde_json::to_string_pretty(&if in_full { value } else { mask::json(None, value) }).unwrap_or_default()) }
            }
        }
    }
}

/// A table without some of its columns.
fn without(table: &TextTable, dropped: &[&str]) -> TextTable {
    let kept: Vec<usize> = (0..table.columns.len()).filter(|&i| !dropped.contains(&table.columns[i].as_str())).collect();
    TextTable { columns: kept.iter().map(|&i| table.columns[i].clone()).collect(), rows: table.rows.iter().map(|r| kept.iter().map(|&i| r[i].clone()).collect()).collect() }
}

/// What an event records beyond who did what, in the order it is read.
const EVENT_DETAILS: [&str; 8] = ["承办单位", "时限", "核查结论", "说明", "线索移交", "追缴金额元", "补发金额元", "处理人数"];

/// The history as a timeline, oldest first: when, what and who, then what
/// the event recorded (IDs, phones and accounts masked inside free text);
/// the run that made a data event only for the office.
fn timeline(events: &TextTable, office: bool) -> Markup {
    html! {
        ol.timeline {
            @for row in &events.rows {
                @let cell = |name: &str| events.index(name).map_or(String::new(), |i| mask::mask_text(&row[i]).into_owned());
                li {
                    div.when { (layout::readable("时间", &cell("时间"))) }
                    div.what {
                        strong { (cell("操作")) } " · " (cell("操作人"))
                        span.state { (cell("状态")) }
                        @if !cell("数据核验").is_empty() { " " span.flag { (cell("数据核验")) } }
                    }
                    @for name in EVENT_DETAILS {
                        @let v = cell(name);
                        @if !v.is_empty() { div.detail { span.label { (layout::header_words(name)) ":" } (layout::readable(name, &v)) } }
                    }
                    @if office && !cell("运行").is_empty() { div.detail.note { "比对运行 " (cell("运行")) } }
                }
            }
        }
    }
}

/// Who the user is to a case: units answer, leaders read, the office acts.
pub(super) fn party(role: Role) -> Party {
    match role {
        Role::Unit => Party::Unit,
        Role::Leader => Party::Reader,
        Role::Analyst | Role::Admin => Party::Office,
    }
}

/// The forms for what the user may do next: the actions the case's state
/// offers the user's party.
fn actions(session: &LoginSession, id: &str, current: CaseState, units: &[q::filters::TownsRow]) -> Markup {
    let form = |action: Action, fields: Markup| {
        html! {
            form.action method="post" action=(format!("/case/{}", crate::auth::urlencode(id))) {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="action" value=(action.key());
                input type="hidden" name="expect" value=(current.label());
                fieldset { legend { (action.title()) } (fields) button type="submit" { (action.title()) } }
            }
        }
    };
    let money = html! {
        label { "追缴金额(元)" input name="recovered" inputmode="decimal"; }
        label { "补发金额(元)" input name="back_paid" inputmode="decimal"; }
        label { "处理人数" input name="people" inputmode="numeric"; }
    };
    html! {
        h2 { "操作" }
        @if session.user.role == Role::Leader { p.note { "领导可作批示;对已交办、整改中的线索可督办。批示和督办记入处置经过,承办单位可见。" } }
        @for action in current.actions(party(session.user.role)) {
            @match action {
                Action::Assign => (form(action, html! {
                    (unit_picker(units))
                    label { "核查时限" input type="date" name="due" required; }
                })),
                Action::Verdict => (form(action, html! {
                    label { "核查结论" select name="verdict" required { option value="" selected { "请选择" } @for v in Verdict::ALL { option value=(v.label()) { (v.label()) } } } }
                    label { "核查说明(不属实须写明理由)" textarea name="note" rows="3" {} }
                    label { "整改措施(属实时可同时填写)" textarea name="measures" rows="2" {} }
                    label { "整改时限" input type="date" name="due"; }
                    (money)
                })),
                Action::Rectify => (form(action, html! {
                    label { "整改措施" textarea name="measures" rows="3" required {} }
                    label { "整改时限" input type="date" name="due" required; }
                })),
                Action::Done | Action::Close => (form(action, html! { label { "说明" textarea name="note" rows="2" {} } })),
                Action::Money => (form(action, money.clone())),
                Action::Instruct | Action::Supervise => (form(action, html! { label { (action.title()) "内容" textarea name="note" rows="2" required {} } })),
                Action::Transfer => (form(action, html! {
                    label { "结果" select name="outcome" { @for o in TRANSFER_OUTCOMES { option value=(o) { (o) } } } }
                    label { "说明" textarea name="note" rows="2" {} }
                })),
            }
        }
    }
}

/// A money field in yuan (exact) as cents.
fn money(value: &str, what: &str) -> Result<Option<i128>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v => xuncha_core::values::money_cents(v).map(Some).map_err(|e| AppError::bad_request("操作未执行", format!("{what}「{v}」:{e}"))),
    }
}

/// A number of people from a form ("" → none).
fn people(value: &str) -> Result<Option<i64>, AppError> {
    match value {
        "" => Ok(None),
        v => v.parse::<i64>().map(Some).map_err(|_| AppError::bad_request("操作未执行", format!("处理人数「{v}」应为整数"))),
    }
}

/// A time limit from a form that may be left empty.
fn optional_date(value: &str, what: &'static str, today: chrono::NaiveDate) -> Result<Option<chrono::NaiveDate>, AppError> {
    (!value.trim().is_empty()).then(|| due_date(value, what, today)).transpose()
}

/// The changes a posted `action` makes, in order.
fn changes(action: Action, form: &Fields, today: chrono::NaiveDate) -> Result<Vec<Change>, AppError> {
    let text = |name: &str| form.get(name).to_string();
    let refused = |why: String| AppError::bad_request("操作未执行", why);
    let (recovered, back_paid, people) = (money(form.get("recovered"), "追缴金额")?, money(form.get("back_paid"), "补发金额")?, people(form.get("people"))?);
    Ok(match action {
        Action::Assign => {
            vec![Change::Assign { unit: code(form.get("unit"), "承办单位")?.ok_or_else(|| refused("请选择承办单位".into()))?, due: due_date(form.get("due"), "核查时限", today)? }]
        }
        Action::Verdict => {
            let verdict = Some(Verdict::parse(form.get("verdict"))?);
            let due = optional_date(form.get("due"), "整改时限", today)?;
            Answer { verdict, note: text("note"), measures: text("measures"), due, recovered, back_paid, people, transfer: false }.changes().map_err(refused)?
        }
        Action::Rectify => vec![Change::Rectify { measures: text("measures"), due: due_date(form.get("due"), "整改时限", today)? }],
        Action::Done => vec![Change::Rectified { note: text("note") }],
        Action::Close => vec![Change::Close { note: text("note") }],
        Action::Transfer => vec![Change::Transfer { outcome: text("outcome"), note: text("note") }],
        Action::Money => vec![Change::Money { recovered, back_paid, people }],
        Action::Instruct => vec![Change::Instruct { note: text("note") }],
        Action::Supervise => vec![Change::Supervise { note: text("note") }],
    })
}

/// `POST /case/{id}`: one action, checked against the state the user saw.
///
/// The audit log tells attempts from refusals: an action that passes the
/// role, form and visibility checks is recorded (`case_<action>`) before
/// the change is made; a refusal at any step is recorded as `case_refused`
/// with its reason — at most `throttle::AUDITED_FAILURES_PER_MINUTE` a
/// minute per user, the rest counted in one entry, so a user cannot flood
/// the log by being refused.
pub(crate) async fn act(State(state): State<Arc<AppState>>, Path(id): Path<String>, posted: Posted<Anyone, Fields>) -> Result<Response, AppError> {
    let (session, form) = (&posted.session, &posted.form);
    let refused = |e: AppError| {
        audit_refusal(&state, &session.user.name, &format!("{id} {}:{}", xuncha_core::values::excerpt(form.get("action"), 40), e.message));
        e
    };
    let action = Action::parse(form.get("action")).map_err(AppError::from).map_err(refused)?;
    if !action.allowed_for(party(session.user.role)) {
        return Err(refused(AppError::forbidden("无权操作", format!("「{}」角色不能执行此操作。", session.user.role.label()))));
    }
    let expect = CaseState::parse(form.get("expect")).map_err(AppError::from).map_err(refused)?;
    let changes = changes(action, form, today(&state)).map_err(refused)?;
    visible(&state, session, &id).await.map_err(refused)?;
    state.audit.record(&session.user.name, &format!("case_{}", action.key()), &id).map_err(AppError::internal("审计日志写入失败,未执行"))?;
    xuncha_cases::apply_changes(&state.lake, &actor(session), &id, &changes, Some(expect)).await.map_err(AppError::from).map_err(refused)?;
    Ok(Redirect::to(&format!("/case/{}", crate::auth::urlencode(&id))).into_response())
}

/// Audits a refused case action within the user's per-minute budget.
fn audit_refusal(state: &AppState, user: &str, detail: &str) {
    let now = std::time::Instant::now();
    let (audit, skipped) = state.refusals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take(user, now);
    if let Some(n) = skipped {
        let _ = state.audit.record(user, "case_refused_unaudited", &format!("上一分钟另有 {n} 次被拒绝的线索操作超出审计速率,未逐条记录"));
    }
    if audit {
        let _ = state.audit.record(user, "case_refused", detail);
    }
    tracing::info!(audited = audit, "case action refused");
}
