//! One delivered file, read and typed on every core, ready to commit.
//!
//! ```text
//!  reader thread ── chunks of raw columns (a CSV column: one Arrow string
//!  array) ──► N typing threads, column by column (a text column already in
//!  the lake's spelling is kept as it is) ── typed chunks ──►
//!  this thread, in file order: the second row of a key goes to quarantine
//!  every RUN_ROWS rows, and at the end ──► the writing thread, which works
//!  on one run while the next is read and typed:
//!  ──► sort keys (arrow-row) per chunk; splitters deal the rows into one
//!      range of keys per core, each sorted there (stable, no merge)
//!  ──► N contiguous ranges of the sorted rows, one per writer thread (one
//!      Parquet file each, key ranges disjoint), not yet committed; the
//!      columns every row of the file shares (batch, file) join here
//! ```
//! The file is hashed meanwhile on another thread; the batch id and the
//! writer come from the caller with the hash ([`Destination`]), so rows
//! wait for it only when a run is ready to be written.
//! Row numbers, quarantine reasons and the first-row-wins rule are those of
//! a one-row-at-a-time reading; only the work is spread.

use super::header;
use super::read::{self, RawCell, RawChunk, RawColumn, RawRow, Row};
use super::typing::{self, RowProblem};
use super::villages::{self, Directory, VillageNames};
use crate::PipelineError;
use deltalake::arrow::array::{ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray, new_null_array};
use deltalake::arrow::compute::{FilterBuilder, cast, filter_record_batch, interleave_record_batch};
use deltalake::arrow::datatypes::{DataType, Schema, SchemaRef};
use deltalake::arrow::row::{RowConverter, SortField};
use rust_decimal::Decimal;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use twox_hash::XxHash3_128;
use xuncha_core::config::IngestConfig;
use xuncha_core::contract::Source;
use xuncha_core::lake::{BatchRun, FileWriter};

/// Rows per chunk handed to a typing thread.
const CHUNK_ROWS: usize = 32 * 1024;
/// Rows per record batch of the sorted output.
const OUTPUT_ROWS: usize = 64 * 1024;
/// Loaded rows sorted and written together (some 400 MB typed, for payment
/// rows of 160 bytes of CSV): a file larger than this becomes several
/// sorted runs of data files.
const RUN_ROWS: usize = 2 * 1024 * 1024;
/// Loaded rows held at most while the file's hash is still being computed
/// (see [`Destination`]): the SHA-256 of a city's file takes a core for
/// about three seconds, in which the other core types about this many.
const WAIT_ROWS: usize = 4 * RUN_ROWS;

/// A file's rows, typed, deduplicated and sorted.
pub(super) struct TypedFile {
    /// Rows skipped as footers with no data after them yet: held if data
    /// follows after all.
    footers_pending: Vec<Quarantined>,
    pub(super) format: String,
    /// What the report says about the file (see `Opened::notes`).
    pub(super) notes: Vec<String>,
    /// How each header was read.
    pub(super) columns: Vec<header::ColumnUse>,
    /// The writer the rows went to, to commit (see [`Destination`]).
    pub(super) writer: Option<FileWriter>,
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

/// Hashes the key columns of rows (XXH3-128, kept to 96 bits) through their
/// arrow-row encoding, or a one-text-column key through its bytes: exact
/// for every type, and wide enough that two keys of a city's data never
/// share a hash in practice. Used for duplicates within a file and for keys
/// already in the table.
pub(super) struct KeyHasher {
    converter: RowConverter,
    types: Vec<DataType>,
}

impl KeyHasher {
    pub(super) fn new(source: &Source) -> Result<KeyHasher, PipelineError> {
        let schema = xuncha_core::contract::schema(source);
        let types: Vec<DataType> = source.key.iter().map(|k| schema.field_with_name(k).expect("key column").data_type().clone()).collect();
        let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
        Ok(KeyHasher { converter, types })
    }

    /// The hash of each row of `columns` (the key columns, in key order;
    /// other physical string types are cast first).
    pub(super) fn hash(&self, columns: &[ArrayRef]) -> Result<Vec<KeyHash>, PipelineError> {
        let columns: Vec<ArrayRef> = columns.iter().zip(&self.types).map(|(c, t)| cast(c, t)).collect::<Result<_, _>>()?;
        if let [column] = columns.as_slice()
            && let Some(text) = column.as_string_opt::<i32>()
        {
            // A key of one text column is its bytes (a missing value hashed
            // with another seed): no row encoding to build.
            return Ok(text.iter().map(|value| KeyHash::of(value.map_or_else(|| XxHash3_128::oneshot_with_seed(1, &[]), |v| XxHash3_128::oneshot(v.as_bytes())))).collect());
        }
        let rows = self.converter.convert_columns(&columns)?;
        Ok(rows.iter().map(|row| KeyHash::of(XxHash3_128::oneshot(row.as_ref()))).collect())
    }

    /// The key columns of `batch`, in key order.
    fn columns(source: &Source, batch: &RecordBatch) -> Vec<ArrayRef> {
        source.key.iter().map(|k| batch.column(batch.schema().index_of(k).expect("key column")).clone()).collect()
    }
}

/// 96 bits of the hash of a row's key, as three 4-byte words, so that an
/// entry of a [`KeySet`] (hash and row) takes 16 bytes: a city's file has
/// tens of millions of keys, and 32-byte entries (a `u128` and a `u64`)
/// took a gigabyte more. Two keys of 10^8 share 96 bits with a chance
/// of about 10^-13.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct KeyHash([u32; 3]);

impl KeyHash {
    fn of(hash: u128) -> KeyHash {
        KeyHash([hash as u32, (hash >> 32) as u32, (hash >> 96) as u32])
    }
}

impl Hash for KeyHash {
    /// It is a hash already: its low two words serve as they are.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.0[0]) | u64::from(self.0[1]) << 32);
    }
}

/// Key hashes, each with the row of the file that loaded it (0 for keys of
/// earlier files; a file of more than `u32::MAX` rows is refused): a file's
/// map of first rows becomes, as it is, part of the table's set of keys (a
/// city file has tens of millions).
///
/// The keys are spread over [`KeySet::PARTS`] maps by their hash: each map
/// grows on its own, a little at a time and within the cache. One map of
/// tens of millions of keys would stall ingest whenever it doubles, or,
/// sized at once, fault its gigabyte in at the file's first rows.
pub(super) struct KeySet {
    parts: Vec<HashMap<KeyHash, u32, BuildHasherDefault<PreHashed>>>,
}

impl Default for KeySet {
    fn default() -> KeySet {
        KeySet { parts: (0..KeySet::PARTS).map(|_| HashMap::default()).collect() }
    }
}

impl KeySet {
    const PARTS: usize = 256;

    /// The map of `key`: by the top bits of the word the maps do not hash.
    fn part(&self, key: &KeyHash) -> usize {
        (key.0[2] >> 24) as usize % KeySet::PARTS
    }

    pub(super) fn entry(&mut self, key: KeyHash) -> Entry<'_, KeyHash, u32> {
        let part = self.part(&key);
        self.parts[part].entry(key)
    }

    pub(super) fn contains(&self, key: &KeyHash) -> bool {
        self.parts[self.part(key)].contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &KeyHash> {
        self.parts.iter().flat_map(HashMap::keys)
    }

    /// Adds the keys of `other`, map by map (the smaller joins the larger).
    pub(super) fn extend(&mut self, other: KeySet) {
        for (mine, theirs) in self.parts.iter_mut().zip(other.parts) {
            if mine.len() < theirs.len() {
                let smaller = std::mem::replace(mine, theirs);
                mine.extend(smaller);
            } else {
                mine.extend(theirs);
            }
        }
    }

    pub(super) fn insert(&mut self, key: KeyHash, row: u32) {
        self.entry(key).or_insert(row);
    }
}

/// The hasher of [`KeySet`]s: it keeps the word a [`KeyHash`] gives it.
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

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The number of threads to type and write with.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Lowers the calling thread's scheduling priority (nice 10); the reader
/// and the typing threads of a file call it first. No row is written before
/// the file's SHA-256 is known, and at equal priority the four threads
/// reading and typing on two cores left the hash a third of a core: a
/// city's file then waited seconds for it with one core idle. Best effort:
/// where it fails, nothing changes.
#[allow(unsafe_code)]
fn yield_to_hashing() {
    #[cfg(target_os = "linux")]
    // SAFETY: two system calls about the calling thread; no memory passes.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

/// What every typing thread needs to know about the file.
struct Layout<'a> {
    source: &'static Source,
    header: &'a [String],
    /// For each contract column, the file column that holds it.
    position: Vec<Option<usize>>,
    /// File columns the contract does not name (they go to `extra`).
    unmapped: Vec<usize>,
    /// The lake's columns but the [`SHARED_COLUMNS`]: those of a typed chunk.
    schema: SchemaRef,
    keys: KeyHasher,
    /// For each contract column, the largest amount it takes, if bounded.
    ceilings: Vec<Option<Decimal>>,
    /// For each contract column, the power of ten its file column's values
    /// are multiplied by (the header's unit, `金额(万元)`: 4).
    shifts: Vec<i32>,
    /// For each contract column, the configured names of its allowed values.
    values: Vec<Option<std::collections::BTreeMap<String, String>>>,
    /// Villages given by name, and the directory that gives their codes.
    villages: Option<(VillageNames, Arc<Directory>)>,
    /// (contract column, file column) of a second header naming a column
    /// already taken (`补贴金额` beside `发放金额`): a row where the two
    /// disagree is held, naming both.
    twins: Vec<(usize, usize)>,
    /// How the file's headers are read, and how many cells of its header
    /// row are headers: a held row scoring half as much is a second header
    /// (exports joined in one file), and the file is rejected.
    headers: &'a xuncha_core::mapping::HeaderMappings,
    header_score: usize,
}

/// Lake columns whose value is the same in every row of a file: they are
/// added as the rows are written, not carried through typing and sorting.
const SHARED_COLUMNS: [&str; 2] = ["batch_id", "source_file"];

/// The lake's columns without the [`SHARED_COLUMNS`].
fn typed_schema(lake_schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(lake_schema.fields().iter().filter(|f| !SHARED_COLUMNS.contains(&f.name().as_str())).cloned().collect::<Vec<_>>()))
}

/// The [`SHARED_COLUMNS`] of one file's rows and where they go among the
/// lake's columns.
struct Shared {
    lake_schema: SchemaRef,
    /// The value of each of the [`SHARED_COLUMNS`], in their order.
    values: [String; SHARED_COLUMNS.len()],
}

impl Shared {
    /// Each shared column's position among the lake's columns, ascending,
    /// with its value repeated for a full output batch.
    fn columns(&self) -> Vec<(usize, ArrayRef)> {
        let shared = |name: &str| SHARED_COLUMNS.iter().position(|c| *c == name).map(|k| self.values[k].as_str());
        self.lake_schema
            .fields()
            .iter()
            .enumerate()
            .filter_map(|(i, f)| shared(f.name()).map(|value| (i, Arc::new(StringArray::from_iter_values(std::iter::repeat_n(value, OUTPUT_ROWS))) as ArrayRef)))
            .collect()
    }
}

/// Where a file's rows go. It comes from the caller once the file's hash
/// is known (the batch id is derived from it), which is computed beside
/// the reading; the caller drops its sender instead when the same bytes
/// were loaded before, and the reading stops.
pub(super) struct Destination {
    pub(super) batch_id: String,
    /// `None` in a dry run, or when an interrupted run committed the rows
    /// already.
    pub(super) writer: Option<FileWriter>,
}

/// The rows' side of a [`Destination`]: waited for only when rows are
/// ready to be written.
struct Sink<'scope> {
    receiver: mpsc::Receiver<Destination>,
    lake_schema: SchemaRef,
    file: String,
    /// Once the destination came: the thread that sorts and writes runs.
    writing: Option<Writing<'scope>>,
}

/// The thread that sorts and writes a file's runs one at a time, while the
/// next run is read and typed: the writers' work and the reading's fill
/// each other's idle cores. It hands the writer back at the end.
struct Writing<'scope> {
    runs: mpsc::SyncSender<Vec<RecordBatch>>,
    thread: std::thread::ScopedJoinHandle<'scope, Result<Option<FileWriter>, PipelineError>>,
}

impl Writing<'_> {
    fn join(self) -> Result<Option<FileWriter>, PipelineError> {
        drop(self.runs);
        self.thread.join().unwrap_or_else(|_| Err(PipelineError::Worker("写入数据文件的线程意外中止".into())))
    }
}

#[derive(PartialEq)]
enum SinkState {
    /// No destination yet.
    Waiting,
    Ready,
    /// The caller stopped the file: it was loaded before.
    Stopped,
}

impl<'scope> Sink<'scope> {
    /// Takes the destination if it came (waiting for it if `wait`) and
    /// starts the thread that writes its runs.
    fn check(&mut self, scope: &'scope std::thread::Scope<'scope, '_>, source: &'static Source, parts: usize, wait: bool) -> Result<SinkState, PipelineError> {
        if self.writing.is_some() {
            return Ok(SinkState::Ready);
        }
        let received = if wait {
            self.receiver.recv().ok()
        } else {
            match self.receiver.try_recv() {
                Ok(destination) => Some(destination),
                Err(mpsc::TryRecvError::Empty) => return Ok(SinkState::Waiting),
                Err(mpsc::TryRecvError::Disconnected) => None,
            }
        };
        let Some(Destination { batch_id, mut writer }) = received else { return Ok(SinkState::Stopped) };
        let shared = Shared { lake_schema: self.lake_schema.clone(), values: [batch_id, std::mem::take(&mut self.file)] };
        // No run waits in the channel: one is written, the next gathered.
        let (runs, to_write) = mpsc::sync_channel::<Vec<RecordBatch>>(0);
        let thread = std::thread::Builder::new().name("ingest-write".into()).spawn_scoped(scope, move || {
            for run in to_write {
                // In a dry run the rows go nowhere.
                if let Some(writer) = &mut writer {
                    writer.write_runs(sorted_runs(source, &shared, run, parts)?)?;
                }
            }
            Ok(writer)
        })?;
        self.writing = Some(Writing { runs, thread });
        Ok(SinkState::Ready)
    }

    /// Hands `loaded` run by run ([`runs_of`]) to the writing thread, once
    /// [`Sink::check`] said ready; waits while it writes the run before.
    fn write(&mut self, loaded: Vec<RecordBatch>) -> Result<(), PipelineError> {
        let writing = self.writing.as_ref().expect("a destination");
        for run in runs_of(loaded).into_iter().filter(|run| !run.is_empty()) {
            if writing.runs.send(run).is_err() {
                // The thread stopped on an error, which its result holds.
                return self.writing.take().expect("a destination").join().map(drop);
            }
        }
        Ok(())
    }
}

/// One chunk after typing: its loaded rows (and the raw chunk with the
/// index of each loaded row in it, in case an earlier chunk holds the same
/// key), its quarantine and its counts.
struct TypedChunk {
    batch: Option<RecordBatch>,
    raw: RawChunk,
    loaded: Vec<usize>,
    keys: Vec<KeyHash>,
    quarantine: Vec<Quarantined>,
    rows_read: u64,
    rows_skipped: u64,
    /// Rows skipped as 合计/总计 footers (indices), and the last row that is
    /// data: a footer above data is no footer (see [`TypedFile::take_chunk`]).
    footers: Vec<usize>,
    last_data: Option<usize>,
}

/// Reads a file (`file`: its name in the lake) and types its rows on every
/// core; every `RUN_ROWS` loaded rows go to a thread that sorts them and
/// hands them to the writer of the [`Destination`] (none in a dry run)
/// while the next run is read, so memory is bounded by two runs, not by
/// the file. Rows wait for the destination up to `WAIT_ROWS`;
/// `None` when the caller stopped the file instead.
pub(super) fn read_and_type(
    source: &'static Source,
    config: &IngestConfig,
    directory: Option<Arc<Directory>>,
    path: &Path,
    file: String,
    ceilings: Vec<Option<Decimal>>,
    destination: mpsc::Receiver<Destination>,
) -> Result<Option<TypedFile>, PipelineError> {
    let headers = &config.headers;
    let header::Opened { format, header, head_rest, mut rows, notes } = header::open_rows(source, &config.sources, headers, path)?;
    let missing = header::missing_required(source, headers, &header);
    if !missing.is_empty() {
        let mut why = header::missing_reason(source, headers, &header, &missing);
        why.push_str(&header::looks_like(source, &config.sources, headers, &[RawRow::new(1, header.iter().map(|h| RawCell::Text(h.clone())).collect())]));
        return Err(PipelineError::Unreadable(why));
    }
    let map = header::mapping(source, headers, &header);
    let villages = match (villages::names_in(source, &header, &map), directory) {
        (Some(names), Some(directory)) if directory.is_empty() => {
            let why = format!("文件用乡镇、村名称代替了「{}」,但湖中还没有行政区划(divisions),无法对照:请先报送 divisions,再重新报送本文件", source.columns[names.column].header);
            return Err(PipelineError::Unreadable(why));
        }
        (Some(names), Some(directory)) => Some((names, directory)),
        _ => None,
    };
    let lake_schema = xuncha_core::contract::schema(source);
    let position: Vec<Option<usize>> = (0..source.columns.len()).map(|c| map.iter().position(|m| *m == Some(c))).collect();
    let mut notes = notes;
    let mut shifts = vec![0; source.columns.len()];
    for (c, p) in position.iter().enumerate() {
        if let Some(p) = p {
            shifts[c] = xuncha_core::contract::unit_shift(&source.columns[c], &header[*p]).map_err(PipelineError::Unreadable)?;
            if shifts[c] != 0 {
                let unit = xuncha_core::contract::header_unit(&header[*p]).unwrap_or_default();
                notes.push(format!("「{}」按表头的单位「{unit}」读入,换算为「{}」的单位(乘以 10 的 {} 次方)", header[*p].trim(), source.columns[c].header, shifts[c]));
            }
        }
    }
    let layout = Layout {
        source,
        header: &header,
        position,
        shifts,
        unmapped: (0..header.len()).filter(|i| map[*i].is_none()).collect(),
        schema: typed_schema(&lake_schema),
        keys: KeyHasher::new(source)?,
        ceilings,
        values: source.columns.iter().map(|c| config.values.of(source.name, c.name).cloned()).collect(),
        villages,
        twins: header::twins(source, headers, &header, &map),
        headers,
        header_score: header::header_score(source, headers, &RawRow::new(0, header.iter().map(|h| RawCell::Text(h.clone())).collect())),
    };
    let mut out = TypedFile {
        footers_pending: Vec::new(),
        format,
        notes,
        columns: header::column_uses(source, headers, &header, &map),
        writer: None,
        keys: KeySet::default(),
        quarantine: Vec::new(),
        rows_read: 0,
        rows_loaded: 0,
        rows_skipped: 0,
    };
    let workers = threads();
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(usize, RawChunk)>(workers * 2);
    let chunk_rx = Mutex::new(Some(chunk_rx));
    let (typed_tx, typed_rx) = mpsc::sync_channel::<(usize, Result<TypedChunk, PipelineError>)>(workers * 2);
    let mut loaded: Vec<RecordBatch> = Vec::new();
    // The first row of each key kept: the file's keys.
    let mut seen = KeySet::default();
    let written = std::thread::scope(|scope| -> Result<Option<Option<FileWriter>>, PipelineError> {
        let mut sink = Sink { receiver: destination, lake_schema, file, writing: None };
        let width = header.len();
        let reader = std::thread::Builder::new().name("ingest-read".into()).spawn_scoped(scope, move || -> Result<(), PipelineError> {
            yield_to_hashing();
            // The rows read with the header come first, as a chunk of their own.
            let mut next = if head_rest.is_empty() { None } else { Some(read::chunk_of(head_rest, width)?) };
            let mut index = 0;
            while let Some(chunk) = next.take().map_or_else(|| rows.next_chunk(width, CHUNK_ROWS), |c| Ok(Some(c)))? {
                if chunk_tx.send((index, chunk)).is_err() {
                    return Ok(());
                }
                index += 1;
            }
            Ok(())
        })?;
        for _ in 0..workers {
            let typed_tx = typed_tx.clone();
            let (chunk_rx, layout) = (&chunk_rx, &layout);
            std::thread::Builder::new().name("ingest-type".into()).spawn_scoped(scope, move || {
                yield_to_hashing();
                loop {
                    let next = chunk_rx.lock().expect("chunk queue").as_ref().map(mpsc::Receiver::recv);
                    let Some(Ok((index, chunk))) = next else { return };
                    if typed_tx.send((index, type_chunk(layout, chunk))).is_err() {
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
            let rows = loaded.iter().map(RecordBatch::num_rows).sum::<usize>();
            match sink.check(scope, source, workers, rows >= WAIT_ROWS) {
                Ok(SinkState::Stopped) => break,
                Ok(SinkState::Ready) if rows >= RUN_ROWS => {
                    if let Err(e) = sink.write(std::mem::take(&mut loaded)) {
                        failure.get_or_insert(e);
                        break;
                    }
                }
                Ok(SinkState::Ready | SinkState::Waiting) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                    break;
                }
            }
        }
        // Closing the queue stops the reader and the typing threads.
        chunk_rx.lock().expect("chunk queue").take();
        let read = reader.join().expect("reader thread");
        if let Some(e) = failure {
            return Err(e);
        }
        read?;
        if sink.check(scope, source, workers, true)? == SinkState::Stopped {
            return Ok(None);
        }
        sink.write(std::mem::take(&mut loaded))?;
        sink.writing.take().expect("started by check").join().map(Some)
    });
    let Some(writer) = written? else { return Ok(None) };
    out.keys = seen;
    out.quarantine.sort_by_key(|q| q.row_number);
    out.writer = writer;
    Ok(Some(out))
}

/// `loaded` cut into runs of at least `RUN_ROWS` rows, in order (the last
/// may be shorter): what waited for the destination is sorted and written
/// run by run, as it would have been.
fn runs_of(loaded: Vec<RecordBatch>) -> Vec<Vec<RecordBatch>> {
    let mut runs = vec![Vec::new()];
    let mut rows = 0;
    for batch in loaded {
        if rows >= RUN_ROWS {
            runs.push(Vec::new());
            rows = 0;
        }
        rows += batch.num_rows();
        runs.last_mut().expect("a run").push(batch);
    }
    runs
}

impl TypedFile {
    /// The pending footers at or above row `number`, data being below them:
    /// held instead of skipped.
    fn hold_pending_footers(&mut self, number: u64) {
        let (held, still): (Vec<Quarantined>, Vec<Quarantined>) = std::mem::take(&mut self.footers_pending).into_iter().partition(|q| q.row_number <= number);
        self.footers_pending = still;
        self.rows_skipped -= held.len() as u64;
        self.rows_read += held.len() as u64;
        self.quarantine.extend(held);
    }

    /// Takes the next chunk in file order: its rows whose key came earlier
    /// go to quarantine, the rest are kept.
    fn take_chunk(&mut self, layout: &Layout<'_>, chunk: TypedChunk, seen: &mut KeySet, loaded: &mut Vec<RecordBatch>) -> Result<(), PipelineError> {
        self.rows_read += chunk.rows_read;
        self.rows_skipped += chunk.rows_skipped;
        self.quarantine.extend(chunk.quarantine);
        // Footers are recognised only after the data: one with data below
        // it is held, for a person to look at, not skipped.
        for &index in &chunk.footers {
            let raw = chunk.raw.row(index);
            let reason =
                "这一行以「合计/总计/小计」开头、缺少必填项,像表尾的合计行,但它下面还有数据行,所以不当作表尾跳过;请核实这一行(是数据就补全必填项,是合计行就移到表格末尾)后重新报送".to_string();
            self.footers_pending.push(Quarantined {
                row_number: raw.number(),
                raw: header::cells_json(layout.header, &raw, 0..raw.width()).unwrap_or_else(|| "{}".to_string()),
                problem: RowProblem { kind: "total_above_data", column: None, reason },
            });
        }
        if let Some(last) = chunk.last_data {
            self.hold_pending_footers(chunk.raw.row(last).number());
        }
        let mut keep = Vec::with_capacity(chunk.keys.len());
        for (key, &index) in chunk.keys.iter().zip(&chunk.loaded) {
            let raw = chunk.raw.row(index);
            // One probe of the map per row: at city scale it is gigabytes
            // and each probe a cache miss.
            match seen.entry(*key) {
                Entry::Occupied(first) => {
                    keep.push(false);
                    let first = first.get();
                    let reason = format!("与第 {first} 行的主键({})重复,保留第 {first} 行", layout.source.key.join(", "));
                    self.quarantine.push(Quarantined {
                        row_number: raw.number(),
                        raw: header::cells_json(layout.header, &raw, 0..raw.width()).unwrap_or_else(|| "{}".to_string()),
                        problem: RowProblem { kind: "duplicate_key", column: None, reason },
                    });
                }
                Entry::Vacant(slot) => {
                    keep.push(true);
                    let number = u32::try_from(raw.number()).map_err(|_| PipelineError::Unreadable(format!("文件超过 {} 行,请拆分后重新报送", u32::MAX)))?;
                    slot.insert(number);
                }
            }
        }
        if let Some(batch) = chunk.batch {
            let batch = if keep.iter().all(|k| *k) { batch } else { filter_record_batch(&batch, &BooleanArray::from(keep))? };
            self.rows_loaded += batch.num_rows() as u64;
            loaded.push(batch);
        }
        Ok(())
    }
}

/// Whether a row is a footer (合计/总计/小计 or a signature line, see
/// `header::is_footer`) by its shape: it lacks a required value a data row
/// would have. A row starting with 总计 that is complete is data.
fn is_footer(layout: &Layout<'_>, row: &impl Row) -> bool {
    let lacks_required = layout.source.columns.iter().zip(&layout.position).any(|(column, p)| column.required && p.is_some_and(|p| row.cell(p).is_blank()));
    header::is_footer(row) && lacks_required
}

/// Types one chunk of rows (on a typing thread), column by column.
fn type_chunk(layout: &Layout<'_>, raw: RawChunk) -> Result<TypedChunk, PipelineError> {
    let source = layout.source;
    // Blank, 合计 and signature rows are not data; most rows plainly are,
    // as the first bytes of their first three text cells show.
    let leading: Vec<&StringArray> = (0..3).map_while(|c| if let Some(RawColumn::Text(text)) = raw.column(c) { Some(text) } else { None }).collect();
    let skip: Vec<bool> = (0..raw.len())
        .map(|i| {
            if leading.len() == 3 && header::plainly_data(leading.iter().map(|column| column.value(i))) {
                return false;
            }
            let row = raw.row(i);
            row.is_blank() || is_footer(layout, &row)
        })
        .collect();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(layout.schema.fields().len());
    // The problems of each row, in column order.
    let mut problems: BTreeMap<usize, Vec<RowProblem>> = BTreeMap::new();
    let by_name = layout.villages.as_ref().map(|(names, directory)| (names.column, village_codes(source, &raw, &skip, names, directory, &mut problems)));
    for (c, position) in layout.position.iter().enumerate() {
        let cells = match &by_name {
            Some((column, codes)) if *column == c => Some(codes),
            _ => position.and_then(|p| raw.column(p)),
        };
        let (column, found) = typing::type_column(source, c, cells, &skip, layout.ceilings[c], layout.shifts[c], layout.values[c].as_ref());
        columns.push(column);
        // Codes found by name are valid codes; a row whose name gave none
        // has said why already (not also "missing").
        if by_name.as_ref().is_some_and(|(column, _)| *column == c) {
            continue;
        }
        for (row, problem) in found {
            problems.entry(row).or_default().push(problem);
        }
    }
    for (c, twin) in &layout.twins {
        let (Some(first), Some(second)) = (layout.position[*c].and_then(|p| raw.column(p)), raw.column(*twin)) else { continue };
        for row in (0..raw.len()).filter(|row| !skip[*row]) {
            let (a, b) = (first.cell(row), second.cell(row));
            let same = b.is_blank() || (!a.is_blank() && typing::type_cell(source, *c, a).ok() == typing::type_cell(source, *c, b).ok());
            if !same {
                let column = &source.columns[*c];
                let (named, other) = (layout.position[*c].map_or("", |p| layout.header[p].as_str()), layout.header[*twin].as_str());
                let reason = format!(
                    "「{}」与「{}」两列都是「{}」({}),这一行两者不同(「{}」与「{}」),无法判断以哪一列为准;请核实后只保留一列,或在 xuncha.toml 的 [sources.{}.headers] 中只映射其中一列,再重新报送",
                    xuncha_core::values::excerpt(named.trim(), 40),
                    xuncha_core::values::excerpt(other.trim(), 40),
                    column.header,
                    column.name,
                    xuncha_core::values::excerpt(&a.text(), 40),
                    xuncha_core::values::excerpt(&b.text(), 40),
                    source.name
                );
                problems.entry(row).or_default().push(RowProblem { kind: "conflicting_columns", column: Some(column.name), reason });
            }
        }
    }
    let mut keep: Vec<bool> = skip.iter().map(|skipped| !skipped).collect();
    let footers = (0..raw.len()).filter(|i| skip[*i] && !raw.row(*i).is_blank()).collect();
    let last_data = (0..raw.len()).rev().find(|i| !skip[*i]);
    let mut chunk = TypedChunk { batch: None, raw, loaded: Vec::new(), keys: Vec::new(), quarantine: Vec::new(), rows_read: 0, rows_skipped: 0, footers, last_data };
    let raw = &chunk.raw;
    for (row, mut found) in problems {
        keep[row] = false;
        // A held row that is the header again: another export joined below.
        let cells = raw.row(row);
        if header::header_score(source, layout.headers, &cells) * 2 >= layout.header_score.max(2) {
            return Err(PipelineError::Unreadable(format!(
                "第 {} 行又是一行表头:文件像是几份导出拼接在一起,为免把后一份按前一份的列读错,整份文件未入库;请把每份导出存成单独的文件后重新报送",
                cells.number()
            )));
        }
        let reason = found.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>().join(";");
        let first = found.swap_remove(0);
        let cells = raw.row(row);
        let json = header::cells_json(layout.header, &cells, 0..cells.width()).unwrap_or_else(|| "{}".to_string());
        chunk.quarantine.push(Quarantined { row_number: cells.number(), raw: json, problem: RowProblem { reason, ..first } });
    }
    chunk.rows_skipped = skip.iter().filter(|s| **s).count() as u64;
    chunk.rows_read = raw.len() as u64 - chunk.rows_skipped;
    chunk.loaded = (0..raw.len()).filter(|i| keep[*i]).collect();
    // Lineage: the cells the contract does not name and the row (the batch
    // and the file are added as the rows are written).
    let extra: ArrayRef = if layout.unmapped.is_empty() && !raw.has_overflow() {
        new_null_array(&DataType::Utf8, raw.len())
    } else {
        // Only for the rows that load: the others are filtered out below.
        Arc::new(StringArray::from_iter((0..raw.len()).map(|i| {
            let row = raw.row(i);
            keep[i].then(|| header::cells_json(layout.header, &row, layout.unmapped.iter().copied().chain(layout.header.len()..row.width()))).flatten()
        })))
    };
    columns.push(extra);
    columns.push(Arc::new(Int64Array::from_iter_values(raw.numbers().iter().map(|n| *n as i64))));
    // Rows that are not loaded may hold nulls in required columns: they go
    // before the columns become a batch.
    if chunk.loaded.len() < raw.len() {
        let loaded = FilterBuilder::new(&BooleanArray::from(keep)).optimize().build();
        columns = columns.iter().map(|c| loaded.filter(c)).collect::<Result<_, _>>()?;
    }
    let batch = RecordBatch::try_new(layout.schema.clone(), columns)?;
    if batch.num_rows() > 0 {
        chunk.keys = layout.keys.hash(&KeyHasher::columns(source, &batch))?;
        chunk.batch = Some(batch);
    }
    Ok(chunk)
}

/// The village code of each row of a chunk that names its villages (empty
/// where the name does not give exactly one village: the row's problem).
fn village_codes(source: &Source, raw: &RawChunk, skip: &[bool], names: &VillageNames, directory: &Directory, problems: &mut BTreeMap<usize, Vec<RowProblem>>) -> RawColumn {
    let column = &source.columns[names.column];
    let text = |position: Option<usize>, row: usize| position.and_then(|p| raw.column(p)).map(|c| c.cell(row).text()).unwrap_or_default();
    // A roster repeats each village's name on every row of it: each
    // (town, village) pair is looked up once per chunk.
    let mut resolved: HashMap<(String, String), Result<String, RowProblem>> = HashMap::new();
    RawColumn::Text(StringArray::from_iter_values((0..raw.len()).map(|row| {
        let village = text(Some(names.village), row);
        if skip[row] || (village.trim().is_empty() && !column.required) {
            return String::new();
        }
        let town = text(names.town, row);
        let outcome = resolved.entry((town, village)).or_insert_with_key(|(town, village)| directory.resolve(town, village, column.name).map(str::to_string));
        match outcome {
            Ok(code) => code.clone(),
            Err(problem) => {
                problems.entry(row).or_default().push(problem.clone());
                String::new()
            }
        }
    })))
}

/// One contiguous range of the sorted rows, gathered into batches of the
/// lake's columns as the writer asks for them (so the sorted copy never
/// exists whole).
struct SortedRun {
    loaded: Arc<Vec<RecordBatch>>,
    /// (batch, row) of each row of the range, in sorted order.
    order: Vec<(u32, u32)>,
    at: usize,
    lake_schema: SchemaRef,
    /// The shared columns, see [`Shared::columns`].
    shared: Arc<Vec<(usize, ArrayRef)>>,
}

impl Iterator for SortedRun {
    type Item = Result<RecordBatch, xuncha_core::CoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = (self.at + OUTPUT_ROWS).min(self.order.len());
        if self.at == end {
            return None;
        }
        let rows: Vec<(usize, usize)> = self.order[self.at..end].iter().map(|&(b, r)| (b as usize, r as usize)).collect();
        self.at = end;
        let batches: Vec<&RecordBatch> = self.loaded.iter().collect();
        let typed = match interleave_record_batch(&batches, &rows) {
            Ok(typed) => typed,
            Err(e) => return Some(Err(xuncha_core::CoreError::Lake(e.to_string()))),
        };
        let mut columns = typed.columns().to_vec();
        for (position, value) in self.shared.iter() {
            columns.insert(*position, value.slice(0, rows.len()));
        }
        Some(RecordBatch::try_new(self.lake_schema.clone(), columns).map_err(|e| xuncha_core::CoreError::Lake(e.to_string())))
    }
}

/// Sorts `items` stably into `parts` ranges of keys, each sorted on its own
/// core: splitters sampled from the items deal them (in item order, every
/// core a piece) into the ranges, then each range is sorted. Items of
/// equal keys land in one range in item order, so the ranges one after the
/// other are one stable sort, with no serial merge at the end.
fn sort_in_ranges<T: Copy + Send + Sync>(items: Vec<T>, parts: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync) -> Vec<Vec<T>> {
    let parts = parts.max(1);
    if items.is_empty() {
        return Vec::new();
    }
    let cmp = &cmp;
    let mut sample: Vec<T> = items.iter().step_by((items.len() / (parts * 256)).max(1)).copied().collect();
    sample.sort_by(cmp);
    let splitters: Vec<T> = (1..parts).map(|i| sample[i * sample.len() / parts]).collect();
    let splitters = &splitters;
    let mut dealt: Vec<Vec<Vec<T>>> = std::thread::scope(|scope| {
        let cores: Vec<_> = items
            .chunks(items.len().div_ceil(parts))
            .map(|piece| {
                scope.spawn(move || {
                    let mut ranges: Vec<Vec<T>> = (0..parts).map(|_| Vec::with_capacity(piece.len() / parts)).collect();
                    for item in piece {
                        // The range: how many splitters are not above the item.
                        ranges[splitters.partition_point(|s| cmp(s, item) != std::cmp::Ordering::Greater)].push(*item);
                    }
                    ranges
                })
            })
            .collect();
        cores.into_iter().map(|core| core.join().expect("sort thread")).collect()
    });
    drop(items);
    // Each piece is freed once moved: at most one copy of the items more.
    let mut ranges: Vec<Vec<T>> = (0..parts)
        .map(|p| {
            let mut range = Vec::with_capacity(dealt.iter().map(|d| d[p].len()).sum());
            for pieces in &mut dealt {
                range.append(&mut std::mem::take(&mut pieces[p]));
            }
            range
        })
        .collect();
    std::thread::scope(|scope| {
        for range in &mut ranges {
            scope.spawn(move || range.sort_by(cmp));
        }
    });
    ranges
}

/// Sorts the loaded rows by the source's sort columns and cuts them into
/// `parts` contiguous runs.
fn sorted_runs(source: &Source, shared: &Shared, loaded: Vec<RecordBatch>, parts: usize) -> Result<Vec<BatchRun>, PipelineError> {
    let total: usize = loaded.iter().map(RecordBatch::num_rows).sum();
    if total == 0 {
        return Ok(Vec::new());
    }
    let schema = loaded[0].schema();
    let columns = source.sort;
    let ranges: Vec<Vec<(u32, u32)>> = if columns.is_empty() {
        let order: Vec<(u32, u32)> = loaded.iter().enumerate().flat_map(|(b, batch)| (0..batch.num_rows() as u32).map(move |r| (b as u32, r))).collect();
        order.chunks(total.div_ceil(parts.max(1))).map(<[_]>::to_vec).collect()
    } else {
        let fields = columns.iter().map(|c| SortField::new(schema.field_with_name(c).expect("sort column").data_type().clone())).collect();
        let converter = RowConverter::new(fields)?;
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
                            *encoded[b].lock().expect("rows slot") = Some(converter.convert_columns(&cols)?);
                        }
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| h.join().expect("sort thread"))
        })?;
        let encoded: Vec<deltalake::arrow::row::Rows> = encoded.into_iter().map(|m| m.into_inner().expect("rows slot").expect("encoded")).collect();
        // Each row's encoded key beside it: a comparison reads the two
        // keys' bytes, not first their batches' offsets.
        let keyed: Vec<(&[u8], u32, u32)> = encoded.iter().enumerate().flat_map(|(b, rows)| rows.iter().enumerate().map(move |(r, row)| (row.data(), b as u32, r as u32))).collect();
        // Rows of equal sort keys keep their file order.
        let ranges = sort_in_ranges(keyed, parts, |a, b| a.0.cmp(b.0));
        ranges.into_iter().map(|range| range.into_iter().map(|(_, b, r)| (b, r)).collect()).collect()
    };
    let loaded = Arc::new(loaded);
    let shared_columns = Arc::new(shared.columns());
    Ok(ranges
        .into_iter()
        .filter(|range| !range.is_empty())
        .map(|order| {
            let run = SortedRun { loaded: loaded.clone(), order, at: 0, lake_schema: shared.lake_schema.clone(), shared: shared_columns.clone() };
            Box::new(run) as BatchRun
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{RUN_ROWS, runs_of, sort_in_ranges};
    use deltalake::arrow::array::{RecordBatch, new_null_array};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn rows_that_waited_are_cut_into_runs_in_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Null, true)]));
        let batch = |rows| RecordBatch::try_new(schema.clone(), vec![new_null_array(&DataType::Null, rows)]).unwrap();
        let sizes = |runs: Vec<Vec<RecordBatch>>| runs.iter().map(|run| run.iter().map(RecordBatch::num_rows).collect()).collect::<Vec<Vec<usize>>>();
        let half = RUN_ROWS / 2;
        assert_eq!(sizes(runs_of(vec![batch(half), batch(half), batch(RUN_ROWS + 1), batch(3), batch(1)])), [vec![half, half], vec![RUN_ROWS + 1], vec![3, 1]]);
        assert_eq!(sizes(runs_of(vec![batch(5)])), [vec![5]]);
        assert_eq!(sizes(runs_of(Vec::new())), [Vec::<usize>::new()]);
    }

    #[test]
    fn sorting_in_ranges_is_one_stable_sort() {
        // (key, position in the file), with many equal keys.
        let items: Vec<(u32, usize)> = (0..10_000).map(|i| ((i as u32 * 7919) % 97, i)).collect();
        for parts in [1, 2, 3, 8] {
            let ranges = sort_in_ranges(items.clone(), parts, |a, b| a.0.cmp(&b.0));
            assert!(ranges.len() == parts && ranges.iter().all(|r| r.len() > 500), "{parts} ranges of some size");
            let mut sorted = items.clone();
            sorted.sort_by_key(|i| i.0);
            assert_eq!(ranges.concat(), sorted, "the same order as one stable sort ({parts} ranges)");
        }
        assert_eq!(sort_in_ranges(vec![(1, 0)], 4, |a: &(i32, i32), b| a.0.cmp(&b.0)).concat(), vec![(1, 0)]);
        assert!(sort_in_ranges(Vec::<(i32, i32)>::new(), 2, |a, b| a.0.cmp(&b.0)).is_empty());
    }
}
