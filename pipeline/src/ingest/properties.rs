//! Property tests, the fuzz targets of ingest (cargo-fuzz needs a nightly
//! toolchain this project does not have): each reader (CSV in every
//! encoding, XLSX, JSON Lines) and the typing of values, on generated
//! input, a bounded number of cases per run. The properties: no input
//! aborts or panics; what a reader reads is exactly what was written; a
//! typed amount is exactly the text's and fits the lake; and for a whole
//! file, rows read = rows loaded + rows quarantined, or the file is
//! rejected whole.

use super::read::{self, Cell, RawCell, Row};
use super::typing::type_cell;
use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use xuncha_core::values::{self, MONEY_MAX};

/// Text as departments type it, with what breaks readers: commas, quotes,
/// line ends, Chinese, €, full-width digits, spaces.
fn cell_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "Z", "0", "9", ",", "\"", "\n", "\r\n", " ", "张", "伟", "€", "１", "元", ".", "-", "'", "\t", "合计"]), 0..12)
        .prop_map(|parts| parts.concat())
}

/// `text` in encoding 0 UTF-8, 1 UTF-8 with BOM, 2 GB18030, 3 UTF-16LE with BOM.
fn encode(text: &str, encoding: usize) -> Vec<u8> {
    match encoding {
        0 => text.as_bytes().to_vec(),
        1 => [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
        2 => encoding_rs::GB18030.encode(text).0.into_owned(),
        _ => {
            let mut out = vec![0xFF, 0xFE];
            text.encode_utf16().for_each(|u| out.extend(u.to_le_bytes()));
            out
        }
    }
}

fn written_csv(records: &[Vec<String>]) -> String {
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for record in records {
        writer.write_record(record).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

fn file_with(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A cell as the text a reader gives for it.
fn cell_text_of(cell: Cell<'_>) -> String {
    match cell {
        Cell::Empty => String::new(),
        other => other.text(),
    }
}

/// A deaths row as generated: ID numbers, names and dates good and bad.
fn deaths_row() -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(vec!["430223197209177972", "43022319720917797X", "430223720917797", "4302231972", "", "abc", "430223197209177973"]),
        cell_text(),
        prop::sample::select(vec!["2023-11-28", "20231128", "2023年11月28日", "2023/2/30", "", "45356", "明天"]),
        prop::sample::select(vec!["卫健", "公安", "民政", "殡葬", "医院", ""]),
    )
        .prop_map(|(id, name, date, from)| vec![id.to_string(), name, date.to_string(), from.to_string()])
}

/// Ingests `file` (under `deaths/`) as a dry run; the report.
fn dry_run(bytes: &[u8], name: &str) -> FileReport {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("inbox/deaths")).unwrap();
    std::fs::write(dir.path().join("inbox/deaths").join(name), bytes).unwrap();
    let lake = Lake::open(&dir.path().join("lake")).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut reports = runtime.block_on(ingest(&lake, &dir.path().join("inbox"), &IngestOptions { dry_run: true, ..IngestOptions::default() })).expect("an ingest never fails for a file's sake");
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

/// Conservation for one file: loaded, with every row read either loaded
/// or quarantined, or rejected whole.
fn conserved(report: &FileReport, data_rows: Option<u64>) {
    match &report.outcome {
        FileOutcome::Loaded => {
            assert_eq!(report.rows_read, report.rows_loaded + report.rows_quarantined, "{report:?}");
            if let Some(rows) = data_rows {
                assert_eq!(report.rows_read + report.rows_skipped, rows, "every row read or skipped: {report:?}");
            }
        }
        FileOutcome::Rejected(why) => assert!(!why.is_empty() && why.chars().count() <= 1100, "{why}"),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Typing never panics; an amount is exactly the text's, to the cent,
    /// within Decimal(18,2); a float as Excel shows it.
    #[test]
    fn typing_any_text_is_exact_or_explained(text in "[-+0-9,.元¥ １２e]{0,24}", float in any::<f64>()) {
        for s in xuncha_core::contract::SOURCES {
            for index in 0..s.columns.len() {
                let _ = type_cell(s, index, Cell::Text(&text));
                let _ = type_cell(s, index, Cell::Number(float));
                let _ = type_cell(s, index, Cell::Serial(float));
            }
        }
        if let Ok(amount) = values::parse_money(&text) {
            prop_assert!(amount.scale() == 2 && amount.abs() <= MONEY_MAX);
            let digits: String = values::clean(&text).chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
            prop_assert_eq!(digits.parse::<Decimal>().unwrap(), amount, "{:?}", text);
        }
        if let Ok(amount) = values::money_from_f64(float) {
            prop_assert!(amount.scale() == 2 && amount.abs() <= MONEY_MAX);
            let shown: f64 = format!("{float:.14e}").parse().unwrap();
            prop_assert!((amount - Decimal::try_from(shown).unwrap()).abs() < Decimal::new(1, 2), "{} from {}", amount, float);
        }
    }

    /// CSV in UTF-8, UTF-8 with BOM, GBK or UTF-16: the reader gives back
    /// every field exactly as written, in both of its paths (plain lines
    /// and quoted records).
    #[test]
    fn csv_fields_read_back_exactly(records in prop::collection::vec(prop::collection::vec(cell_text(), 1..6), 1..30), encoding in 0usize..4) {
        // A header in Chinese, as every department's file has: the evidence
        // a file without a byte-order mark is told by (two bytes of GBK can
        // be valid UTF-8 by themselves).
        let records: Vec<Vec<String>> = std::iter::once(vec!["姓名".to_string(), "金额(元)".into()]).chain(records).collect();
        let dir = tempfile::tempdir().unwrap();
        let text = written_csv(&records);
        let path = file_with(dir.path(), "x.csv", &encode(&text, encoding));
        let (_, mut rows) = read::csv_rows(&path).unwrap();
        let mut read_back = Vec::new();
        while let Some(row) = rows.next_row() {
            let row = row.unwrap();
            read_back.push(row.cells().map(cell_text_of).collect::<Vec<_>>());
        }
        // (The csv crate writes a record of one empty field as `""`.)
        prop_assert_eq!(read_back, records);
    }

    /// An XLSX's cells read back as written: text exactly, numbers exactly.
    #[test]
    fn xlsx_cells_read_back_exactly(cells in prop::collection::vec(prop::collection::vec(prop_oneof![cell_text().prop_map(RawCell::Text), (-1e15f64..1e15).prop_map(RawCell::Number)], 1..6), 1..20)) {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (r, row) in cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    RawCell::Text(t) if t.is_empty() => {}
                    RawCell::Text(t) => drop(sheet.write_string(r as u32, c as u16, t)),
                    RawCell::Number(n) => drop(sheet.write_number(r as u32, c as u16, *n)),
                    _ => unreachable!(),
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(dir.path(), "x.xlsx", &workbook.save_to_buffer().unwrap());
        let (rows, notes) = read::xlsx_rows(&path, None).unwrap();
        prop_assert!(notes.is_empty());
        let read_back: Vec<(u64, Vec<RawCell>)> = rows.map(|row| { let row = row.unwrap(); (row.number, row.cells().map(|c| match c { Cell::Empty => RawCell::Text(String::new()), Cell::Text(t) => RawCell::Text(t.to_string()), Cell::Number(n) => RawCell::Number(n), other => panic!("{other:?}") }).collect()) }).collect();
        // Empty strings are not written: rows of nothing but them are absent,
        // and an empty cell inside a row reads as empty.
        let expected: Vec<(u64, Vec<RawCell>)> = cells.iter().enumerate().filter(|(_, row)| row.iter().any(|c| c != &RawCell::Text(String::new()))).map(|(r, row)| {
            let mut row = row.clone();
            while row.last() == Some(&RawCell::Text(String::new())) { row.pop(); }
            (r as u64 + 1, row)
        }).collect();
        prop_assert_eq!(read_back, expected);
    }

    /// JSON Lines: strings exactly, numbers as the digits written (never
    /// through a float), booleans, nulls as empty.
    #[test]
    fn json_values_read_back_exactly(lines in prop::collection::vec(prop::collection::vec((prop::sample::select(vec!["甲", "b", "c"]), prop_oneof![cell_text().prop_map(serde_json::Value::String), any::<i64>().prop_map(serde_json::Value::from), any::<u64>().prop_map(serde_json::Value::from), any::<bool>().prop_map(serde_json::Value::Bool), Just(serde_json::Value::Null)]), 1..4), 1..20)) {
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = lines.into_iter().map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).collect();
        let text: String = objects.iter().map(|o| serde_json::to_string(o).unwrap() + "\n").collect();
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(dir.path(), "x.jsonl", text.as_bytes());
        let (keys, rows) = read::jsonl_rows(&path).unwrap();
        for (object, row) in objects.iter().zip(rows) {
            let row = row.unwrap();
            for (k, v) in object {
                let cell = row.cell(keys.iter().position(|key| key == k).unwrap());
                match v {
                    serde_json::Value::String(s) if s.is_empty() => prop_assert_eq!(cell, Cell::Empty),
                    serde_json::Value::String(s) => prop_assert_eq!(cell, Cell::Text(s)),
                    serde_json::Value::Number(n) => prop_assert_eq!(cell, Cell::Text(&n.to_string())),
                    serde_json::Value::Bool(b) => prop_assert_eq!(cell, Cell::Bool(*b)),
                    _ => prop_assert_eq!(cell, Cell::Empty),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes named `.csv`, `.xlsx` or `.jsonl`: the ingest never
    /// aborts, and the file is loaded with every row accounted for, or
    /// rejected whole with a bounded reason.
    #[test]
    fn any_bytes_are_loaded_conserved_or_rejected(bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(b','), Just(b'"'), Just(b'\n'), Just(0xFF), Just(0x80)], 0..600), header in any::<bool>(), ext in prop::sample::select(vec!["csv", "xlsx", "jsonl"])) {
        let bytes = if header { ["公民身份号码,姓名,死亡日期,数据来源\n".as_bytes(), &bytes].concat() } else { bytes };
        conserved(&dry_run(&bytes, &format!("x.{ext}")), None);
    }

    /// Generated deaths rows, good and bad, in each format and encoding:
    /// every row is read and either loaded or quarantined.
    #[test]
    fn every_row_is_loaded_or_quarantined(rows in prop::collection::vec(deaths_row(), 0..40), format in 0usize..6) {
        let header = vec!["公民身份号码".to_string(), "姓名".into(), "死亡日期".into(), "数据来源".into()];
        let (bytes, name) = match format {
            0..=3 => {
                let all: Vec<Vec<String>> = std::iter::once(header.clone()).chain(rows.iter().cloned()).collect();
                (encode(&written_csv(&all), format), "x.csv")
            }
            4 => {
                let mut workbook = rust_xlsxwriter::Workbook::new();
                let sheet = workbook.add_worksheet();
                for (r, row) in std::iter::once(&header).chain(&rows).enumerate() {
                    for (c, cell) in row.iter().enumerate().filter(|(_, cell)| !cell.is_empty()) {
                        sheet.write_string(r as u32, c as u16, cell).unwrap();
                    }
                }
                (workbook.save_to_buffer().unwrap(), "x.xlsx")
            }
            _ => (rows.iter().map(|r| serde_json::to_string(&header.iter().zip(r).map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>()).unwrap() + "\n").collect::<String>().into_bytes(), "x.jsonl"),
        };
        let report = dry_run(&bytes, name);
        // Every row counted once (blank and 合计 rows as skipped); a
        // spreadsheet has no row where nothing was written.
        conserved(&report, (format != 4).then_some(rows.len() as u64));
        if rows.iter().all(|r| r[1].matches('\n').count() <= 20) && !rows.is_empty() {
            prop_assert!(matches!(report.outcome, FileOutcome::Loaded), "{:?}", report);
        }
    }
}
