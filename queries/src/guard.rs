//! Analysts' SQL, read-only: one statement, planned with `SQLOptions` that
//! allow no DDL, no DML (so no `INSERT`, `COPY`, `SELECT INTO`), no
//! statements (`SET`, `PREPARE`, transactions), and no URL tables (the
//! session does not enable them); executed under the session's memory pool
//! and a time limit.

use crate::QueryError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::prelude::SessionContext;
use std::time::Duration;

/// The options that make SQL read-only.
pub fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// Plans and runs one read-only query, cancelled after `timeout`.
pub async fn query(ctx: &SessionContext, sql: &str, timeout: Duration) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        return Err(QueryError::Usage("查询为空".into()));
    }
    let frame = ctx.sql_with_options(trimmed, read_only()).await.map_err(refusal)?;
    let schema = frame.schema().inner().clone();
    match tokio::time::timeout(timeout, frame.collect()).await {
        Ok(result) => Ok((schema, result?)),
        Err(_) => Err(QueryError::Timeout(timeout.as_secs())),
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
