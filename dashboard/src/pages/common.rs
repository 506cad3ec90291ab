//! The common-issues page's own parts: links to the thematic report, and
//! the report's download (built now for the user's scope; audited).

use crate::auth::{Authorized, Leader};
use crate::error::AppError;
use crate::report::{self, Format};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::sync::Arc;
use xuncha_queries::report::ReportOptions;

/// The download links above the panels.
pub(super) fn report_links() -> Markup {
    html! { p { "专题报告:" a href="/report/common-issues.html" download { "下载 HTML" } " · " a href="/report/common-issues.docx" download { "下载 Word" } } }
}

/// `/report/common-issues.{html,docx}`: the thematic report of the user's
/// scope, built now; audited.
pub(crate) async fn report_download(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Leader>, Path(ext): Path<String>) -> Result<Response, AppError> {
    let session = &session;
    let (format, mime) = match ext.as_str() {
        "html" => (Format::Html, "text/html; charset=utf-8"),
        "docx" => (Format::Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        _ => return Err(AppError::no_such_page()),
    };
    let ctx = state.context(session.user.scope.as_deref()).await.map_err(AppError::internal("报告生成失败"))?;
    let built = xuncha_queries::report::build(&ctx, &ReportOptions::default(), &state.report).await.map_err(AppError::internal("报告生成失败"))?;
    let bytes = report::bytes(&built, format).map_err(AppError::internal("报告生成失败"))?;
    state.audit.record(&session.user.name, "report", &format!("common-issues.{ext}")).map_err(AppError::internal("审计日志写入失败,未下载"))?;
    let file = format!("attachment; filename=\"common-issues.{ext}\"");
    Ok(([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, file)], bytes).into_response())
}
