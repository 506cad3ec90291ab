//! `/cases`: the queue (线索处置) — cases by state, rule, town, unit,
//! deadline, data check and funnel step, late and flagged first — with bulk
//! hand-over for analysts, and for a unit its own cases with the 交办单 to
//! download and upload.

use super::{Fields, actor, code, context, date, due_date, today, unit_picker};
use crate::auth::{Analyst, Anyone, Authorized, Posted, urlencode};
use crate::error::AppError;
use crate::layout;
use crate::state::AppState;
use crate::users::Role;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use datafusion::prelude::SessionContext;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::sync::Arc;
use xuncha_cases::{Action, Change, Party, State as CaseState};
use xuncha_queries::report::{q, rows};
use xuncha_queries::sheet::{Param, text};
use xuncha_queries::table::TextTable;

/// The queue's filters, as links and the filter form give them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    state: Option<String>,
    rule: Option<String>,
    town: Option<String>,
    unit: Option<String>,
    deadline: Option<String>,
    flag: Option<String>,
    stage: Option<String>,
    /// After a hand-over: how many cases went to which unit by when (the notice).
    handed: Option<usize>,
    /// After a bulk 销号: how many were closed.
    closed: Option<usize>,
    to: Option<String>,
    due: Option<String>,
}

const DEADLINES: [&str; 2] = ["逾期", "临期"];
const FLAGS: [&str; 3] = ["数据核验通过", "整改不实", "反弹"];

/// The filters checked, as (name, value) with empty ones left out.
fn checked(q: &QueueQuery) -> Result<Vec<(&'static str, String)>, AppError> {
    let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let one_of = |v: Option<String>, allowed: &[&str], what: &'static str| -> Result<Option<String>, AppError> {
        match v {
            Some(v) if !allowed.contains(&v.as_str()) => Err(AppError::bad_request("参数有误", format!("{what}「{v}」应为 {}", allowed.join("、")))),
            other => Ok(other),
        }
    };
    let states: Vec<&str> = CaseState::ALL.iter().map(|s| s.label()).collect();
    let rule = some(&q.rule);
    if let Some(r) = &rule
        && !r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(AppError::bad_request("参数有误", format!("规则「{r}」无效")));
    }
    let pairs = [
        ("state", one_of(some(&q.state), &states, "状态")?),
        ("rule", rule),
        ("town", code(q.town.as_deref().unwrap_or(""), "乡镇")?),
        ("unit", code(q.unit.as_deref().unwrap_or(""), "承办单位")?),
        ("deadline", one_of(some(&q.deadline), &DEADLINES, "时限状态")?),
        ("flag", one_of(some(&q.flag), &FLAGS, "数据核验")?),
        // Checked against the funnel's steps (`case_stages`) when the queue is read.
        ("stage", some(&q.stage)),
    ];
    Ok(pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

/// `GET /cases`.
pub(crate) async fn queue(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, Query(q): Query<QueueQuery>) -> Result<Response, AppError> {
    let mut filters = checked(&q)?;
    let own_unit = session.user.unit().map(String::from);
    if let Some(unit) = &own_unit {
        filters.retain(|(k, _)| *k != "unit");
        filters.push(("unit", unit.clone()));
    }
    let role = session.user.role;
    let pick = role >= Role::Analyst;
    let query_string = filters.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&");
    // The filter bar and the table are the same for every user of a scope
    // (a unit: its own) and role kind until the lake changes: cached.
    let scope_key = match &own_unit {
        Some(unit) => Some(format!("unit:{unit}")),
        None => session.user.scope.clone(),
    };
    let key = format!("/cases?{query_string}&pick={pick}");
    let fingerprint = state.fingerprint()?;
    let listing = match state.cached_page(scope_key.as_deref(), &key, &fingerprint) {
        Some(body) => body,
        None => {
            let ctx = context(&state, &session).await?;
            let body = listing(&ctx, &filters, own_unit.is_some(), pick).await?.into_string();
            state.cache_page(scope_key.as_deref(), &key, fingerprint, body)
        }
    };
    // The units an analyst hands over to, picked by name: the towns of the
    // analyst's scope.
    let units: Vec<q::filters::TownsRow> = if pick { rows(&*context(&state, &session).await?, &[]).await? } else { Vec::new() };
    let value = |name: &str| filters.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
    let (head, table) = listing.split_once(TABLE_FOLLOWS).unwrap_or((&listing, ""));
    let (head, table) = (PreEscaped(head.to_string()), PreEscaped(table.to_string()));
    let body = html! {
        @if let Some(unit) = &own_unit {
            p.note { "本单位(" (unit) ")收到的线索。逐条在线答复,或下载交办单(XLSX)填写黄色列后上传。" }
            (unit_files(&session.csrf, unit))
        }
        @if let (Some(n), Some(to), Some(due)) = (q.handed, q.to.as_deref().filter(|t| t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit())), q.due.as_deref().filter(|d| date(d, "时限").is_ok())) {
            p.notice { "已将 " strong { (n) } " 条线索交办给 " strong { (unit_name(&units, to)) } ",核查时限 " (layout::readable("时限", due)) "。" }
        }
        @if let Some(n) = q.closed { p.notice { "已销号 " strong { (n) } " 条线索(均已整改且经数据核验通过)。" } }
        (head)
        @if pick {
            form.assign method="post" action="/cases/assign" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="back" value=(query_string);
                fieldset.bulk {
                    legend { "批量交办(勾选下方待交办的线索,表头方框全选)" }
                    (unit_picker(&units))
                    label { "核查时限" input type="date" name="due" required; }
                    button type="submit" { "交办" }
                    " "
                    button.secondary type="submit" formaction="/cases/close" formnovalidate { "批量销号(仅已整改且数据核验通过)" }
                    span.picked { }
                }
                (table)
            }
            @if let Some(unit) = value("unit") {
                p.downloads { "承办单位 " (unit) ":"
                    a href=(format!("/cases/handover.xlsx?unit={unit}")) { "交办单(XLSX,含完整身份信息,记入审计)" } " · "
                    a href=(format!("/cases/letter/jiaoban.docx?unit={unit}")) { "交办单(Word)" } " · "
                    a href=(format!("/cases/letter/duban.docx?unit={unit}")) { "督办函(Word)" } }
            }
            (upload_form(&session.csrf))
        } @else {
            (table)
        }
        @if role >= Role::Leader { p.downloads { a href="/cases/letter/report.docx" { "下载线索处置情况报告(Word)" } } }
    };
    Ok(layout::page(&session, "/cases", "线索处置", body))
}

/// Where the cached listing's filter bar ends and its table begins (the
/// table goes inside the hand-over form, the filter bar, a form of its
/// own, before it).
const TABLE_FOLLOWS: &str = "<!--xuncha:table-->";

/// The filter bar, the count and the table of the queue under `filters`.
async fn listing(ctx: &SessionContext, filters: &[(&'static str, String)], unit_user: bool, pick: bool) -> Result<Markup, AppError> {
    let value = |name: &str| filters.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str());
    let params: Vec<Param> = ["state", "rule", "town", "unit", "deadline", "flag", "stage"].iter().map(|k| (*k, text(value(k)))).collect();
    let failed = || AppError::internal("查询出错");
    let stages: Vec<q::cases::StagesRow> = rows(ctx, &[]).await.map_err(failed())?;
    if let Some(stage) = value("stage")
        && !stages.iter().any(|s| s.stage == stage)
    {
        let known: Vec<&str> = stages.iter().map(|s| s.stage.as_str()).collect();
        return Err(AppError::bad_request("参数有误", format!("环节「{}」应为 {}", xuncha_core::values::excerpt(stage, 20), known.join("、"))));
    }
    let rules: Vec<q::cases::RulesRow> = rows(ctx, &[]).await.map_err(failed())?;
    let towns: Vec<q::filters::TownsRow> = rows(ctx, &[]).await.map_err(failed())?;
    let table = xuncha_queries::report::document(ctx, q::cases::QUEUE, &params).await.map_err(failed())?;
    let total = table.index("符合条件").and_then(|i| table.rows.first().map(|r| r[i].clone())).unwrap_or_else(|| "0".into());
    let selected = |name: &str, v: &str| value(name) == Some(v);
    Ok(html! {
        form.filters method="get" action="/cases" {
            label { "状态" select name="state" { option value="" { "全部" } @for s in CaseState::ALL { option value=(s.label()) selected[selected("state", s.label())] { (s.label()) } } } }
            label { "规则" select name="rule" { option value="" { "全部" } @for r in &rules { option value=(r.rule_id) selected[selected("rule", &r.rule_id)] { (r.title) } } } }
            @if !unit_user {
                label { "乡镇" select name="town" { option value="" { "全部" } @for t in &towns { option value=(t.town_code) selected[selected("town", &t.town_code)] { (t.town_name) } } } }
                label { "承办单位代码" input name="unit" value=(value("unit").unwrap_or("")) pattern="[0-9]{12}" size="14"; }
            }
            label { "时限" select name="deadline" { option value="" { "全部" } @for d in DEADLINES { option value=(d) selected[selected("deadline", d)] { (d) } } } }
            label { "数据核验" select name="flag" { option value="" { "全部" } @for f in FLAGS { option value=(f) selected[selected("flag", f)] { (f) } } } }
            @if let Some(stage) = value("stage") { input type="hidden" name="stage" value=(stage); span.chip { "环节:" (stage) } }
            button type="submit" { "筛选" }
            a href="/cases" { "清除" }
        }
        p { "符合条件的线索 " strong { (total) } " 条" @if total.parse::<usize>().unwrap_or(0) > table.rows.len() { "(显示前 " (table.rows.len()) " 条)" } "。" }
        (PreEscaped(TABLE_FOLLOWS))
        (queue_table(&table, pick))
    })
}

/// The queue's table; `pick` adds a check box to each case awaiting hand-over.
fn queue_table(table: &TextTable, pick: bool) -> Markup {
    let shown: Vec<usize> = (0..table.columns.len()).filter(|&i| !["符合条件", "case_id"].contains(&table.columns[i].as_str())).collect();
    let (state_at, id_at, number_at, flag_at) = (table.index("状态"), table.index("case_id"), table.index("线索编号"), table.index("数据核验"));
    // A box for a case the office may hand over, or close with others (数据核验通过).
    let pickable = |row: &[String]| {
        let state = state_at.and_then(|s| CaseState::parse(&row[s]).ok());
        state.is_some_and(|s| s.actions(Party::Office).contains(&Action::Assign) || xuncha_cases::closable_in_bulk(s, flag_at.map_or("", |f| row[f].as_str())))
    };
    html! {
        div.tablewrap { table.queue {
            thead { tr { @if pick { th { input type="checkbox" .select-all aria-label="全选本页可交办的线索" title="全选"; } } @for &i in &shown { th { (layout::header_words(&table.columns[i])) } } } }
            tbody {
                @for row in &table.rows {
                    @let late = row.iter().any(|c| c == "逾期");
                    @let id = id_at.map_or("", |i| row[i].as_str());
                    @let number = number_at.map_or(id, |i| row[i].as_str());
                    tr class=[late.then_some("late")] {
                        @if pick { td { @if pickable(row) { input type="checkbox" name="ids" value=(id) aria-label=(format!("选择 {number}")); } } }
                        @for &i in &shown {
                            td { @if Some(i) == number_at { a href=(format!("/case/{}", urlencode(id))) { (number) } } @else { (layout::readable(&table.columns[i], &crate::mask::mask_text(&row[i]))) } }
                        }
                    }
                }
                @if table.rows.is_empty() { tr { td.empty colspan=(shown.len() + usize::from(pick)) { "(暂无线索)" } } }
            }
        } }
    }
}

/// `POST /cases/close`: close the checked cases the data confirmed, all or none.
pub(crate) async fn close(State(state): State<Arc<AppState>>, posted: Posted<Analyst, Fields>) -> Result<Response, AppError> {
    let (session, form) = (&posted.session, &posted.form);
    let ids = form.all("ids");
    if ids.is_empty() {
        return Err(AppError::bad_request("未销号", "请先勾选要销号的线索(已整改且数据核验通过)。"));
    }
    state.audit.record(&session.user.name, "case_close", &format!("批量销号 {} 条:{}", ids.len(), ids.join(","))).map_err(AppError::internal("审计日志写入失败,未销号"))?;
    xuncha_cases::close_confirmed(&state.lake, &actor(session), &ids, "数据核验通过,批量销号").await?;
    Ok(Redirect::to(&format!("/cases?state=%E5%B7%B2%E9%94%80%E5%8F%B7&closed={}", ids.len())).into_response())
}

/// A unit's name from the directory (its code when not there).
fn unit_name(units: &[q::filters::TownsRow], code: &str) -> String {
    units.iter().find(|u| u.town_code == code).map_or_else(|| xuncha_core::values::excerpt(code, 12), |u| u.town_name.clone())
}

/// A unit's downloads.
fn unit_files(csrf: &str, unit: &str) -> Markup {
    html! {
        p.downloads {
            a href=(format!("/cases/handover.xlsx?unit={unit}")) { "下载交办单(XLSX,填写后上传)" } " · "
            a href=(format!("/cases/letter/jiaoban.docx?unit={unit}")) { "交办单(Word,打印用)" } " · "
            a href=(format!("/cases/letter/duban.docx?unit={unit}")) { "督办函(Word)" }
        }
        (upload_form(csrf))
    }
}

/// The 交办单 upload form.
fn upload_form(csrf: &str) -> Markup {
    html! {
        form.upload method="post" action="/cases/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label { "上传填写好的交办单(XLSX 文件,不超过 " (super::files::MAX_UPLOAD_MB) " MB)" input type="file" name="file" accept=".xlsx" required; }
            button type="submit" { "上传并导入" }
        }
    }
}

/// `POST /cases/assign`: hand the checked cases to a unit, all or none.
pub(crate) async fn assign(State(state): State<Arc<AppState>>, posted: Posted<Analyst, Fields>) -> Result<Response, AppError> {
    let (session, form) = (&posted.session, &posted.form);
    let ids = form.all("ids");
    if ids.is_empty() {
        return Err(AppError::bad_request("未交办", "请先勾选要交办的线索。"));
    }
    let unit = code(form.get("unit"), "承办单位")?.ok_or_else(|| AppError::bad_request("未交办", "请填写承办单位代码。"))?;
    let due = due_date(form.get("due"), "核查时限", today(&state))?;
    state.audit.record(&session.user.name, "case_assign", &format!("{} 条 → {unit},时限 {due}:{}", ids.len(), ids.join(","))).map_err(AppError::internal("审计日志写入失败,未交办"))?;
    xuncha_cases::apply(&state.lake, &actor(session), &ids, &Change::Assign { unit: unit.clone(), due }, None).await?;
    // Back to the queue as it was filtered (only its own filters, re-encoded).
    let keys = ["state", "rule", "town", "unit", "deadline", "flag", "stage"];
    let back: Vec<String> = url::form_urlencoded::parse(form.get("back").as_bytes()).filter(|(k, _)| keys.contains(&k.as_ref())).map(|(k, v)| format!("{k}={}", urlencode(&v))).collect();
    let notice = format!("handed={}&to={unit}&due={due}", ids.len());
    Ok(Redirect::to(&format!("/cases?{}", back.into_iter().chain([notice]).collect::<Vec<_>>().join("&"))).into_response())
}
