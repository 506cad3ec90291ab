//! xuncha's query layer: a DataFusion session over the lake (every table by
//! name, UDFs, views, memory limits), the rule catalogue and the runner that
//! writes `findings` and `runs`, and the read-only guard for analysts' SQL.
//!
//! Data flows one way: the lake in, findings and answers out; the dashboard
//! and reports read only what this crate exposes.

pub mod bounded;
pub mod cancel;
pub mod catalog;
pub mod evidence;
pub mod guard;
pub mod lineage;
pub mod output;
pub mod panels;
pub mod plan;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
pub mod scores;
pub mod session;
pub mod sheet;
pub mod table;
pub mod udf;
mod wrapped;

/// Everything that can go wrong in the query layer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error(transparent)]
    Core(#[from] xuncha_core::CoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A `.sql` file — a rule, a panel or report sheet — written wrong: the
    /// file and what is wrong with it.
    #[error("SQL file error: {0}")]
    Authoring(String),
    /// A sheet has no block of that kind and name (a caller's slip).
    #[error("no {kind} 「{name}」 in {sheet}")]
    UnknownQuery { sheet: String, kind: String, name: String },
    /// A placeholder the caller gave no value for.
    #[error("{what}: unknown parameter ${name}")]
    UnknownParameter { what: String, name: String },
    /// A rule's result lacks a column the findings need.
    #[error("rule {rule} returns no column `{column}`")]
    RuleOutput { rule: String, column: String },
    /// The configured folder of extra rules cannot be listed.
    #[error("rule folder {dir}: {source}")]
    RuleFolder { dir: std::path::PathBuf, source: std::io::Error },
    #[error("evidence is not UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
    /// An analyst's statement that is not a read-only query.
    #[error("只允许只读查询(SELECT / WITH / EXPLAIN / DESCRIBE / SHOW):{0}")]
    Refused(String),
    #[error("查询超时:超过 {0} 秒未完成,已取消")]
    Timeout(u64),
    /// The process's memory grew past the cap while an analyst's query ran.
    #[error("内存不足:查询运行中进程内存增长 {grown_mib} MiB,超过上限 {cap_mib} MiB(内存池的两倍),已取消。请缩小范围(加 WHERE 条件、减少分组)后重试")]
    OutOfMemory { grown_mib: usize, cap_mib: usize },
    /// An analyst's result grew past the byte cap.
    #[error("结果过大:超过 {cap_mib} MiB,已停止。请只选需要的列、加 WHERE 条件或 LIMIT,或用命令行 xuncha sql --out 导出")]
    ResultTooLarge { cap_mib: usize },
    #[error("{0}")]
    Usage(String),
}

impl From<deltalake::DeltaTableError> for QueryError {
    fn from(e: deltalake::DeltaTableError) -> Self {
        QueryError::Core(e.into())
    }
}
