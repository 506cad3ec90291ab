//! The lake: a folder of Delta tables, one per source, plus `quarantine`,
//! `ingest_batches` and the tables `xuncha run` writes.
//!
//! # How a delivered file is committed
//! ```text
//!  read + type the file ──► Parquet data files under <table>/, one per
//!                           core, each a contiguous range of the sorted
//!                           rows (invisible: no log entry names them yet)
//!                      ──► <table>/_delta_log/000…N.json   ← one atomic put-if-absent:
//!                           add actions + txn{appId = "<source>:<sha256>"}
//!  the same for quarantine (its own txn), then ingest_batches (its own txn)
//! ```
//! A reader sees a file's rows all at once or not at all. Each table's commit
//! carries the file's application transaction, so a re-run after a crash
//! (or a re-delivery of the same bytes) finds it done and writes nothing
//! twice: exactly once per table per file. Orphan Parquet files left by a
//! killed writer are never referenced and are cleaned by `VACUUM`.

use crate::PipelineError;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::operations::write::configs::WriterStatsConfig;
use deltalake::protocol::DeltaOperation;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::Transaction;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use std::path::{Path, PathBuf};
use url::Url;

/// A run of record batches produced as they are written.
pub type BatchRun = Box<dyn Iterator<Item = Result<RecordBatch, PipelineError>> + Send>;

/// A lake folder.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl From<DeltaTableError> for PipelineError {
    fn from(e: DeltaTableError) -> Self {
        PipelineError::Lake(e.to_string())
    }
}

impl Lake {
    /// Opens (creating if needed) the lake at `root`.
    pub fn open(root: &Path) -> Result<Lake, PipelineError> {
        std::fs::create_dir_all(root)?;
        Ok(Lake { root: root.canonicalize()? })
    }

    /// The lake folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of table `name`.
    pub fn url(&self, name: &str) -> Result<Url, PipelineError> {
        let dir = self.root.join(name);
        Url::from_directory_path(&dir).map_err(|()| PipelineError::Lake(format!("not a usable path: {}", dir.display())))
    }

    /// Names of the Delta tables present.
    pub fn tables(&self) -> Result<Vec<String>, PipelineError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.path().join("_delta_log").is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Table `name` at its latest version, or `None` if it does not exist yet.
    pub async fn table(&self, name: &str) -> Result<Option<DeltaTable>, PipelineError> {
        if !self.root.join(name).join("_delta_log").is_dir() {
            return Ok(None);
        }
        Ok(Some(deltalake::open_table(self.url(name)?).await?))
    }

    /// Whether `table` already holds the commit tagged `app_id`.
    pub async fn has_transaction(table: Option<&DeltaTable>, app_id: &str) -> Result<bool, PipelineError> {
        let Some(table) = table else { return Ok(false) };
        let state = table.snapshot()?;
        Ok(state.transaction_version(table.log_store().as_ref(), app_id).await?.is_some())
    }

    /// Appends `batches` to table `name` (creating it with `schema`) in one
    /// commit, tagged with `app_id` when given.
    pub async fn append(&self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>, app_id: Option<&str>, bloom: &[&str]) -> Result<DeltaTable, PipelineError> {
        std::fs::create_dir_all(self.root.join(name))?;
        let table = DeltaTable::try_from_url(self.url(name)?).await?;
        let batches = if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches };
        let mut commit = CommitProperties::default();
        if let Some(app_id) = app_id {
            commit = commit.with_application_transaction(Transaction::new(app_id, 1));
        }
        Ok(table
            .write(batches)
            .with_save_mode(SaveMode::Append)
            .with_table_name(name)
            .with_writer_properties(writer_properties(bloom))
            .with_commit_properties(commit)
            .await?)
    }

    /// Appends rows arriving as `parts` (each a run of batches, such as one
    /// contiguous range of a sorted file) in one commit tagged with `app_id`:
    /// each part is written to its own Parquet file on its own core, so a
    /// sorted file keeps disjoint key ranges per data file.
    pub async fn append_parts(&self, name: &str, schema: SchemaRef, parts: Vec<BatchRun>, app_id: &str, bloom: &[&str]) -> Result<DeltaTable, PipelineError> {
        let table = match self.table(name).await? {
            Some(table) => table,
            // A new table: its first commit (schema only) comes before the data's.
            None => self.append(name, schema.clone(), Vec::new(), None, bloom).await?,
        };
        let state = table.snapshot()?;
        let stats = WriterStatsConfig::from_config(state.snapshot().table_configuration());
        let config = WriterConfig::new(schema, Vec::new(), Some(writer_properties(bloom)), None, None, stats.num_indexed_cols, stats.stats_columns);
        let store = table.log_store().object_store(None);
        let runtime = tokio::runtime::Handle::current();
        let writers: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let (store, config, runtime) = (store.clone(), config.clone(), runtime.clone());
                // Encoding Parquet is CPU work: on a blocking thread, not a runtime worker.
                tokio::task::spawn_blocking(move || {
                    runtime.block_on(async move {
                        let mut writer = DeltaWriter::new(store, config);
                        for batch in part {
                            writer.write(&batch?).await?;
                        }
                        Ok::<_, PipelineError>(writer.close().await?)
                    })
                })
            })
            .collect();
        let mut actions = Vec::new();
        for writer in writers {
            let adds = writer.await.map_err(|e| PipelineError::Lake(format!("Parquet writer failed: {e}")))??;
            actions.extend(adds.into_iter().map(Action::Add));
        }
        let operation = DeltaOperation::Write { mode: SaveMode::Append, partition_by: None, predicate: None };
        CommitBuilder::from(CommitProperties::default().with_application_transaction(Transaction::new(app_id, 1)))
            .with_actions(actions)
            .build(Some(state), table.log_store(), operation)
            .await?;
        self.table(name).await?.ok_or_else(|| PipelineError::Lake(format!("table {name} vanished after its commit")))
    }

    /// Replaces the rows of `table` whose key matches a row of `batches` and
    /// inserts the rest, in one commit tagged with `app_id`.
    pub async fn upsert(&self, table: DeltaTable, batches: Vec<RecordBatch>, key: &[&str], columns: &[String], app_id: &str, bloom: &[&str]) -> Result<DeltaTable, PipelineError> {
        let ctx = SessionContext::new();
        let source = ctx.read_batches(batches).map_err(|e| PipelineError::Lake(e.to_string()))?;
        let predicate = key.iter().map(|k| format!("target.\"{k}\" = source.\"{k}\"")).collect::<Vec<_>>().join(" AND ");
        let (table, _metrics) = table
            .merge(source, predicate)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_writer_properties(writer_properties(bloom))
            .with_commit_properties(CommitProperties::default().with_application_transaction(Transaction::new(app_id, 1)))
            .when_matched_update(|u| columns.iter().fold(u, |u, c| u.update(format!("\"{c}\""), format!("source.\"{c}\""))))?
            .when_not_matched_insert(|i| columns.iter().fold(i, |i, c| i.set(format!("\"{c}\""), format!("source.\"{c}\""))))?
            .await?;
        Ok(table)
    }
}

/// Parquet as the rules read it: zstd, page statistics, bloom filters on the
/// join columns.
fn writer_properties(bloom: &[&str]) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("zstd level")))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(256 * 1024));
    for column in bloom {
        builder = builder.set_column_bloom_filter_enabled(ColumnPath::from(*column), true);
    }
    builder.build()
}
