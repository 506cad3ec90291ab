//! xuncha's case layer (线索处置): a rule's findings about one subject
//! become a case that is handed to a unit (交办), verified (核查), rectified
//! (整改) and closed (销号), with clues handed on (线索移交) and money
//! recovered (追缴) or back-paid (补发) — and closed or reopened by the
//! data itself after every run (数据核验通过, 整改不实, 反弹).
//!
//! The history is the append-only lake table `case_events`; `cases` is the
//! view of each case as it stands. Data flows one way: a run's findings
//! (queries) → [`sync`] → cases; people's changes → [`apply`]. The dashboard
//! and the command line only show and call this crate.

mod history;
mod roundtrip;
mod state;
mod store;
mod sync;

pub use history::verify_history;
pub use roundtrip::{Imported, TO_FILL, export, export_bytes, handover, import, import_bytes};
pub use state::{Action, Answer, Change, Party, State, TRANSFER_OUTCOMES, Verdict};
pub use store::{Actor, Current, DATA_CONFIRMED, Event, apply, apply_changes, closable_in_bulk, close_confirmed, is_case_id, select, visible_case};
pub use sync::{SYSTEM_USER, Synced, sync};

/// Everything that can go wrong with cases.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Query(#[from] xuncha_queries::QueryError),
    #[error(transparent)]
    Core(#[from] xuncha_core::CoreError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("读写文件出错: {0}")]
    Io(#[from] std::io::Error),
    /// No such case, or one outside the user's scope (the same answer).
    #[error("没有线索「{0}」(或不在您的范围内)")]
    NotFound(String),
    /// The case is not where the change expects it.
    #[error("冲突:{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<datafusion::error::DataFusionError> for CaseError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        CaseError::Query(e.into())
    }
}

/// Runs the rules, then folds their findings into cases: what `xuncha run`,
/// the demo and the scheduler's run jobs do.
pub async fn run_and_sync(lake: &xuncha_core::lake::Lake, options: &xuncha_queries::run::RunOptions) -> Result<(xuncha_queries::run::RunReport, Synced), CaseError> {
    let report = xuncha_queries::run::run(lake, options).await?;
    let rules = xuncha_queries::rules::catalogue(options.rules_dir.as_deref())?;
    let synced = sync(lake, &report, &rules, &options.session.case_number_prefix).await?;
    Ok((report, synced))
}
