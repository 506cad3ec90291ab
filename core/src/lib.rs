//! xuncha's core: what every layer needs and nothing else — the data
//! contract as data (each source's columns, types, keys, Chinese headers and
//! aliases, its Arrow schema; the system tables' schemas), value rules (ID
//! numbers, names, months, money), the lake handle (open, commit, app
//! transactions, locks) and the configuration types.
//!
//! Data flows one way: inbox → pipeline → lake → queries → (dashboard |
//! reports | sql | cli); each of them reads the contract and the lake from here.

pub mod audit;
pub mod config;
pub mod contract;
pub mod declared;
pub mod keys;
pub mod lake;
pub mod mapping;
pub mod system;
pub mod values;
pub mod workbook;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("lake error: {0}")]
    Lake(String),
}
