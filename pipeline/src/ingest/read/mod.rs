//! Readers: one per file format, each turning a delivered file into rows
//! with the row number a person sees (CSV: the record's position, header
//! included; XLSX: the sheet row; JSON Lines: the line). The head of a file,
//! where the header is looked for, comes row by row ([`RawRow`]); the rest
//! in column-major chunks for the typing threads ([`RawChunk`]).
//!
//! A reader gives every value exactly as the file holds it, or rejects the
//! file naming the row (and the column) it cannot read; it never guesses:
//! - CSV encoding is detected, not configured: a byte-order mark (UTF-8,
//!   UTF-16), else the evidence of the first megabyte weighed ([`detect`]).
//!   Other encodings stream through a decoder that marks every byte it
//!   cannot decode, so a byte that is not text in the file's encoding
//!   rejects the file at its row and column, never a garbled value or a
//!   lost row. A byte-order mark at the start of any line (files joined
//!   from several exports) is dropped.
//! - XLSX: the cells the sheet holds, never its declared range (a stray
//!   space at XFD1048576 declares 17 billion cells); content beyond 1000
//!   columns rejects the file; a formula without its saved result is held
//!   as such, and typing refuses it; other sheets are named in a note.
//! - JSON Lines: UTF-8 only; each value as its JSON text (a number keeps
//!   its digits, never passing through a float); a key twice in one object
//!   rejects the file.

use super::records::{self, CsvRecords, QuotedLines};
use crate::PipelineError;
use deltalake::arrow::array::{Array, BinaryArray, BinaryBuilder, StringArray};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use xuncha_core::values;

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
    /// An XLSX formula (its text, without `=`) whose result the file does
    /// not hold.
    Formula(String),
}

impl RawCell {
    pub fn as_cell(&self) -> Cell<'_> {
        match self {
            RawCell::Empty => Cell::Empty,
            RawCell::Text(t) => Cell::Text(t),
            RawCell::Number(n) => Cell::Number(*n),
            RawCell::Serial(n) => Cell::Serial(*n),
            RawCell::Bool(b) => Cell::Bool(*b),
            RawCell::Formula(f) => Cell::Formula(f),
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
    /// A formula whose result the file does not hold.
    Formula(&'a str),
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
            Cell::Formula(f) => format!("={f}"),
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
    /// A CSV record's line breaks inside quoted fields (see [`check_quoted_lines`]).
    quoted_lines: QuotedLines,
}

impl RawRow {
    pub fn new(number: u64, cells: Vec<RawCell>) -> RawRow {
        RawRow { number, cells, quoted_lines: QuotedLines::default() }
    }

    /// Refuses the row if a quote left open seems to have joined lines into
    /// it (see [`check_quoted_lines`]).
    pub fn check_quoted_lines(&self, width: usize) -> Result<(), PipelineError> {
        check_quoted_lines(self.number, self.quoted_lines, self.cells.len(), width)
    }
}

/// A CSV record `number` whose quoted fields hold line breaks must have as
/// many fields as the header (`width`), and no line inside its quotes may
/// look like a record: a note typed on several lines has a comma or two; a
/// quote opened by mistake, which joins the next lines into one record,
/// makes it longer or shorter, or — closed by a quote in a later row's last
/// field — keeps the count but holds whole rows. Such a file is rejected
/// rather than lose the joined rows.
pub fn check_quoted_lines(number: u64, quoted: QuotedLines, fields: usize, width: usize) -> Result<(), PipelineError> {
    let QuotedLines { breaks, widest_line_commas } = quoted;
    if breaks == 0 {
        return Ok(());
    }
    if fields != width {
        return Err(PipelineError::Unreadable(format!(
            "第 {number} 行有以引号开头的一格跨越了 {breaks} 个换行,之后这一行有 {fields} 列,而表头有 {width} 列:这一格的引号多半没有闭合,把其后的行并进了这一行;整份文件未入库,请检查这一行的引号后重新导出"
        )));
    }
    if widest_line_commas + 1 >= width.max(3) {
        return Err(PipelineError::Unreadable(format!(
            "第 {number} 行有以引号开头的一格跨越了 {breaks} 个换行,引号内有一行含 {widest_line_commas} 个逗号,和一整行数据一样:这一格的引号多半没有闭合,把其后的 {breaks} 行并进了这一格;整份文件未入库,请检查第 {number} 行的引号后重新导出"
        )));
    }
    Ok(())
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
    fn read_record(&mut self, records: &mut CsvRecords, number: &mut u64, text: TextOf<'_>) -> Result<bool, PipelineError> {
        let ColumnsBuilder::Text(columns) = &mut self.columns else { unreachable!("CSV records go to text columns") };
        let mut rest: Vec<Vec<u8>> = Vec::new();
        let read = records.read(|i, field| {
            let field = if i == 0 { without_bom(field) } else { field };
            match columns.get_mut(i) {
                Some(column) => column.append_value(field),
                None => rest.push(field.to_vec()),
            }
        });
        let Some(fields) = read.map_err(|e| records::unreadable(*number + 1, &e))? else { return Ok(false) };
        *number += 1;
        check_quoted_lines(*number, records.quoted_lines(), fields, columns.len())?;
        columns.iter_mut().skip(fields).for_each(|column| column.append_value(b""));
        self.numbers.push(*number);
        if !rest.is_empty() {
            let width = columns.len();
            let cells = rest.iter().enumerate().map(|(k, field)| text_cell(*number, width + k, field, text)).collect::<Result<_, _>>()?;
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
    fn finish(self, text: TextOf<'_>) -> Result<RawChunk, PipelineError> {
        let columns = match self.columns {
            ColumnsBuilder::Text(columns) => columns
                .into_iter()
                .enumerate()
                .map(|(i, mut b)| {
                    let bytes = b.finish();
                    text_column(bytes.clone()).map(RawColumn::Text).ok_or_else(|| {
                        let row = (0..bytes.len()).find(|r| std::str::from_utf8(bytes.value(*r)).is_err()).unwrap_or_default();
                        not_text(self.numbers[row], i, text)
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
fn text_cell(number: u64, column: usize, field: &[u8], text: TextOf<'_>) -> Result<RawCell, PipelineError> {
    match std::str::from_utf8(field) {
        Ok("") => Ok(RawCell::Empty),
        Ok(text) => Ok(RawCell::Text(text.to_string())),
        Err(_) => Err(not_text(number, column, text)),
    }
}

/// What a message about a CSV field's text names: the file's encoding and
/// its header (empty while the header is looked for).
#[derive(Clone, Copy)]
struct TextOf<'a> {
    encoding: Encoding,
    header: &'a [String],
}

/// A field without the byte-order mark it starts with: files joined from
/// several exports carry one at the start of each part, never data.
fn without_bom(field: &[u8]) -> &[u8] {
    field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
}

/// A file rejected at a field whose bytes are not text in the file's
/// encoding (a decoder marks a byte it cannot decode as an invalid UTF-8
/// byte, so every encoding is checked the same way, row by row).
fn not_text(number: u64, column: usize, TextOf { encoding, header }: TextOf<'_>) -> PipelineError {
    let name = header.get(column).map(|h| h.trim()).filter(|h| !h.is_empty()).map_or_else(String::new, |h| format!("「{}」", values::excerpt(h, 40)));
    let what = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => "不是有效的 UTF-8 文本(文件按 UTF-8 读取,这一格混入了其他编码的字节、乱码或被截断的字符)",
        Encoding::Gb18030 => "含有 GBK/GB18030 中不存在的字节(文件按 GBK 读取,这一格混入了其他编码的字节或乱码)",
        Encoding::Utf16Le | Encoding::Utf16Be => "含有无法按 UTF-16 解码的字节(文件被截断或损坏)",
    };
    PipelineError::Unreadable(format!("第 {number} 行第 {} 列{name}{what};整份文件未入库,请用同一种编码(UTF-8 或 GBK)重新导出后再报送", column + 1))
}

mod encoding;
mod jsonl;
mod xlsx;

use encoding::DecodingReader;
pub use encoding::{Encoding, detect, detect_encoding};
pub use jsonl::jsonl_rows;
pub use xlsx::{MAX_SHEET_COLUMNS, xlsx_rows};

/// Rows of a spreadsheet or JSON file, one at a time.
pub type RowIter = Box<dyn Iterator<Item = Result<RawRow, PipelineError>> + Send>;

/// The rows of a delivered file: one at a time for its head (where the
/// header is looked for), then in chunks for the typing threads.
pub struct Rows {
    inner: RowsInner,
    /// The header, once found: messages name a column by it.
    header: Vec<String>,
    /// The first field of the head (row, column) that is not text in the
    /// file's encoding: reported once the header names its column.
    head_fault: Option<(u64, usize)>,
}

enum RowsInner {
    /// CSV records (`sizes`: the bytes of each column of the last chunk).
    Csv {
        records: Box<CsvRecords>,
        number: u64,
        sizes: Vec<usize>,
        encoding: Encoding,
    },
    Cells(RowIter),
}

impl Rows {
    pub fn cells(rows: RowIter) -> Rows {
        Rows { inner: RowsInner::Cells(rows), header: Vec::new(), head_fault: None }
    }

    /// Names the columns for the messages about the rows below the header.
    pub fn name_columns(&mut self, header: &[String]) {
        self.header = header.to_vec();
    }

    /// Rejects the file if a field of the head read so far is not text in
    /// its encoding, naming its row and (once [`Rows::name_columns`] named
    /// them) its column.
    pub fn check_head_text(&self) -> Result<(), PipelineError> {
        match (&self.inner, self.head_fault) {
            (RowsInner::Csv { encoding, .. }, Some((number, column))) => Err(not_text(number, column, TextOf { encoding: *encoding, header: &self.header })),
            _ => Ok(()),
        }
    }

    /// The next row on its own (a field that is not text is noted for
    /// [`Rows::check_head_text`] and read as it decodes).
    pub fn next_row(&mut self) -> Option<Result<RawRow, PipelineError>> {
        match &mut self.inner {
            RowsInner::Csv { records, number, .. } => {
                let mut cells = Vec::new();
                let fault = &mut self.head_fault;
                let read = records.read(|i, field| {
                    let field = if i == 0 { without_bom(field) } else { field };
                    cells.push(match std::str::from_utf8(field) {
                        Ok("") => RawCell::Empty,
                        Ok(text) => RawCell::Text(text.to_string()),
                        Err(_) => {
                            fault.get_or_insert((*number + 1, i));
                            RawCell::Text(String::from_utf8_lossy(field).into_owned())
                        }
                    });
                });
                match read {
                    Ok(Some(_)) => *number += 1,
                    Ok(None) => return None,
                    Err(e) => return Some(Err(records::unreadable(*number + 1, &e))),
                }
                Some(Ok(RawRow { number: *number, cells, quoted_lines: records.quoted_lines() }))
            }
            RowsInner::Cells(rows) => rows.next(),
        }
    }

    /// Up to `rows` next rows as one chunk of `width` columns, or `None` at
    /// the end of the file.
    pub fn next_chunk(&mut self, width: usize, rows: usize) -> Result<Option<RawChunk>, PipelineError> {
        let (mut chunk, encoding) = match &self.inner {
            RowsInner::Csv { sizes, encoding, .. } => (ChunkBuilder::text(width, rows, sizes), *encoding),
            RowsInner::Cells(_) => (ChunkBuilder::cells(width), Encoding::Utf8),
        };
        let text = TextOf { encoding, header: &self.header };
        while chunk.numbers.len() < rows {
            match &mut self.inner {
                RowsInner::Csv { records, number, .. } => {
                    if !chunk.read_record(records, number, text)? {
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
        if chunk.numbers.is_empty() { Ok(None) } else { chunk.finish(text).map(Some) }
    }
}

/// Given rows as one chunk of `width` columns.
pub fn chunk_of(rows: Vec<RawRow>, width: usize) -> Result<RawChunk, PipelineError> {
    let mut chunk = ChunkBuilder::cells(width);
    for row in rows {
        chunk.push_row(row);
    }
    chunk.finish(TextOf { encoding: Encoding::Utf8, header: &[] })
}

/// Opens a CSV file and streams its records.
pub fn csv_rows(path: &Path) -> Result<(Encoding, Rows), PipelineError> {
    let encoding = detect_encoding(path)?;
    // UTF-8 is read straight into the records' buffer; other encodings
    // through a decoder.
    let file = File::open(path)?;
    let reader: Box<dyn Read + Send> = match encoding.decoder() {
        None => Box::new(file),
        Some(decoder) => Box::new(DecodingReader::new(file, decoder)),
    };
    let inner = RowsInner::Csv { records: Box::new(CsvRecords::new(reader)), number: 0, sizes: Vec::new(), encoding };
    Ok((encoding, Rows { inner, header: Vec::new(), head_fault: None }))
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
