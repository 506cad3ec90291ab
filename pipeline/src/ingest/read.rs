//! Readers: one per file format, each turning a delivered file into rows
//! with the row number a person sees (CSV: the record's position, header
//! included; XLSX: the sheet row; JSON Lines: the line). The head of a file,
//! where the header is looked for, comes row by row ([`RawRow`]); the rest
//! in column-major chunks for the typing threads ([`RawChunk`]).
//!
//! CSV encoding is detected, not configured: a UTF-8 BOM, else valid UTF-8
//! in the first megabyte, else GB18030 (a superset of GBK). Decoding streams,
//! so a large file is never held in memory.

use super::records::{self, CsvRecords};
use crate::PipelineError;
use crate::contract::Source;
use deltalake::arrow::array::{Array, BinaryArray, BinaryBuilder, StringArray};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// One cell as read, before typing, owning its text (a CSV cell in a chunk
/// stays in its column's string array; see [`Cell`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RawCell {
    Empty,
    Text(String),
    Number(f64),
    /// An XLSX date cell, as its Excel serial number.
    Serial(f64),
    Bool(bool),
}

impl RawCell {
    pub fn as_cell(&self) -> Cell<'_> {
        match self {
            RawCell::Empty => Cell::Empty,
            RawCell::Text(t) => Cell::Text(t),
            RawCell::Number(n) => Cell::Number(*n),
            RawCell::Serial(n) => Cell::Serial(*n),
            RawCell::Bool(b) => Cell::Bool(*b),
        }
    }
}

/// One cell as read, borrowed from its row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    /// An XLSX date cell, as its Excel serial number.
    Serial(f64),
    Bool(bool),
}

impl Cell<'_> {
    /// The cell as text, the way the department sees it.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => (*t).to_string(),
            Cell::Number(n) | Cell::Serial(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) | Cell::Serial(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }

    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            // Fast path: text that starts with a printable ASCII character.
            Cell::Text(t) => !t.as_bytes().first().is_some_and(u8::is_ascii_graphic) && t.trim().is_empty(),
            _ => false,
        }
    }
}

/// A row as read, whatever holds it: a [`RawRow`] of a file's head or one
/// row of a [`RawChunk`].
pub trait Row {
    /// The row number a person sees.
    fn number(&self) -> u64;
    /// The number of cells.
    fn width(&self) -> usize;
    /// Cell `i` (empty past the end of the row).
    fn cell(&self, i: usize) -> Cell<'_>;

    fn cells(&self) -> impl Iterator<Item = Cell<'_>> {
        (0..self.width()).map(|i| self.cell(i))
    }

    /// Whether every cell is blank.
    fn is_blank(&self) -> bool {
        self.cells().all(|c| c.is_blank())
    }
}

/// One row read on its own: the head of a file, where the header is looked
/// for, and every row of a spreadsheet or JSON file before it joins a chunk.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub number: u64,
    cells: Vec<RawCell>,
}

impl RawRow {
    pub fn new(number: u64, cells: Vec<RawCell>) -> RawRow {
        RawRow { number, cells }
    }
}

impl Row for RawRow {
    fn number(&self) -> u64 {
        self.number
    }

    fn width(&self) -> usize {
        self.cells.len()
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        self.cells.get(i).map_or(Cell::Empty, RawCell::as_cell)
    }
}

/// Rows of a file as columns, as the typing threads take them: one column
/// per header cell (a CSV column is one Arrow string array, its empty
/// strings the empty cells), and the cells past the header's width kept
/// aside for the few rows that have them.
#[derive(Debug)]
pub struct RawChunk {
    numbers: Vec<u64>,
    columns: Vec<RawColumn>,
    /// Cells past the header's width, by row index, ascending.
    overflow: Vec<(usize, Vec<RawCell>)>,
}

/// One column of a [`RawChunk`].
#[derive(Debug)]
pub enum RawColumn {
    Text(StringArray),
    Cells(Vec<RawCell>),
}

impl RawColumn {
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            RawColumn::Text(array) => match array.value(row) {
                "" => Cell::Empty,
                text => Cell::Text(text),
            },
            RawColumn::Cells(cells) => cells[row].as_cell(),
        }
    }
}

impl RawChunk {
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Each row's number, in order.
    pub fn numbers(&self) -> &[u64] {
        &self.numbers
    }

    /// Column `i` of the header (`None` past its width).
    pub fn column(&self, i: usize) -> Option<&RawColumn> {
        self.columns.get(i)
    }

    /// Whether any row has cells past the header's width.
    pub fn has_overflow(&self) -> bool {
        !self.overflow.is_empty()
    }

    pub fn row(&self, index: usize) -> ChunkRow<'_> {
        let overflow = self.overflow.binary_search_by_key(&index, |(i, _)| *i).map_or(&[][..], |at| &self.overflow[at].1);
        ChunkRow { chunk: self, index, overflow }
    }
}

/// One row of a [`RawChunk`].
pub struct ChunkRow<'a> {
    chunk: &'a RawChunk,
    index: usize,
    overflow: &'a [RawCell],
}

impl Row for ChunkRow<'_> {
    fn number(&self) -> u64 {
        self.chunk.numbers[self.index]
    }

    fn width(&self) -> usize {
        self.chunk.columns.len() + self.overflow.len()
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        match self.chunk.columns.get(i) {
            Some(column) => column.cell(self.index),
            None => self.overflow.get(i - self.chunk.columns.len()).map_or(Cell::Empty, RawCell::as_cell),
        }
    }
}

/// Gathers rows into a [`RawChunk`] of a given width: CSV records into
/// text columns, spreadsheet and JSON rows into columns of cells.
struct ChunkBuilder {
    numbers: Vec<u64>,
    columns: ColumnsBuilder,
    overflow: Vec<(usize, Vec<RawCell>)>,
}

enum ColumnsBuilder {
    /// Bytes as read; checked as UTF-8 a whole column at a time.
    Text(Vec<BinaryBuilder>),
    Cells(Vec<Vec<RawCell>>),
}

impl ChunkBuilder {
    fn new(columns: ColumnsBuilder) -> ChunkBuilder {
        ChunkBuilder { numbers: Vec::new(), columns, overflow: Vec::new() }
    }

    /// Text columns for `rows` rows, each sized for the bytes `sizes` says
    /// its last chunk took (growing a buffer copies it).
    fn text(width: usize, rows: usize, sizes: &[usize]) -> ChunkBuilder {
        ChunkBuilder::new(ColumnsBuilder::Text((0..width).map(|i| BinaryBuilder::with_capacity(rows, sizes.get(i).map_or(1024, |size| size + size / 8))).collect()))
    }

    fn cells(width: usize) -> ChunkBuilder {
        ChunkBuilder::new(ColumnsBuilder::Cells(vec![Vec::new(); width]))
    }

    /// Reads the next CSV record into the text columns (a short record's
    /// missing fields empty); `false` at the end of the file.
    fn read_record(&mut self, records: &mut CsvRecords, number: &mut u64) -> Result<bool, PipelineError> {
        let ColumnsBuilder::Text(columns) = &mut self.columns else { unreachable!("CSV records go to text columns") };
        let mut rest: Vec<Vec<u8>> = Vec::new();
        let read = records.read(|i, field| match columns.get_mut(i) {
            Some(column) => column.append_value(field),
            None => rest.push(field.to_vec()),
        });
        let Some(fields) = read.map_err(|e| records::unreadable(*number + 1, &e))? else { return Ok(false) };
        *number += 1;
        columns.iter_mut().skip(fields).for_each(|column| column.append_value(b""));
        self.numbers.push(*number);
        if !rest.is_empty() {
            let width = columns.len();
            let cells = rest.iter().enumerate().map(|(k, field)| text_cell(*number, width + k, field)).collect::<Result<_, _>>()?;
            self.overflow.push((self.numbers.len() - 1, cells));
        }
        Ok(true)
    }

    fn push_row(&mut self, row: RawRow) {
        let ColumnsBuilder::Cells(columns) = &mut self.columns else { unreachable!("rows of cells go to cell columns") };
        self.numbers.push(row.number);
        let mut cells = row.cells.into_iter();
        for column in columns.iter_mut() {
            column.push(cells.next().unwrap_or(RawCell::Empty));
        }
        let rest: Vec<RawCell> = cells.collect();
        if !rest.is_empty() {
            self.overflow.push((self.numbers.len() - 1, rest));
        }
    }

    /// The chunk; an error names the first row and column that is not
    /// UTF-8 text.
    fn finish(self) -> Result<RawChunk, PipelineError> {
        let columns = match self.columns {
            ColumnsBuilder::Text(columns) => columns
                .into_iter()
                .enumerate()
                .map(|(i, mut b)| {
                    let bytes = b.finish();
                    text_column(bytes.clone()).map(RawColumn::Text).ok_or_else(|| {
                        let row = (0..bytes.len()).find(|r| std::str::from_utf8(bytes.value(*r)).is_err()).unwrap_or_default();
                        not_utf8(self.numbers[row], i)
                    })
                })
                .collect::<Result<_, _>>()?,
            ColumnsBuilder::Cells(columns) => columns.into_iter().map(RawColumn::Cells).collect(),
        };
        Ok(RawChunk { numbers: self.numbers, columns, overflow: self.overflow })
    }
}

/// A column of CSV fields as text, or `None` if a field is not UTF-8. The
/// column's bytes are checked at once (SIMD), then that each field starts
/// a character: then every field is valid UTF-8 on its own. (Arrow's own
/// check runs the standard library's, several times slower on Chinese
/// text; this is the one place ingest skips it.)
#[allow(unsafe_code)]
fn text_column(column: BinaryArray) -> Option<StringArray> {
    let (offsets, values, nulls) = column.into_parts();
    let starts_character = |offset: &i32| values.get(*offset as usize).is_none_or(|b| (*b as i8) >= -0x40);
    if simdutf8::basic::from_utf8(&values).is_err() || !offsets.iter().all(starts_character) {
        return None;
    }
    // SAFETY: the values are UTF-8 and every offset starts a character (a
    // byte that is not 0b10xxxxxx, or the end), so each value is UTF-8.
    Some(unsafe { StringArray::new_unchecked(offsets, values, nulls) })
}

/// A CSV field as a cell.
fn text_cell(number: u64, column: usize, field: &[u8]) -> Result<RawCell, PipelineError> {
    match std::str::from_utf8(field) {
        Ok("") => Ok(RawCell::Empty),
        Ok(text) => Ok(RawCell::Text(text.to_string())),
        Err(_) => Err(not_utf8(number, column)),
    }
}

fn not_utf8(number: u64, column: usize) -> PipelineError {
    PipelineError::Unreadable(format!("第 {number} 行第 {} 列不是有效的 UTF-8 文本(文件开头是 UTF-8,后面混入了其他编码?请整份另存为 UTF-8 或 GBK)", column + 1))
}

/// How a file's text was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gb18030 => "GBK/GB18030",
        }
    }
}

/// Detects the encoding of a CSV file from its first megabyte.
pub fn detect_encoding(path: &Path) -> io::Result<Encoding> {
    let mut head = Vec::with_capacity(1 << 20);
    File::open(path)?.take(1 << 20).read_to_end(&mut head)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Encoding::Utf8Bom);
    }
    match std::str::from_utf8(&head) {
        Ok(_) => Ok(Encoding::Utf8),
        // A multi-byte character cut at the megabyte boundary is still UTF-8.
        Err(e) if e.error_len().is_none() && head.len() == 1 << 20 => Ok(Encoding::Utf8),
        Err(_) => Ok(Encoding::Gb18030),
    }
}

/// GB18030 bytes in, UTF-8 bytes out, streaming.
struct DecodingReader<R: Read> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.output.len() {
            if self.eof {
                return Ok(0);
            }
            self.input.resize(64 * 1024, 0);
            let n = self.inner.read(&mut self.input)?;
            self.input.truncate(n);
            self.eof = n == 0;
            let mut out = String::with_capacity(n * 2 + 16);
            let (_, _, _) = self.decoder.decode_to_string(&self.input, &mut out, self.eof);
            self.output = out.into_bytes();
            self.out_pos = 0;
        }
        let n = buf.len().min(self.output.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Rows of a spreadsheet or JSON file, one at a time.
pub type RowIter = Box<dyn Iterator<Item = Result<RawRow, PipelineError>> + Send>;

/// The rows of a delivered file: one at a time for its head (where the
/// header is looked for), then in chunks for the typing threads.
pub struct Rows {
    inner: RowsInner,
}

enum RowsInner {
    /// CSV records (`sizes`: the bytes of each column of the last chunk).
    Csv { records: Box<CsvRecords>, number: u64, sizes: Vec<usize> },
    Cells(RowIter),
}

impl Rows {
    pub fn cells(rows: RowIter) -> Rows {
        Rows { inner: RowsInner::Cells(rows) }
    }

    /// The next row on its own.
    pub fn next_row(&mut self) -> Option<Result<RawRow, PipelineError>> {
        match &mut self.inner {
            RowsInner::Csv { records, number, .. } => {
                let mut cells = Vec::new();
                match records.read(|i, field| cells.push(text_cell(*number + 1, i, field))) {
                    Ok(Some(_)) => *number += 1,
                    Ok(None) => return None,
                    Err(e) => return Some(Err(records::unreadable(*number + 1, &e))),
                }
                let mut cells: Vec<RawCell> = match cells.into_iter().collect() {
                    Ok(cells) => cells,
                    Err(e) => return Some(Err(e)),
                };
                if *number == 1
                    && let Some(RawCell::Text(first)) = cells.first_mut()
                {
                    *first = first.trim_start_matches('\u{feff}').to_string();
                }
                Some(Ok(RawRow::new(*number, cells)))
            }
            RowsInner::Cells(rows) => rows.next(),
        }
    }

    /// Up to `rows` next rows as one chunk of `width` columns, or `None` at
    /// the end of the file.
    pub fn next_chunk(&mut self, width: usize, rows: usize) -> Result<Option<RawChunk>, PipelineError> {
        let mut chunk = match &self.inner {
            RowsInner::Csv { sizes, .. } => ChunkBuilder::text(width, rows, sizes),
            RowsInner::Cells(_) => ChunkBuilder::cells(width),
        };
        while chunk.numbers.len() < rows {
            match &mut self.inner {
                RowsInner::Csv { records, number, .. } => {
                    if !chunk.read_record(records, number)? {
                        break;
                    }
                }
                RowsInner::Cells(iter) => match iter.next() {
                    Some(row) => chunk.push_row(row?),
                    None => break,
                },
            }
        }
        if let (RowsInner::Csv { sizes, .. }, ColumnsBuilder::Text(columns)) = (&mut self.inner, &chunk.columns) {
            *sizes = columns.iter().map(|c| c.values_slice().len()).collect();
        }
        if chunk.numbers.is_empty() { Ok(None) } else { chunk.finish().map(Some) }
    }
}

/// Given rows as one chunk of `width` columns.
pub fn chunk_of(rows: Vec<RawRow>, width: usize) -> Result<RawChunk, PipelineError> {
    let mut chunk = ChunkBuilder::cells(width);
    for row in rows {
        chunk.push_row(row);
    }
    chunk.finish()
}

/// Opens a CSV file and streams its records.
pub fn csv_rows(path: &Path) -> Result<(Encoding, Rows), PipelineError> {
    let encoding = detect_encoding(path)?;
    // The records' buffer is the only one: the file is read straight into it.
    let file = File::open(path)?;
    let reader: Box<dyn Read + Send> = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => Box::new(file),
        Encoding::Gb18030 => Box::new(DecodingReader {
            inner: file,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: Vec::new(),
            output: Vec::new(),
            out_pos: 0,
            eof: false,
        }),
    };
    Ok((encoding, Rows { inner: RowsInner::Csv { records: Box::new(CsvRecords::new(reader)), number: 0, sizes: Vec::new() } }))
}

/// Opens an XLSX workbook and returns the rows of its first sheet (or the
/// sheet named `sheet`).
pub fn xlsx_rows(path: &Path, sheet: Option<&str>) -> Result<RowIter, PipelineError> {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e| PipelineError::Unreadable(format!("无法打开 XLSX: {e}")))?;
    let range = match sheet {
        Some(name) => workbook.worksheet_range(name).map_err(|e| PipelineError::Unreadable(format!("工作表「{name}」: {e}")))?,
        None => workbook
            .worksheet_range_at(0)
            .ok_or_else(|| PipelineError::Unreadable("工作簿中没有工作表".into()))?
            .map_err(|e| PipelineError::Unreadable(format!("无法读取第一个工作表: {e}")))?,
    };
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let rows: Vec<RawRow> = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let mut cells: Vec<RawCell> = vec![RawCell::Empty; first_col as usize];
            cells.extend(row.iter().map(|cell| match cell {
                Data::Empty | Data::Error(_) => RawCell::Empty,
                Data::String(s) => RawCell::Text(s.clone()),
                Data::Float(f) => RawCell::Number(*f),
                Data::Int(i) => RawCell::Number(*i as f64),
                Data::Bool(b) => RawCell::Bool(*b),
                Data::DateTime(d) => RawCell::Serial(d.as_f64()),
                Data::DateTimeIso(s) | Data::DurationIso(s) => RawCell::Text(s.clone()),
            }));
            RawRow::new(u64::from(first_row) + i as u64 + 1, cells)
        })
        .collect();
    Ok(Box::new(rows.into_iter().map(Ok)))
}

/// Opens a JSON Lines file. Each object's keys become columns: the header
/// returned names every key seen in the first 1,000 lines, and each line's
/// cells follow that order (a key first seen later still lands, in `extra`).
pub fn jsonl_rows(path: &Path) -> Result<(Vec<String>, RowIter), PipelineError> {
    use std::io::BufRead;
    let mut keys: Vec<String> = Vec::new();
    let head = BufReader::new(File::open(path)?);
    for line in head.lines().take(1000) {
        let line = line?;
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&line) {
            for k in map.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let lines = BufReader::with_capacity(1 << 16, File::open(path)?).lines();
    let header = keys.clone();
    let iter = lines.enumerate().map(move |(i, line)| {
        let number = i as u64 + 1;
        let line = line.map_err(PipelineError::Io)?;
        if line.trim().is_empty() {
            return Ok(RawRow::new(number, Vec::new()));
        }
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| PipelineError::Unreadable(format!("第 {number} 行不是 JSON: {e}")))?;
        let serde_json::Value::Object(mut map) = value else {
            return Err(PipelineError::Unreadable(format!("第 {number} 行不是 JSON 对象")));
        };
        let mut cells: Vec<RawCell> = keys.iter().map(|k| map.remove(k).map_or(RawCell::Empty, json_cell)).collect();
        // Keys not seen in the head of the file: appended as `key=value` text
        // so they reach `extra` rather than vanish.
        for (k, v) in map {
            cells.push(RawCell::Text(format!("{k}={}", json_cell(v).as_cell().text())));
        }
        Ok(RawRow::new(number, cells))
    });
    Ok((header, Box::new(iter)))
}

fn json_cell(v: serde_json::Value) -> RawCell {
    match v {
        serde_json::Value::Null => RawCell::Empty,
        serde_json::Value::Bool(b) => RawCell::Bool(b),
        serde_json::Value::Number(n) => n.as_f64().map_or(RawCell::Empty, RawCell::Number),
        serde_json::Value::String(s) => RawCell::Text(s),
        other => RawCell::Text(other.to_string()),
    }
}

/// Finds the header row among the first rows: the row naming most of the
/// source's columns (title rows above it are skipped). Returns its position.
pub fn find_header(source: &Source, rows: &[RawRow]) -> Option<usize> {
    let score = |row: &RawRow| row.cells().filter(|c| source.match_header(&c.text()).is_some()).count();
    let best = rows.iter().enumerate().max_by_key(|(i, row)| (score(row), std::cmp::Reverse(*i)))?;
    (score(best.1) >= 2.min(source.columns.len())).then_some(best.0)
}

#[cfg(test)]
mod tests {
    use super::text_column;
    use deltalake::arrow::array::{Array, BinaryArray};

    #[test]
    fn a_text_column_is_valid_only_if_every_field_is() {
        let column = |fields: &[&[u8]]| text_column(BinaryArray::from_iter_values(fields.iter()));
        let text = column(&[b"\xe5\xbc\xa0\xe4\xb8\x89", b"", b"abc"]).expect("UTF-8 fields");
        assert_eq!((text.value(0), text.value(1), text.value(2), text.len()), ("张三", "", "abc", 3));
        // 张 cut in two: the bytes together are UTF-8, each field is not.
        assert!(column(&[b"a\xe5", b"\xbc\xa0b"]).is_none());
        assert!(column(&[b"\xe5\xbc"]).is_none(), "a character cut at the end");
        assert!(column(&[b"ok", b"\xff"]).is_none(), "not UTF-8 at all");
    }
}
