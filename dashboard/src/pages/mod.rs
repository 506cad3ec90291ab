//! The leadership pages. A page is declared in `site::PAGES` (its name,
//! the lowest role that sees it, what it shows above its panels); its panels —
//! each one SQL query shown as key figures, a chart and/or a table, with a
//! CSV export of exactly what it shows (masked as shown, and audited) — are
//! `queries/panels/<name>.sql`, which also gives the page's title and, by
//! the placeholders it uses, the filters of its filter bar.

mod common;
mod filters;
mod panel;
mod risk;

pub(crate) use common::report_download;

use crate::auth::Auth;
use crate::error::AppError;
use crate::layout;
use crate::site::{Head, PAGES, Page};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use datafusion::prelude::SessionContext;
use filters::RawFilters;
use maud::{PreEscaped, html};
use std::sync::Arc;
use xuncha_queries::panels;
use xuncha_queries::table::TextTable;

/// The page `name` if the user's role sees it.
fn find(name: &str, auth: &Auth) -> Result<&'static Page, AppError> {
    match PAGES.iter().find(|p| p.name == name) {
        Some(page) if auth.0.user.role >= page.role => Ok(page),
        Some(page) => Err(AppError::role_required(page.role)),
        None => Err(AppError::no_such_page()),
    }
}

/// `/`: the overview; a unit's own cases.
pub(crate) async fn home(auth: Auth) -> Redirect {
    Redirect::to(if auth.0.user.role == crate::users::Role::Unit { "/cases" } else { "/p/overview" })
}

/// Unknown paths.
pub(crate) async fn not_found() -> AppError {
    AppError::no_such_page()
}

/// `/p/{page}`: a page with its filters and panels.
pub(crate) async fn page(State(state): State<Arc<AppState>>, auth: Auth, Path(name): Path<String>, Query(raw): Query<RawFilters>) -> Result<Response, AppError> {
    let page = find(&name, &auth)?;
    let session = &auth.0;
    let scope = session.user.scope.as_deref();
    let filters = raw.check(scope)?;
    let key = format!("{name}?{}", raw.query_string());
    let fingerprint = state.fingerprint()?;
    let body = match state.cached_page(scope, &key, &fingerprint) {
        Some(body) => body,
        None => {
            let ctx = state.context(scope).await?;
            state.cache_page(scope, &key, fingerprint, page_body(&state, &ctx, page, &raw, &filters).await)
        }
    };
    Ok(layout::page(session, &format!("/p/{name}"), &page.sheet().title, PreEscaped(body.to_string())))
}

/// A page's content below the frame: the same for every user of a scope
/// until the lake changes, so it is cached (see `AppState::cached_page`).
async fn page_body(state: &AppState, ctx: &SessionContext, page: &Page, raw: &RawFilters, filters: &panels::Filters) -> String {
    let sheet = page.sheet();
    let mut body = vec![filters::form(sheet, raw, ctx).await];
    match page.head {
        Head::Plan => body.push(risk::plan_section(state, ctx).await),
        Head::ReportLinks => body.push(common::report_links()),
        Head::Nothing => {}
    }
    let qs = raw.query_string();
    let mut panels = Vec::new();
    for p in sheet.shown(filters) {
        let table = match p.bind(filters) {
            // A panel over data the user's scope does not cover (the raw rows
            // of the quarantine) is left out.
            Ok(query) if query.tables_missing(ctx).is_ok_and(|m| !m.is_empty()) => continue,
            Ok(query) => TextTable::run(ctx, &query).await,
            Err(e) => Err(e),
        };
        match table {
            Ok(table) => panels.push(panel::render(p, &table, &format!("/export/{}/{}?{qs}", page.name, p.id), state.lake.keys())),
            Err(e) => {
                let incident = crate::error::incident("panel", &e);
                panels.push(html! { section.panel { h2 { (p.title) } p.error { "这一栏暂时无法显示(事件编号 " (incident) "),请联系管理员。" } } })
            }
        }
    }
    html! { @for b in &body { (b) } div.panels { @for p in &panels { (p) } } }.into_string()
}

/// `/export/{page}/{panel}`: a panel's rows as CSV, masked as on screen; audited.
pub(crate) async fn export(State(state): State<Arc<AppState>>, auth: Auth, Path((name, id)): Path<(String, String)>, Query(raw): Query<RawFilters>) -> Result<Response, AppError> {
    let page = find(&name, &auth)?;
    let session = &auth.0;
    let filters = raw.check(session.user.scope.as_deref())?;
    let panel = page.sheet().panel(&id, &filters).ok_or_else(AppError::no_such_page)?;
    let ctx = state.context(session.user.scope.as_deref()).await?;
    let query = panel.bind(&filters).map_err(AppError::internal("导出失败"))?;
    if query.tables_missing(&ctx).is_ok_and(|m| !m.is_empty()) {
        return Err(AppError::no_such_page());
    }
    let table = TextTable::run(&ctx, &query).await.map_err(AppError::internal("导出失败"))?;
    state.audit.record(&session.user.name, "export", &format!("{name}/{id}?{} ({} 行)", raw.query_string(), table.rows.len())).map_err(AppError::internal("审计日志写入失败,未导出"))?;
    let file = format!("attachment; filename=\"xuncha-{name}-{id}.csv\"");
    let bytes = layout::masked_csv(&table).map_err(AppError::internal("导出失败"))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file)], bytes).into_response())
}
