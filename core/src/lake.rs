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
//!
//! The check "is this transaction in the table already?" and the commit
//! that adds it are two steps, so two ingests must not interleave them: an
//! ingest holds the lake's writer lock (`_xuncha/ingest.lock`, see
//! [`Lake::ingest_lock`]) from its first check to its last commit. The
//! lock is the operating system's (flock): a killed ingest releases it.

use crate::CoreError;
use crate::keys::KeyRing;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Add};
use deltalake::operations::write::SchemaMode;
use deltalake::operations::write::configs::WriterStatsConfig;
use deltalake::parquet::basic::{Compression, Encoding, ZstdLevel};
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::DeltaOperation;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use url::Url;

/// A run of record batches produced as they are written.
pub type BatchRun = Box<dyn Iterator<Item = Result<RecordBatch, CoreError>> + Send>;

/// Writes Parquet data files for one table, each run on its own thread, and
/// keeps their `add` actions for the one commit that makes them visible.
/// Used from blocking threads: ingest types a file on every core and writes
/// sorted runs as it goes, so a large file never sits in memory whole.
pub struct FileWriter {
    lake: Lake,
    name: String,
    schema: SchemaRef,
    runtime: tokio::runtime::Handle,
    /// The table's store and writer settings, once the first run opens it.
    open: Option<(deltalake::logstore::ObjectStoreRef, WriterConfig)>,
    added: Vec<Add>,
}

impl FileWriter {
    /// Writes each run to its own data file, in parallel; blocks until done.
    /// Call from a thread outside the async runtime (e.g. `spawn_blocking`).
    pub fn write_runs(&mut self, runs: Vec<BatchRun>) -> Result<(), CoreError> {
        if self.open.is_none() {
            // A new table gets its first commit (schema only) now.
            let table = self.runtime.block_on(async {
                match self.lake.table(&self.name).await? {
                    Some(table) => Ok::<_, CoreError>(table),
                    None => self.lake.append(&self.name, self.schema.clone(), Vec::new(), None).await,
                }
            })?;
            let stats = WriterStatsConfig::from_config(table.snapshot()?.snapshot().table_configuration());
            let config = WriterConfig::new(self.schema.clone(), Vec::new(), Some(writer_properties(&self.name)), None, None, stats.num_indexed_cols, stats.stats_columns);
            self.open = Some((table.log_store().object_store(None), config));
        }
        let (store, config) = self.open.as_ref().expect("opened above");
        let runtime = &self.runtime;
        let results: Vec<Result<Vec<Add>, CoreError>> = std::thread::scope(|scope| {
            let writers: Vec<_> = runs
                .into_iter()
                .map(|run| {
                    let (store, config) = (store.clone(), config.clone());
                    scope.spawn(move || {
                        runtime.block_on(async move {
                            let mut writer = DeltaWriter::new(store, config);
                            for batch in run {
                                writer.write(&batch?).await?;
                            }
                            Ok(writer.close().await?)
                        })
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err(CoreError::Lake("a Parquet writer thread panicked".into())))).collect()
        });
        for adds in results {
            self.added.extend(adds?);
        }
        Ok(())
    }
}

/// A lake folder, with the tables it has opened: asking for a table again
/// reads only the commits since (a file's ingest asks for each of its
/// tables several times, and each full open would replay the whole log).
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
    opened: Arc<Mutex<HashMap<String, DeltaTable>>>,
    keys: KeyRing,
}

impl From<DeltaTableError> for CoreError {
    fn from(e: DeltaTableError) -> Self {
        CoreError::Lake(e.to_string())
    }
}

/// One of the lake's writer locks (`_xuncha/<name>.lock`), held while a
/// writer checks and commits; released when dropped, or when the process dies.
#[derive(Debug)]
pub struct LakeLock {
    _file: std::fs::File,
}

impl Lake {
    /// Takes the lake's writer lock for an ingest, waiting (with a line on
    /// standard error) while another process or job holds it.
    pub async fn ingest_lock(&self) -> Result<LakeLock, CoreError> {
        self.lock("ingest", "另一个入库正在写入这个数据湖").await
    }

    /// Takes the writer lock `name`, waiting while another process holds
    /// it (saying so on standard error: `busy` and the lake).
    pub async fn lock(&self, name: &str, busy: &str) -> Result<LakeLock, CoreError> {
        let dir = self.root.join("_xuncha");
        std::fs::create_dir_all(&dir)?;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(format!("{name}.lock")))?;
        match file.try_lock() {
            Ok(()) => return Ok(LakeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => eprintln!("{busy}({}),等它完成后再继续…", self.root.display()),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file)).await.map_err(|e| CoreError::Lake(format!("waiting for a lake lock: {e}")))??;
        Ok(LakeLock { _file: locked })
    }

    /// Opens (creating if needed) the lake at `root`.
    pub fn open(root: &Path) -> Result<Lake, CoreError> {
        std::fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        Ok(Lake { keys: KeyRing::for_lake(&root, None), root, opened: Arc::default() })
    }

    /// The lake with its keys under `state` (`[server] audit_anchor_dir`)
    /// rather than the user's state folder.
    pub fn with_key_dir(mut self, state: Option<&Path>) -> Lake {
        self.keys = KeyRing::for_lake(&self.root, state);
        self
    }

    /// The office's secret keys for this lake (kept outside it).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The lake folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of table `name`.
    pub fn url(&self, name: &str) -> Result<Url, CoreError> {
        let dir = self.root.join(name);
        Url::from_directory_path(&dir).map_err(|()| CoreError::Lake(format!("not a usable path: {}", dir.display())))
    }

    /// Names of the Delta tables present.
    pub fn tables(&self) -> Result<Vec<String>, CoreError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            if has_commit(&entry.path()) {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Each table folder with the time of its log folder, which changes with
    /// every commit: equal fingerprints, equal lake. What the dashboard
    /// caches its sessions and pages by, checked on every request, so it
    /// costs one listing of the lake and one `stat` per table (the logs
    /// themselves are not listed; a log without a commit yet only makes the
    /// fingerprint change once more).
    pub fn fingerprint(&self) -> Result<Vec<(String, Option<std::time::SystemTime>)>, CoreError> {
        let mut tables = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            if let Ok(log) = std::fs::metadata(entry.path().join("_delta_log")) {
                tables.push((entry.file_name().to_string_lossy().into_owned(), log.modified().ok()));
            }
        }
        tables.sort();
        Ok(tables)
    }

    /// Table `name` at its latest version, or `None` if it does not exist
    /// yet (no folder, or a log without a commit: a writer killed while
    /// creating the table leaves only its temporary commit file).
    pub async fn table(&self, name: &str) -> Result<Option<DeltaTable>, CoreError> {
        if !has_commit(&self.root.join(name)) {
            return Ok(None);
        }
        let opened = self.opened.lock().expect("table cache lock").get(name).cloned();
        let table = match opened {
            Some(mut table) => {
                table.update_incremental(None).await?;
                table
            }
            None => deltalake::open_table(self.url(name)?).await?,
        };
        self.remember(name, &table);
        Ok(Some(table))
    }

    /// Keeps `table` (at its newest version seen) for the next [`Lake::table`].
    fn remember(&self, name: &str, table: &DeltaTable) {
        let mut opened = self.opened.lock().expect("table cache lock");
        let newer = opened.get(name).is_none_or(|known| known.version() <= table.version());
        if newer {
            opened.insert(name.to_string(), table.clone());
        }
    }

    /// Whether `table` already holds the commit tagged `app_id`.
    pub async fn has_transaction(table: Option<&DeltaTable>, app_id: &str) -> Result<bool, CoreError> {
        let Some(table) = table else { return Ok(false) };
        let state = table.snapshot()?;
        Ok(state.transaction_version(table.log_store().as_ref(), app_id).await?.is_some())
    }

    /// Appends `batches` to table `name` (creating it with `schema`) in one
    /// commit, tagged with `app_id` when given.
    pub async fn append(&self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>, app_id: Option<&str>) -> Result<DeltaTable, CoreError> {
        let table = match self.table(name).await? {
            Some(table) => table,
            None => {
                std::fs::create_dir_all(self.root.join(name))?;
                DeltaTable::try_from_url(self.url(name)?).await?
            }
        };
        let width = schema.fields().len();
        let batches = if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches };
        let mut commit = CommitProperties::default();
        if let Some(app_id) = app_id {
            commit = commit.with_application_transaction(Transaction::new(app_id, 1));
        }
        // A table written before a column was added to its schema gains it.
        let columns = table.snapshot().map(|s| s.schema().fields().count()).unwrap_or(usize::MAX);
        let gains_columns = columns < width;
        let mut write = table.write(batches);
        if gains_columns {
            write = write.with_schema_mode(SchemaMode::Merge);
        }
        let table = write
            .with_save_mode(SaveMode::Append)
            .with_table_name(name)
            .with_configuration(NEW_TABLE_PROPERTIES.iter().map(|(k, v)| (*k, Some(*v))))
            .with_writer_properties(writer_properties(name))
            .with_commit_properties(commit)
            .await?;
        self.remember(name, &table);
        Ok(table)
    }

    /// A writer of data files for table `name`, whose files stay invisible
    /// until [`Lake::commit_files`] or [`Lake::upsert_files`] names them in
    /// one commit. Call within the async runtime.
    pub fn file_writer(&self, name: &str, schema: SchemaRef) -> FileWriter {
        FileWriter { lake: self.clone(), name: name.to_string(), schema, runtime: tokio::runtime::Handle::current(), open: None, added: Vec::new() }
    }

    /// Commits the files `writer` wrote as one append tagged with `app_id`
    /// (for a file with no rows to load, an empty commit, creating the table
    /// if it is new).
    pub async fn commit_files(&self, writer: FileWriter, app_id: &str) -> Result<DeltaTable, CoreError> {
        let table = match self.table(&writer.name).await? {
            Some(table) if !writer.added.is_empty() => table,
            _ => return self.append(&writer.name, writer.schema.clone(), Vec::new(), Some(app_id)).await,
        };
        let operation = DeltaOperation::Write { mode: SaveMode::Append, partition_by: None, predicate: None };
        CommitBuilder::from(CommitProperties::default().with_application_transaction(Transaction::new(app_id, 1)))
            .with_actions(writer.added.into_iter().map(Action::Add).collect())
            .build(Some(table.snapshot()?), table.log_store(), operation)
            .await?;
        self.table(&writer.name).await?.ok_or_else(|| CoreError::Lake(format!("table {} vanished after its commit", writer.name)))
    }

    /// Rewrites the small data files of table `name` into few large ones
    /// (Delta OPTIMIZE: bin-packing, the same Parquet settings as ingest).
    /// Every delivered file adds its own small files, and every query pays a
    /// file open for each. The rows and their versions do not change; the
    /// old files stay for time travel. `None` when the table does not exist.
    pub async fn optimize(&self, name: &str) -> Result<Option<Compaction>, CoreError> {
        let Some(table) = self.table(name).await? else { return Ok(None) };
        let (table, metrics) = table.optimize().with_writer_properties(writer_properties(name)).await?;
        self.remember(name, &table);
        Ok(Some(Compaction { files_removed: metrics.num_files_removed, files_added: metrics.num_files_added }))
    }

    /// Deletes the data files of table `name` that no version younger than
    /// `retain` reads: files an optimize or an upsert replaced, and files no
    /// commit ever named (an upsert's source, a killed ingest's writes).
    /// Time travel to a version older than `retain` fails afterwards, and
    /// with a `retain` of zero the files of an ingest still running are
    /// deleted too. Returns the files deleted (in a dry run, those that
    /// would be), or `None` when the table does not exist.
    pub async fn vacuum(&self, name: &str, retain: chrono::Duration, dry_run: bool) -> Result<Option<Vec<String>>, CoreError> {
        let Some(table) = self.table(name).await? else { return Ok(None) };
        let vacuum = |table: DeltaTable, dry_run: bool| {
            table.vacuum().with_mode(deltalake::operations::vacuum::VacuumMode::Full).with_retention_period(retain).with_enforce_retention_duration(false).with_dry_run(dry_run)
        };
        // Delta names every file its log removed for as long as the log
        // remembers the removal, deleted already or not: only the files
        // still on disk are counted, and a vacuum with none runs no commit.
        let (table, planned) = vacuum(table, true).await?;
        let folder = self.root.join(name);
        let files: Vec<String> = planned.files_deleted.into_iter().filter(|f| folder.join(f).exists()).collect();
        let table = if dry_run || files.is_empty() { table } else { vacuum(table, false).await?.0 };
        self.remember(name, &table);
        Ok(Some(files))
    }

    /// The maintenance step of `xuncha optimize`, `xuncha vacuum` and the
    /// scheduler's maintain job: for each of `tables` (every table when
    /// none is named; every name checked before any table is touched),
    /// compacts its files when `compact`, then deletes the files no version
    /// younger than `vacuum.0` reads when `vacuum` is given (`vacuum.1`:
    /// only count them).
    pub async fn maintain(&self, tables: &[String], compact: bool, vacuum: Option<(chrono::Duration, bool)>) -> Result<Vec<Maintained>, CoreError> {
        let present = self.tables()?;
        if let Some(unknown) = tables.iter().find(|t| !present.contains(t)) {
            return Err(CoreError::Lake(format!("湖中没有表「{unknown}」(有: {})", present.join("、"))));
        }
        let vanished = |name: &str| CoreError::Lake(format!("表「{name}」在维护时已不存在"));
        let mut done = Vec::new();
        for name in if tables.is_empty() { present } else { tables.to_vec() } {
            let compaction = match compact {
                true => Some(self.optimize(&name).await?.ok_or_else(|| vanished(&name))?),
                false => None,
            };
            let deleted = match vacuum {
                Some((retain, dry_run)) => Some(self.vacuum(&name, retain, dry_run).await?.ok_or_else(|| vanished(&name))?),
                None => None,
            };
            done.push(Maintained { table: name, compaction, deleted });
        }
        Ok(done)
    }

    /// Replaces the rows of table `name` whose key matches a row of the
    /// files `writer` wrote (read back as the merge's source, then left
    /// unreferenced for `VACUUM`) and inserts the rest, in one commit tagged
    /// with `app_id`.
    pub async fn upsert_files(&self, writer: FileWriter, key: &[&str], columns: &[String], app_id: &str) -> Result<DeltaTable, CoreError> {
        let name = writer.name.as_str();
        let table = self.table(name).await?.ok_or_else(|| CoreError::Lake(format!("table {name} does not exist")))?;
        let ctx = SessionContext::new();
        let err = |e: deltalake::datafusion::error::DataFusionError| CoreError::Lake(e.to_string());
        let folder = self.root.join(name);
        let paths: Vec<String> = writer.added.iter().map(|add| folder.join(&add.path).to_string_lossy().into_owned()).collect();
        let source = ctx.read_parquet(paths, ParquetReadOptions::default()).await.map_err(err)?;
        let predicate = key.iter().map(|k| format!("target.\"{k}\" = source.\"{k}\"")).collect::<Vec<_>>().join(" AND ");
        let (table, _metrics) = table
            .merge(source, predicate)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_writer_properties(writer_properties(&writer.name))
            .with_commit_properties(CommitProperties::default().with_application_transaction(Transaction::new(app_id, 1)))
            .when_matched_update(|u| columns.iter().fold(u, |u, c| u.update(format!("\"{c}\""), format!("source.\"{c}\""))))?
            .when_not_matched_insert(|i| columns.iter().fold(i, |i, c| i.set(format!("\"{c}\""), format!("source.\"{c}\""))))?
            .await?;
        self.remember(name, &table);
        Ok(table)
    }
}

/// What [`Lake::maintain`] did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintained {
    pub table: String,
    pub compaction: Option<Compaction>,
    /// The files deleted (or, in a dry run, deletable).
    pub deleted: Option<Vec<String>>,
}

/// What [`Lake::optimize`] did to one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub files_removed: u64,
    pub files_added: u64,
}

/// Properties of every table the lake creates: a checkpoint every 20
/// commits, so that opening a table or checking a file's transaction reads
/// at most 20 small commit files after the checkpoint (Delta's default, 100,
/// made the per-file checks of a many-file delivery the bulk of its time).
const NEW_TABLE_PROPERTIES: &[(&str, &str)] = &[("delta.checkpointInterval", "20")];

/// Whether the table folder `dir` has a committed version: a log entry named
/// by its version number (`00000000000000000000.json`, or a checkpoint).
fn has_commit(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir.join("_delta_log")) else { return false };
    entries.filter_map(Result::ok).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.len() > 20 && name.as_bytes()[..20].iter().all(u8::is_ascii_digit) && (name.ends_with(".json") || name.ends_with(".parquet"))
    })
}

/// Parquet as the rules read it, the same for every write of a table
/// (ingest, merge, optimize, a run's findings): zstd, page statistics,
/// bloom filters on the join columns; for a source, no dictionary for its
/// columns of distinct values and no statistics where they prune nothing
/// (see [`crate::contract::Source::unordered_columns`]).
fn writer_properties(table: &str) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("zstd level")))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(256 * 1024));
    let source = crate::contract::source(table);
    let bloom = match table {
        "findings" => vec!["village_code", "id_number"],
        "risk_scores" => vec!["village_code"],
        _ => source.map(|s| s.bloom_columns()).unwrap_or_default(),
    };
    for column in bloom {
        builder = builder.set_column_bloom_filter_enabled(ColumnPath::from(column), true);
    }
    if let Some(source) = source {
        for column in source.unique_columns() {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), false);
        }
        // A file's row numbers, in the sort's order: runs of small steps,
        // a few bits each rather than eight bytes.
        builder = builder.set_column_encoding(ColumnPath::from("source_row"), Encoding::DELTA_BINARY_PACKED);
        for column in source.unordered_columns() {
            builder = builder.set_column_statistics_enabled(ColumnPath::from(column), EnabledStatistics::None);
        }
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::writer_properties;
    use deltalake::parquet::schema::types::ColumnPath;

    #[test]
    fn parquet_settings_follow_the_columns() {
        use deltalake::parquet::file::properties::EnabledStatistics;
        let path = |c: &str| ColumnPath::from(c);
        let payments = writer_properties("subsidy_payments");
        assert!(!payments.dictionary_enabled(&path("payment_id")) && !payments.dictionary_enabled(&path("source_row")));
        assert_eq!(payments.encoding(&path("source_row")), Some(deltalake::parquet::basic::Encoding::DELTA_BINARY_PACKED));
        assert!(payments.dictionary_enabled(&path("name")) && payments.bloom_filter_properties(&path("id_number")).is_some());
        // Statistics where min and max prune: not on the key of distinct
        // values nor on names; on the sort columns and the batch.
        for unordered in ["payment_id", "name", "department"] {
            assert_eq!(payments.statistics_enabled(&path(unordered)), EnabledStatistics::None, "{unordered}");
        }
        for ordered in ["village_code", "id_number", "period", "amount", "batch_id"] {
            assert_eq!(payments.statistics_enabled(&path(ordered)), EnabledStatistics::Page, "{ordered}");
        }
        // A key of two columns is not unique column by column.
        let attendance = writer_properties("attendance");
        assert!(attendance.dictionary_enabled(&path("job_id")) && !attendance.dictionary_enabled(&path("source_row")));
        // Tables of no source keep every dictionary and statistic; a run's
        // findings have their own bloom filters, kept by every rewrite.
        let findings = writer_properties("findings");
        assert!(findings.dictionary_enabled(&path("entity_key")) && findings.statistics_enabled(&path("person_name")) == EnabledStatistics::Page);
        assert!(findings.bloom_filter_properties(&path("id_number")).is_some() && writer_properties("risk_scores").bloom_filter_properties(&path("village_code")).is_some());
    }
}

#[cfg(test)]
mod maintenance_tests {
    use super::Lake;
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap()
    }

    #[tokio::test]
    async fn the_fingerprint_changes_with_each_commit_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path()).unwrap();
        assert!(lake.fingerprint().unwrap().is_empty());
        lake.append("t", batch().schema(), vec![batch()], None).await.unwrap();
        let first = lake.fingerprint().unwrap();
        assert_eq!(first.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["t"]);
        assert_eq!(lake.fingerprint().unwrap(), first, "reading changes nothing");
        std::thread::sleep(std::time::Duration::from_millis(20));
        lake.append("t", batch().schema(), vec![batch()], None).await.unwrap();
        assert_ne!(lake.fingerprint().unwrap(), first, "a commit changes it");
    }

    #[tokio::test]
    async fn maintain_checks_every_name_first_then_compacts_and_vacuums() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path()).unwrap();
        for _ in 0..3 {
            lake.append("t", batch().schema(), vec![batch()], None).await.unwrap();
        }
        let err = lake.maintain(&["t".into(), "nope".into()], true, None).await.unwrap_err().to_string();
        assert!(err.contains("湖中没有表「nope」"), "{err}");
        assert_eq!(lake.table("t").await.unwrap().unwrap().version(), Some(2), "nothing was touched");
        let done = lake.maintain(&[], true, Some((chrono::Duration::zero(), false))).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].compaction.unwrap().files_removed, 3);
        assert_eq!(done[0].deleted.as_ref().unwrap().len(), 3, "the three compacted files are deleted");
    }
}
