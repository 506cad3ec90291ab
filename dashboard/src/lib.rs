//! `xuncha serve`: the dashboard leaders read and analysts work in.
//!
//! Server-rendered zh-CN pages (maud) with plotters SVG charts and every
//! asset compiled into the binary; login with argon2id passwords, roles
//! (承办单位 / 领导 / 分析员 / 管理员) and per-user scopes; the case
//! workbench (线索处置) from hand-over to closing; masking of ID numbers,
//! names, accounts and birth dates; a hash-chained, anchored audit log of
//! logins, queries, exports, evidence views and reveals. Pages read the
//! lake through the query layer only.
//!
//! Every response carries a content security policy (nothing from another
//! origin, no framing), `nosniff`, `no-referrer` and, unless it is an
//! asset, `Cache-Control: no-store`. Connections that do not finish their
//! request headers within [`HEADER_READ_TIMEOUT`] are closed.

mod admin;
mod auth;
pub mod charts;
mod console;
mod error;
mod finding;
mod layout;
mod mask;
mod pages;
pub mod report;
mod secret;
mod site;
mod state;
mod throttle;
pub mod users;
mod workbench;

pub use state::{AppState, Limits};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use xuncha_core::config::{EngineConfig, ServerConfig};

/// Everything that can go wrong in the dashboard.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Query(#[from] xuncha_queries::QueryError),
    #[error(transparent)]
    Core(#[from] xuncha_core::CoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

impl From<datafusion::error::DataFusionError> for DashboardError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        DashboardError::Query(e.into())
    }
}

/// The largest request body (a form), and the SQL console's.
const MAX_BODY: usize = 64 * 1024;
const MAX_CONSOLE_BODY: usize = 256 * 1024;

/// A connection must have sent its request headers within this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the pages may load: their own stylesheet and images, inline SVG
/// styles; no scripts from anywhere else, no plugins, no framing.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    let (request_timeout, body_read) = (state.limits.request_timeout, state.limits.body_read);
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/p/{page}", get(pages::page))
        .route("/export/{page}/{panel}", get(pages::export))
        .route("/finding/{run_id}/{rule_id}/{entity_key}", get(finding::finding))
        .route("/reveal", post(finding::reveal))
        .route("/report/common-issues.{ext}", get(pages::report_download))
        .route("/cases", get(workbench::queue))
        .route("/cases/assign", post(workbench::assign))
        .route("/cases/close", post(workbench::close))
        .route("/cases/upload", post(workbench::upload).layer(DefaultBodyLimit::max(workbench::MAX_UPLOAD_BODY)))
        .route("/cases/handover.xlsx", get(workbench::handover_xlsx))
        .route("/cases/letter/{kind}", get(workbench::letter))
        .route("/case/{id}", get(workbench::case_page).post(workbench::act))
        // A statement may be 64 KiB, three times that once form-encoded.
        .route("/sql", get(console::sql_page).post(console::sql_run).layer(DefaultBodyLimit::max(MAX_CONSOLE_BODY)))
        .route("/admin/audit", get(admin::audit_page))
        .route("/admin/users", get(admin::users_page))
        .route("/assets/app.css", get(layout::stylesheet))
        .route("/assets/app.js", get(layout::script))
        .route("/assets/icon.svg", get(layout::icon))
        .route("/favicon.ico", get(layout::icon))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(body_read, read_body_in_time))
        .layer(axum::middleware::map_response(error::rejection_in_chinese))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::custom(error::panic_page))
        .layer(axum::middleware::from_fn(log_request))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")))
        .with_state(state)
}

/// Reads a request's whole body within `limit` (and at most the largest
/// body any route takes) before its handler runs: a client sending its
/// body a byte every few seconds is answered 408 and let go, where the
/// header timeout does not reach. The handler gets the body from memory.
async fn read_body_in_time(State(limit): State<Duration>, request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(limit, axum::body::to_bytes(body, workbench::MAX_UPLOAD_BODY.max(MAX_CONSOLE_BODY))).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return error::AppError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "请求无法处理", error::TOO_LARGE).into_response(),
        Err(_) => {
            tracing::warn!("request body not received in time");
            return error::AppError::new(axum::http::StatusCode::REQUEST_TIMEOUT, "请求超时", format!("{} 秒内没有收到完整的请求内容,已断开。请检查网络后重试。", limit.as_secs())).into_response();
        }
    };
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Logs every request once it is answered: method, route (the pattern,
/// `/case/{id}`, never the path with its values), status and milliseconds,
/// in a span that also carries the user once logged in (the `Auth`
/// extractor records it) and the incident number of an internal error.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use tracing::Instrument;
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("(无此路由)", |m| m.as_str()).to_string();
    let span = tracing::info_span!("request", method = %request.method(), route = %route, user = tracing::field::Empty, incident = tracing::field::Empty);
    let started = std::time::Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let (status, ms) = (response.status().as_u16(), u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    span.in_scope(|| match status {
        500.. => tracing::error!(status, ms, "request failed"),
        400.. => tracing::warn!(status, ms, "request refused"),
        _ => tracing::info!(status, ms, "request"),
    });
    response
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(state: Arc<AppState>, addr: SocketAddr) -> Result<(), DashboardError> {
    serve_until(state, addr, shutdown()).await
}

/// Serves until `stop` resolves, then lets open requests finish (up to the
/// request time limit).
///
/// The accept loop is hyper's own rather than `axum::serve`, which sets no
/// timer and so no header-read timeout: a client sending one header byte
/// every few seconds (slowloris) held its connection for as long as it liked.
pub async fn serve_until(state: Arc<AppState>, addr: SocketAddr, stop: impl Future<Output = ()> + Send + 'static) -> Result<(), DashboardError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| DashboardError::Usage(format!("无法监听 {addr}: {e}")))?;
    let drain = state.limits.request_timeout;
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a moment, keep serving.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                // Each request learns its client's address (login throttling, the audit).
                let service = TowerToHyperService::new(app.clone().layer(axum::Extension(auth::ClientAddr(peer.ip()))));
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut stop => break,
        }
    }
    let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// The limits of a server from the configuration.
pub fn limits(engine: &EngineConfig, server: &ServerConfig) -> Limits {
    let query_timeout = Duration::from_secs(engine.query_timeout_secs);
    Limits {
        query_timeout,
        request_timeout: query_timeout + Duration::from_secs(5),
        max_rows: server.max_rows.max(1),
        max_result_bytes: server.max_result_mb.max(1) << 20,
        session_ttl: Duration::from_secs(server.session_ttl_secs),
        session_max: Duration::from_secs(server.session_max_secs),
        console_slots: server.console_slots.max(1),
        secure_cookies: server.secure_cookies,
        trust_forwarded_proto: server.trust_forwarded_proto,
        bulk_identity_daily_rows: server.bulk_identity_daily_rows,
        body_read: Duration::from_secs(server.body_read_secs.max(1)),
    }
}
