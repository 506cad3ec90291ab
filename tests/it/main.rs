//! xuncha's integration tests, in one binary (linking is slow on 2 cores):
//! the real `xuncha` binary, real Delta tables, real DataFusion, real peers.

mod badinput;
mod cases;
mod common;
mod concurrency;
mod departments;
mod generator;
mod hostile;
mod ingest;
mod mappings;
mod ids;
mod report;
mod panels;
mod rule_fixtures;
mod rules;
mod schedule;
mod scores;
mod structure;
mod security;
mod browser;
mod dashboard;
mod workbench;
