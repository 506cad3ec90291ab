//! `xuncha serve`: the dashboard leaders read and analysts work in.
//!
//! Server-rendered zh-CN pages (maud) with plotters SVG charts and every
//! asset compiled into the binary; login with argon2id passwords, roles
//! (领导 / 分析员 / 管理员) and per-user scopes; masking of ID numbers and
//! names; a hash-chained audit log of logins, queries, exports and reveals.
//! Pages read the lake through the query layer only.

pub mod audit;
mod auth;
pub mod charts;
mod console;
pub mod jobs;
mod layout;
mod pages;
pub mod report;
mod state;
pub mod users;

pub use state::{AppState, Limits};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use xuncha_pipeline::config::{EngineConfig, ServerConfig};

/// Everything that can go wrong in the dashboard.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Query(#[from] xuncha_queries::QueryError),
    #[error(transparent)]
    Pipeline(#[from] xuncha_pipeline::PipelineError),
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

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    let request_timeout = state.limits.request_timeout;
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/p/{page}", get(pages::page))
        .route("/export/{page}/{panel}", get(pages::export))
        .route("/finding/{run_id}/{rule_id}/{entity_key}", get(pages::finding))
        .route("/reveal", post(console::reveal))
        .route("/report/common-issues.{ext}", get(pages::report_download))
        .route("/sql", get(console::sql_page).post(console::sql_run))
        .route("/admin/audit", get(console::audit_page))
        .route("/admin/users", get(console::users_page))
        .route("/assets/app.css", get(layout::stylesheet))
        .route("/assets/icon.svg", get(layout::icon))
        .route("/favicon.ico", get(layout::icon))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::custom(layout::panic_page))
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(state: Arc<AppState>, addr: SocketAddr) -> Result<(), DashboardError> {
    serve_until(state, addr, shutdown()).await
}

/// Serves until `stop` resolves.
pub async fn serve_until(state: Arc<AppState>, addr: SocketAddr, stop: impl Future<Output = ()> + Send + 'static) -> Result<(), DashboardError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| DashboardError::Usage(format!("无法监听 {addr}: {e}")))?;
    axum::serve(listener, router(state)).with_graceful_shutdown(stop).await?;
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
        session_ttl: Duration::from_secs(server.session_ttl_secs),
        console_slots: server.console_slots.max(1),
    }
}
