//! The SQL console, for analysts: the same read-only guard as `xuncha sql`,
//! the user's scope, a time limit, a row and byte cap, at most a few
//! queries at once; every query audited before it runs.
//!
//! Identity in bulk: the console shows ID numbers, names, accounts and
//! birth dates masked, as every page does. A user granted bulk identity
//! (`xuncha user set NAME --bulk-identity true`) gets them in full, up to
//! `[server] bulk_identity_daily_rows` rows a day; each such result is
//! audited with its count, and past the cap results are masked again.

use crate::auth::{Analyst, Authorized, CsrfToken, Posted};
use crate::error::AppError;
use crate::layout;
use crate::mask;
use crate::state::{AppState, LoginSession, Purpose};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use xuncha_queries::output::{self, Format};
use xuncha_queries::report::q;
use xuncha_queries::table::TextTable;
use xuncha_queries::{catalog, guard};

/// `GET /sql`: the console with the table list.
pub(crate) async fn sql_page(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Analyst>) -> Response {
    let body = console_body(&state, &session, None, html! {}).await;
    layout::page(&session, "/sql", "SQL 控制台(只读)", body)
}

/// The console: the statement (or the example of `queries/reports/console.sql`), a result, the tables.
async fn console_body(state: &AppState, session: &LoginSession, sql: Option<&str>, result: Markup) -> Markup {
    let tables = match state.context(session.user.scope.as_deref()).await {
        Ok(ctx) => catalog::tables(&ctx).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let sql = sql.map_or_else(|| xuncha_queries::report::document_query(q::console::EXAMPLE, &[]).map(|q| q.sql).unwrap_or_default(), String::from);
    html! {
        form method="post" action="/sql" {
            input type="hidden" name="csrf" value=(session.csrf);
            textarea.sql name="sql" spellcheck="false" { (sql) }
            p {
                button type="submit" name="format" value="html" { "执行" } " "
                button type="submit" name="format" value="csv" { "下载 CSV" } " "
                button type="submit" name="format" value="parquet" { "下载 Parquet" }
                span.note { " 只读;最多显示 " (state.limits.max_rows) " 行;超过 " (state.limits.query_timeout.as_secs()) " 秒自动取消。每次查询都记入审计日志。" }
                span.note {
                    @if session.user.bulk_identity { " 您可查看完整身份信息,每日最多 " (state.limits.bulk_identity_daily_rows) " 行。" }
                    @else { " 身份证号、姓名、账号、出生日期均已脱敏。" }
                }
            }
        }
        (result)
        h2 { "表与视图" }
        table { thead { tr { th { "名称" } th { "说明" } } } tbody { @for (name, title) in &tables { tr { td { code { (name) } } td { (title) } } } } }
        p.note { "函数:id_valid、id_birth_date、id_gender、id_region、age_on、norm_name、mask_id、mask_name、month_start、month_end。" }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SqlForm {
    csrf: String,
    sql: String,
    format: Option<String>,
}

impl CsrfToken for SqlForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /sql`: runs one read-only query; audited before it runs.
pub(crate) async fn sql_run(State(state): State<Arc<AppState>>, posted: Posted<Analyst, SqlForm>) -> Result<Response, AppError> {
    let Posted { session, form, .. } = posted;
    let format = form.format.as_deref().unwrap_or("html");
    state.audit.record(&session.user.name, "sql", &format!("[{format}] {}", form.sql.trim())).map_err(AppError::internal("审计日志写入失败,未执行"))?;
    let Ok(_slot) = tokio::time::timeout(Duration::from_secs(5), state.console.acquire()).await else {
        return Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, "查询繁忙", "同时运行的查询已达上限,请稍后再试。"));
    };
    let result = async {
        let ctx = state.context_for(session.user.scope.as_deref(), Purpose::Console).await?;
        let limits = guard::QueryLimits { timeout: state.limits.query_timeout, max_rows: Some(state.limits.max_rows), max_bytes: Some(state.limits.max_result_bytes) };
        let answer = guard::query(&ctx, &form.sql, &limits).await?;
        identity_policy(&state, &session, answer)
    }
    .await;
    let ((schema, batches), policy_note) = match result {
        Ok(r) => r,
        Err(e) => {
            let message = e.to_string();
            let body = console_body(&state, &session, Some(&form.sql), html! { p.error role="alert" { (message.lines().next().unwrap_or_default()) } }).await;
            return Ok((StatusCode::BAD_REQUEST, layout::page(&session, "/sql", "SQL 控制台(只读)", body)).into_response());
        }
    };
    match format {
        "csv" | "parquet" => {
            let (fmt, mime, ext) = if format == "csv" { (Format::Csv, "text/csv; charset=utf-8", "csv") } else { (Format::Parquet, "application/vnd.apache.parquet", "parquet") };
            let mut bytes = Vec::new();
            output::write(fmt, &schema, &batches, &mut bytes).map_err(AppError::internal("导出失败"))?;
            Ok(([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"xuncha-query.{ext}\""))], bytes).into_response())
        }
        _ => {
            let table = TextTable::from_batches(&schema, &batches).map_err(AppError::internal("结果无法显示"))?;
            let note = format!("{} 行{}{policy_note}", table.rows.len(), if table.rows.len() >= state.limits.max_rows { "(已截断)" } else { "" });
            let body = console_body(&state, &session, Some(&form.sql), html! { p.note { (note) } (layout::table(&table, &[], false, None, None)) }).await;
            Ok(layout::page(&session, "/sql", "SQL 控制台(只读)", body))
        }
    }
}

/// Masks a console result — by each column's lineage, whatever its name —
/// unless the user may see identities in bulk and has enough left today
/// (each identity shown counts, also those joined into one cell); the note
/// says which happened.
fn identity_policy(state: &AppState, session: &LoginSession, answer: guard::Answer) -> Result<((SchemaRef, Vec<RecordBatch>), String), crate::DashboardError> {
    let arrow = |e: datafusion::arrow::error::ArrowError| crate::DashboardError::Usage(e.to_string());
    let guard::Answer { schema, batches, lineage } = answer;
    if session.user.bulk_identity {
        let shown = mask::identities_shown(&schema, &batches, &lineage).map_err(arrow)?;
        let today = chrono::Local::now().date_naive();
        let mut taken = state.identity_rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        taken.retain(|(_, day), _| *day == today);
        let used = taken.entry((session.user.name.clone(), today)).or_insert(0);
        if shown == 0 {
            return Ok(((schema, batches), String::new()));
        }
        if *used + shown <= state.limits.bulk_identity_daily_rows {
            *used += shown;
            let left = state.limits.bulk_identity_daily_rows - *used;
            drop(taken);
            state.audit.record(&session.user.name, "sql_identity", &format!("{shown} 项完整身份信息;今日余 {left} 项"))?;
            return Ok(((schema, batches), format!(";含完整身份信息 {shown} 项(已记入审计,今日还可查看 {left} 项)")));
        }
        let masked = mask::by_lineage(&schema, &batches, &lineage).map_err(arrow)?;
        return Ok((masked, format!(";今日完整身份信息额度({} 项)不足,本次结果已脱敏", state.limits.bulk_identity_daily_rows)));
    }
    Ok((mask::by_lineage(&schema, &batches, &lineage).map_err(arrow)?, String::new()))
}
