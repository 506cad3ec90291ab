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
use std::io::{self, BufReader, Read};
use std::path::Path;
use xuncha_core::contract::Source;
use xuncha_core::mapping::HeaderMappings;
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

/// How a file's text was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gb18030 => "GBK/GB18030",
            Encoding::Utf16Le => "UTF-16LE (BOM)",
            Encoding::Utf16Be => "UTF-16BE (BOM)",
        }
    }

    /// The decoder of an encoding other than UTF-8 (which is read as it is).
    fn decoder(self) -> Option<encoding_rs::Decoder> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Gb18030 => Some(encoding_rs::GB18030.new_decoder_without_bom_handling()),
            Encoding::Utf16Le => Some(encoding_rs::UTF_16LE.new_decoder_with_bom_removal()),
            Encoding::Utf16Be => Some(encoding_rs::UTF_16BE.new_decoder_with_bom_removal()),
        }
    }
}

/// Bytes looked at to tell a CSV file's encoding.
const DETECT_BYTES: usize = 1 << 20;

/// Detects the encoding of a CSV file from its first megabyte (see [`detect`]).
pub fn detect_encoding(path: &Path) -> Result<Encoding, PipelineError> {
    let mut head = Vec::with_capacity(DETECT_BYTES);
    File::open(path)?.take(DETECT_BYTES as u64).read_to_end(&mut head)?;
    detect(&head, head.len() < DETECT_BYTES).map_err(PipelineError::Unreadable)
}

/// Tells the encoding of a CSV file from `head`, its first bytes (`whole`:
/// the whole file). A byte-order mark decides. Otherwise the evidence is
/// weighed. A UTF-8 character of three or four bytes (every Chinese
/// character) is strong evidence: GBK text hardly ever forms one by chance,
/// while a two-byte one it forms for one character in six to ten. So text
/// with strong evidence at least half as heavy as its faults (bytes that
/// are not UTF-8: a stray byte, a cut character, a part in another
/// encoding) is UTF-8, and the reader then rejects the row with the fault:
/// GBK would decode such text into other characters without a complaint.
/// Valid UTF-8 is UTF-8, unless its only non-ASCII characters are two-byte
/// ones that GB18030 also decodes cleanly (a few GBK characters). Otherwise
/// text GB18030 decodes cleanly is GBK; else whichever has fewer faults,
/// and the reader rejects the first row with one.
pub fn detect(head: &[u8], whole: bool) -> Result<Encoding, String> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Encoding::Utf8Bom);
    }
    if head.starts_with(b"\xFF\xFE") {
        return Ok(Encoding::Utf16Le);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Ok(Encoding::Utf16Be);
    }
    let nuls = head.iter().filter(|b| **b == 0).count();
    if nuls > 0 && nuls * 20 >= head.len() {
        return Err("文件中有大量 NUL 字节:像是没有 BOM 的 UTF-16 文本或二进制文件,不是 CSV;请在 Excel/WPS 中另存为「CSV UTF-8(逗号分隔)」或 XLSX 后重新报送".into());
    }
    let Utf8Evidence { two_byte, longer, faults } = utf8_evidence(head, whole);
    if faults == 0 && (longer > 0 || two_byte == 0) {
        return Ok(Encoding::Utf8);
    }
    if faults > 0 && 2 * longer >= faults {
        return Ok(Encoding::Utf8);
    }
    let gbk_faults = gb18030_faults(head, whole);
    Ok(if gbk_faults == 0 || gbk_faults < faults { Encoding::Gb18030 } else { Encoding::Utf8 })
}

/// What `bytes` say of UTF-8: its valid characters of two bytes and of
/// three or four, and the places where the bytes are not UTF-8 (a
/// character cut at the end of a head that is not the whole file is not a
/// fault).
struct Utf8Evidence {
    two_byte: usize,
    longer: usize,
    faults: usize,
}

fn utf8_evidence(bytes: &[u8], whole: bool) -> Utf8Evidence {
    let mut evidence = Utf8Evidence { two_byte: 0, longer: 0, faults: 0 };
    let count = |valid: &[u8], evidence: &mut Utf8Evidence| {
        for b in valid {
            match b {
                0xC0..=0xDF => evidence.two_byte += 1,
                0xE0.. => evidence.longer += 1,
                _ => {}
            }
        }
    };
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                count(valid.as_bytes(), &mut evidence);
                return evidence;
            }
            Err(e) => {
                count(&rest[..e.valid_up_to()], &mut evidence);
                match e.error_len() {
                    Some(bad) => {
                        evidence.faults += 1;
                        rest = &rest[e.valid_up_to() + bad..];
                    }
                    None => {
                        evidence.faults += usize::from(whole);
                        return evidence;
                    }
                }
            }
        }
    }
}

/// The places where GB18030 cannot decode `bytes`.
fn gb18030_faults(bytes: &[u8], whole: bool) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 64 * 1024];
    let (mut faults, mut rest) = (0, bytes);
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(rest, &mut out, whole);
        rest = &rest[read..];
        match result {
            encoding_rs::DecoderResult::InputEmpty => return faults,
            encoding_rs::DecoderResult::OutputFull => {}
            encoding_rs::DecoderResult::Malformed(..) => faults += 1,
        }
    }
}

/// Bytes of another encoding in, UTF-8 bytes out, streaming. A byte
/// sequence the encoding does not have comes out as the byte 0xFF, which
/// is not UTF-8: the reader's UTF-8 check then names its row and column.
struct DecodingReader<R: Read> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    /// The undecoded bytes are `input[in_at..in_end]`.
    in_at: usize,
    in_end: usize,
    eof: bool,
    output: Vec<u8>,
    /// The decoded bytes not yet handed out are `output[out_at..out_end]`.
    out_at: usize,
    out_end: usize,
    /// The decoder has had the end of the input.
    done: bool,
}

impl<R: Read> DecodingReader<R> {
    const BYTES: usize = 64 * 1024;

    fn new(inner: R, decoder: encoding_rs::Decoder) -> DecodingReader<R> {
        // Every input byte may become three output bytes (0x80 is € in GBK).
        let output = vec![0; 3 * Self::BYTES + 16];
        DecodingReader { inner, decoder, input: vec![0; Self::BYTES], in_at: 0, in_end: 0, eof: false, output, out_at: 0, out_end: 0, done: false }
    }

    /// Decodes more input into the empty output buffer.
    fn decode(&mut self) -> io::Result<()> {
        if self.in_at == self.in_end && !self.eof {
            self.in_end = self.inner.read(&mut self.input)?;
            self.in_at = 0;
            self.eof = self.in_end == 0;
        }
        // Leave a byte for a fault's marker.
        let room = self.output.len() - 1;
        let (result, read, mut written) = self.decoder.decode_to_utf8_without_replacement(&self.input[self.in_at..self.in_end], &mut self.output[..room], self.eof);
        self.in_at += read;
        match result {
            encoding_rs::DecoderResult::Malformed(..) => {
                self.output[written] = 0xFF;
                written += 1;
            }
            encoding_rs::DecoderResult::InputEmpty => self.done = self.eof,
            encoding_rs::DecoderResult::OutputFull => {}
        }
        (self.out_at, self.out_end) = (0, written);
        Ok(())
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out_end {
            if self.done {
                return Ok(0);
            }
            self.decode()?;
        }
        let n = buf.len().min(self.out_end - self.out_at);
        buf[..n].copy_from_slice(&self.output[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

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

/// A sheet's widest plausible row: a cell with content beyond it rejects
/// the file (blank cells beyond it, such as a stray space typed far to
/// the right, are ignored).
const MAX_SHEET_COLUMNS: u32 = 1000;

/// Opens an XLSX workbook and returns the rows of its first sheet (or the
/// sheet named `sheet`), and notes for the report (other sheets not read).
///
/// Only the cells the sheet holds are read: a sheet's declared range may
/// reach cell XFD1048576 for one stray space, and is never allocated; the
/// zip is checked first against bombs (see `xuncha_core::workbook`). A
/// formula whose result was not saved (a file written by a program, never
/// opened in Excel) is a [`RawCell::Formula`], which typing refuses.
pub fn xlsx_rows(path: &Path, sheet: Option<&str>) -> Result<(RowIter, Vec<String>), PipelineError> {
    use calamine::{DataRef, Reader, Xlsx, open_workbook};
    let unreadable = |e: calamine::XlsxError| PipelineError::Unreadable(format!("无法读取 XLSX: {}", values::excerpt(&e.to_string(), 200)));
    let checked = xuncha_core::workbook::check_xlsx(BufReader::new(File::open(path)?), &xuncha_core::workbook::WorkbookLimits::DELIVERY).map_err(PipelineError::Unreadable)?;
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(unreadable)?;
    let names = workbook.sheet_names();
    let (name, others) = match sheet {
        Some(name) if names.iter().any(|n| n == name) => (name.to_string(), names.iter().filter(|n| *n != name).cloned().collect()),
        Some(name) => return Err(PipelineError::Unreadable(format!("工作簿中没有名为「{name}」的工作表(有: {})", names.join("、")))),
        None => xuncha_core::workbook::visible_sheet(workbook.sheets_metadata()).ok_or_else(|| PipelineError::Unreadable("工作簿中没有工作表".into()))?,
    };
    let mut notes = Vec::new();
    if !others.is_empty() {
        notes.push(format!("工作簿有 {} 个工作表,只读取了「{name}」;未读取: {}(如需入库,请把它们另存为单独的文件)", names.len(), values::excerpt(&others.join("、"), 200)));
    }
    if checked.date_1904 {
        notes.push("工作簿使用 1904 日期系统(Mac 版 Excel),日期格式的单元格已按该系统换算".into());
    }
    let mut cells: Vec<(u32, u32, RawCell)> = Vec::new();
    // Cells written without a value: a formula whose result was not saved, or a styled blank.
    let mut valueless: Vec<usize> = Vec::new();
    {
        let mut reader = workbook.worksheet_cells_reader(&name).map_err(unreadable)?;
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (row, col) = cell.get_position();
            let value = match cell.get_value() {
                DataRef::Empty => {
                    valueless.push(cells.len());
                    RawCell::Empty
                }
                DataRef::String(s) => RawCell::Text(unescape_xstring(s)),
                DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => RawCell::Text(s.clone()),
                DataRef::SharedString(s) => RawCell::Text(unescape_xstring(s)),
                DataRef::Float(f) => RawCell::Number(*f),
                DataRef::Int(i) => RawCell::Number(*i as f64),
                DataRef::Bool(b) => RawCell::Bool(*b),
                DataRef::DateTime(d) => RawCell::Serial(checked.serial_1900(d.as_f64())),
                // What the department sees in the cell: #DIV/0!, #N/A, …
                DataRef::Error(e) => RawCell::Text(e.to_string()),
            };
            if col >= MAX_SHEET_COLUMNS && !value.as_cell().is_blank() {
                return Err(PipelineError::Unreadable(format!(
                    "工作表「{name}」第 {} 行第 {} 列有内容,超出了表格的合理宽度({MAX_SHEET_COLUMNS} 列);请删除表格右侧多余的内容后重新报送",
                    row + 1,
                    col + 1
                )));
            }
            if col < MAX_SHEET_COLUMNS {
                cells.push((row, col, value));
            }
        }
    }
    if !valueless.is_empty() {
        let formulas = sheet_formulas(&mut workbook, &name).map_err(unreadable)?;
        for at in valueless {
            let (row, col, _) = cells[at];
            if let Some(formula) = formulas.get(&(row, col)) {
                cells[at].2 = RawCell::Formula(formula.clone());
            }
        }
    }
    // Rows without a cell are not in the sheet.
    let mut rows: std::collections::BTreeMap<u32, Vec<RawCell>> = std::collections::BTreeMap::new();
    for (row, col, value) in cells {
        let row = rows.entry(row).or_default();
        let col = col as usize;
        if row.len() <= col {
            row.resize(col + 1, RawCell::Empty);
        }
        row[col] = value;
    }
    Ok((Box::new(rows.into_iter().map(|(row, cells)| Ok(RawRow::new(u64::from(row) + 1, cells)))), notes))
}

/// A spreadsheet string with the escapes of OOXML undone: a character XML
/// cannot hold (a carriage return, a control character) is written
/// `_xHHHH_`, and an underscore that would start such a sequence
/// `_x005F_` (ECMA-376, ST_Xstring); the reader leaves them as they are.
fn unescape_xstring(text: &str) -> String {
    if !text.contains("_x") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let code = candidate.get(2..6).filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())).filter(|_| candidate.as_bytes().get(6) == Some(&b'_'));
        match code.and_then(|hex| u32::from_str_radix(hex, 16).ok()).and_then(char::from_u32) {
            Some(c) => {
                out.push(c);
                rest = &candidate[7..];
            }
            None => {
                out.push_str("_x");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The formulas of a sheet, by cell.
fn sheet_formulas(workbook: &mut calamine::Xlsx<io::BufReader<File>>, name: &str) -> Result<std::collections::HashMap<(u32, u32), String>, calamine::XlsxError> {
    let mut reader = workbook.worksheet_cells_reader(name)?;
    let mut formulas = std::collections::HashMap::new();
    while let Some(cell) = reader.next_formula()? {
        if !cell.get_value().is_empty() {
            formulas.insert(cell.get_position(), cell.get_value().clone());
        }
    }
    Ok(formulas)
}

/// A JSON Lines file's lines, as bytes without their line end.
struct Lines {
    input: BufReader<File>,
    number: u64,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, PipelineError> {
        Ok(Lines { input: BufReader::with_capacity(1 << 16, File::open(path)?), number: 0 })
    }

    /// The next line (its number, its text), `None` at the end.
    fn next_line(&mut self) -> Option<Result<(u64, String), PipelineError>> {
        use std::io::BufRead;
        let mut bytes = Vec::new();
        match (&mut self.input).take(records::MAX_RECORD_BYTES as u64 + 1).read_until(b'\n', &mut bytes) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(e.into())),
        }
        self.number += 1;
        let number = self.number;
        if bytes.len() > records::MAX_RECORD_BYTES {
            return Some(Err(PipelineError::Unreadable(format!("第 {number} 行超过 {} MB 仍未结束,不像是 JSON Lines(每行一个 JSON 对象);整份文件未入库", records::MAX_RECORD_BYTES >> 20))));
        }
        if bytes.ends_with(b"\n") {
            bytes.pop();
        }
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
        let text = if number == 1 { without_bom(&bytes) } else { &bytes };
        Some(match std::str::from_utf8(text) {
            Ok(text) => Ok((number, text.to_string())),
            Err(_) if number == 1 && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")) => {
                Err(PipelineError::Unreadable("JSON Lines 文件是 UTF-16 编码;JSON Lines 必须是 UTF-8,请另存为 UTF-8 后重新报送".into()))
            }
            Err(_) => Err(PipelineError::Unreadable(format!(
                "第 {number} 行不是有效的 UTF-8 文本(JSON Lines 文件必须是 UTF-8 编码,这一行混入了其他编码的字节或乱码);整份文件未入库,请重新导出为 UTF-8 后再报送"
            ))),
        })
    }
}

/// A JSON object's members in their order, each value as its JSON text.
struct Members(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members: Vec<(String, Box<serde_json::value::RawValue>)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Box<serde_json::value::RawValue>>()? {
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("键「{}」出现了两次", values::excerpt(&key, 40))));
                    }
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Line `number` as a JSON object's members.
fn json_object(number: u64, line: &str) -> Result<Members, PipelineError> {
    serde_json::from_str::<Members>(line).map_err(|e| {
        let what = if line.trim_start().starts_with('{') { format!("不是有效的 JSON 对象({})", values::excerpt(&e.to_string(), 120)) } else { "不是 JSON 对象".to_string() };
        PipelineError::Unreadable(format!("第 {number} 行{what};整份文件未入库,请修正这一行后重新报送(这一行开头: {})", values::excerpt(line, 60)))
    })
}

/// Opens a JSON Lines file. Each object's keys become columns: the header
/// returned names every key seen in the first 1,000 lines, and each line's
/// cells follow that order (a key first seen later still lands, in `extra`).
/// Values are kept as their JSON text: a number is read as the digits the
/// file holds (an 18-digit ID number written as a number keeps every
/// digit; an amount keeps its decimals), never through a float.
pub fn jsonl_rows(path: &Path) -> Result<(Vec<String>, RowIter), PipelineError> {
    let mut keys: Vec<String> = Vec::new();
    let mut head = Lines::open(path)?;
    while head.number < 1000
        && let Some(line) = head.next_line()
    {
        let (number, line) = line?;
        if let Ok(Members(members)) = json_object(number, &line) {
            for (k, _) in members {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    let mut lines = Lines::open(path)?;
    let header = keys.clone();
    let iter = std::iter::from_fn(move || lines.next_line()).map(move |line| {
        let (number, line) = line?;
        if line.trim().is_empty() {
            return Ok(RawRow::new(number, Vec::new()));
        }
        let Members(mut members) = json_object(number, &line)?;
        let mut cells: Vec<RawCell> = keys
            .iter()
            .map(|k| match members.iter().position(|(key, _)| key == k) {
                Some(at) => json_cell(&members.remove(at).1),
                None => Ok(RawCell::Empty),
            })
            .collect::<Result<_, _>>()?;
        // Keys not seen in the head of the file: appended as `key=value` text
        // so they reach `extra` rather than vanish.
        for (k, v) in members {
            cells.push(RawCell::Text(format!("{k}={}", json_cell(&v)?.as_cell().text())));
        }
        Ok(RawRow::new(number, cells))
    });
    Ok((header, Box::new(iter)))
}

/// A JSON value as a cell: a string as its text, a number as its digits,
/// an object or array as its JSON text.
fn json_cell(value: &serde_json::value::RawValue) -> Result<RawCell, PipelineError> {
    let text = value.get();
    Ok(match text.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<String>(text) {
            Ok(s) if s.is_empty() => RawCell::Empty,
            Ok(s) => RawCell::Text(s),
            Err(e) => return Err(PipelineError::Unreadable(format!("JSON 字符串无法读取: {e}"))),
        },
        Some(b'n') => RawCell::Empty,
        Some(b't') => RawCell::Bool(true),
        Some(b'f') => RawCell::Bool(false),
        _ => RawCell::Text(text.to_string()),
    })
}

/// The longest cell that is looked at as a possible column name.
const MAX_HEADER_BYTES: usize = 200;

/// Finds the header row among the first rows: the row naming most of the
/// source's columns (title rows above it are skipped). Returns its position.
pub fn find_header(source: &Source, headers: &HeaderMappings, rows: &[RawRow]) -> Option<usize> {
    let best = rows.iter().enumerate().max_by_key(|(i, row)| (header_score(source, headers, *row), std::cmp::Reverse(*i)))?;
    (header_score(source, headers, best.1) >= 2.min(source.columns.len())).then_some(best.0)
}

/// How many of a row's cells are headers of `source`'s columns.
pub fn header_score(source: &Source, headers: &HeaderMappings, row: &impl Row) -> usize {
    // A header cell is short, and a header has at most a few hundred of them.
    let is_header = |c: Cell<'_>| matches!(c, Cell::Text(t) if t.len() <= MAX_HEADER_BYTES) && headers.column(source, &c.text()).is_some();
    row.cells().take(MAX_SHEET_COLUMNS as usize).filter(|c| is_header(*c)).count()
}

#[cfg(test)]
mod tests {
    use super::{DecodingReader, Encoding, detect, text_column};
    use deltalake::arrow::array::{Array, BinaryArray};
    use std::io::Read;

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn the_encoding_is_told_by_the_weight_of_the_evidence() {
        let utf8 = "姓名,金额\n张三,12\n李四,13\n".repeat(20);
        assert_eq!(detect(utf8.as_bytes(), true), Ok(Encoding::Utf8));
        assert_eq!(detect(&gbk(&utf8), true), Ok(Encoding::Gb18030));
        // 伟 in GBK (CE B0) is valid UTF-8 (ΰ) by itself; 元 (D4 AA) too.
        assert_eq!(detect(&gbk("伟\n元a伟\n"), true), Ok(Encoding::Gb18030));
        assert_eq!(detect(&gbk("姓名,金额(元)\n元a伟\n伟\n"), true), Ok(Encoding::Gb18030));
        assert_eq!(detect("a,b\n1,2\n".as_bytes(), true), Ok(Encoding::Utf8), "ASCII");
        // One stray byte, or a last character cut short, in UTF-8 text:
        // still UTF-8 (the reader then rejects naming the row), never GBK.
        for stray in [&b"\xFF"[..], b"\xA0", b"\xE5\xBC"] {
            let mut bytes = utf8.as_bytes().to_vec();
            bytes.extend_from_slice(stray);
            assert_eq!(detect(&bytes, true), Ok(Encoding::Utf8), "{stray:?}");
        }
        // A run of bytes GBK does not have in GBK text: GBK, rejected by row.
        let mut bytes = gbk(&utf8);
        bytes.extend(std::iter::repeat_n(0xFF, 500));
        assert_eq!(detect(&bytes, true), Ok(Encoding::Gb18030));
        // A character cut by the end of the head of a larger file is no fault.
        let cut = &utf8.as_bytes()[..utf8.len() - 1];
        assert_eq!(detect(cut, false), Ok(Encoding::Utf8));
        assert_eq!(detect(b"\xFF\xFEa\x00", true), Ok(Encoding::Utf16Le));
        assert_eq!(detect(b"\xFE\xFF\x00a", true), Ok(Encoding::Utf16Be));
        assert!(detect(b"a\x00b\x00,\x00c\x00", true).unwrap_err().contains("UTF-16"));
    }

    #[test]
    fn spreadsheet_escapes_are_undone() {
        use super::unescape_xstring;
        assert_eq!(unescape_xstring("a_x000D_\nb"), "a\r\nb");
        assert_eq!(unescape_xstring("_x005F_x000D_"), "_x000D_", "an escaped underscore");
        assert_eq!(unescape_xstring("x_1_xZZ_ 张_x"), "x_1_xZZ_ 张_x", "not escapes");
        assert_eq!(unescape_xstring("_x5F20__x4E09_"), "张三");
    }

    #[test]
    fn decoding_gives_every_byte_and_marks_what_the_encoding_lacks() {
        let decode = |bytes: &[u8], step: usize| {
            let mut reader = DecodingReader::new(bytes, Encoding::Gb18030.decoder().unwrap());
            let mut out = Vec::new();
            let mut buf = vec![0; step];
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    return out;
                }
                out.extend_from_slice(&buf[..n]);
            }
        };
        // 0x80 is € in GB18030: 45,000 of them are 135,000 bytes of UTF-8.
        let mut euros = gbk("备注,");
        euros.extend(std::iter::repeat_n(0x80, 45_000));
        euros.extend(gbk("\n张三,1\n"));
        let expected = format!("备注,{}\n张三,1\n", "€".repeat(45_000));
        for step in [1, 7, 4096, 1 << 20] {
            assert_eq!(String::from_utf8(decode(&euros, step)).unwrap(), expected, "{step} bytes a read");
        }
        // 0xFF is no GBK byte: marked, and the rest decoded.
        let out = decode(&[&gbk("张")[..], b"\xFF", &gbk("三")[..]].concat(), 3);
        assert_eq!(out, ["张".as_bytes(), b"\xFF", "三".as_bytes()].concat());
        // A character cut at the end of the file is marked too.
        let out = decode(&gbk("张三")[..3], 2);
        assert!(out.starts_with("张".as_bytes()) && out.ends_with(b"\xFF"));
    }

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
