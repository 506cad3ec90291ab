//! Stopping an analyst's query that was cancelled (time limit, memory cap,
//! the page closed). Aborting its task stops it only where it yields, and
//! one call of a regular expression over a batch of long texts can run for
//! minutes without yielding: the query runtime's workers stayed busy after
//! the time limit, and the next analyst's query waited behind them.
//!
//! So each query carries a [`Cancel`] flag in its session's configuration,
//! set when the query is given up, and the functions whose work grows with
//! their input (the regular-expression family, `levenshtein`, `replace`,
//! `translate`, `strpos`) run over a batch in chunks of [`CHUNK_ROWS`] rows,
//! looking at the flag between chunks: a cancelled query stops within one
//! chunk's work. (The flag must be in the configuration the plan is made
//! with: `SessionState::mark_start_execution` after setting it.)

use crate::wrapped::{self, Around};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::config::{ConfigEntry, ConfigExtension, ConfigOptions, ExtensionOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use datafusion::prelude::SessionContext;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows a chunked function handles between two looks at the flag.
pub const CHUNK_ROWS: usize = 256;

/// The functions run in chunks.
const CHUNKED: &[&str] = &["regexp_like", "regexp_match", "regexp_replace", "regexp_count", "regexp_instr", "levenshtein", "replace", "translate", "strpos", "split_part"];

/// One query's cancellation flag (shared by every copy of its configuration).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Gives the query up: its chunked functions stop at their next chunk.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// The flag of the query running with `config`, if it has one.
    pub fn of(config: &ConfigOptions) -> Option<&Cancel> {
        config.extensions.get::<Cancel>()
    }
}

impl ExtensionOptions for Cancel {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    /// A copy shares the flag: the configuration is copied into the
    /// query's plan, and the flag must reach it there.
    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }
    fn set(&mut self, key: &str, _value: &str) -> Result<()> {
        Err(DataFusionError::Configuration(format!("{key} cannot be set")))
    }
    fn entries(&self) -> Vec<ConfigEntry> {
        Vec::new()
    }
}

impl ConfigExtension for Cancel {
    const PREFIX: &'static str = "xuncha_cancel";
}

/// Runs a function in chunks of rows, stopping when its query is cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Chunks;

/// Replaces the functions of [`CHUNKED`] in `ctx` with chunked ones.
pub fn register(ctx: &SessionContext) {
    for name in CHUNKED {
        wrapped::replace(ctx, name, Chunks, None);
    }
}

fn cancelled() -> DataFusionError {
    DataFusionError::Execution("查询已取消".into())
}

impl Around for Chunks {
    fn call(&self, inner: &ScalarUDF, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let flag = Cancel::of(&args.config_options).cloned();
        if flag.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(cancelled());
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        if flag.is_none() || all_scalar || args.number_rows <= CHUNK_ROWS {
            return inner.invoke_with_args(args);
        }
        let mut parts: Vec<ArrayRef> = Vec::new();
        let mut offset = 0;
        while offset < args.number_rows {
            if flag.as_ref().is_some_and(Cancel::is_cancelled) {
                return Err(cancelled());
            }
            let rows = CHUNK_ROWS.min(args.number_rows - offset);
            let chunk = ScalarFunctionArgs {
                args: args
                    .args
                    .iter()
                    .map(|a| match a {
                        ColumnarValue::Array(array) => ColumnarValue::Array(array.slice(offset, rows)),
                        scalar => scalar.clone(),
                    })
                    .collect(),
                arg_fields: args.arg_fields.clone(),
                number_rows: rows,
                return_field: args.return_field.clone(),
                config_options: args.config_options.clone(),
            };
            parts.push(inner.invoke_with_args(chunk)?.into_array(rows)?);
            offset += rows;
        }
        let refs: Vec<&dyn datafusion::arrow::array::Array> = parts.iter().map(|p| p.as_ref()).collect();
        Ok(ColumnarValue::Array(datafusion::arrow::compute::concat(&refs)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunked_functions_agree_and_stop_when_cancelled() {
        let ctx = SessionContext::new();
        register(&ctx);
        let sql = "SELECT sum(CASE WHEN regexp_like(s, '[02468]$') THEN 1 ELSE 0 END) AS even, max(regexp_replace(s, '1', 'one')) AS m, sum(strpos(s, '9')) AS p \
                   FROM (SELECT CAST(value AS VARCHAR) AS s FROM generate_series(1, 10000))";
        let plain = SessionContext::new().sql(sql).await.unwrap().collect().await.unwrap();
        // With a flag not set: the same answer, chunk by chunk.
        let mut state = ctx.state();
        state.config_mut().options_mut().extensions.insert(Cancel::new());
        state.mark_start_execution();
        let chunked = state.create_logical_plan(sql).await.unwrap();
        let answer = datafusion::prelude::DataFrame::new(state.clone(), chunked).collect().await.unwrap();
        assert_eq!(datafusion::arrow::util::pretty::pretty_format_batches(&plain).unwrap().to_string(), datafusion::arrow::util::pretty::pretty_format_batches(&answer).unwrap().to_string());
        // Cancelled: the next chunk stops it.
        let flag = Cancel::new();
        flag.cancel();
        state.config_mut().options_mut().extensions.insert(flag);
        state.mark_start_execution();
        let plan = state.create_logical_plan(sql).await.unwrap();
        let error = datafusion::prelude::DataFrame::new(state, plan).collect().await.unwrap_err().to_string();
        assert!(error.contains("查询已取消"), "{error}");
    }
}
