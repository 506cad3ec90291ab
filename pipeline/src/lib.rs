//! xuncha's pipeline: the data contract as data, typing of department
//! values, ingest of an inbox into the Delta lake (`xuncha ingest`), and the
//! synthetic inbox generator (`xuncha gen`), and the scheduler's timing and
//! inbox hand-over (`xuncha schedule`).
//!
//! Data flows one way: inbox → pipeline → lake → queries.

pub mod config;
pub mod contract;
pub mod ingest;
pub mod lake;
pub mod schedule;
pub mod synth;
pub mod values;

/// Everything that can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
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
    Lake(String),
}
