//! CSV records off a byte stream, for the reader of delivered files.
//!
//! Most lines of a department's export hold no quote: such a line is
//! scanned 16 bytes at a time for its commas and its end (vector compares),
//! several times faster than a byte-at-a-time state machine. A line with a quote or a stray carriage
//! return (a quoted field, an embedded newline, an old Mac line end) is
//! read by `csv_core`, the state machine under the `csv` crate, from the
//! same buffer. Both give the records the `csv` crate gives with its
//! defaults (comma, double quotes, any of CR, LF, CRLF ending a record,
//! blank lines skipped, records of any length): a test compares them.
//!
//! Two kinds of record are not taken, and the file is rejected naming the
//! record: one longer than [`MAX_RECORD_BYTES`] (a file without line ends,
//! or not text at all), and one whose quoted field never closes or spans
//! more than [`MAX_QUOTED_LINE_BREAKS`] line breaks: a quote opened by
//! mistake swallows the rows after it into one cell, and those rows would
//! vanish while the file seemed to load.

use crate::PipelineError;
use csv_core::ReadRecordResult;
use std::io::Read;

/// Bytes read from the stream at a time (the buffer grows for a longer record).
const BUFFER_BYTES: usize = 1 << 18;

/// The longest record taken (a cell of a department's table is at most a
/// few kilobytes of notes).
pub(super) const MAX_RECORD_BYTES: usize = 4 << 20;

/// The most line breaks one quoted field may hold (a note typed on a few
/// lines has a handful).
pub(super) const MAX_QUOTED_LINE_BREAKS: usize = 20;

pub(super) struct CsvRecords {
    input: Box<dyn Read + Send>,
    buffer: Vec<u8>,
    /// The unread bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    core: csv_core::Reader,
    /// A record `csv_core` reads: its fields' bytes and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// Where the commas of a plain line are.
    commas: Vec<usize>,
    /// The line breaks inside the quoted fields of the last record.
    quoted_lines: QuotedLines,
}

/// What the quoted fields of a record span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotedLines {
    /// Line breaks inside quoted fields.
    pub breaks: usize,
    /// The most commas on one line inside a quoted field after a break
    /// (up to the next break or the closing quote) that starts like the
    /// record itself (its first field of the same shape): such a line with
    /// as many commas as a record has is a record swallowed by an unclosed
    /// quote.
    pub widest_line_commas: usize,
}

/// What the front of the unread bytes holds.
enum Scan {
    /// A line with no quote and no stray CR, `length` bytes before its
    /// line end (LF or CRLF); its commas are noted.
    Line { length: usize, consumed: usize },
    /// A record for `csv_core`: a quote or a CR not before LF.
    Quoted,
    /// No line end yet (or a CR last, its LF maybe still unread).
    Unfinished,
}

/// Bit i of the first mask set where `block[i]` is a comma, of the second
/// where it is a line end (LF, CR) or a quote: two vector compares each.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn masks(block: &[u8; 16]) -> (u32, u32) {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SAFETY: SSE2 is part of every x86-64 processor, and the load reads
    // the 16 bytes `block` holds (unaligned loads are allowed).
    unsafe {
        let bytes = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let equal = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
        let special = _mm_or_si128(_mm_or_si128(equal(b'\n'), equal(b'\r')), equal(b'"'));
        (_mm_movemask_epi8(equal(b',')) as u32, _mm_movemask_epi8(special) as u32)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; 16]) -> (u32, u32) {
    block.iter().enumerate().fold((0, 0), |(commas, special), (i, b)| (commas | u32::from(*b == b',') << i, special | u32::from(matches!(b, b'\n' | b'\r' | b'"')) << i))
}

/// Scans the line at the front of `bytes` 16 bytes at a time, noting its
/// commas in `commas`.
fn scan_line(bytes: &[u8], commas: &mut Vec<usize>) -> Scan {
    let end_of_line = |at: usize| match bytes[at] {
        b'\n' => Scan::Line { length: at, consumed: at + 1 },
        b'\r' if bytes.get(at + 1) == Some(&b'\n') => Scan::Line { length: at, consumed: at + 2 },
        b'\r' if at + 1 == bytes.len() => Scan::Unfinished,
        _ => Scan::Quoted,
    };
    commas.clear();
    let mut base = 0;
    for block in bytes.chunks_exact(16) {
        let (mut found, special) = masks(block.try_into().expect("16 bytes"));
        if special != 0 {
            found &= (1 << special.trailing_zeros()) - 1;
        }
        while found != 0 {
            commas.push(base + found.trailing_zeros() as usize);
            found &= found - 1;
        }
        if special != 0 {
            return end_of_line(base + special.trailing_zeros() as usize);
        }
        base += 16;
    }
    for (at, byte) in bytes.iter().enumerate().skip(base) {
        match byte {
            b',' => commas.push(at),
            b'\n' | b'\r' | b'"' => return end_of_line(at),
            _ => {}
        }
    }
    Scan::Unfinished
}

impl CsvRecords {
    pub(super) fn new(input: Box<dyn Read + Send>) -> CsvRecords {
        CsvRecords {
            input,
            buffer: vec![0; BUFFER_BYTES],
            start: 0,
            end: 0,
            eof: false,
            core: csv_core::Reader::new(),
            fields: vec![0; 1024],
            ends: vec![0; 64],
            commas: Vec::new(),
            quoted_lines: QuotedLines::default(),
        }
    }

    /// Reads the next record, handing each field with its index to `field`;
    /// returns how many fields it had, or `None` at the end of the stream.
    pub(super) fn read(&mut self, mut field: impl FnMut(usize, &[u8])) -> std::io::Result<Option<usize>> {
        self.quoted_lines = QuotedLines::default();
        loop {
            let unread = &self.buffer[self.start..self.end];
            let (length, consumed) = match scan_line(unread, &mut self.commas) {
                Scan::Line { length, consumed } => (length, consumed),
                Scan::Quoted => return self.read_quoted(field),
                Scan::Unfinished if !self.eof => {
                    self.fill()?;
                    continue;
                }
                Scan::Unfinished if unread.is_empty() => return Ok(None),
                // The last line, with no line end after it.
                Scan::Unfinished if unread.last() != Some(&b'\r') => (unread.len(), unread.len()),
                Scan::Unfinished => return self.read_quoted(field),
            };
            let line = &unread[..length];
            self.start += consumed;
            if line.is_empty() {
                continue;
            }
            let mut from = 0;
            for (index, &comma) in self.commas.iter().enumerate() {
                field(index, &line[from..comma]);
                from = comma + 1;
            }
            field(self.commas.len(), &line[from..]);
            return Ok(Some(self.commas.len() + 1));
        }
    }

    /// Reads the next record with `csv_core`, checking its quoted fields
    /// (see the module's documentation).
    fn read_quoted(&mut self, mut field: impl FnMut(usize, &[u8])) -> std::io::Result<Option<usize>> {
        let (mut written, mut ended) = (0, 0);
        // The record's bytes as they stand in the file.
        let mut raw: Vec<u8> = Vec::new();
        loop {
            let (result, read, wrote, ends) = self.core.read_record(&self.buffer[self.start..self.end], &mut self.fields[written..], &mut self.ends[ended..]);
            raw.extend_from_slice(&self.buffer[self.start..self.start + read]);
            self.start += read;
            written += wrote;
            ended += ends;
            if raw.len() > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            match result {
                // At the end of the stream, an empty input tells csv_core so.
                ReadRecordResult::InputEmpty if !self.eof => self.fill()?,
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    self.quoted_lines = quoted_lines(&raw).map_err(std::io::Error::other)?;
                    let mut from = 0;
                    for (index, &to) in self.ends[..ended].iter().enumerate() {
                        field(index, &self.fields[from..to]);
                        from = to;
                    }
                    return Ok(Some(ended));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// What the quoted fields of the record last read span: a quote left
    /// open by mistake makes a record of several lines, which the reader
    /// checks against the header's width.
    pub(super) fn quoted_lines(&self) -> QuotedLines {
        self.quoted_lines
    }

    /// Reads more of the stream behind the unread bytes (moved to the front;
    /// the buffer doubles when they fill it).
    fn fill(&mut self) -> std::io::Result<()> {
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end > MAX_RECORD_BYTES {
            return Err(too_long());
        }
        if self.end == self.buffer.len() {
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        let read = self.input.read(&mut self.buffer[self.end..])?;
        self.end += read;
        self.eof = read == 0;
        Ok(())
    }
}

/// Whether two fields have one shape: as long, and each byte of the same
/// kind (digit, ASCII letter, other) — `DB20251143022310120100013` and
/// `DB20251243022310120100014`, two payment numbers.
fn same_shape(a: &[u8], b: &[u8]) -> bool {
    let kind = |b: &u8| {
        if b.is_ascii_digit() {
            0
        } else if b.is_ascii_alphabetic() {
            1
        } else {
            2
        }
    };
    !a.is_empty() && a.len() == b.len() && a.iter().map(kind).eq(b.iter().map(kind))
}

fn too_long() -> std::io::Error {
    std::io::Error::other(format!("这一行超过 {} MB 仍未结束,不像是表格数据(文件是否缺少换行,或根本不是 CSV?)", MAX_RECORD_BYTES >> 20))
}

/// What the quoted fields of a record (its bytes as in the file) span, or
/// what is wrong with its quoting: a quoted field that never closes, or
/// quoted fields that span more than [`MAX_QUOTED_LINE_BREAKS`] line
/// breaks. Follows `csv_core`: a quote opens a quoted field only at the
/// start of a field, and `""` inside one is a quote.
fn quoted_lines(raw: &[u8]) -> Result<QuotedLines, String> {
    let (mut field, mut at_start, mut quoted, mut breaks) = (0usize, true, false, 0usize);
    // The record's first field, unquoted: a line inside quotes that starts
    // with a field of the same shape is a record swallowed by the quote.
    let first = (raw.first() != Some(&b'"')).then(|| &raw[..raw.iter().position(|b| *b == b',').unwrap_or(raw.len())]);
    // Where the current line inside a quoted field starts, once past a break.
    let (mut line_start, mut widest_line_commas) = (None::<usize>, 0usize);
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if quoted {
            let line_break = b == b'\n' || (b == b'\r' && raw.get(i + 1) != Some(&b'\n'));
            let closing = b == b'"' && raw.get(i + 1) != Some(&b'"');
            if let Some(start) = line_start.filter(|_| line_break || closing) {
                let line = &raw[start..i];
                let commas = line.iter().filter(|b| **b == b',').count();
                if commas > 0 && first.is_some_and(|first| same_shape(first, &line[..line.iter().position(|b| *b == b',').unwrap_or(line.len())])) {
                    widest_line_commas = widest_line_commas.max(commas);
                }
            }
            match b {
                b'"' if !closing => i += 1,
                b'"' => {
                    quoted = false;
                    line_start = None;
                }
                _ if line_break => {
                    breaks += 1;
                    line_start = Some(i + 1);
                }
                _ => {}
            }
            if breaks > MAX_QUOTED_LINE_BREAKS {
                return Err(format!("第 {} 列处的引号内跨越了超过 {MAX_QUOTED_LINE_BREAKS} 个换行:这一行某一格的引号多半没有闭合,吞掉了其后的行;请检查引号后重新导出", field + 1));
            }
        } else {
            match b {
                b'"' if at_start => quoted = true,
                b',' => {
                    field += 1;
                    at_start = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            at_start = false;
        }
        i += 1;
    }
    if quoted {
        return Err(format!("第 {} 列以引号开头,但直到文件末尾引号都没有闭合(其后 {breaks} 个换行都被并入了这一格);请检查这一格的引号后重新导出", field + 1));
    }
    Ok(QuotedLines { breaks, widest_line_commas })
}

/// Fails a read of a CSV file, naming the record that could not be read.
pub(super) fn unreadable(number: u64, e: &std::io::Error) -> PipelineError {
    PipelineError::Unreadable(format!("第 {number} 行无法按 CSV 读取: {e};整份文件未入库"))
}

#[cfg(test)]
mod tests {
    use super::{CsvRecords, QuotedLines, quoted_lines};

    /// The records of `bytes` as the `csv` crate reads them.
    fn by_csv_crate(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        reader.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
    }

    /// The records of `bytes` as [`CsvRecords`] reads them, fed `step`
    /// bytes per read.
    fn by_records(bytes: &[u8], step: usize) -> Vec<Vec<Vec<u8>>> {
        let (records, error) = records_until_error(bytes, step);
        assert!(error.is_none(), "{error:?}");
        records
    }

    /// The records read, and the error that stopped the reading, if one did.
    fn records_until_error(bytes: &[u8], step: usize) -> (Vec<Vec<Vec<u8>>>, Option<String>) {
        struct Trickle(Vec<u8>, usize);
        impl std::io::Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let mut records = CsvRecords::new(Box::new(Trickle(bytes.to_vec(), step)));
        let mut all = Vec::new();
        loop {
            let mut fields = Vec::new();
            match records.read(|i, f| {
                assert_eq!(i, fields.len(), "fields in order");
                fields.push(f.to_vec());
            }) {
                Ok(Some(n)) => {
                    assert_eq!(n, fields.len());
                    all.push(fields);
                }
                Ok(None) => return (all, None),
                Err(e) => return (all, Some(e.to_string())),
            }
        }
    }

    #[test]
    fn records_are_those_the_csv_crate_reads() {
        let cases: &[&[u8]] = &[
            b"a,b,c\n1,2,3\n",
            b"a,b\r\n1,2\r\n",
            b"a,b\n\n\r\n1,2",
            b"a,b\r1,2\r",
            b"a,\"b,c\",d\n\"x\ny\",2\n3,4\n",
            b"a,\"he said \"\"hi\"\"\",c\r\n1,2,3",
            b"a,b\"c,d\n1,2\n",
            b",\n,,\n\"\"\n",
            "名称,金额\n张三,1.50\n\"李,四\",2\n".as_bytes(),
            b"\r\n\r\n",
            b"",
            b"a\r\r\nb\n",
        ];
        for case in cases {
            for step in [1, 2, 3, 7, 4096] {
                assert_eq!(by_records(case, step), by_csv_crate(case), "{:?}, {step} bytes a read", String::from_utf8_lossy(case));
            }
        }
    }

    #[test]
    fn a_record_longer_than_the_buffer_is_read_whole() {
        let long = "x".repeat(3 * super::BUFFER_BYTES);
        let text = format!("a,{long}\n\"{long}\",b\n");
        assert_eq!(by_records(text.as_bytes(), 1 << 20), by_csv_crate(text.as_bytes()));
    }

    #[test]
    fn random_mixes_of_quotes_and_line_ends_read_alike() {
        // A fixed pseudo-random sequence over the bytes that matter.
        let alphabet = b"ab,\"\r\n ";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let len = (state % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let expected = by_csv_crate(&bytes);
            match records_until_error(&bytes, 3) {
                (records, None) => assert_eq!(records, expected, "{:?}", String::from_utf8_lossy(&bytes)),
                // Only a last record whose quote never closes is refused.
                (records, Some(e)) => {
                    assert!(e.contains("直到文件末尾") && records.len() + 1 == expected.len(), "{e}: {:?}", String::from_utf8_lossy(&bytes));
                    assert_eq!(records[..], expected[..records.len()]);
                }
            }
        }
    }

    #[test]
    fn a_quote_that_never_closes_or_swallows_many_lines_is_refused() {
        let (records, e) = records_until_error(b"a,b\n1,\"unterminated\n2,3\n4,5\n", 7);
        assert_eq!(records.len(), 1);
        assert!(e.unwrap().contains("第 2 列以引号开头,但直到文件末尾引号都没有闭合(其后 3 个换行"));
        let swallowed = format!("a,b\n1,\"x\n{}2,\"y\"\n", "3,4\n".repeat(25));
        let (records, e) = records_until_error(swallowed.as_bytes(), 4096);
        assert!(records.len() == 1 && e.unwrap().contains("超过 20 个换行"));
        // A quote left open in a last field, closed in a later row's last
        // field: the lines between are records (as many commas as one).
        let joined = quoted_lines(b"P1,\"x\nP2,3,4\nP3,6,y\"").unwrap();
        assert_eq!(joined, QuotedLines { breaks: 2, widest_line_commas: 2 });
        let note = quoted_lines(b"P1,\"first line\nsecond, with a comma\nthird\",2").unwrap();
        assert_eq!(note, QuotedLines { breaks: 2, widest_line_commas: 0 }, "a note's line does not start like a record");
        let blank = quoted_lines(b"P1,\"\n,,,\",2").unwrap();
        assert_eq!(blank.widest_line_commas, 0);
        // A note on a few lines, quotes inside quotes, a quote mid-field: fine.
        let fine = "a,b\n\"第一行\n第二行\n第三行\",\"他说\"\"好\"\"\"\n5\",6\n";
        assert_eq!(by_records(fine.as_bytes(), 3), by_csv_crate(fine.as_bytes()));
        // A record that never ends is refused once it passes the limit.
        let endless = vec![b'x'; super::MAX_RECORD_BYTES + 10];
        let (records, e) = records_until_error(&endless, 1 << 20);
        assert!(records.is_empty() && e.unwrap().contains("MB 仍未结束"));
    }
}
