//! `xuncha ingest`: every file of an inbox's source folders, read, typed by
//! the contract and committed to the lake, with bad rows in `quarantine` and
//! one `ingest_batches` row per file.
//!
//! One ingest writes to a lake at a time (the lake's writer lock, held from
//! the first check to the last commit). Per file: hash it while it is read
//! (no row is written before the hash is known); if its rows and its
//! `ingest_batches` row hold its application transaction it was loaded
//! before: the reading stops and nothing changes. Otherwise find the
//! header (title rows above it skipped), refuse the whole file if a required
//! column is missing (naming the source it looks like, if another), type
//! each row, quarantine what cannot be typed and the second of two rows with
//! one key, then commit (see [`xuncha_core::lake`]): a plain append when no key is
//! already in the table, else a merge that replaces the earlier rows.
//!
//! The promise, file by file: rows read = rows loaded + rows quarantined;
//! a value is loaded exactly as the file says or held in quarantine with a
//! reason (an amount beyond Decimal(18,2) or its column's ceiling, a
//! formula without a result, a number that lost digits); a file that cannot
//! be read (see [`read`]) is rejected alone, recorded as rejected, and read
//! again when delivered again; an I/O error on a file rejects that file,
//! not the delivery; every message is bounded and names the row.

mod file;
mod header;
#[cfg(test)]
mod properties;
pub mod read;
mod records;
#[cfg(test)]
mod tests;
pub mod typing;
mod villages;

use crate::PipelineError;
use deltalake::DeltaTable;
use deltalake::arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use deltalake::datafusion::prelude::SessionContext;
pub use header::ColumnUse;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use xuncha_core::contract::Source;
use xuncha_core::lake::{FileWriter, Lake};
use xuncha_core::values;

/// What happened to one delivered file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// Typed and committed (or, in a dry run, would be).
    Loaded,
    /// The same bytes were loaded before: nothing changed.
    AlreadyIngested,
    /// The file could not be read as its source; nothing of it landed.
    Rejected(String),
    /// Not read, and why (a hidden file, a sub-folder, an Office lock file).
    Skipped(String),
}

/// The report line of one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub source: String,
    /// Path relative to the inbox (`subsidy_payments/x.csv`).
    pub file: String,
    pub format: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
    /// Blank, 合计 and signature rows, which are not data.
    pub rows_skipped: u64,
    pub outcome: FileOutcome,
    /// What a person should know about a loaded file (sheets not read).
    pub notes: Vec<String>,
    /// How each of the file's headers was read (a file read to its rows).
    pub columns: Vec<ColumnUse>,
    /// The file's quarantined rows by reason: what `xuncha check` shows.
    pub quarantine: Vec<QuarantineSummary>,
}

/// The quarantined rows of one kind (and column) of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineSummary {
    pub kind: &'static str,
    pub column: Option<&'static str>,
    pub rows: u64,
    /// Up to [`QuarantineSummary::EXAMPLES`] rows with different reasons
    /// (each value outside a list, say): (row, reason).
    pub examples: Vec<(u64, String)>,
}

impl QuarantineSummary {
    pub const EXAMPLES: usize = 8;
}

impl FileReport {
    /// The file's name as a report line shows it: bounded, with control
    /// characters (a line break in a name) escaped.
    pub fn shown_file(&self) -> String {
        values::excerpt(&self.file, 200)
    }
}

/// What a delivery came to, counted once for the command line and the scheduler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
    pub files_rejected: usize,
    /// Files loaded before (same content).
    pub files_already_loaded: usize,
    /// Files not read (hidden, locks, temporary, gone).
    pub files_unread: usize,
}

impl Tally {
    /// The counts of `reports`.
    pub fn of(reports: &[FileReport]) -> Tally {
        reports.iter().fold(Tally::default(), |mut t, r| {
            match &r.outcome {
                FileOutcome::Loaded => {
                    t.rows_loaded += r.rows_loaded;
                    t.rows_quarantined += r.rows_quarantined;
                }
                FileOutcome::AlreadyIngested => t.files_already_loaded += 1,
                FileOutcome::Rejected(_) => t.files_rejected += 1,
                FileOutcome::Skipped(_) => t.files_unread += 1,
            }
            t
        })
    }
}

/// Options of an ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Read and type everything, commit nothing.
    pub dry_run: bool,
    /// `[ingest]` of `xuncha.toml`.
    pub config: xuncha_core::config::IngestConfig,
}

/// Ingests every file under the inbox's source folders, in source order and
/// file-name order within a folder (a later file's key replaces an earlier
/// one's).
pub async fn ingest(lake: &Lake, inbox: &Path, options: &IngestOptions) -> Result<Vec<FileReport>, PipelineError> {
    if !inbox.is_dir() {
        return Err(PipelineError::Config(format!("收件箱 {} 不存在或不是文件夹", inbox.display())));
    }
    let mut reports = Vec::new();
    let sources = &options.config.sources;
    for entry in sorted_entries(inbox)? {
        if entry.is_dir() {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if sources.get(&name).is_none() && !name.starts_with('.') && !matches!(name.as_str(), "archive" | "rejected") {
                for file in delivered_files(&entry)? {
                    reports.push(rejected(&name, inbox, &file, format!("未知的数据源文件夹「{name}」(应为 {} 之一;新的数据来源请先在 xuncha.toml 的 [sources.{name}] 中声明)", sources.names())));
                }
            }
        }
    }
    let mut files = Vec::new();
    for source in sources.all() {
        let folder = inbox.join(source.name);
        if folder.is_dir() {
            files.extend(delivered_files(&folder)?);
            for (entry, why) in not_delivered(&folder)? {
                let mut report = rejected(source.name, inbox, &entry, String::new());
                report.outcome = FileOutcome::Skipped(why);
                reports.push(report);
            }
        }
    }
    reports.extend(ingest_files(lake, inbox, &files, options).await?);
    Ok(reports)
}

/// Ingests the given files of an inbox's source folders, in the order given
/// (the scheduler passes only the files that are complete).
pub async fn ingest_files(lake: &Lake, inbox: &Path, files: &[PathBuf], options: &IngestOptions) -> Result<Vec<FileReport>, PipelineError> {
    // One ingest writes to a lake at a time: each file's check that it was
    // not loaded before, and the keys it replaces, hold until its commits.
    let _writing = if options.dry_run || files.is_empty() { None } else { Some(lake.ingest_lock().await?) };
    let mut state = IngestState { lake, options, keys: HashMap::new(), villages: None };
    let mut reports = Vec::new();
    for file in files {
        let folder = file.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let started = std::time::Instant::now();
        let report = match options.config.sources.get(&folder) {
            Some(source) => state.file(source, inbox, file).await?,
            None => rejected(&folder, inbox, file, format!("文件不在数据源文件夹中(应放在 {} 之一)", options.config.sources.names())),
        };
        log_file(&report, started.elapsed(), options.dry_run);
        reports.push(report);
    }
    Ok(reports)
}

/// One log line per file read: its source, name (long digit runs
/// starred), outcome and counts. Never a value or a rejection's text, which
/// may quote one.
fn log_file(report: &FileReport, took: std::time::Duration, dry_run: bool) {
    let outcome = match &report.outcome {
        FileOutcome::Loaded => "loaded",
        FileOutcome::AlreadyIngested => "already_loaded",
        FileOutcome::Rejected(_) => "rejected",
        FileOutcome::Skipped(_) => "not_read",
    };
    let file = values::star_long_numbers(&report.shown_file());
    let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    let (read, loaded, quarantined) = (report.rows_read, report.rows_loaded, report.rows_quarantined);
    if matches!(report.outcome, FileOutcome::Rejected(_)) {
        tracing::warn!(source = %report.source, %file, outcome, dry_run, ms, "ingest file");
    } else {
        tracing::info!(source = %report.source, %file, outcome, rows_read = read, rows_loaded = loaded, rows_quarantined = quarantined, dry_run, ms, "ingest file");
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    Ok(entries)
}

/// The files a department delivered into a folder: not hidden, not Office
/// lock files, not markers or notes the scheduler writes.
pub fn delivered_files(folder: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    Ok(sorted_entries(folder)?.into_iter().filter(|p| p.is_file() && not_read(p).is_none() && !is_marker(p)).collect())
}

/// The entries of a source folder that are not read, and why, for the
/// report (markers the scheduler writes are left out).
fn not_delivered(folder: &Path) -> Result<Vec<(PathBuf, String)>, PipelineError> {
    Ok(sorted_entries(folder)?
        .into_iter()
        .filter(|p| !is_marker(p))
        .filter_map(|p| {
            let why = if p.is_dir() {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let folder = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                Some(format!("子文件夹中的文件不会读取;请把要入库的文件直接放在 {folder}/ 下(子文件夹「{}」)", values::excerpt(&name, 60)))
            } else {
                not_read(&p)
            };
            why.map(|why| (p, why))
        })
        .collect())
}

/// Why a delivered file is not read, if it is not.
fn not_read(path: &Path) -> Option<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.starts_with("~$") {
        Some("Excel/WPS 打开文件时留下的临时锁文件,不是数据,未读取".into())
    } else if name.starts_with('.') {
        Some("文件名以「.」开头,被视为隐藏文件,未读取;如需入库,请去掉文件名开头的「.」".into())
    } else if name.ends_with(".tmp") || name.ends_with(".part") {
        Some("文件名以 .tmp 或 .part 结尾,是尚未传完的临时文件,未读取".into())
    } else {
        None
    }
}

/// Whether a file is one the scheduler's hand-over writes beside the
/// deliveries (`x.csv.done`, `x.csv.reason.txt`).
fn is_marker(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.ends_with(".done") || name.ends_with(".reason.txt")
}

fn relative(inbox: &Path, file: &Path) -> String {
    file.strip_prefix(inbox).unwrap_or(file).to_string_lossy().replace('\\', "/")
}

fn rejected(source: &str, inbox: &Path, file: &Path, why: String) -> FileReport {
    FileReport {
        source: source.to_string(),
        file: relative(inbox, file),
        format: String::new(),
        rows_read: 0,
        rows_loaded: 0,
        rows_quarantined: 0,
        rows_skipped: 0,
        outcome: FileOutcome::Rejected(values::excerpt(&why, 2000)),
        notes: Vec::new(),
        columns: Vec::new(),
        quarantine: Vec::new(),
    }
}

/// The SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, PipelineError> {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

struct IngestState<'a> {
    lake: &'a Lake,
    options: &'a IngestOptions,
    /// Hashes of the keys already in each source table, loaded on first use.
    keys: HashMap<&'static str, file::KeySet>,
    /// The villages of `divisions` by name, loaded on first use and again
    /// after a `divisions` file is loaded.
    villages: Option<Arc<villages::Directory>>,
}

impl IngestState<'_> {
    /// The villages by name, for a file that may give them so.
    async fn villages(&mut self) -> Result<Arc<villages::Directory>, PipelineError> {
        if self.villages.is_none() {
            self.villages = Some(Arc::new(villages::Directory::load(self.lake.table("divisions").await?.as_ref()).await?));
        }
        Ok(self.villages.clone().expect("loaded above"))
    }

    async fn file(&mut self, source: &'static Source, inbox: &Path, path: &Path) -> Result<FileReport, PipelineError> {
        let started = chrono::Utc::now();
        let file = relative(inbox, path);
        let villages = if villages::village_column(source).is_some() { Some(self.villages().await?) } else { None };
        // The file is hashed and read at once: its rows wait for the hash
        // (their batch id comes from it) only when the first of them are
        // ready to be written, and stop if the same bytes were loaded before.
        let hashing = tokio::task::spawn_blocking({
            let path = path.to_path_buf();
            move || sha256_file(&path)
        });
        let (destination, rows_destination) = std::sync::mpsc::sync_channel(1);
        let typing = {
            let (path, file) = (path.to_path_buf(), file.clone());
            let ceilings = source.columns.iter().map(|c| self.options.config.money_ceiling(source.name, c.name).map(rust_decimal::Decimal::from)).collect();
            let config = self.options.config.clone();
            tokio::task::spawn_blocking(move || file::read_and_type(source, &config, villages, &path, file, ceilings, rows_destination))
        };
        let joined = |e: tokio::task::JoinError| PipelineError::Worker(e.to_string());
        let sha = match hashing.await.map_err(joined)? {
            Ok(sha) => sha,
            Err(e) => {
                drop(destination);
                typing.await.map_err(joined)?.ok();
                let mut report = rejected(source.name, inbox, path, format!("无法读取文件: {e}"));
                if matches!(&e, PipelineError::Io(io) if io.kind() == std::io::ErrorKind::NotFound) {
                    // Taken away meanwhile (another ingest's scheduler archived it).
                    report.outcome = FileOutcome::Skipped("文件在读取前已被移走(可能已被另一个入库或调度器归档),未读取".into());
                }
                return Ok(report);
            }
        };
        // A file's commits carry its application transaction: loaded when
        // both its rows and its ingest_batches row hold it. A rejection is
        // recorded under a transaction of its own, so that the same bytes
        // are read again (a mapping may have been added since).
        let app_id = format!("xuncha-ingest:{}:{sha}", source.name);
        // Per name too: the same bytes rejected under two names are two rows.
        let rejected_id = format!("xuncha-reject:{}:{sha}:{}", source.name, hex::encode(&Sha256::digest(file.as_bytes())[..8]));
        let batch_id = hex::encode(&Sha256::digest(app_id.as_bytes())[..8]);
        let batches_table = self.lake.table("ingest_batches").await?;
        let rows_done = Lake::has_transaction(self.lake.table(source.name).await?.as_ref(), &app_id).await?;
        if rows_done && Lake::has_transaction(batches_table.as_ref(), &app_id).await? {
            drop(destination);
            typing.await.map_err(joined)?.ok();
            let mut report = rejected(source.name, inbox, path, String::new());
            report.outcome = FileOutcome::AlreadyIngested;
            return Ok(report);
        }
        // Rows committed by an earlier, interrupted run are not written again.
        let writer = (!self.options.dry_run && !rows_done).then(|| self.lake.file_writer(source.name, xuncha_core::contract::schema(source)));
        // A file rejected before its rows wanted a destination has dropped
        // its receiver: nothing to send to.
        destination.send(file::Destination { batch_id: batch_id.clone(), writer }).ok();
        let typed = match typing.await.map_err(joined)? {
            Ok(Some(typed)) => typed,
            Ok(None) => return Err(PipelineError::Worker(format!("{file}: 读取在得到写入目标之前停止"))),
            // The file's own fault, or its bytes unreadable: it alone is rejected.
            Err(PipelineError::Unreadable(why)) => return self.reject(source, inbox, path, why, (&batch_id, &sha, &rejected_id), started).await,
            Err(PipelineError::Io(e)) => return self.reject(source, inbox, path, format!("读取文件时出错: {e}"), (&batch_id, &sha, &rejected_id), started).await,
            Err(PipelineError::Csv(e)) => return self.reject(source, inbox, path, format!("无法按 CSV 读取: {e}"), (&batch_id, &sha, &rejected_id), started).await,
            Err(other) => return Err(other),
        };
        let report = FileReport {
            source: source.name.to_string(),
            file: file.clone(),
            format: typed.format.clone(),
            rows_read: typed.rows_read,
            rows_loaded: typed.rows_loaded,
            rows_quarantined: typed.quarantine.len() as u64,
            rows_skipped: typed.rows_skipped,
            outcome: FileOutcome::Loaded,
            notes: typed.notes.clone(),
            columns: typed.columns.clone(),
            quarantine: summary(&typed.quarantine),
        };
        if self.options.dry_run {
            return Ok(report);
        }
        if source.name == "divisions" {
            self.villages = None;
        }
        match typed.writer {
            Some(writer) => self.commit_rows(source, writer, typed.keys, &app_id).await?,
            // Committed by an earlier, interrupted run: reload the keys on next use.
            None => drop(self.keys.remove(source.name)),
        }
        self.commit_quarantine(source, &file, typed.quarantine, &batch_id, &app_id).await?;
        self.record_batch(&report, &batch_id, &sha, &app_id, started, None).await?;
        Ok(report)
    }

    /// Rejects a file (`ids`: its batch id, hash and rejection transaction),
    /// recording the rejection once per content; a later delivery of the
    /// same bytes says it was rejected before.
    async fn reject(&self, source: &Source, inbox: &Path, path: &Path, why: String, ids: (&str, &str, &str), started: chrono::DateTime<chrono::Utc>) -> Result<FileReport, PipelineError> {
        let (batch_id, sha, rejected_id) = ids;
        let before = Lake::has_transaction(self.lake.table("ingest_batches").await?.as_ref(), rejected_id).await?;
        let why = if before { format!("此前已拒收,这次仍无法入库: {why}") } else { why };
        let report = rejected(source.name, inbox, path, why);
        if !self.options.dry_run && !before {
            let FileOutcome::Rejected(why) = &report.outcome else { unreachable!("a rejection") };
            self.record_batch(&report, batch_id, sha, rejected_id, started, Some(why.clone())).await?;
        }
        Ok(report)
    }

    /// Commits the data files of a file's rows (`new_keys`: their key
    /// hashes): an append, or a merge when a key is already in the table.
    async fn commit_rows(&mut self, source: &'static Source, writer: FileWriter, new_keys: file::KeySet, app_id: &str) -> Result<(), PipelineError> {
        let table = self.lake.table(source.name).await?;
        let existing = match self.keys.remove(source.name) {
            Some(keys) => keys,
            None => load_key_hashes(source, table.as_ref()).await?,
        };
        if new_keys.keys().any(|k| existing.contains(k)) {
            let columns: Vec<String> = xuncha_core::contract::schema(source).fields().iter().map(|f| f.name().clone()).collect();
            self.lake.upsert_files(writer, source.key, &columns, app_id).await?;
        } else {
            self.lake.commit_files(writer, app_id).await?;
        }
        let mut keys = existing;
        keys.extend(new_keys);
        self.keys.insert(source.name, keys);
        Ok(())
    }

    async fn commit_quarantine(&self, source: &Source, file: &str, rows: Vec<file::Quarantined>, batch_id: &str, app_id: &str) -> Result<(), PipelineError> {
        let table = self.lake.table("quarantine").await?;
        if rows.is_empty() && table.is_some() {
            return Ok(());
        }
        if Lake::has_transaction(table.as_ref(), app_id).await? {
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp_micros();
        let n = rows.len();
        let batch = RecordBatch::try_new(
            xuncha_core::system::quarantine_schema(),
            vec![
                Arc::new(StringArray::from(vec![source.name; n])),
                Arc::new(StringArray::from(vec![file; n])),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.row_number as i64))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.raw.as_str()))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.problem.reason.as_str()))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.problem.kind))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.problem.column))),
                Arc::new(StringArray::from(vec![batch_id; n])),
                Arc::new(TimestampMicrosecondArray::from(vec![now; n]).with_timezone("UTC")),
            ],
        )?;
        let batches = if n == 0 { Vec::new() } else { vec![batch] };
        self.lake.append("quarantine", xuncha_core::system::quarantine_schema(), batches, Some(app_id)).await?;
        Ok(())
    }

    async fn record_batch(&self, report: &FileReport, batch_id: &str, sha: &str, app_id: &str, started: chrono::DateTime<chrono::Utc>, error: Option<String>) -> Result<(), PipelineError> {
        let status = if error.is_some() { "rejected" } else { "loaded" };
        let ts = |t: chrono::DateTime<chrono::Utc>| Arc::new(TimestampMicrosecondArray::from(vec![t.timestamp_micros()]).with_timezone("UTC"));
        let batch = RecordBatch::try_new(
            xuncha_core::system::ingest_batches_schema(),
            vec![
                Arc::new(StringArray::from(vec![batch_id])),
                Arc::new(StringArray::from(vec![report.source.as_str()])),
                Arc::new(StringArray::from(vec![report.file.as_str()])),
                Arc::new(StringArray::from(vec![sha])),
                Arc::new(StringArray::from(vec![report.format.as_str()])),
                Arc::new(Int64Array::from(vec![report.rows_read as i64])),
                Arc::new(Int64Array::from(vec![report.rows_loaded as i64])),
                Arc::new(Int64Array::from(vec![report.rows_quarantined as i64])),
                Arc::new(Int64Array::from(vec![report.rows_skipped as i64])),
                Arc::new(StringArray::from(vec![status])),
                ts(started),
                ts(chrono::Utc::now()),
                Arc::new(StringArray::from(vec![error])),
                Arc::new(StringArray::from(vec![(!report.notes.is_empty()).then(|| report.notes.join(";"))])),
            ],
        )?;
        self.lake.append("ingest_batches", xuncha_core::system::ingest_batches_schema(), vec![batch], Some(app_id)).await?;
        Ok(())
    }
}

/// Reads the key columns of a source table once and hashes them.
async fn load_key_hashes(source: &Source, table: Option<&DeltaTable>) -> Result<file::KeySet, PipelineError> {
    let Some(table) = table else { return Ok(file::KeySet::default()) };
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state())?;
    let provider = table.table_provider().await?;
    ctx.register_table("t", provider)?;
    let batches = ctx.table("t").await?.select_columns(source.key)?.collect().await?;
    let hasher = file::KeyHasher::new(source)?;
    let mut keys = file::KeySet::default();
    for batch in &batches {
        for key in hasher.hash(batch.columns())? {
            keys.insert(key, 0);
        }
    }
    Ok(keys)
}

/// A file's quarantined rows grouped by kind and column, in order of first row.
fn summary(rows: &[file::Quarantined]) -> Vec<QuarantineSummary> {
    let mut out: Vec<QuarantineSummary> = Vec::new();
    for row in rows {
        let (reason, number) = (&row.problem.reason, row.row_number);
        match out.iter_mut().find(|s| s.kind == row.problem.kind && s.column == row.problem.column) {
            Some(s) => {
                s.rows += 1;
                if s.examples.len() < QuarantineSummary::EXAMPLES && !s.examples.iter().any(|(_, seen)| seen == reason) {
                    s.examples.push((number, reason.clone()));
                }
            }
            None => out.push(QuarantineSummary { kind: row.problem.kind, column: row.problem.column, rows: 1, examples: vec![(number, reason.clone())] }),
        }
    }
    out
}
