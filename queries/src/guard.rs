//! Analysts' SQL, read-only: one statement, planned with `SQLOptions` that
//! allow no DDL, no DML (so no `INSERT`, `COPY`, `SELECT INTO`), no
//! statements (`SET`, `PREPARE`, transactions), and no URL tables (the
//! session does not enable them); executed under the session's memory pool,
//! a time limit and a cap on the process's own memory.
//!
//! The pool governs what DataFusion's operators account for, but not every
//! byte is accounted (DataFusion 55: one `GROUP BY` of a million groups with
//! both `count(DISTINCT …)` and `string_agg` grew past 24 GiB under a 4 GiB
//! pool). So a query is also cancelled when the process's resident memory
//! grows by more than twice the pool while it runs (Linux: `/proc/self/status`),
//! with a clear message instead of the machine killing the dashboard.

use crate::QueryError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::memory_pool::MemoryLimit;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;
use std::time::Duration;

/// The options that make SQL read-only.
pub fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// Plans and runs one read-only query, cancelled after `timeout`; with
/// `max_rows`, only that many rows of the result are produced (the rest is
/// never computed or held).
pub async fn query(ctx: &SessionContext, sql: &str, timeout: Duration, max_rows: Option<usize>) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        return Err(QueryError::Usage("查询为空".into()));
    }
    let mut frame = ctx.sql_with_options(trimmed, read_only()).await.map_err(refusal)?;
    if max_rows.is_some() {
        frame = frame.limit(0, max_rows)?;
    }
    let schema = frame.schema().inner().clone();
    let growth_cap = match ctx.runtime_env().memory_pool.memory_limit() {
        MemoryLimit::Finite(pool) => pool.saturating_mul(2),
        _ => usize::MAX,
    };
    tokio::select! {
        finished = tokio::time::timeout(timeout, collect_yielding(frame)) => match finished {
            Ok(result) => Ok((schema, result?)),
            Err(_) => Err(QueryError::Timeout(timeout.as_secs())),
        },
        grown = memory_growth_beyond(growth_cap) => Err(QueryError::OutOfMemory { grown_mib: grown >> 20, cap_mib: growth_cap >> 20 }),
    }
}

/// The query's batches, yielding after each one: a plan whose stream is
/// always ready (a table function, a cross join of cached data) would
/// otherwise never let the time limit or the memory watch run.
async fn collect_yielding(frame: DataFrame) -> Result<Vec<RecordBatch>, DataFusionError> {
    let mut stream = frame.execute_stream().await?;
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        batches.push(batch?);
        tokio::task::yield_now().await;
    }
    Ok(batches)
}

/// The process's resident memory in bytes (`None` where `/proc` is not).
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: usize = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib << 10)
}

/// Resolves with the growth once the resident memory has grown by more
/// than `cap` bytes since the call; never where it cannot be read.
async fn memory_growth_beyond(cap: usize) -> usize {
    let Some(start) = resident_bytes() else { return std::future::pending().await };
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        let grown = resident_bytes().unwrap_or(start).saturating_sub(start);
        if grown > cap {
            return grown;
        }
    }
}

/// Turns DataFusion's "not allowed" planning errors into a refusal, and a
/// syntax error into one line that says where the statement is wrong.
fn refusal(e: DataFusionError) -> QueryError {
    if let DataFusionError::SQL(parser, _) = &e {
        let detail = match parser.as_ref() {
            ParserError::ParserError(s) | ParserError::TokenizerError(s) => s.clone(),
            ParserError::RecursionLimitExceeded => "嵌套过深".to_string(),
        };
        return QueryError::Usage(format!("SQL 语法错误:{detail}"));
    }
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("not supported") && (lower.contains("ddl") || lower.contains("dml") || lower.contains("statement")) {
        QueryError::Refused(text.lines().next().unwrap_or_default().to_string())
    } else if lower.contains("only supports a single sql statement") || lower.contains("single statement") {
        QueryError::Refused("一次只能执行一条语句".into())
    } else {
        QueryError::DataFusion(e)
    }
}
