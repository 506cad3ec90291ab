//! Analysts' SQL, read-only: one statement, planned with `SQLOptions` that
//! allow no DDL, no DML (so no `INSERT`, `COPY`, `SELECT INTO`), no
//! statements (`SET`, `PREPARE`, transactions), and no URL tables (the
//! session does not enable them); executed under the session's memory pool,
//! a time limit and a cap on the process's own memory.
//!
//! No query text can end the process. A statement is at most
//! [`MAX_SQL_BYTES`]; expressions and subqueries nested deeper than
//! [`MAX_NESTING`] and plans deeper than [`MAX_PLAN_DEPTH`] are refused
//! before they reach the recursive parts of the planner and the executor
//! (`SELECT 1-1-1-…` with ten thousand terms once overflowed a worker's
//! stack and aborted the server). Parsing, planning and running all happen
//! on a runtime of their own ([`query_runtime`], large stacks), inside the
//! time limit, and are aborted when it passes or the caller goes away: an
//! analyst's heavy query competes with the pages for the CPU like any other
//! thread, but never holds the workers that answer them. Recursive CTEs are off (a recursive query
//! can double a string until the process dies), functions that build values
//! are bounded (`bounded`), and with a byte cap the result stops growing
//! past it.
//!
//! The pool governs what DataFusion's operators account for, but not every
//! byte is accounted (DataFusion 55: one `GROUP BY` of a million groups with
//! both `count(DISTINCT …)` and `string_agg` grew past 24 GiB under a 4 GiB
//! pool). So a query is also cancelled when the process's resident memory
//! grows by more than twice the pool while it runs (Linux: `/proc/self/status`),
//! with a clear message instead of the machine killing the dashboard.

use crate::QueryError;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::memory_pool::MemoryLimit;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, Query, Select, TableFactor, Visit, Visitor};
use datafusion::sql::sqlparser::parser::ParserError;
use futures::StreamExt;
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The longest statement accepted, in bytes.
pub const MAX_SQL_BYTES: usize = 64 * 1024;
/// The deepest nesting of expressions, subqueries and derived tables.
pub const MAX_NESTING: usize = 256;
/// The deepest physical plan (operators above operators).
pub const MAX_PLAN_DEPTH: usize = 128;
/// Tables (and derived tables) one statement may read, and SELECT blocks it
/// may hold: beyond them the optimizer can work for minutes before the time
/// limit is ever looked at (300 joins, 2,000 UNION ALL branches).
pub const MAX_TABLES: usize = 64;
pub const MAX_SELECTS: usize = 128;
/// The query workers' stack: deep enough for any statement within the
/// limits above (and for refusing those beyond them).
const QUERY_STACK: usize = 64 << 20;

/// The options that make SQL read-only.
pub fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// How much one query may take.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Planning and running together; cancelled after it.
    pub timeout: Duration,
    /// Only this many rows are produced (the rest is never computed).
    pub max_rows: Option<usize>,
    /// The result's size in memory; beyond it the query is stopped.
    pub max_bytes: Option<usize>,
}

/// A query's answer: its rows, and where each column comes from.
#[derive(Debug)]
pub struct Answer {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Each column's origin in the tables (see [`crate::lineage`]).
    pub lineage: Vec<crate::lineage::Lineage>,
}

/// Plans and runs one read-only query within `limits`.
pub async fn query(ctx: &SessionContext, sql: &str, limits: &QueryLimits) -> Result<Answer, QueryError> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        return Err(QueryError::Usage("查询为空".into()));
    }
    if trimmed.len() > MAX_SQL_BYTES {
        return Err(QueryError::Usage(format!("语句过长:{} 字节,上限 {} KiB", trimmed.len(), MAX_SQL_BYTES >> 10)));
    }
    let growth_cap = match ctx.runtime_env().memory_pool.memory_limit() {
        MemoryLimit::Finite(pool) => pool.saturating_mul(2),
        _ => usize::MAX,
    };
    let mut state = ctx.state();
    state.config_mut().options_mut().execution.enable_recursive_ctes = false;
    let cancel = crate::cancel::Cancel::new();
    state.config_mut().options_mut().extensions.insert(cancel.clone());
    state.mark_start_execution();
    let (sql, limits_copy, task_ctx) = (trimmed.to_string(), *limits, ctx.task_ctx());
    let mut running = AbortOnDrop(
        cancel,
        query_runtime().spawn(async move {
            let (plan, lineage) = plan_statement(&state, &sql, limits_copy.max_rows).await?;
            let schema = plan.schema();
            let batches = collect_yielding(plan, task_ctx, limits_copy.max_bytes).await?;
            Ok::<_, QueryError>(Answer { schema, batches, lineage })
        }),
    );
    tokio::select! {
        finished = tokio::time::timeout(limits.timeout, &mut running.1) => match finished {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(QueryError::Usage(format!("查询意外中断({e}),请简化语句后重试"))),
            Err(_) => Err(QueryError::Timeout(limits.timeout.as_secs())),
        },
        grown = memory_growth_beyond(growth_cap) => Err(QueryError::OutOfMemory { grown_mib: grown >> 20, cap_mib: growth_cap >> 20 }),
    }
}

/// The runtime analysts' queries run on: one worker per core, each with a
/// stack deep enough for any statement within the limits above.
pub fn query_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::runtime::Builder::new_multi_thread().worker_threads(cores).thread_name("xuncha-query").thread_stack_size(QUERY_STACK).enable_all().build().expect("the query runtime starts")
    })
}

/// A spawned query, cancelled and aborted when its caller stops waiting
/// (time limit, memory cap, a closed connection): its chunked functions
/// stop at their next chunk (see [`crate::cancel`]), its task where it yields.
struct AbortOnDrop<T>(crate::cancel::Cancel, tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.cancel();
        self.1.abort();
    }
}

async fn plan_statement(state: &SessionState, sql: &str, max_rows: Option<usize>) -> Result<(Arc<dyn ExecutionPlan>, Vec<crate::lineage::Lineage>), QueryError> {
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect).map_err(refusal)?;
    let shape = shape(&statement);
    if shape.deepest > MAX_NESTING {
        return Err(QueryError::Usage(format!("表达式或子查询嵌套过深(超过 {MAX_NESTING} 层),未执行;请拆分语句,或把长串运算改写为 IN 列表、CASE 或聚合")));
    }
    if shape.tables > MAX_TABLES || shape.selects > MAX_SELECTS {
        return Err(QueryError::Usage(format!("语句过大:读取 {} 个表、含 {} 个 SELECT(上限 {MAX_TABLES} 个表、{MAX_SELECTS} 个 SELECT),未执行;请拆分语句", shape.tables, shape.selects)));
    }
    let plan = state.statement_to_plan(statement).await.map_err(refusal)?;
    read_only().verify_plan(&plan).map_err(refusal)?;
    let lineage = crate::lineage::of(&plan);
    let plan = match (max_rows, &plan) {
        // EXPLAIN and DESCRIBE are planned only as the root of a plan.
        (None, _) | (_, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) | LogicalPlan::DescribeTable(_)) => plan,
        (Some(n), _) => LogicalPlanBuilder::from(plan).limit(0, Some(n))?.build()?,
    };
    let physical = state.create_physical_plan(&plan).await?;
    let depth = plan_depth(physical.as_ref());
    if depth > MAX_PLAN_DEPTH {
        return Err(QueryError::Usage(format!("查询计划层数 {depth} 超过上限 {MAX_PLAN_DEPTH}(连接或子查询过多),未执行;请拆分语句")));
    }
    Ok((physical, lineage))
}

/// How deeply a statement nests expressions, queries and derived tables,
/// and how many tables and SELECT blocks it holds (counting stops just past
/// the limits).
#[derive(Debug, Default)]
struct Shape {
    now: usize,
    deepest: usize,
    tables: usize,
    selects: usize,
}

impl Shape {
    fn past_limits(&self) -> bool {
        self.deepest > MAX_NESTING || self.tables > MAX_TABLES || self.selects > MAX_SELECTS
    }
    fn enter(&mut self) -> ControlFlow<()> {
        self.now += 1;
        self.deepest = self.deepest.max(self.now);
        if self.past_limits() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
    fn leave(&mut self) -> ControlFlow<()> {
        self.now -= 1;
        ControlFlow::Continue(())
    }
}

impl Visitor for Shape {
    type Break = ();
    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.enter()
    }
    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.leave()
    }
    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.enter()
    }
    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.leave()
    }
    fn pre_visit_select(&mut self, _: &Select) -> ControlFlow<()> {
        self.selects += 1;
        if self.past_limits() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
    fn pre_visit_table_factor(&mut self, _: &TableFactor) -> ControlFlow<()> {
        self.tables += 1;
        self.enter()
    }
    fn post_visit_table_factor(&mut self, _: &TableFactor) -> ControlFlow<()> {
        self.leave()
    }
}

fn shape(statement: &DfStatement) -> Shape {
    match statement {
        DfStatement::Statement(s) => {
            let mut shape = Shape::default();
            let _ = s.visit(&mut shape);
            shape
        }
        DfStatement::Explain(explain) => shape(&explain.statement),
        _ => Shape::default(),
    }
}

/// The number of operators on the longest path from the root to a leaf.
fn plan_depth(plan: &dyn ExecutionPlan) -> usize {
    1 + plan.children().iter().map(|c| plan_depth(c.as_ref())).max().unwrap_or(0)
}

/// The query's batches, yielding after each one: a plan whose stream is
/// always ready (a table function, a cross join of cached data) would
/// otherwise never let the time limit or the memory watch run.
async fn collect_yielding(plan: Arc<dyn ExecutionPlan>, task: Arc<TaskContext>, max_bytes: Option<usize>) -> Result<Vec<RecordBatch>, QueryError> {
    let mut stream = execute_stream(plan, task)?;
    let mut batches = Vec::new();
    let mut bytes = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        bytes += batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or_else(|_| c.get_array_memory_size())).sum::<usize>();
        if let Some(cap) = max_bytes
            && bytes > cap
        {
            return Err(QueryError::ResultTooLarge { cap_mib: cap >> 20 });
        }
        batches.push(batch);
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
    if (lower.contains("not supported") && (lower.contains("ddl") || lower.contains("dml") || lower.contains("statement"))) || lower.contains("unsupported sql statement") {
        QueryError::Refused(text.lines().next().unwrap_or_default().to_string())
    } else if lower.contains("only supports a single sql statement") || lower.contains("single statement") {
        QueryError::Refused("一次只能执行一条语句".into())
    } else if lower.contains("recursive ctes are not enabled") {
        QueryError::Refused("不支持递归查询(WITH RECURSIVE)".into())
    } else if let DataFusionError::NotImplemented(what) = &e {
        QueryError::Usage(format!("暂不支持:{what}"))
    } else {
        QueryError::DataFusion(e)
    }
}
