//! The one error type of the HTTP handlers: a status, a Chinese title and
//! message, rendered as an error page. Handlers return
//! `Result<Response, AppError>` and say what failed with `?`.

use crate::layout::bare;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use std::fmt::Display;

/// What a request ends with when it cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppError {
    pub(crate) status: StatusCode,
    pub(crate) title: &'static str,
    pub(crate) message: String,
}

impl AppError {
    pub(crate) fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> AppError {
        AppError { status, title, message: message.into() }
    }

    /// 404: no such page, finding or panel (or not in the user's scope).
    pub(crate) fn not_found(title: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, title, message)
    }

    /// 400: a filter or form value that does not parse.
    pub(crate) fn bad_request(title: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, title, message)
    }

    /// 403: a role too low, or a form without its CSRF token.
    pub(crate) fn forbidden(title: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, title, message)
    }

    /// 403 for a user whose role is below `role`.
    pub(crate) fn role_required(role: crate::users::Role) -> AppError {
        AppError::forbidden("无权访问", format!("此功能需要「{}」或更高角色。", role.label()))
    }

    /// 500, e.g. `.map_err(AppError::internal("导出失败"))`: the cause goes
    /// to the server's log under an incident number; the page shows the
    /// number, never the internal text (table names, Arrow errors).
    pub(crate) fn internal<E: Display>(title: &'static str) -> impl FnOnce(E) -> AppError {
        move |e| {
            let number = incident(title, &e);
            AppError::new(StatusCode::INTERNAL_SERVER_ERROR, title, format!("系统内部出错,未完成。事件编号 {number},请把它告诉管理员(服务器日志中有详情)。"))
        }
    }

    /// The unknown-path page.
    pub(crate) fn no_such_page() -> AppError {
        AppError::not_found("页面不存在", "请从导航栏进入各页面。")
    }
}

/// A query that failed: a 500 with an incident number.
impl From<xuncha_queries::QueryError> for AppError {
    fn from(e: xuncha_queries::QueryError) -> AppError {
        AppError::internal("查询出错")(e)
    }
}

/// The lake or a session that could not be opened: a 500 with an incident number.
impl From<crate::DashboardError> for AppError {
    fn from(e: crate::DashboardError) -> AppError {
        AppError::internal("无法读取数据湖")(e)
    }
}

/// A case engine error as the page the user gets: no such case (or not
/// the user's) 404, a conflict 409, a refused change 400, else a 500.
impl From<xuncha_cases::CaseError> for AppError {
    fn from(e: xuncha_cases::CaseError) -> AppError {
        use xuncha_cases::CaseError;
        match e {
            CaseError::NotFound(_) => AppError::not_found("没有这条线索", e.to_string()),
            CaseError::Conflict(_) => AppError::new(StatusCode::CONFLICT, "操作未执行", format!("{e}。请刷新页面查看最新状态后再操作。")),
            CaseError::Invalid(_) => AppError::bad_request("操作未执行", e.to_string()),
            other => AppError::internal("线索处理出错")(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let AppError { status, title, message } = self;
        (status, bare(title, html! { h1 { (title) } p.error { (message) } p { a href="/" { "返回首页" } } })).into_response()
    }
}

/// What a request larger than its route takes is told.
pub(crate) const TOO_LARGE: &str = "提交的内容超过上限(表单 64 KiB,SQL 控制台 256 KiB,交办单文件 5 MB),未处理。";

/// A request the extractors refused (too large, a form that does not parse)
/// answers in plain English text; it becomes a Chinese error page with the
/// same status.
pub(crate) async fn rejection_in_chinese(response: Response) -> Response {
    let plain = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    if !plain {
        return response;
    }
    let message = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => TOO_LARGE,
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "表单内容不完整或格式不对,请刷新页面后重试。",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "请求类型不对:请从页面上的表单提交。",
        StatusCode::METHOD_NOT_ALLOWED => "不支持这种请求方式。",
        _ => return response,
    };
    AppError::new(response.status(), "请求无法处理", message).into_response()
}

/// What a panic becomes: a 500 page with an incident number (the panic's
/// message logged under it), never a dropped connection.
pub(crate) fn panic_page(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied()).unwrap_or("(无消息)");
    AppError::internal::<&str>("服务器内部错误")(message).into_response()
}

/// Logs an internal error under a new incident number and returns the
/// number (what the user is shown).
pub(crate) fn incident(what: &str, cause: &dyn Display) -> String {
    let number = crate::secret::token()[..8].to_string();
    tracing::Span::current().record("incident", number.as_str());
    tracing::error!(incident = %number, what, cause = %xuncha_core::values::star_long_numbers(&cause.to_string()), "internal error");
    number
}
