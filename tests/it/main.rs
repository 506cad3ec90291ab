//! xuncha's integration tests, in one binary (linking is slow on 2 cores):
//! the real `xuncha` binary, real Delta tables, real DataFusion, real peers.

mod badinput;
mod browser;
mod cases;
mod common;
mod concurrency;
mod dashboard;
mod departments;
mod generator;
mod hostile;
mod ids;
mod ingest;
mod mappings;
mod panels;
mod report;
mod rule_fixtures;
mod rules;
mod schedule;
mod scores;
mod security;
mod structure;
mod workbench;
