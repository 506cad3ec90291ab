//! `xuncha ingest`: every file of an inbox's source folders, read, typed by
//! the contract and committed to the lake, with bad rows in `quarantine` and
//! one `ingest_batches` row per file.
//!
//! Per file: hash it while it is read (no row is written before the hash
//! is known); if `ingest_batches` already holds its application
//! transaction it was loaded before: the reading stops and nothing
//! changes. Otherwise find the
//! header (title rows above it skipped), refuse the whole file if a required
//! column is missing (naming the source it looks like, if another), type
//! each row, quarantine what cannot be typed and the second of two rows with
//! one key, then commit (see [`crate::lake`]): a plain append when no key is
//! already in the table, else a merge that replaces the earlier rows.

mod file;
pub mod read;
mod records;
#[cfg(test)]
mod tests;
pub mod typing;

use crate::PipelineError;
use crate::contract::{self, SOURCES, Source};
use crate::lake::{FileWriter, Lake};
use crate::values;
use deltalake::DeltaTable;
use deltalake::arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::datafusion::prelude::SessionContext;
use read::{Cell, RawRow, Row, Rows};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What happened to one delivered file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// Typed and committed (or, in a dry run, would be).
    Loaded,
    /// The same bytes were ingested before: nothing changed.
    AlreadyIngested,
    /// The file could not be read as its source; nothing of it landed.
    Rejected(String),
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
}

/// Options of an ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Read and type everything, commit nothing.
    pub dry_run: bool,
}

/// Ingests every file under the inbox's source folders, in source order and
/// file-name order within a folder (a later file's key replaces an earlier
/// one's).
pub async fn ingest(lake: &Lake, inbox: &Path, options: &IngestOptions) -> Result<Vec<FileReport>, PipelineError> {
    if !inbox.is_dir() {
        return Err(PipelineError::Config(format!("收件箱 {} 不存在或不是文件夹", inbox.display())));
    }
    let mut reports = Vec::new();
    for entry in sorted_entries(inbox)? {
        if entry.is_dir() {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if contract::source(&name).is_none() && !name.starts_with('.') && !matches!(name.as_str(), "archive" | "rejected") {
                for file in delivered_files(&entry)? {
                    reports.push(rejected(&name, inbox, &file, format!("未知的数据源文件夹「{name}」(应为 {} 之一)", SOURCES.iter().map(|s| s.name).collect::<Vec<_>>().join("、"))));
                }
            }
        }
    }
    let mut files = Vec::new();
    for source in SOURCES {
        let folder = inbox.join(source.name);
        if folder.is_dir() {
            files.extend(delivered_files(&folder)?);
        }
    }
    reports.extend(ingest_files(lake, inbox, &files, options).await?);
    Ok(reports)
}

/// Ingests the given files of an inbox's source folders, in the order given
/// (the scheduler passes only the files that are complete).
pub async fn ingest_files(lake: &Lake, inbox: &Path, files: &[PathBuf], options: &IngestOptions) -> Result<Vec<FileReport>, PipelineError> {
    let mut state = IngestState { lake, options, keys: HashMap::new() };
    let mut reports = Vec::new();
    for file in files {
        let folder = file.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match contract::source(&folder) {
            Some(source) => reports.push(state.file(source, inbox, file).await?),
            None => reports.push(rejected(&folder, inbox, file, format!("文件不在数据源文件夹中(应放在 {} 之一)", SOURCES.iter().map(|s| s.name).collect::<Vec<_>>().join("、")))),
        }
    }
    Ok(reports)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    Ok(entries)
}

/// The files a department delivered into a folder: not hidden, not Office
/// lock files, not markers or notes the scheduler writes.
pub fn delivered_files(folder: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    Ok(sorted_entries(folder)?
        .into_iter()
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            !(name.starts_with('.') || name.starts_with("~$") || name.ends_with(".done") || name.ends_with(".reason.txt") || name.ends_with(".tmp") || name.ends_with(".part"))
        })
        .collect())
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
        outcome: FileOutcome::Rejected(why),
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

/// The schema of `quarantine`.
pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("row_number", DataType::Int64, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("reason_kind", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, true),
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("ingested_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
    ]))
}

/// The schema of `ingest_batches`.
pub fn batches_schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_loaded", DataType::Int64, false),
        Field::new("rows_quarantined", DataType::Int64, false),
        Field::new("rows_skipped", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("started_at", ts.clone(), false),
        Field::new("finished_at", ts, false),
        Field::new("error", DataType::Utf8, true),
    ]))
}

/// Columns each source's Parquet files are sorted by (the joins of the rules).
fn sort_columns(source: &Source) -> &'static [&'static str] {
    match source.name {
        "population" => &["village_code", "household_id"],
        "subsidy_payments" => &["village_code", "id_number", "period"],
        "deaths" | "vehicles" | "social_insurance" => &[],
        "cadres" => &["org_code", "id_number"],
        "attendance" => &["job_id", "month"],
        "petitions" => &["village_code", "received_date"],
        "finance_vouchers" => &["village_code", "voucher_date"],
        "contracts" => &["village_code", "signed_date"],
        _ => &[],
    }
}

struct IngestState<'a> {
    lake: &'a Lake,
    options: &'a IngestOptions,
    /// Hashes of the keys already in each source table, loaded on first use.
    keys: HashMap<&'static str, file::KeySet>,
}

impl IngestState<'_> {
    async fn file(&mut self, source: &'static Source, inbox: &Path, path: &Path) -> Result<FileReport, PipelineError> {
        let started = chrono::Utc::now();
        let file = relative(inbox, path);
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
            tokio::task::spawn_blocking(move || file::read_and_type(source, &path, file, rows_destination))
        };
        let joined = |e: tokio::task::JoinError| PipelineError::Lake(format!("ingest thread failed: {e}"));
        let sha = hashing.await.map_err(joined)??;
        let app_id = format!("xuncha-ingest:{}:{sha}", source.name);
        let batch_id = hex::encode(&Sha256::digest(app_id.as_bytes())[..8]);
        let batches_table = self.lake.table("ingest_batches").await?;
        if Lake::has_transaction(batches_table.as_ref(), &app_id).await? {
            drop(destination);
            typing.await.map_err(joined)?.ok();
            let mut report = rejected(source.name, inbox, path, String::new());
            report.outcome = FileOutcome::AlreadyIngested;
            return Ok(report);
        }
        // Rows committed by an earlier, interrupted run are not written again.
        let rows_done = Lake::has_transaction(self.lake.table(source.name).await?.as_ref(), &app_id).await?;
        let writer = (!self.options.dry_run && !rows_done).then(|| self.lake.file_writer(source.name, typing::schema(source)));
        // A file rejected before its rows wanted a destination has dropped
        // its receiver: nothing to send to.
        destination.send(file::Destination { batch_id: batch_id.clone(), writer }).ok();
        let typed = match typing.await.map_err(joined)? {
            Ok(Some(typed)) => typed,
            Ok(None) => return Err(PipelineError::Lake(format!("{file}: 读取在得到写入目标之前停止"))),
            Err(PipelineError::Unreadable(why)) => {
                let report = rejected(source.name, inbox, path, why.clone());
                if !self.options.dry_run {
                    self.record_batch(&report, &batch_id, &sha, &app_id, started, Some(why)).await?;
                }
                return Ok(report);
            }
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
        };
        if self.options.dry_run {
            return Ok(report);
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

    /// Commits the data files of a file's rows (`new_keys`: their key
    /// hashes): an append, or a merge when a key is already in the table.
    async fn commit_rows(&mut self, source: &'static Source, writer: FileWriter, new_keys: file::KeySet, app_id: &str) -> Result<(), PipelineError> {
        let table = self.lake.table(source.name).await?;
        let existing = match self.keys.remove(source.name) {
            Some(keys) => keys,
            None => load_key_hashes(source, table.as_ref()).await?,
        };
        if new_keys.keys().any(|k| existing.contains(k)) {
            let columns: Vec<String> = typing::schema(source).fields().iter().map(|f| f.name().clone()).collect();
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
            quarantine_schema(),
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
        )
        .map_err(|e| PipelineError::Lake(e.to_string()))?;
        let batches = if n == 0 { Vec::new() } else { vec![batch] };
        self.lake.append("quarantine", quarantine_schema(), batches, Some(app_id)).await?;
        Ok(())
    }

    async fn record_batch(&self, report: &FileReport, batch_id: &str, sha: &str, app_id: &str, started: chrono::DateTime<chrono::Utc>, error: Option<String>) -> Result<(), PipelineError> {
        let status = if error.is_some() { "rejected" } else { "loaded" };
        let ts = |t: chrono::DateTime<chrono::Utc>| Arc::new(TimestampMicrosecondArray::from(vec![t.timestamp_micros()]).with_timezone("UTC"));
        let batch = RecordBatch::try_new(
            batches_schema(),
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
            ],
        )
        .map_err(|e| PipelineError::Lake(e.to_string()))?;
        self.lake.append("ingest_batches", batches_schema(), vec![batch], Some(app_id)).await?;
        Ok(())
    }
}

/// Reads the key columns of a source table once and hashes them.
async fn load_key_hashes(source: &Source, table: Option<&DeltaTable>) -> Result<file::KeySet, PipelineError> {
    let Some(table) = table else { return Ok(file::KeySet::default()) };
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state())?;
    let err = |e: deltalake::datafusion::error::DataFusionError| PipelineError::Lake(e.to_string());
    let provider = table.table_provider().await.map_err(err)?;
    ctx.register_table("t", provider).map_err(err)?;
    let columns = source.key.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ");
    let batches = ctx.sql(&format!("SELECT {columns} FROM t")).await.map_err(err)?.collect().await.map_err(err)?;
    let hasher = file::KeyHasher::new(source)?;
    let mut keys = file::KeySet::default();
    for batch in &batches {
        for key in hasher.hash(batch.columns())? {
            keys.insert(key, 0);
        }
    }
    Ok(keys)
}

/// Whether `text` starts with a word of a total row: 合计, 总计 or 小计.
fn starts_with_total(text: &str) -> bool {
    ["合计", "总计", "小计"].iter().any(|w| text.starts_with(w))
}

/// Whether a row is a footer or a note rather than data: 合计/总计/小计 in
/// one of its first three filled cells, or a lone `制表人:…` line.
fn is_footer(row: &impl Row) -> bool {
    let is_total = |c: &Cell<'_>| matches!(c, Cell::Text(t) if !t.is_ascii() && starts_with_total(t.trim_start()));
    let mut filled = row.cells().filter(|c| !c.is_blank());
    let Some(first) = filled.next() else { return false };
    match filled.next() {
        None => is_total(&first) || matches!(first, Cell::Text(t) if t.contains([':', '：'])),
        Some(second) => is_total(&first) || is_total(&second) || filled.next().is_some_and(|c| is_total(&c)),
    }
}

/// Whether a row whose first three cells are `first` is plainly data, told
/// by a look at their first bytes: each starts with a character that is
/// neither white space nor the start of a total word, so the row is neither
/// blank nor a footer. `false` leaves it to [`is_footer`].
fn plainly_data<'a>(mut first: impl Iterator<Item = &'a str>) -> bool {
    first.all(|text| values::starts_unspaced(text) && !starts_with_total(text))
}

/// Opens a file by its extension: its format, its header, the rows of its
/// head below the header (read while looking for it) and the rest.
fn open_rows(source: &Source, path: &Path) -> Result<(String, Vec<String>, Vec<RawRow>, Rows), PipelineError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (format, mut rows) = match ext.as_str() {
        "csv" | "txt" => {
            let (encoding, rows) = read::csv_rows(path)?;
            (format!("CSV {}", encoding.label()), rows)
        }
        "xlsx" | "xlsm" | "xls" => (ext.to_uppercase(), Rows::cells(read::xlsx_rows(path, None)?)),
        "jsonl" | "ndjson" | "json" => {
            let (keys, rows) = read::jsonl_rows(path)?;
            return Ok(("JSON Lines".to_string(), keys, Vec::new(), Rows::cells(rows)));
        }
        other => return Err(PipelineError::Unreadable(format!("不支持的文件类型「.{other}」(应为 CSV、XLSX 或 JSON Lines)"))),
    };
    // Look for the header among the first rows.
    let mut head: Vec<RawRow> = Vec::new();
    while head.len() < 30
        && let Some(row) = rows.next_row()
    {
        head.push(row?);
    }
    let Some(at) = read::find_header(source, &head) else {
        let first = head.iter().find(|r| !r.is_blank()).map(|r| r.cells().map(|c| c.text()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        return Err(PipelineError::Unreadable(format!("在前 30 行中找不到「{}」({}) 的表头;第一行是: {first}{}", source.title, source.name, looks_like(source, &head))));
    };
    let header: Vec<String> = head[at].cells().map(|c| c.text()).collect();
    let rest = head.split_off(at + 1);
    Ok((format, header, rest, rows))
}

/// " — 看起来是 X 的文件" when another source's header fits the first rows.
fn looks_like(expected: &Source, head: &[RawRow]) -> String {
    for other in SOURCES.iter().filter(|s| s.name != expected.name) {
        if let Some(at) = read::find_header(other, head) {
            let header: Vec<String> = head[at].cells().map(|c| c.text()).collect();
            if missing_required(other, &header).is_empty() {
                return format!("。看起来是「{}」的文件,应放在 {}/ 文件夹", other.title, other.name);
            }
        }
    }
    String::new()
}

fn mapping(source: &Source, header: &[String]) -> Vec<Option<usize>> {
    let mut used = HashSet::new();
    header.iter().map(|h| source.match_header(h).filter(|i| used.insert(*i))).collect()
}

fn missing_required(source: &Source, header: &[String]) -> Vec<&'static str> {
    let mapped: HashSet<usize> = mapping(source, header).into_iter().flatten().collect();
    source.columns.iter().enumerate().filter(|(i, c)| c.required && !mapped.contains(i)).map(|(_, c)| c.header).collect()
}

/// The non-blank cells at `indices` as a JSON object keyed by header (a
/// JSON Lines key first seen late arrives as `key=value`), or `None`.
fn cells_json(header: &[String], row: &impl Row, indices: impl Iterator<Item = usize>) -> Option<String> {
    let mut object = serde_json::Map::new();
    for i in indices {
        let cell = row.cell(i);
        if cell.is_blank() {
            continue;
        }
        let (key, value) = match header.get(i).map(|h| h.trim()).filter(|h| !h.is_empty()) {
            Some(h) => (h.to_string(), cell.text()),
            None => match cell.text().split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (format!("第{}列", i + 1), cell.text()),
            },
        };
        object.insert(key, serde_json::Value::String(value));
    }
    (!object.is_empty()).then(|| serde_json::Value::Object(object).to_string())
}
