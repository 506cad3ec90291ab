//! One delivered file, read and typed on every core, ready to commit.
//!
//! ```text
//!  reader thread ── chunks of raw rows ──► N typing threads ── typed chunks ──►
//!  this thread, in file order: the second row of a key goes to quarantine
//!  every RUN_ROWS rows, and at the end:
//!  ──► sort keys (arrow-row) per chunk in parallel, one stable merge
//!  ──► N contiguous ranges of the sorted rows, one per writer thread (one
//!      Parquet file each, key ranges disjoint), not yet committed
//! ```
//! Row numbers, quarantine reasons and the first-row-wins rule are those of
//! a one-row-at-a-time reading; only the work is spread.

use super::read::{Cell, RawCell, RawRow};
use super::typing::{self, BatchBuilder, RowProblem, Typed};
use crate::PipelineError;
use crate::contract::Source;
use crate::lake::{BatchRun, FileWriter};
use deltalake::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use deltalake::arrow::compute::{cast, filter_record_batch, interleave_record_batch};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::row::{RowConverter, SortField};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// Rows per chunk handed to a typing thread.
const CHUNK_ROWS: usize = 32 * 1024;
/// Rows per record batch of the sorted output.
const OUTPUT_ROWS: usize = 64 * 1024;
/// Loaded rows sorted and written together (about 1 GiB typed): a file
/// larger than this becomes several sorted runs of data files.
const RUN_ROWS: usize = 2 * 1024 * 1024;

/// A file's rows, typed, deduplicated and sorted.
pub(super) struct TypedFile {
    pub(super) format: String,
    /// The key hash of every row to commit (see [`KeyHasher`]).
    pub(super) keys: KeySet,
    pub(super) quarantine: Vec<Quarantined>,
    pub(super) rows_read: u64,
    pub(super) rows_loaded: u64,
    pub(super) rows_skipped: u64,
}

/// A row that cannot be loaded, and why.
pub(super) struct Quarantined {
    pub(super) row_number: u64,
    pub(super) raw: String,
    pub(super) problem: RowProblem,
}

/// Hashes the key columns of rows to 128 bits through their arrow-row
/// encoding: exact for every type, and wide enough that two keys of a
/// city's data never share a hash in practice. Used for duplicates within a
/// file and for keys already in the table.
pub(super) struct KeyHasher {
    converter: RowConverter,
    types: Vec<DataType>,
}

impl KeyHasher {
    pub(super) fn new(source: &Source) -> Result<KeyHasher, PipelineError> {
        let schema = typing::schema(source);
        let types: Vec<DataType> = source.key.iter().map(|k| schema.field_with_name(k).expect("key column").data_type().clone()).collect();
        let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect()).map_err(lake_error)?;
        Ok(KeyHasher { converter, types })
    }

    /// The hash of each row of `columns` (the key columns, in key order;
    /// other physical string types are cast first).
    pub(super) fn hash(&self, columns: &[ArrayRef]) -> Result<Vec<u128>, PipelineError> {
        let columns: Vec<ArrayRef> = columns.iter().zip(&self.types).map(|(c, t)| cast(c, t)).collect::<Result<_, _>>().map_err(lake_error)?;
        let rows = self.converter.convert_columns(&columns).map_err(lake_error)?;
        Ok(rows
            .iter()
            .map(|row| {
                let bytes = row.as_ref();
                let mut low = DefaultHasher::new();
                low.write(bytes);
                let mut high = DefaultHasher::new();
                high.write_u8(0x9e);
                high.write(bytes);
                (u128::from(high.finish()) << 64) | u128::from(low.finish())
            })
            .collect())
    }

    /// The key columns of `batch`, in key order.
    fn columns(source: &Source, batch: &RecordBatch) -> Vec<ArrayRef> {
        source.key.iter().map(|k| batch.column(batch.schema().index_of(k).expect("key column")).clone()).collect()
    }
}

/// A set of key hashes.
pub(super) type KeySet = HashSet<u128, BuildHasherDefault<PreHashed>>;
/// First row number of each key hash.
type FirstRows = HashMap<u128, u64, BuildHasherDefault<PreHashed>>;

/// The hasher of maps keyed by [`KeyHasher`] hashes: they are hashes
/// already, so their low 64 bits serve as they are.
#[derive(Default)]
pub(super) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

fn lake_error(e: ArrowError) -> PipelineError {
    PipelineError::Lake(e.to_string())
}

/// The number of threads to type and write with.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What every typing thread needs to know about the file.
struct Layout<'a> {
    source: &'static Source,
    header: &'a [String],
    /// For each contract column, the file column that holds it.
    position: Vec<Option<usize>>,
    /// File columns the contract does not name (they go to `extra`).
    unmapped: Vec<usize>,
    schema: SchemaRef,
    keys: KeyHasher,
    batch_id: &'a str,
    file: &'a str,
}

/// One chunk after typing: its loaded rows (and their raw rows, in case an
/// earlier chunk holds the same key), its quarantine and its counts.
struct TypedChunk {
    batches: Vec<RecordBatch>,
    raw: Vec<RawRow>,
    keys: Vec<u128>,
    quarantine: Vec<Quarantined>,
    rows_read: u64,
    rows_skipped: u64,
}

/// Reads a file and types its rows on every core; every `RUN_ROWS` loaded
/// rows are sorted and handed to `writer` (none in a dry run), so memory is
/// bounded by a run, not by the file.
pub(super) fn read_and_type(source: &'static Source, path: &Path, file: &str, batch_id: &str, mut writer: Option<&mut FileWriter>) -> Result<TypedFile, PipelineError> {
    let (format, header, rows) = super::open_rows(source, path)?;
    let missing = super::missing_required(source, &header);
    if !missing.is_empty() {
        let mut why = format!("表头缺少必填列: {}(读到的表头: {})", missing.join("、"), header.join(", "));
        why.push_str(&super::looks_like(source, &[RawRow::new(1, header.iter().map(|h| RawCell::Text(h.clone())).collect())]));
        return Err(PipelineError::Unreadable(why));
    }
    let map = super::mapping(source, &header);
    let layout = Layout {
        source,
        header: &header,
        position: (0..source.columns.len()).map(|c| map.iter().position(|m| *m == Some(c))).collect(),
        unmapped: (0..header.len()).filter(|i| map[*i].is_none()).collect(),
        schema: typing::schema(source),
        keys: KeyHasher::new(source)?,
        batch_id,
        file,
    };
    let mut out = TypedFile { format, keys: KeySet::default(), quarantine: Vec::new(), rows_read: 0, rows_loaded: 0, rows_skipped: 0 };
    let workers = threads();
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(usize, Vec<RawRow>)>(workers * 2);
    let chunk_rx = Mutex::new(Some(chunk_rx));
    let (typed_tx, typed_rx) = mpsc::sync_channel::<(usize, Result<TypedChunk, PipelineError>)>(workers * 2);
    let mut loaded: Vec<RecordBatch> = Vec::new();
    // The first row number of each key kept; its keys are the file's keys.
    let mut seen = FirstRows::default();
    let read_result = std::thread::scope(|scope| {
        let reader = std::thread::Builder::new().name("ingest-read".into()).spawn_scoped(scope, move || -> Result<(), PipelineError> {
            let mut chunk = Vec::with_capacity(CHUNK_ROWS);
            let mut index = 0;
            for row in rows {
                chunk.push(row?);
                if chunk.len() == CHUNK_ROWS {
                    if chunk_tx.send((index, std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS)))).is_err() {
                        return Ok(());
                    }
                    index += 1;
                }
            }
            if !chunk.is_empty() {
                let _ = chunk_tx.send((index, chunk));
            }
            Ok(())
        })?;
        for _ in 0..workers {
            let typed_tx = typed_tx.clone();
            let (chunk_rx, layout) = (&chunk_rx, &layout);
            std::thread::Builder::new().name("ingest-type".into()).spawn_scoped(scope, move || {
                loop {
                    let next = chunk_rx.lock().expect("chunk queue").as_ref().map(mpsc::Receiver::recv);
                    let Some(Ok((index, rows))) = next else { return };
                    if typed_tx.send((index, type_chunk(layout, rows))).is_err() {
                        return;
                    }
                }
            })?;
        }
        drop(typed_tx);
        // In file order: the first row of a key wins, later ones are quarantined.
        let mut pending: BTreeMap<usize, TypedChunk> = BTreeMap::new();
        let mut next = 0;
        let mut failure = None;
        for (index, chunk) in typed_rx {
            match chunk {
                Ok(chunk) => {
                    pending.insert(index, chunk);
                }
                Err(e) => {
                    failure.get_or_insert(e);
                    break;
                }
            }
            while let Some(chunk) = pending.remove(&next) {
                if let Err(e) = out.take_chunk(&layout, chunk, &mut seen, &mut loaded) {
                    failure.get_or_insert(e);
                }
                next += 1;
            }
            if loaded.iter().map(RecordBatch::num_rows).sum::<usize>() >= RUN_ROWS
                && let Err(e) = write_run(source, &layout.schema, std::mem::take(&mut loaded), workers, writer.as_deref_mut())
            {
                failure.get_or_insert(e);
                break;
            }
        }
        // Closing the queue stops the reader and the typing threads.
        chunk_rx.lock().expect("chunk queue").take();
        let read = reader.join().expect("reader thread");
        match failure {
            Some(e) => Err(e),
            None => read,
        }
    });
    read_result?;
    out.keys = seen.into_keys().collect();
    out.quarantine.sort_by_key(|q| q.row_number);
    write_run(source, &layout.schema, loaded, workers, writer)?;
    Ok(out)
}

impl TypedFile {
    /// Takes the next chunk in file order: its rows whose key came earlier
    /// go to quarantine, the rest are kept.
    fn take_chunk(&mut self, layout: &Layout<'_>, chunk: TypedChunk, seen: &mut FirstRows, loaded: &mut Vec<RecordBatch>) -> Result<(), PipelineError> {
        self.rows_read += chunk.rows_read;
        self.rows_skipped += chunk.rows_skipped;
        self.quarantine.extend(chunk.quarantine);
        let mut keep = Vec::with_capacity(chunk.keys.len());
        for (key, raw) in chunk.keys.iter().zip(&chunk.raw) {
            match seen.get(key) {
                Some(first) => {
                    keep.push(false);
                    let reason = format!("与第 {first} 行的主键({})重复,保留第 {first} 行", layout.source.key.join(", "));
                    self.quarantine.push(Quarantined {
                        row_number: raw.number,
                        raw: super::cells_json(layout.header, raw, 0..raw.width()).unwrap_or_else(|| "{}".to_string()),
                        problem: RowProblem { kind: "duplicate_key", column: None, reason },
                    });
                }
                None => {
                    keep.push(true);
                    seen.insert(*key, raw.number);
                }
            }
        }
        let mut at = 0;
        for batch in chunk.batches {
            let mask = &keep[at..at + batch.num_rows()];
            at += batch.num_rows();
            let batch = if mask.iter().all(|k| *k) { batch } else { filter_record_batch(&batch, &BooleanArray::from(mask.to_vec())).map_err(lake_error)? };
            self.rows_loaded += batch.num_rows() as u64;
            loaded.push(batch);
        }
        Ok(())
    }
}

/// Types one chunk of rows (on a typing thread).
fn type_chunk(layout: &Layout<'_>, rows: Vec<RawRow>) -> Result<TypedChunk, PipelineError> {
    let source = layout.source;
    let mut builder = BatchBuilder::new(layout.schema.clone());
    let mut chunk = TypedChunk { batches: Vec::new(), raw: Vec::with_capacity(rows.len()), keys: Vec::new(), quarantine: Vec::new(), rows_read: 0, rows_skipped: 0 };
    let mut problems: Vec<RowProblem> = Vec::new();
    for row in rows {
        if row.is_blank() || super::is_footer(&row) {
            chunk.rows_skipped += 1;
            continue;
        }
        chunk.rows_read += 1;
        problems.clear();
        // The values borrow from the row.
        let mut values: Vec<Typed<'_>> = Vec::with_capacity(source.columns.len());
        for c in 0..source.columns.len() {
            let cell = layout.position[c].map_or(Cell::Empty, |i| row.cell(i));
            match typing::type_cell(source, c, cell) {
                Ok(v) => values.push(v),
                Err(p) => {
                    values.push(Typed::Null);
                    problems.push(p);
                }
            }
        }
        if problems.is_empty() {
            let extra_cells = layout.unmapped.iter().copied().chain(layout.header.len()..row.width());
            let extra = super::cells_json(layout.header, &row, extra_cells);
            builder.push(&values, extra, layout.batch_id, layout.file, row.number);
            chunk.raw.push(row);
        } else {
            let reason = problems.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>().join(";");
            let first = problems.swap_remove(0);
            let raw = super::cells_json(layout.header, &row, 0..row.width()).unwrap_or_else(|| "{}".to_string());
            chunk.quarantine.push(Quarantined { row_number: row.number, raw, problem: RowProblem { reason, ..first } });
        }
    }
    chunk.batches = builder.finish();
    for batch in &chunk.batches {
        chunk.keys.extend(layout.keys.hash(&KeyHasher::columns(source, batch))?);
    }
    Ok(chunk)
}

/// One contiguous range of the sorted rows, gathered into batches as the
/// writer asks for them (so the sorted copy never exists whole).
struct SortedRun {
    loaded: Arc<Vec<RecordBatch>>,
    /// (batch, row) of each row of the range, in sorted order.
    order: Vec<(usize, usize)>,
    at: usize,
}

impl Iterator for SortedRun {
    type Item = Result<RecordBatch, PipelineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = (self.at + OUTPUT_ROWS).min(self.order.len());
        if self.at == end {
            return None;
        }
        let rows = &self.order[self.at..end];
        self.at = end;
        let batches: Vec<&RecordBatch> = self.loaded.iter().collect();
        Some(interleave_record_batch(&batches, rows).map_err(lake_error))
    }
}

/// Sorts `loaded` and writes it, one contiguous range per core.
fn write_run(source: &Source, schema: &SchemaRef, loaded: Vec<RecordBatch>, parts: usize, writer: Option<&mut FileWriter>) -> Result<(), PipelineError> {
    match writer {
        Some(writer) if !loaded.is_empty() => writer.write_runs(sorted_runs(source, schema, loaded, parts)?),
        _ => Ok(()),
    }
}

/// Sorts the loaded rows by the source's sort columns and cuts them into
/// `parts` contiguous runs.
fn sorted_runs(source: &Source, schema: &SchemaRef, loaded: Vec<RecordBatch>, parts: usize) -> Result<Vec<BatchRun>, PipelineError> {
    let total: usize = loaded.iter().map(RecordBatch::num_rows).sum();
    if total == 0 {
        return Ok(Vec::new());
    }
    let columns = super::sort_columns(source);
    let mut order: Vec<(usize, usize)> = loaded.iter().enumerate().flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r))).collect();
    if !columns.is_empty() {
        let fields = columns.iter().map(|c| SortField::new(schema.field_with_name(c).expect("sort column").data_type().clone())).collect();
        let converter = RowConverter::new(fields).map_err(lake_error)?;
        // Each batch's sort keys, encoded on every core.
        let next = AtomicUsize::new(0);
        let encoded: Vec<Mutex<Option<deltalake::arrow::row::Rows>>> = loaded.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| -> Result<(), PipelineError> {
            let handles: Vec<_> = (0..parts)
                .map(|_| {
                    scope.spawn(|| -> Result<(), PipelineError> {
                        loop {
                            let b = next.fetch_add(1, Ordering::Relaxed);
                            let Some(batch) = loaded.get(b) else { return Ok(()) };
                            let cols: Vec<ArrayRef> = columns.iter().map(|c| batch.column(schema.index_of(c).expect("sort column")).clone()).collect();
                            *encoded[b].lock().expect("rows slot") = Some(converter.convert_columns(&cols).map_err(lake_error)?);
                        }
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| h.join().expect("sort thread"))
        })?;
        let encoded: Vec<deltalake::arrow::row::Rows> = encoded.into_iter().map(|m| m.into_inner().expect("rows slot").expect("encoded")).collect();
        // A stable sort: rows of equal sort keys keep their file order.
        order.sort_by(|a, b| encoded[a.0].row(a.1).cmp(&encoded[b.0].row(b.1)));
    }
    let loaded = Arc::new(loaded);
    let per_part = total.div_ceil(parts.max(1));
    Ok(order.chunks(per_part).map(|range| Box::new(SortedRun { loaded: loaded.clone(), order: range.to_vec(), at: 0 }) as BatchRun).collect())
}
