//! The one error type of the HTTP handlers: a status, a Chinese title and
//! message, rendered as an error page. Handlers return
//! `Result<Response, AppError>` and say what failed with `?`.

use crate::layout::bare;
use axum::http::StatusCode;
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

    /// 500 with the cause, e.g. `.map_err(AppError::internal("导出失败"))`.
    pub(crate) fn internal<E: Display>(title: &'static str) -> impl FnOnce(E) -> AppError {
        move |e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, title, e.to_string())
    }

    /// The unknown-path page.
    pub(crate) fn no_such_page() -> AppError {
        AppError::not_found("页面不存在", "请从导航栏进入各页面。")
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let AppError { status, title, message } = self;
        (status, bare(title, html! { h1 { (title) } p.error { (message) } p { a href="/" { "返回首页" } } })).into_response()
    }
}
