//! `/case/{id}`: one case — what was found in words and as a table of the
//! matched rows (Chinese column names; the stored JSON behind a 原始数据
//! fold), its history, the runs and data versions that found it, and the
//! actions the user's role allows; `POST /case/{id}` makes one of them.
//!
//! Names, ID numbers and accounts are masked for everyone but the unit the
//! case was handed to (it must verify them); each view is audited.

use super::{Fields, actor, case_error, code, context, date};
use crate::auth::{Anyone, Authorized, Posted};
use crate::error::AppError;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use crate::{layout, mask};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::sync::Arc;
use xuncha_cases::{Change, State as CaseState, TRANSFER_OUTCOMES, Verdict};
use xuncha_queries::evidence::{self, Described};
use xuncha_queries::sheet::text;
use xuncha_queries::table::TextTable;

/// What each role may do to a case.
fn allowed(role: Role, action: &str) -> bool {
    match role {
        Role::Unit => matches!(action, "verdict" | "rectify" | "done" | "money"),
        Role::Leader => false,
        Role::Analyst | Role::Admin => true,
    }
}

/// Whether a path segment has a case number's shape: a rule id, a dash and
/// 10 (numbered before keyed numbers) or 12 hex digits.
fn is_case_id(id: &str) -> bool {
    id.rsplit_once('-').is_some_and(|(rule, number)| {
        !rule.is_empty() && rule.len() <= 64 && rule.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') && xuncha_core::keys::is_identifier(number, &[10, 12])
    })
}

/// The case as the user may see it: the engine's answer is "not found" for
/// a unit's request about a case not handed to it.
async fn visible(state: &AppState, session: &LoginSession, id: &str) -> Result<TextTable, AppError> {
    if !is_case_id(id) {
        return Err(AppError::not_found("没有这条线索", "线索编号不完整或有误,请从线索列表进入。"));
    }
    let ctx = context(state, session).await?;
    let case = xuncha_queries::report::document(&ctx, "cases", "case", &[("case_id", text(Some(id)))]).await.map_err(AppError::internal("查询出错"))?;
    let handed_to = case.index("承办单位").and_then(|i| case.rows.first().map(|r| r[i].clone()));
    match (case.rows.is_empty(), session.user.unit()) {
        (true, _) => Err(AppError::not_found("没有这条线索", format!("没有线索「{id}」(或不在您的范围内)"))),
        (false, Some(unit)) if handed_to.as_deref() != Some(unit) => Err(AppError::not_found("没有这条线索", format!("没有线索「{id}」(或不在您的范围内)"))),
        (false, _) => Ok(case),
    }
}

/// `GET /case/{id}`.
pub(crate) async fn case_page(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, Path(id): Path<String>) -> Result<Response, AppError> {
    let case = visible(&state, &session, &id).await?;
    state.audit.record(&session.user.name, "case_view", &id).map_err(AppError::internal("审计日志写入失败,未显示"))?;
    let ctx = context(&state, &session).await?;
    let in_full = session.user.role == Role::Unit;
    let shown = |key: &str, value: &str| if in_full { value.to_string() } else { mask::cell(key, value) };
    let rules = xuncha_queries::rules::catalogue(state.session_options.rules_dir.as_deref()).map_err(AppError::internal("查询出错"))?;
    let words = evidence::describe(&ctx, &rules, Some(&id), None, &shown).await.map_err(AppError::internal("查询出错"))?;
    let described = words.get(&id).cloned().unwrap_or_default();
    let query = |name: &'static str| {
        let ctx = ctx.clone();
        let id = id.clone();
        async move { xuncha_queries::report::document(&ctx, "cases", name, &[("case_id", text(Some(&id)))]).await.map_err(AppError::internal("查询出错")) }
    };
    let (events, findings) = (query("events").await?, query("findings").await?);
    let row = &case.rows[0];
    let cell = |name: &str| case.index(name).map_or(String::new(), |i| row[i].clone());
    let current = CaseState::parse(&cell("状态")).ok();
    let body = html! {
        div.casehead {
            span.state { (cell("状态")) }
            @if !cell("数据核验").is_empty() { span class=(format!("flag {}", if cell("数据核验") == "数据核验通过" { "ok" } else { "bad" })) { (cell("数据核验")) } }
            @if !cell("时限状态").is_empty() { span class=(format!("deadline {}", if cell("时限状态") == "逾期" { "red" } else { "yellow" })) { (cell("时限状态")) } }
        }
        table.fields { tbody {
            @for name in ["线索编号", "规则", "承办单位", "时限", "核查结论", "线索移交", "发现条数", "涉及金额元", "最早所属期", "最近所属期", "追缴金额元", "补发金额元", "处理人数", "发现时间"] {
                @let v = cell(name);
                @if !v.is_empty() { tr { th { (name.trim_end_matches('元')) @if name.ends_with("金额元") { "(元)" } } td { (v) } } }
            }
        } }
        h2 { "发现情况" }
        (words_section(&described, in_full))
        h2 { "处置记录" }
        (layout::table(&masked_notes(&events), &[], false, None, None))
        h2 { "发现依据(运行与数据版本)" }
        p.note { "每条发现记录了发现它的运行和所读各表的 Delta 版本;即使数据此后被更正,也可用 " code { "xuncha sql --version 表=版本 …" } " 复现。" }
        (layout::table(&findings, &[], !in_full, None, None))
        @if let Some(current) = current { (actions(&session, &id, current)) }
        p { a href="/cases" { "← 返回线索处置" } }
    };
    Ok(layout::page(&session, "/cases", &format!("线索 {id}"), body))
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

/// The history with IDs, phones and accounts masked inside free text.
fn masked_notes(events: &TextTable) -> TextTable {
    TextTable { columns: events.columns.clone(), rows: events.rows.iter().map(|r| r.iter().map(|c| mask::mask_text(c).into_owned()).collect()).collect() }
}

/// The forms for what the user may do next.
fn actions(session: &LoginSession, id: &str, current: CaseState) -> Markup {
    let role = session.user.role;
    let form = |action: &'static str, title: &'static str, fields: Markup| {
        html! {
            @if allowed(role, action) {
                form.action method="post" action=(format!("/case/{}", crate::auth::urlencode(id))) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="action" value=(action);
                    input type="hidden" name="expect" value=(current.label());
                    fieldset { legend { (title) } (fields) button type="submit" { (title) } }
                }
            }
        }
    };
    let verified = matches!(current, CaseState::Confirmed | CaseState::PartlyConfirmed | CaseState::Rectifying | CaseState::Rectified | CaseState::Closed);
    html! {
        h2 { "操作" }
        @if role == Role::Leader { p.note { "领导账号只读。" } }
        @if matches!(current, CaseState::Pending | CaseState::Assigned) {
            (form("assign", "交办", html! {
                label { "承办单位代码" input name="unit" required pattern="[0-9]{12}" size="14"; }
                label { "核查时限" input type="date" name="due" required; }
            }))
        }
        @if current == CaseState::Assigned {
            (form("verdict", "提交核查结论", html! {
                label { "核查结论" select name="verdict" required { @for v in Verdict::ALL { option value=(v.label()) { (v.label()) } } } }
                label { "核查说明(不属实须写明理由)" textarea name="note" rows="3" {} }
                label { "整改措施(属实时可同时填写)" textarea name="measures" rows="2" {} }
                label { "整改时限" input type="date" name="due"; }
                label { "追缴金额(元)" input name="recovered" inputmode="decimal"; }
                label { "补发金额(元)" input name="back_paid" inputmode="decimal"; }
                label { "处理人数" input name="people" inputmode="numeric"; }
            }))
        }
        @if matches!(current, CaseState::Confirmed | CaseState::PartlyConfirmed | CaseState::Rectifying) {
            (form("rectify", "登记整改措施", html! {
                label { "整改措施" textarea name="measures" rows="3" required {} }
                label { "整改时限" input type="date" name="due" required; }
            }))
        }
        @if current == CaseState::Rectifying { (form("done", "报告整改完成", html! { label { "说明" textarea name="note" rows="2" {} } })) }
        @if current == CaseState::Rectified { (form("close", "销号", html! { label { "说明" textarea name="note" rows="2" {} } })) }
        @if verified {
            (form("money", "登记追缴、补发与处理", html! {
                label { "追缴金额(元)" input name="recovered" inputmode="decimal"; }
                label { "补发金额(元)" input name="back_paid" inputmode="decimal"; }
                label { "处理人数" input name="people" inputmode="numeric"; }
            }))
            (form("transfer", "线索移交与结果", html! {
                label { "结果" select name="outcome" { @for o in TRANSFER_OUTCOMES { option value=(o) { (o) } } } }
                label { "说明" textarea name="note" rows="2" {} }
            }))
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

/// The changes a posted action makes, in order.
fn changes(form: &Fields) -> Result<Vec<Change>, AppError> {
    let text = |name: &str| form.get(name).to_string();
    let people = || match form.get("people") {
        "" => Ok(None),
        v => v.parse::<i64>().map(Some).map_err(|_| AppError::bad_request("操作未执行", format!("处理人数「{v}」应为整数"))),
    };
    let money_change = || -> Result<Option<Change>, AppError> {
        let (recovered, back_paid, people) = (money(form.get("recovered"), "追缴金额")?, money(form.get("back_paid"), "补发金额")?, people()?);
        Ok((recovered.is_some() || back_paid.is_some() || people.is_some()).then_some(Change::Money { recovered, back_paid, people }))
    };
    Ok(match form.get("action") {
        "assign" => vec![Change::Assign { unit: code(form.get("unit"), "承办单位")?.ok_or_else(|| AppError::bad_request("操作未执行", "请填写承办单位代码"))?, due: date(form.get("due"), "核查时限")? }],
        "verdict" => {
            let verdict = Verdict::parse(form.get("verdict")).map_err(case_error)?;
            let mut all = vec![Change::Verdict { verdict, note: text("note") }];
            if !form.get("measures").is_empty() && verdict != Verdict::False {
                all.push(Change::Rectify { measures: text("measures"), due: date(form.get("due"), "整改时限")? });
            }
            if verdict != Verdict::False {
                all.extend(money_change()?);
            }
            all
        }
        "rectify" => vec![Change::Rectify { measures: text("measures"), due: date(form.get("due"), "整改时限")? }],
        "done" => vec![Change::Rectified { note: text("note") }],
        "close" => vec![Change::Close { note: text("note") }],
        "transfer" => vec![Change::Transfer { outcome: text("outcome"), note: text("note") }],
        "money" => vec![money_change()?.ok_or_else(|| AppError::bad_request("操作未执行", "请至少填写追缴金额、补发金额或处理人数之一"))?],
        other => return Err(AppError::bad_request("操作未执行", format!("未知操作「{other}」"))),
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
    let action = form.get("action");
    let refused = |e: AppError| {
        audit_refusal(&state, &session.user.name, &format!("{id} {action}:{}", e.message));
        e
    };
    if !allowed(session.user.role, action) {
        return Err(refused(AppError::forbidden("无权操作", format!("「{}」角色不能执行此操作。", session.user.role.label()))));
    }
    let expect = CaseState::parse(form.get("expect")).map_err(case_error).map_err(refused)?;
    let changes = changes(form).map_err(refused)?;
    visible(&state, session, &id).await.map_err(refused)?;
    state.audit.record(&session.user.name, &format!("case_{action}"), &id).map_err(AppError::internal("审计日志写入失败,未执行"))?;
    xuncha_cases::apply_changes(&state.lake, &actor(session), &id, &changes, Some(expect)).await.map_err(case_error).map_err(refused)?;
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
