//! xuncha's pipeline: department files in, lake tables out. Reading each
//! delivered file (CSV in any encoding, XLSX, JSON Lines), typing its values
//! by the contract, quarantining what does not fit, and committing each file
//! exactly once (`xuncha ingest`); and the scheduler's inbox hand-over:
//! when a file is complete, and where it goes after (`xuncha schedule`).
//!
//! Data flows one way: inbox → pipeline → lake → queries. The contract, the
//! value rules and the lake handle are `xuncha_core`'s.

pub mod ingest;
pub mod schedule;

/// Everything that can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Core(#[from] xuncha_core::CoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    #[error("configuration error: {0}")]
    Config(String),
    /// A delivered file that cannot be read as its source (rejected whole).
    #[error("{0}")]
    Unreadable(String),
    #[error("lake error: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
    #[error("query error: {0}")]
    DataFusion(#[from] deltalake::datafusion::error::DataFusionError),
    #[error("Arrow error: {0}")]
    Arrow(#[from] deltalake::arrow::error::ArrowError),
    /// A worker thread of the ingest stopped (panicked or was cancelled).
    #[error("ingest worker stopped: {0}")]
    Worker(String),
}
