//! How departments spell and package their exports: one [`FileStyle`] per
//! file (format, encoding, header spelling, date/month/amount/yes-no
//! spellings, ID quirks, title and 合计 rows), and the writers that stream
//! rows to CSV (UTF-8, UTF-8 BOM, GBK), XLSX and JSON Lines.
//!
//! Row numbers follow what a person sees when opening the file: in CSV the
//! header is row 1 and a quoted field with a line break stays one row; in
//! XLSX the sheet's own row number (title rows counted); in JSON Lines the
//! line number.

use super::model::Val;
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::seq::IndexedRandom;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use xuncha_core::contract::{Column, ColumnType, Source};
use xuncha_core::values::Month;

/// The container a department delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    CsvUtf8,
    CsvBom,
    CsvGbk,
    Xlsx,
    Jsonl,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::CsvUtf8 | Format::CsvBom | Format::CsvGbk => "csv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum DateStyle {
    Iso,
    Slash,
    Dot,
    Compact,
    Chinese,
}
const DATE_STYLES: &[DateStyle] = &[DateStyle::Iso, DateStyle::Slash, DateStyle::Dot, DateStyle::Compact, DateStyle::Chinese];

#[derive(Debug, Clone, Copy)]
enum MonthStyle {
    Iso,
    Slash,
    Compact,
    Chinese,
}
const MONTH_STYLES: &[MonthStyle] = &[MonthStyle::Iso, MonthStyle::Slash, MonthStyle::Compact, MonthStyle::Chinese];

#[derive(Debug, Clone, Copy)]
enum MoneyStyle {
    Plain,
    Thousands,
    Yuan,
    Short,
}
const MONEY_STYLES: &[MoneyStyle] = &[MoneyStyle::Plain, MoneyStyle::Thousands, MoneyStyle::Yuan, MoneyStyle::Short];

#[derive(Debug, Clone, Copy)]
enum BoolStyle {
    Chinese,
    YesNo,
    Digit,
    Word,
}
const BOOL_STYLES: &[BoolStyle] = &[BoolStyle::Chinese, BoolStyle::YesNo, BoolStyle::Digit, BoolStyle::Word];

#[derive(Debug, Clone, Copy, PartialEq)]
enum HeaderStyle {
    Contract,
    FullWidth,
    NoUnit,
    Alias,
    Snake,
}
const HEADER_STYLES: &[HeaderStyle] = &[HeaderStyle::Contract, HeaderStyle::FullWidth, HeaderStyle::NoUnit, HeaderStyle::Alias, HeaderStyle::Snake];

/// Everything about how one file is spelled.
#[derive(Debug, Clone)]
pub(crate) struct FileStyle {
    pub format: Format,
    date: DateStyle,
    month: MonthStyle,
    money: MoneyStyle,
    boolean: BoolStyle,
    header: HeaderStyle,
    lower_x: bool,
    spaced_ids: bool,
    /// Share of elderly people's IDs written in the legacy 15-digit form.
    legacy_share: f64,
    /// Two-character names padded with a full-width space (`张　伟`).
    pad_names: bool,
    /// Extra columns departments add (`序号`, `备注`).
    row_index_column: bool,
    remark_column: bool,
    /// Native date cells in XLSX (else text).
    native_dates: bool,
}

impl FileStyle {
    /// A style drawn at random, limited to the formats given.
    pub(crate) fn draw(rng: &mut impl Rng, formats: &[Format]) -> FileStyle {
        let format = *formats.choose(rng).expect("a format");
        FileStyle {
            format,
            date: *DATE_STYLES.choose(rng).expect("style"),
            month: *MONTH_STYLES.choose(rng).expect("style"),
            money: *MONEY_STYLES.choose(rng).expect("style"),
            boolean: *BOOL_STYLES.choose(rng).expect("style"),
            header: *HEADER_STYLES.choose(rng).expect("style"),
            lower_x: rng.random_bool(0.3),
            spaced_ids: rng.random_bool(0.1),
            legacy_share: if rng.random_bool(0.3) { 0.4 } else { 0.0 },
            pad_names: rng.random_bool(0.3),
            row_index_column: format == Format::Xlsx && rng.random_bool(0.7),
            remark_column: rng.random_bool(0.3),
            native_dates: rng.random_bool(0.6),
        }
    }
}

/// A cell as written.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Out {
    fn text(&self) -> String {
        match self {
            Out::Empty => String::new(),
            Out::Text(t) => t.clone(),
            Out::Number(n) => n.to_string(),
            Out::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

fn date_text(d: NaiveDate, style: DateStyle) -> String {
    match style {
        DateStyle::Iso => d.format("%Y-%m-%d").to_string(),
        DateStyle::Slash => format!("{}/{}/{}", d.year(), d.month(), d.day()),
        DateStyle::Dot => d.format("%Y.%m.%d").to_string(),
        DateStyle::Compact => d.format("%Y%m%d").to_string(),
        DateStyle::Chinese => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

fn month_text(m: Month, style: MonthStyle) -> String {
    match style {
        MonthStyle::Iso => m.to_string(),
        MonthStyle::Slash => format!("{}/{:02}", m.year, m.month),
        MonthStyle::Compact => format!("{}{:02}", m.year, m.month),
        MonthStyle::Chinese => format!("{}年{}月", m.year, m.month),
    }
}

/// Cents as a decimal with two places.
pub(crate) fn cents_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn money_text(cents: i64, style: MoneyStyle) -> String {
    match style {
        MoneyStyle::Plain => cents_text(cents),
        MoneyStyle::Yuan => format!("{}元", cents_text(cents)),
        MoneyStyle::Short => {
            let t = cents_text(cents);
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        MoneyStyle::Thousands => {
            let t = cents_text(cents.abs());
            let (int, frac) = t.split_once('.').expect("two decimals");
            let mut grouped = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("{}{grouped}.{frac}", if cents < 0 { "-" } else { "" })
        }
    }
}

/// The legacy 15-digit form of an 18-digit number of someone born in 19xx.
pub(crate) fn legacy_form(id: &str) -> Option<String> {
    (id.len() == 18 && &id[6..8] == "19").then(|| format!("{}{}", &id[..6], &id[8..17]))
}

/// The header this file uses for a column.
fn header_text(column: &Column, style: HeaderStyle) -> String {
    match style {
        HeaderStyle::Contract => column.header.to_string(),
        HeaderStyle::FullWidth => column.header.replace('(', "（").replace(')', "）"),
        HeaderStyle::NoUnit => match column.header.rfind('(') {
            Some(i) if column.header.ends_with(')') && i > 0 => column.header[..i].to_string(),
            _ => column.header.to_string(),
        },
        HeaderStyle::Alias => {
            let h = column.header.replace("身份号码", "身份证号").replace("公民身份证号", "身份证号码").replace("村(社区)", "村居");
            format!(" {h} ")
        }
        HeaderStyle::Snake => column.name.to_string(),
    }
}

/// One delivered file: its path under the inbox, its style, and the writer.
pub(crate) struct SourceFile {
    pub source: &'static Source,
    pub rel_path: String,
    pub style: FileStyle,
    writer: Writer,
    next_row: u64,
    data_rows: u64,
    money_column: Option<usize>,
    money_total: i64,
}

enum Writer {
    Csv(csv::Writer<Box<dyn Write + Send>>),
    Jsonl(BufWriter<File>),
    Xlsx { workbook: Box<rust_xlsxwriter::Workbook>, path: PathBuf, date_format: rust_xlsxwriter::Format },
}

/// UTF-8 in, GBK out, streaming (cut at character boundaries).
struct GbkWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
    encoder: encoding_rs::Encoder,
}

impl<W: Write> GbkWriter<W> {
    fn encode_pending(&mut self, last: bool) -> io::Result<()> {
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).expect("checked");
        let mut out = vec![0u8; text.len() * 2 + 16];
        let (result, read, written) = self.encoder.encode_from_utf8_without_replacement(text, &mut out, last);
        if let encoding_rs::EncoderResult::Unmappable(c) = result {
            return Err(io::Error::other(format!("character {c:?} has no GBK form")));
        }
        debug_assert_eq!(read, text.len());
        self.inner.write_all(&out[..written])?;
        self.pending.drain(..valid);
        Ok(())
    }
}

impl<W: Write> Write for GbkWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() > 1 << 16 {
            self.encode_pending(false)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.encode_pending(false)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for GbkWriter<W> {
    fn drop(&mut self) {
        let _ = self.encode_pending(true);
        let _ = self.inner.flush();
    }
}

/// Errors while writing the inbox.
fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> io::Error {
    io::Error::other(e.to_string())
}

impl SourceFile {
    /// Creates `inbox/<source>/<stem>.<ext>` and writes its title and header.
    pub(crate) fn create(inbox: &Path, source: &'static Source, stem: &str, style: FileStyle, title: &str) -> io::Result<SourceFile> {
        let rel_path = format!("{}/{stem}.{}", source.name, style.format.extension());
        let path = inbox.join(&rel_path);
        std::fs::create_dir_all(path.parent().expect("parent"))?;
        let headers = Self::headers(source, &style);
        let money_column = source.columns.iter().position(|c| c.ty == ColumnType::Money);
        let mut next_row = 1;
        let writer = match style.format {
            Format::CsvUtf8 | Format::CsvBom | Format::CsvGbk => {
                let mut file = BufWriter::with_capacity(1 << 16, File::create(&path)?);
                if style.format == Format::CsvBom {
                    file.write_all(b"\xEF\xBB\xBF")?;
                }
                let sink: Box<dyn Write + Send> =
                    if style.format == Format::CsvGbk { Box::new(GbkWriter { inner: file, pending: Vec::new(), encoder: encoding_rs::GBK.new_encoder() }) } else { Box::new(file) };
                let mut w = csv::WriterBuilder::new().flexible(true).from_writer(sink);
                w.write_record(&headers)?;
                next_row += 1;
                Writer::Csv(w)
            }
            Format::Jsonl => Writer::Jsonl(BufWriter::with_capacity(1 << 16, File::create(&path)?)),
            Format::Xlsx => {
                let mut workbook = Box::new(rust_xlsxwriter::Workbook::new());
                let created = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date").and_hms_opt(0, 0, 0).expect("time");
                workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
                let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx_err)?;
                sheet.write_string(0, 0, title).map_err(xlsx_err)?;
                sheet.write_string(1, 0, format!("填报单位:{}    单位:元", source.title)).map_err(xlsx_err)?;
                for (i, h) in headers.iter().enumerate() {
                    sheet.write_string(2, i as u16, h).map_err(xlsx_err)?;
                }
                next_row = 4;
                let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                Writer::Xlsx { workbook, path: path.clone(), date_format }
            }
        };
        Ok(SourceFile { source, rel_path, style, writer, next_row, data_rows: 0, money_column, money_total: 0 })
    }

    fn headers(source: &Source, style: &FileStyle) -> Vec<String> {
        let mut headers = Vec::new();
        if style.row_index_column {
            headers.push("序号".to_string());
        }
        headers.extend(source.columns.iter().map(|c| header_text(c, style.header)));
        if style.remark_column {
            headers.push("备注".to_string());
        }
        headers
    }

    /// Spells one row's cells the way this file does.
    pub(crate) fn render(&self, cells: &[Val], rng: &mut impl Rng) -> Vec<Out> {
        let st = &self.style;
        let typed_by_hand = rng.random_bool(0.03);
        let person_name_source = matches!(self.source.name, "population" | "deaths" | "cadres" | "subsidy_payments" | "welfare_jobs");
        cells
            .iter()
            .zip(self.source.columns)
            .map(|(v, column)| match v {
                Val::Null => Out::Empty,
                Val::Str(s) if column.name == "name" && person_name_source && st.pad_names && s.chars().count() == 2 => {
                    let mut chars = s.chars();
                    Out::Text(format!("{}\u{3000}{}", chars.next().unwrap_or_default(), chars.next().unwrap_or_default()))
                }
                Val::Str(s) | Val::Dec(s) => Out::Text(s.clone()),
                Val::Int(i) => match st.format {
                    Format::Xlsx | Format::Jsonl => Out::Number(*i as f64),
                    _ => Out::Text(i.to_string()),
                },
                Val::Date(d) => {
                    let style = if typed_by_hand { *DATE_STYLES.choose(rng).expect("style") } else { st.date };
                    if st.format == Format::Xlsx && st.native_dates && !typed_by_hand { Out::Date(*d) } else { Out::Text(date_text(*d, style)) }
                }
                Val::Month(m) => Out::Text(month_text(*m, st.month)),
                Val::Money(c) => match st.format {
                    Format::Xlsx => Out::Number(*c as f64 / 100.0),
                    Format::Jsonl if matches!(st.money, MoneyStyle::Plain | MoneyStyle::Short) => Out::Number(*c as f64 / 100.0),
                    _ => Out::Text(money_text(*c, st.money)),
                },
                Val::Bool(b) => Out::Text(
                    match (st.boolean, b) {
                        (BoolStyle::Chinese, true) => "是",
                        (BoolStyle::Chinese, false) => "否",
                        (BoolStyle::YesNo, true) => "Y",
                        (BoolStyle::YesNo, false) => "N",
                        (BoolStyle::Digit, true) => "1",
                        (BoolStyle::Digit, false) => "0",
                        (BoolStyle::Word, true) => "true",
                        (BoolStyle::Word, false) => "false",
                    }
                    .to_string(),
                ),
                Val::Id(id) => {
                    let born_early = id.len() == 18 && id[6..10].parse::<i32>().is_ok_and(|y| y < 1960);
                    let mut text = match legacy_form(id) {
                        Some(old) if born_early && st.legacy_share > 0.0 && xuncha_core::values::id_valid(id) && rng.random_bool(st.legacy_share) => old,
                        _ => id.clone(),
                    };
                    if st.lower_x {
                        text = text.replace('X', "x");
                    }
                    if st.spaced_ids && text.len() == 18 {
                        text = format!("{} {} {}", &text[..6], &text[6..14], &text[14..]);
                    }
                    Out::Text(text)
                }
            })
            .collect()
    }

    /// Writes one rendered row and returns its row number; `cents` is the
    /// row's amount, summed into the 合计 row of an XLSX file.
    pub(crate) fn write(&mut self, cells: Vec<Out>, cents: Option<i64>) -> io::Result<u64> {
        let row = self.next_row;
        self.next_row += 1;
        self.data_rows += 1;
        self.money_total += cents.unwrap_or(0);
        let row_index = self.data_rows;
        let mut full = Vec::with_capacity(cells.len() + 2);
        if self.style.row_index_column {
            full.push(Out::Number(row_index as f64));
        }
        full.extend(cells);
        if self.style.remark_column {
            full.push(if row_index.is_multiple_of(17) { Out::Text("已核实".to_string()) } else { Out::Empty });
        }
        self.write_cells(row, &full)?;
        Ok(row)
    }

    /// The column index a contract column has in this file.
    fn file_column(&self, contract_index: usize) -> usize {
        contract_index + usize::from(self.style.row_index_column)
    }

    fn write_cells(&mut self, row: u64, cells: &[Out]) -> io::Result<()> {
        match &mut self.writer {
            Writer::Csv(w) => w.write_record(cells.iter().map(Out::text)).map_err(io::Error::other),
            Writer::Jsonl(w) => {
                let headers = Self::headers(self.source, &self.style);
                let mut object = serde_json::Map::new();
                for (h, c) in headers.iter().zip(cells) {
                    let value = match c {
                        Out::Empty => continue,
                        Out::Text(t) => serde_json::Value::String(t.clone()),
                        Out::Number(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, serde_json::Value::Number),
                        Out::Date(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
                    };
                    object.insert(h.trim().to_string(), value);
                }
                serde_json::to_writer(&mut *w, &object)?;
                w.write_all(b"\n")
            }
            Writer::Xlsx { workbook, date_format, .. } => {
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx_err)?;
                let r = (row - 1) as u32;
                for (i, c) in cells.iter().enumerate() {
                    let col = i as u16;
                    match c {
                        Out::Empty => continue,
                        Out::Text(t) => sheet.write_string(r, col, t),
                        Out::Number(n) => sheet.write_number(r, col, *n),
                        Out::Date(d) => {
                            let serial = (*d - NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch")).num_days() as f64;
                            sheet.write_number_with_format(r, col, serial, date_format)
                        }
                    }
                    .map_err(xlsx_err)?;
                }
                Ok(())
            }
        }
    }

    /// Finishes the file (the XLSX footer: a blank row, then 合计).
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        let data_rows = self.data_rows;
        let money_column = self.money_column.map(|i| self.file_column(i));
        match &mut self.writer {
            Writer::Csv(w) => w.flush()?,
            Writer::Jsonl(w) => w.flush()?,
            Writer::Xlsx { workbook, path, .. } => {
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx_err)?;
                let footer = self.next_row as u32; // one blank row, then 合计
                sheet.write_string(footer, 0, "合计").map_err(xlsx_err)?;
                if let Some(col) = money_column.filter(|c| *c > 0) {
                    sheet.write_number(footer, col as u16, self.money_total as f64 / 100.0).map_err(xlsx_err)?;
                }
                workbook.save(&*path).map_err(xlsx_err)?;
            }
        }
        Ok(data_rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_spellings_parse_back() {
        for cents in [0, 5, 43000, 135_000, 123_456_789, -5000] {
            for style in MONEY_STYLES {
                let text = money_text(cents, *style);
                let parsed = xuncha_core::values::parse_money(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(parsed.mantissa() as i64, cents, "{text}");
            }
        }
    }

    #[test]
    fn date_and_month_spellings_parse_back() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        for style in DATE_STYLES {
            assert_eq!(xuncha_core::values::parse_date(&date_text(d, *style)).unwrap(), d);
        }
        let m = Month::new(2024, 3).unwrap();
        for style in MONTH_STYLES {
            assert_eq!(xuncha_core::values::parse_month(&month_text(m, *style)).unwrap(), m);
        }
    }

    #[test]
    fn legacy_ids_upgrade_back() {
        let id = "430223194806150715";
        assert_eq!(xuncha_core::values::parse_id(&legacy_form(id).unwrap()).unwrap(), id);
    }

    #[test]
    fn headers_in_every_style_match_their_column() {
        for source in xuncha_core::contract::SOURCES {
            for style in HEADER_STYLES {
                for (i, column) in source.columns.iter().enumerate() {
                    let h = header_text(column, *style);
                    assert_eq!(source.match_header(&h), Some(i), "{} {h:?}", source.name);
                }
            }
        }
    }
}
