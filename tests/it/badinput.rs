//! The bad-input suite: malformed deliveries made here from copies of
//! `data-samples/` (nothing binary is committed), each ingested by the real
//! binary into a lake of its own beside an untouched file of another source.
//! For every delivery: the exit status and the report line a person reads
//! (file, row, column, what to do); per file, rows read = loaded +
//! quarantined, counted in the lake; every loaded value equal to what the
//! same rows give when the pristine file is ingested; the quarantine
//! exactly the rows expected; the rest of the delivery loaded.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file of `data-samples/`.
fn sample(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CSV sample's text, without its BOM, whatever its encoding.
fn sample_text(rel: &str) -> String {
    let bytes = sample(rel);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "text GBK cannot hold");
    bytes.into_owned()
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for unit in text.encode_utf16() {
        out.extend(if little { unit.to_le_bytes() } else { unit.to_be_bytes() });
    }
    out
}

/// The text's lines with line `number` (1-based) changed by `f`.
fn with_line(text: &str, number: usize, f: impl Fn(&str) -> String) -> String {
    text.split_inclusive('\n').enumerate().map(|(i, line)| if i + 1 == number { f(line) } else { line.to_string() }).collect()
}

/// Field `column` (0-based) of a CSV line without quotes, replaced.
fn set_field(line: &str, column: usize, value: &str) -> String {
    let end = if line.ends_with('\n') { "\n" } else { "" };
    let mut fields: Vec<String> = line.trim_end_matches('\n').split(',').map(String::from).collect();
    fields[column] = value.to_string();
    fields.join(",") + end
}

/// An XLSX with a title row above the header and the CSV's rows as text
/// (row 1 title, row 2 header, data from row 3), changed by `edit`.
fn xlsx(csv: &str, edit: impl FnOnce(&mut rust_xlsxwriter::Workbook)) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    fill_sheet(workbook.add_worksheet(), csv);
    edit(&mut workbook);
    workbook.save_to_buffer().unwrap()
}

/// A title in row 1, then the CSV's rows as text from row 2.
fn fill_sheet(sheet: &mut rust_xlsxwriter::Worksheet, csv: &str) {
    sheet.write_string(0, 0, "2025年网岭镇低保发放花名册").unwrap();
    for (r, line) in csv.lines().enumerate() {
        for (c, field) in line.split(',').enumerate() {
            if !field.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, field.trim()).unwrap();
            }
        }
    }
}

/// A zip (XLSX) with `from` replaced by `to` in its member `name`, by
/// Python's zipfile.
fn rezip(bytes: &[u8], name: &str, from: &str, to: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.xlsx"), dir.path().join("out.xlsx"));
    std::fs::write(&input, bytes).unwrap();
    let script = r#"
import sys, zipfile
src, dst, name, old, new = sys.argv[1:6]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == name:
            text = data.decode()
            assert old in text, (old, text[:300])
            data = text.replace(old, new).encode()
        zout.writestr(item, data)
"#;
    let out = python3().args(["-c", script, input.to_str().unwrap(), output.to_str().unwrap(), name, from, to]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(output).unwrap()
}

const PAYMENTS: &str = "subsidy_payments/430223101000_低保.csv";
const PAYMENTS_GBK: &str = "subsidy_payments/430223_危房改造.csv";
const DEATHS_UTF8: &str = "deaths/430223_死亡登记_卫健.csv";
const DEATHS_JSONL: &str = "deaths/430223_死亡登记_公安.jsonl";
const SPECIAL_JSONL: &str = "subsidy_payments/430223101000_特困供养.jsonl";
const CONTRACTS: &str = "contracts/430223_村级合同.csv";
/// The untouched file of another source in every delivery.
const COMPANION: &str = "welfare_jobs/430223_公益岗位.csv";

/// What a delivery should come to.
enum Expect {
    /// Loaded: these rows quarantined (row, kind) besides those the
    /// pristine file has; `touched` rows differ from the pristine file's on
    /// purpose and are checked by `check`.
    Loaded { quarantined: Vec<(u64, &'static str)>, touched: Vec<u64>, check: Option<fn(&[Vec<String>])> },
    /// Rejected whole, its report line holding each piece.
    Rejected(Vec<String>),
    /// Not read, its report line holding each piece.
    Skipped(Vec<String>),
}

struct Case {
    name: &'static str,
    /// Path in the inbox (also the file's name in the lake).
    file: String,
    bytes: Vec<u8>,
    /// The pristine file these rows come from (path in the inbox, bytes),
    /// ingested alone for the values to compare with.
    pristine: Option<(String, Vec<u8>)>,
    expect: Expect,
    /// Report pieces expected besides the file's line (a note).
    report: Vec<&'static str>,
}

fn loaded(name: &'static str, file: &str, bytes: Vec<u8>, pristine: (&str, Vec<u8>), quarantined: Vec<(u64, &'static str)>) -> Case {
    Case { name, file: file.into(), bytes, pristine: Some((pristine.0.into(), pristine.1)), expect: Expect::Loaded { quarantined, touched: Vec::new(), check: None }, report: Vec::new() }
}

fn rejected(name: &'static str, file: &str, bytes: Vec<u8>, pieces: &[&str]) -> Case {
    Case { name, file: file.into(), bytes, pristine: None, expect: Expect::Rejected(pieces.iter().map(|p| p.to_string()).collect()), report: Vec::new() }
}

fn touched(mut case: Case, rows: Vec<u64>, check: fn(&[Vec<String>])) -> Case {
    if let Expect::Loaded { touched, check: c, .. } = &mut case.expect {
        *touched = rows;
        *c = Some(check);
    }
    case
}

/// A contract column's value in a row of [`lake_rows`], by name.
fn column(source: &str, row: &[String], name: &str) -> String {
    let at = xuncha_core::contract::source(source).unwrap().column_index(name).unwrap_or_else(|| if name == "extra" { row.len() - 2 } else { panic!("{name}") });
    row[at].clone()
}

/// The rows of `file` in table `source`: the contract's columns, `extra`
/// and `source_row`, as text, by source row.
fn lake_rows(lake: &Path, source: &str, file: &str) -> BTreeMap<String, Vec<String>> {
    if !lake.join(source).join("_delta_log").is_dir() {
        return BTreeMap::new();
    }
    let contract = xuncha_core::contract::source(source).unwrap();
    let columns: Vec<String> =
        contract.columns.iter().map(|c| format!("CAST(\"{}\" AS VARCHAR)", c.name)).chain(["extra".into(), "CAST(source_row AS VARCHAR)".into(), "source_file".into()]).collect();
    rows(lake, &format!("SELECT {} FROM {source}", columns.join(", ")))
        .into_iter()
        .filter(|r| r.last().is_some_and(|f| f == file))
        .map(|mut r| {
            r.pop();
            (r[r.len() - 1].clone(), r)
        })
        .collect()
}

/// (row, kind) of the quarantined rows of `file`.
fn quarantine_of(lake: &Path, file: &str) -> BTreeSet<(u64, String)> {
    if !lake.join("quarantine").join("_delta_log").is_dir() {
        return BTreeSet::new();
    }
    rows(lake, "SELECT file, CAST(row_number AS VARCHAR), reason_kind, reason FROM quarantine")
        .into_iter()
        .filter(|r| r[0] == file)
        .map(|r| {
            assert!(r[3].chars().count() < 600, "a bounded reason: {}", r[3]);
            (r[1].parse().unwrap(), r[2].clone())
        })
        .collect()
}

/// `ingest_batches` of `file`: (status, rows_read, rows_loaded, rows_quarantined, error).
fn batches_of(lake: &Path, file: &str) -> Vec<(String, u64, u64, u64, String)> {
    rows(lake, "SELECT file, status, CAST(rows_read AS VARCHAR), CAST(rows_loaded AS VARCHAR), CAST(rows_quarantined AS VARCHAR), coalesce(error, '') FROM ingest_batches ORDER BY started_at")
        .into_iter()
        .filter(|r| r[0] == file)
        .map(|r| (r[1].clone(), r[2].parse().unwrap(), r[3].parse().unwrap(), r[4].parse().unwrap(), r[5].clone()))
        .collect()
}

/// The lake of a pristine file ingested alone (made once per file and bytes).
fn pristine_lake(file: &str, bytes: &[u8]) -> PathBuf {
    static LAKES: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let key = format!("{file}:{}", hex::encode(sha2::Sha256::digest(bytes)));
    let mut lakes = LAKES.lock().unwrap();
    if let Some(lake) = lakes.get_or_insert_with(HashMap::new).get(&key) {
        return lake.clone();
    }
    let name = format!("bad-pristine-{}", lakes.as_ref().unwrap().len());
    let dir = scratch(&name);
    let path = dir.join("inbox").join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let lake = dir.join("lake");
    let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", dir.join("inbox").to_str().unwrap()]);
    assert!(out.contains("拒收 0 个文件"), "the pristine {file} loads: {out}");
    lakes.as_mut().unwrap().insert(key, lake.clone());
    lake
}

use sha2::Digest;

/// Ingests one delivery and checks it.
fn run(case: Case) {
    let dir = scratch(&format!("bad-{}", case.name));
    let inbox = dir.join("inbox");
    let lake = dir.join("lake");
    // A path ending in `/` is a folder, made with the bytes as a file in it.
    let written = if case.file.ends_with('/') { format!("{}低保.csv", case.file) } else { case.file.clone() };
    for (file, bytes) in [(written.as_str(), &case.bytes), (COMPANION, &sample(COMPANION))] {
        let path = inbox.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let started = std::time::Instant::now();
    let out = xuncha(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let context = format!("{}: {}\n{stdout}{}", case.name, case.file, String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed().as_secs() < 60, "{context}: took {:?}", started.elapsed());
    let source = case.file.split('/').next().unwrap();
    let shown = xuncha_core::values::excerpt(case.file.trim_end_matches('/'), 200);
    let line = stdout.lines().find(|l| l.contains(&shown)).unwrap_or_else(|| panic!("{context}: no report line for the file"));
    for piece in &case.report {
        assert!(stdout.contains(piece), "{context}: the report should say {piece:?}");
    }
    // The rest of the delivery landed.
    let companion = lake_rows(&lake, "welfare_jobs", COMPANION);
    assert_eq!(companion.len(), lake_rows(&pristine_lake(COMPANION, &sample(COMPANION)), "welfare_jobs", COMPANION).len(), "{context}: the companion file loaded whole");
    let batches = batches_of(&lake, &case.file);
    if let Expect::Skipped(pieces) = &case.expect {
        assert!(out.status.success() && line.starts_with("未读") && batches.is_empty(), "{context}");
        for piece in pieces {
            assert!(line.contains(piece), "{context}: the line should say {piece:?}");
        }
        return;
    }
    assert_eq!(batches.len(), 1, "{context}: one ingest_batches row: {batches:?}");
    let (status, read, loaded, quarantined, error) = batches[0].clone();
    match case.expect {
        Expect::Rejected(pieces) => {
            assert_eq!(out.status.code(), Some(1), "{context}: a rejected file fails the run");
            assert!(line.starts_with("拒收"), "{context}");
            for piece in pieces {
                assert!(line.contains(&piece), "{context}: the message should say {piece:?}");
            }
            assert!(line.chars().count() < 1300, "{context}: a bounded message");
            assert_eq!(status, "rejected", "{context}");
            assert!(!error.is_empty() && error.chars().count() < 1100, "{context}: the reason recorded, bounded");
            assert!(lake_rows(&lake, source, &case.file).is_empty() && quarantine_of(&lake, &case.file).is_empty(), "{context}: nothing of a rejected file lands");
        }
        Expect::Skipped(_) => unreachable!("returned above"),
        Expect::Loaded { quarantined: expected_quarantine, touched, check } => {
            assert!(out.status.success(), "{context}: exit 0");
            assert!(line.starts_with("入库"), "{context}");
            assert_eq!(status, "loaded", "{context}");
            let rows = lake_rows(&lake, source, &case.file);
            let held = quarantine_of(&lake, &case.file);
            assert_eq!(read, loaded + quarantined, "{context}: rows read = loaded + quarantined");
            assert_eq!((rows.len() as u64, held.len() as u64), (loaded, quarantined), "{context}: the counts are the lake's");
            assert!(line.contains(&format!("读取 {read:>8} 行")), "{context}: the report's count");
            let (pristine_file, pristine_bytes) = case.pristine.expect("a pristine file");
            let before = pristine_lake(&pristine_file, &pristine_bytes);
            let mut want: BTreeSet<(u64, String)> = quarantine_of(&before, &pristine_file);
            want.extend(expected_quarantine.iter().map(|(row, kind)| (*row, kind.to_string())));
            assert_eq!(held, want, "{context}: the quarantine");
            // No value changed, no row lost: every row the pristine file
            // loads is here with the same values, but those held now.
            let originals = lake_rows(&before, source, &pristine_file);
            let now_held: BTreeSet<String> = expected_quarantine.iter().map(|(row, _)| row.to_string()).collect();
            let touched: BTreeSet<String> = touched.iter().map(u64::to_string).collect();
            for (row, values) in &originals {
                if now_held.contains(row) || touched.contains(row) {
                    continue;
                }
                assert_eq!(rows.get(row), Some(values), "{context}: row {row} as the pristine file gives it");
            }
            for row in rows.keys() {
                assert!(originals.contains_key(row) || touched.contains(row), "{context}: row {row} is not in the pristine file");
            }
            if let Some(check) = check {
                let mine: Vec<Vec<String>> = rows.iter().filter(|(row, _)| touched.contains(*row)).map(|(_, v)| v.clone()).collect();
                assert_eq!(mine.len(), touched.len(), "{context}: the touched rows loaded");
                check(&mine);
            }
        }
    }
}

/// `encoded` with `insert` put into line `number`, `skip` bytes into its
/// 4th field (the name in payments).
fn stray(encoded: &[u8], number: usize, skip: usize, insert: &[u8]) -> Vec<u8> {
    stray_in(encoded, number, 3, skip, insert)
}

/// `encoded` with `insert` put into line `number`, `skip` bytes into field
/// `field` (0-based, after a comma).
fn stray_in(encoded: &[u8], number: usize, field: usize, skip: usize, insert: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in encoded.split_inclusive(|b| *b == b'\n').enumerate() {
        if i + 1 == number {
            let at = line.iter().enumerate().filter(|(_, b)| **b == b',').nth(field - 1).unwrap().0 + 1 + skip;
            out.extend_from_slice(&line[..at]);
            out.extend_from_slice(insert);
            out.extend_from_slice(&line[at..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Encodings and stray bytes (issue 20, items 1, 5, 11).
#[test]
fn bad_encodings_are_rejected_by_row_and_good_ones_load_exactly() {
    let text = sample_text(PAYMENTS);
    let with_note_column = with_line(&text, 1, |l| l.replace('\n', ",备注\n"));
    // Row 51 with a note of 45,000 bytes of `byte` in GBK.
    let gbk_note = |byte: u8| {
        let mut bytes = Vec::new();
        for (i, line) in with_note_column.split_inclusive('\n').enumerate() {
            let mut encoded = gbk(line);
            if i + 1 == 51 {
                encoded.pop();
                encoded.push(b',');
                encoded.extend(std::iter::repeat_n(byte, 45_000));
                encoded.push(b'\n');
            }
            bytes.extend(encoded);
        }
        bytes
    };
    let last_row = text.trim_end().lines().count();
    let english = with_line(&text, 1, |_| "payment_id,program,id_number,name,village_code,period,amount,bank_account,paid_date,department\n".into());
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let deaths = sample_text(DEATHS_UTF8);
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let cases = vec![
        // 0x80 is € in GBK: every row loads, the note whole (3 bytes each in UTF-8).
        touched(loaded("gbk-euro-note", PAYMENTS, gbk_note(0x80), pristine(), vec![]), vec![51], |rows| assert!(rows[0][rows[0].len() - 2].contains(&"€".repeat(45_000)), "the note kept whole")),
        rejected("gbk-ff-note", PAYMENTS, gbk_note(0xFF), &["第 51 行第 11 列「备注」", "GBK"]),
        rejected("gbk-ff-in-name", PAYMENTS, stray(&gbk(&text), 10, 2, b"\xFF"), &["第 10 行第 4 列「姓名」", "GBK"]),
        rejected("utf8-stray-ff", PAYMENTS, stray(text.as_bytes(), 30, 3, b"\xFF"), &["第 30 行第 4 列「姓名」", "UTF-8"]),
        rejected("utf8-stray-a0", PAYMENTS, stray(text.as_bytes(), 30, 3, b"\xA0"), &["第 30 行第 4 列「姓名」", "UTF-8"]),
        rejected("utf8-cut-last-character", PAYMENTS, text.trim_end().as_bytes()[..text.trim_end().len() - 2].to_vec(), &[&format!("第 {last_row} 行第 10 列「发放部门」"), "UTF-8"]),
        rejected("utf8-english-header-stray-byte", PAYMENTS, stray(english.as_bytes(), 40, 3, b"\xFF"), &["第 40 行第 4 列「name」"]),
        rejected("utf8-then-gbk", PAYMENTS, [lines[..150].concat().into_bytes(), gbk(&lines[150..].concat())].concat(), &["第 151 行", "UTF-8"]),
        loaded("utf16le-bom", PAYMENTS, utf16(&text, true), pristine(), vec![]),
        loaded("utf16be-bom", PAYMENTS, utf16(&text, false), pristine(), vec![]),
        rejected("utf16-without-bom", PAYMENTS, utf16(&text, true)[2..].to_vec(), &["UTF-16"]),
        loaded("bom-on-every-line", PAYMENTS, text.split_inclusive('\n').map(|l| format!("\u{feff}{l}")).collect::<String>().into_bytes(), pristine(), vec![]),
        loaded("gbk-of-a-utf8-file", PAYMENTS, gbk(&text), pristine(), vec![]),
        loaded("utf8-of-a-gbk-file", PAYMENTS_GBK, sample_text(PAYMENTS_GBK).into_bytes(), (PAYMENTS_GBK, sample(PAYMENTS_GBK)), vec![]),
        loaded("crlf", DEATHS_UTF8, deaths.replace('\n', "\r\n").into_bytes(), (DEATHS_UTF8, sample(DEATHS_UTF8)), vec![]),
        loaded("cr-only", DEATHS_UTF8, deaths.replace('\n', "\r").into_bytes(), (DEATHS_UTF8, sample(DEATHS_UTF8)), vec![]),
        loaded("no-final-line-end", DEATHS_UTF8, deaths.trim_end().as_bytes().to_vec(), (DEATHS_UTF8, sample(DEATHS_UTF8)), vec![]),
        rejected("nul-bytes", DEATHS_UTF8, vec![0; 4096], &["NUL"]),
        rejected("binary", DEATHS_UTF8, (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(), &[]),
        rejected("empty-file", DEATHS_UTF8, Vec::new(), &["找不到", "表头"]),
        rejected("png-named-csv", DEATHS_UTF8, [&b"\x89PNG\r\n\x1a\n"[..], &[0; 64], b"IHDR"].concat(), &[]),
    ];
    for case in cases {
        run(case);
    }
}

/// Quotes, line ends, long lines and wide rows (items 4, 10).
#[test]
fn broken_quotes_and_endless_lines_are_rejected_and_odd_but_sound_files_load() {
    let text = sample_text(PAYMENTS);
    let with_note_column = with_line(&text, 1, |l| l.replace('\n', ",备注\n"));
    let rows = text.trim_end().lines().count();
    // Amounts written in quotes, as some exports do.
    let quoted_amounts: String = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                let f: Vec<&str> = l.trim_end().split(',').collect();
                format!("{},\"{}\",{}\n", f[..6].join(","), f[6], f[7..].join(","))
            }
        })
        .collect();
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let note = |row: usize, value: &str| with_line(&with_note_column, row, |l| l.replace('\n', &format!(",{value}\n")));
    let cases = vec![
        // A quote opened in 姓名 of record 21 and never closed.
        rejected("unclosed-quote", PAYMENTS, stray(text.as_bytes(), 21, 0, b"\""), &["第 21 行", "第 4 列", "没有闭合"]),
        // A quote opened in the last field, where every row has quoted
        // amounts: it closes at the next row's amount and joins the lines.
        rejected("unclosed-quote-joining-two-rows", PAYMENTS, stray_in(quoted_amounts.as_bytes(), 21, 9, 0, b"\""), &["第 21 行", "跨越了 1 个换行", "引号多半没有闭合"]),
        // A quote opened inside a row that closes in the same row: the row
        // alone is misread and held, the rows after it load.
        loaded("unclosed-quote-closing-in-its-row", PAYMENTS, stray(quoted_amounts.as_bytes(), 21, 0, b"\""), pristine(), vec![(21, "bad_money")]),
        rejected("unclosed-quote-in-the-last-row", PAYMENTS, stray(text.as_bytes(), rows, 0, b"\""), &[&format!("第 {rows} 行"), "没有闭合"]),
        touched(loaded("note-on-three-lines", PAYMENTS, note(12, "\"第一行\n第二行,有逗号\n第三行\"").into_bytes(), pristine(), vec![]), vec![12], |rows| {
            assert!(rows[0][rows[0].len() - 2].contains("第一行\\n第二行,有逗号\\n第三行"), "{:?}", rows[0])
        }),
        touched(loaded("doubled-quotes", PAYMENTS, note(12, "\"他说\"\"好\"\"\"").into_bytes(), pristine(), vec![]), vec![12], |rows| {
            assert!(rows[0][rows[0].len() - 2].contains("他说\\\"好\\\""), "{:?}", rows[0])
        }),
        loaded("quoted-amounts", PAYMENTS, quoted_amounts.clone().into_bytes(), pristine(), vec![]),
        rejected("ten-megabytes-without-a-line-end", PAYMENTS, "发放流水号金额".repeat(500_000).into_bytes(), &["超过 4 MB"]),
        rejected("five-megabyte-note", PAYMENTS, note(12, &format!("\"{}\"", "很长的备注".repeat(350_000))).into_bytes(), &["第 12 行", "超过 4 MB"]),
        touched(loaded("hundred-kilobyte-note", PAYMENTS, note(12, &"长备注".repeat(11_000)).into_bytes(), pristine(), vec![]), vec![12], |rows| {
            assert!(rows[0][rows[0].len() - 2].contains(&"长备注".repeat(11_000)))
        }),
        touched(loaded("ten-thousand-cells-in-a-row", PAYMENTS, with_line(&text, 12, |l| l.replace('\n', &",x".repeat(10_000)) + "\n").into_bytes(), pristine(), vec![]), vec![12], |rows| {
            assert!(rows[0][rows[0].len() - 2].contains("\"第10010列\":\"x\""), "every cell beyond the header kept")
        }),
        loaded("blank-records-at-the-end", PAYMENTS, format!("{text}\n\n,,,,,,,,,\n\n").into_bytes(), pristine(), vec![]),
        loaded("header-only", PAYMENTS, text.lines().next().unwrap().as_bytes().to_vec(), (PAYMENTS, text.lines().next().unwrap().as_bytes().to_vec()), vec![]),
    ];
    for case in cases {
        run(case);
    }
}

/// `line` of a JSON Lines file with the value of `key` replaced by `value`
/// (JSON text; serde_json keeps an integer's digits and writes 1e20 as such).
fn json_set(line: &str, key: &str, value: &str) -> String {
    let mut object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
    object.insert(key.into(), serde_json::from_str(value).unwrap());
    serde_json::to_string(&object).unwrap()
}

/// Money: anything beyond Decimal(18,2) or a column's ceiling is held,
/// never wrapped or rounded (item 2); spreadsheet and JSON numbers as
/// written (items 7, 8).
#[test]
fn amounts_that_do_not_fit_are_held_and_numbers_keep_every_digit() {
    let text = sample_text(PAYMENTS);
    let amount = |row: usize, value: &str| with_line(&text, row, |l| set_field(l, 6, value)).into_bytes();
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let contracts = sample_text(CONTRACTS);
    let special = sample_text(SPECIAL_JSONL);
    let json_line = |row: usize, key: &str, value: &str| {
        special.split_inclusive('\n').enumerate().map(|(i, l)| if i + 1 == row { json_set(l.trim_end(), key, value) + "\n" } else { l.to_string() }).collect::<String>().into_bytes()
    };
    let id_row = special
        .lines()
        .position(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["公民身份号码"].as_str().is_some_and(|id| id.len() == 18 && id.bytes().all(|b| b.is_ascii_digit())))
        .unwrap()
        + 1;
    let id_of_row = serde_json::from_str::<serde_json::Value>(special.lines().nth(id_row - 1).unwrap()).unwrap()["公民身份号码"].as_str().unwrap().to_string();
    let cases = vec![
        loaded("id-number-in-amount", PAYMENTS, amount(20, "430224198505202854"), pristine(), vec![(20, "bad_money")]),
        loaded("bank-account-in-amount", PAYMENTS, amount(21, "6217990000013224734"), pristine(), vec![(21, "bad_money")]),
        loaded("amount-beyond-decimal-18-2", PAYMENTS, amount(22, "99999999999999999.99"), pristine(), vec![(22, "bad_money")]),
        loaded("amount-above-the-ceiling", PAYMENTS, amount(23, "1000000.01"), pristine(), vec![(23, "bad_money")]),
        loaded("amount-with-three-decimals", PAYMENTS, amount(24, "12.345"), pristine(), vec![(24, "bad_money")]),
        loaded("negative-amount-above-the-ceiling", PAYMENTS, amount(25, "-2000000"), pristine(), vec![(25, "bad_money")]),
        touched(loaded("full-width-amount", PAYMENTS, amount(26, "１２３.５０"), pristine(), vec![]), vec![26], |rows| assert_eq!(column("subsidy_payments", &rows[0], "amount"), "123.50")),
        touched(loaded("largest-contract-amount", CONTRACTS, gbk(&with_line(&contracts, 5, |l| set_field(l, 6, "9999999999999999.99"))), (CONTRACTS, sample(CONTRACTS)), vec![]), vec![5], |rows| {
            assert_eq!(column("contracts", &rows[0], "amount"), "9999999999999999.99")
        }),
        loaded("json-amount-1e20", SPECIAL_JSONL, json_line(5, "金额(元)", "1e20"), (SPECIAL_JSONL, sample(SPECIAL_JSONL)), vec![(5, "bad_money")]),
        touched(loaded("json-amount-with-decimals", SPECIAL_JSONL, json_line(6, "金额(元)", "1350.5"), (SPECIAL_JSONL, sample(SPECIAL_JSONL)), vec![]), vec![6], |rows| {
            assert_eq!(column("subsidy_payments", &rows[0], "amount"), "1350.50")
        }),
        loaded("json-id-number-as-a-number", SPECIAL_JSONL, json_line(id_row, "公民身份号码", &id_of_row), (SPECIAL_JSONL, sample(SPECIAL_JSONL)), vec![]),
    ];
    for case in cases {
        run(case);
    }
}

/// JSON Lines: not UTF-8, broken, duplicated keys, UTF-16 (item 6).
#[test]
fn json_lines_that_cannot_be_read_are_rejected_by_line() {
    let deaths = sample_text(DEATHS_JSONL);
    let lines: Vec<&str> = deaths.split_inclusive('\n').collect();
    let pristine = || (DEATHS_JSONL, sample(DEATHS_JSONL));
    let last = deaths.trim_end().lines().count();
    let cases = vec![
        rejected("json-in-gbk", DEATHS_JSONL, gbk(&deaths), &["第 1 行不是有效的 UTF-8", "UTF-8"]),
        rejected("json-one-line-in-gbk", DEATHS_JSONL, [lines[..6].concat().into_bytes(), gbk(lines[6]), lines[7..].concat().into_bytes()].concat(), &["第 7 行不是有效的 UTF-8"]),
        rejected("json-broken-line", DEATHS_JSONL, with_line(&deaths, 4, |l| l.chars().take(l.chars().count() / 2).collect::<String>() + "\n").into_bytes(), &["第 4 行", "JSON"]),
        rejected("json-duplicate-key", DEATHS_JSONL, with_line(&deaths, 6, |l| l.replacen('{', "{\"姓名\":\"重复\",", 1)).into_bytes(), &["第 6 行", "出现了两次"]),
        rejected("json-array-line", DEATHS_JSONL, with_line(&deaths, 3, |_| "[1, 2]\n".into()).into_bytes(), &["第 3 行不是 JSON 对象"]),
        rejected("json-utf16", DEATHS_JSONL, utf16(&deaths, true), &["UTF-16"]),
        rejected("json-cut-short", DEATHS_JSONL, deaths.as_bytes()[..deaths.trim_end().len() - 9].to_vec(), &[&format!("第 {last} 行")]),
        loaded("json-with-bom", DEATHS_JSONL, [&b"\xEF\xBB\xBF"[..], deaths.as_bytes()].concat(), pristine(), vec![]),
        loaded("json-crlf", DEATHS_JSONL, deaths.replace('\n', "\r\n").into_bytes(), pristine(), vec![]),
        loaded("json-blank-lines-at-the-end", DEATHS_JSONL, format!("{deaths}\n  \n\n").into_bytes(), pristine(), vec![]),
        touched(
            loaded("json-nested-value", DEATHS_JSONL, with_line(&deaths, 2, |l| l.replacen('{', "{\"附件\":{\"页数\":2,\"说明\":[\"甲\",\"乙\"]},", 1)).into_bytes(), pristine(), vec![]),
            vec![2],
            |rows| assert!(rows[0][rows[0].len() - 2].contains(r#"{\"页数\":2,\"说明\":[\"甲\",\"乙\"]}"#), "{:?}", rows[0]),
        ),
    ];
    for case in cases {
        run(case);
    }
}

/// Spreadsheets: a used range to XFD1048576, content far to the right,
/// other sheets, formulas without results, error cells, numbers that lost
/// digits, broken files (items 7, 11).
#[test]
fn spreadsheets_are_read_by_their_cells_and_bad_cells_are_held() {
    let text = sample_text(PAYMENTS);
    let file = "subsidy_payments/430223101000_低保.xlsx";
    let clean = xlsx(&text, |_| {});
    let pristine = || (file, clean.clone());
    let edit = |f: fn(&mut rust_xlsxwriter::Worksheet)| xlsx(&text, |w| f(w.worksheet_from_index(0).unwrap()));
    let cases = vec![
        loaded("xlsx-stray-space-at-xfd1048576", file, edit(|s| drop(s.write_string(1_048_575, 16_383, " "))), pristine(), vec![]),
        rejected("xlsx-content-far-right", file, edit(|s| drop(s.write_string(10, 2000, "x"))), &["第 11 行第 2001 列", "1000 列"]),
        Case {
            report: vec!["只读取了「Sheet1」", "Sheet2"], ..loaded("xlsx-second-sheet", file, xlsx(&text, |w| drop(w.add_worksheet().write_string(0, 0, "另一张表"))), pristine(), vec![])
        },
        loaded(
            "xlsx-formula-without-result",
            file,
            rezip(&edit(|s| drop(s.write_formula(5, 3, "=B1"))), "xl/worksheets/sheet1.xml", "<f>B1</f><v>0</v>", "<f>B1</f>"),
            pristine(),
            vec![(6, "bad_formula")],
        ),
        loaded("xlsx-error-cell-in-amount", file, edit(|s| drop(s.write_formula(6, 6, rust_xlsxwriter::Formula::new("=1/0").set_result("#DIV/0!")))), pristine(), vec![(7, "bad_money")]),
        loaded("xlsx-amount-1e20", file, edit(|s| drop(s.write_number(7, 6, 1e20))), pristine(), vec![(8, "bad_money")]),
        loaded("xlsx-amount-with-three-decimals", file, edit(|s| drop(s.write_number(8, 6, 1350.125))), pristine(), vec![(9, "bad_money")]),
        touched(loaded("xlsx-amount-as-a-number", file, edit(|s| drop(s.write_number(11, 6, 1350.5))), pristine(), vec![]), vec![12], |rows| {
            assert_eq!(column("subsidy_payments", &rows[0], "amount"), "1350.50")
        }),
        loaded("xlsx-id-number-as-a-number", file, edit(|s| drop(s.write_number(10, 2, 430_223_197_405_287_618.0))), pristine(), vec![(11, "bad_id")]),
        rejected("xlsx-cut-short", file, clean[..clean.len() / 2].to_vec(), &["XLSX"]),
        rejected("csv-named-xlsx", file, text.clone().into_bytes(), &["XLSX"]),
        rejected("old-xls", "subsidy_payments/430223101000_低保.xls", clean.clone(), &[".xls", "另存为 .xlsx"]),
    ];
    for case in cases {
        run(case);
    }
}

/// Names and places: hidden files, sub-folders, lock files, a line break
/// in a name, the wrong folder, missing columns, row-level problems (items 9, 11).
#[test]
fn files_the_ingest_skips_are_named_and_row_problems_are_held() {
    let text = sample_text(PAYMENTS);
    let rows = text.trim_end().lines().count() as u64;
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let without_name: String = text
        .split_inclusive('\n')
        .map(|l| {
            let mut f: Vec<&str> = l.trim_end().split(',').collect();
            f.remove(3);
            f.join(",") + "\n"
        })
        .collect();
    let cases = vec![
        Case { expect: Expect::Skipped(vec!["隐藏文件".into()]), ..rejected("hidden-file", "subsidy_payments/..x.csv", text.clone().into_bytes(), &[]) },
        Case { expect: Expect::Skipped(vec!["子文件夹".into(), "「2025」".into()]), ..rejected("sub-folder", "subsidy_payments/2025/", text.clone().into_bytes(), &[]) },
        Case { expect: Expect::Skipped(vec!["临时锁文件".into()]), ..rejected("office-lock-file", "subsidy_payments/~$低保.xlsx", vec![1, 2, 3], &[]) },
        Case { expect: Expect::Skipped(vec!["尚未传完".into()]), ..rejected("partial-upload", "subsidy_payments/低保.csv.part", text.clone().into_bytes(), &[]) },
        loaded("line-break-in-the-name", "subsidy_payments/低保\n名单.csv", sample(PAYMENTS), ("subsidy_payments/低保\n名单.csv", sample(PAYMENTS)), vec![]),
        rejected("payments-in-the-deaths-folder", "deaths/430223101000_低保.csv", sample(PAYMENTS), &["看起来是「民生资金发放」", "subsidy_payments/"]),
        rejected("missing-required-column", PAYMENTS, without_name.into_bytes(), &["表头缺少必填列: 姓名"]),
        loaded("duplicate-key", PAYMENTS, format!("{}{}", text, text.lines().nth(4).unwrap()).into_bytes(), pristine(), vec![(rows + 1, "duplicate_key")]),
        loaded("impossible-date", PAYMENTS, with_line(&text, 15, |l| set_field(l, 8, "2025-02-30")).into_bytes(), pristine(), vec![(15, "bad_date")]),
        loaded("empty-required-name", PAYMENTS, with_line(&text, 17, |l| set_field(l, 3, "")).into_bytes(), pristine(), vec![(17, "missing_required")]),
        loaded("programme-outside-the-list", PAYMENTS, with_line(&text, 18, |l| set_field(l, 1, "低保金")).into_bytes(), pristine(), vec![(18, "bad_enum")]),
        touched(loaded("wrong-check-digit-kept", PAYMENTS, with_line(&text, 16, |l| set_field(l, 2, "430223195003071230")).into_bytes(), pristine(), vec![]), vec![16], |rows| {
            assert_eq!(column("subsidy_payments", &rows[0], "id_number"), "430223195003071230", "kept for the rule, unchanged")
        }),
    ];
    for case in cases {
        run(case);
    }
}

/// The same rejected bytes under two names: each file's rejection is
/// recorded (issue 32).
#[test]
fn identical_rejected_files_under_two_names_are_each_recorded() {
    let dir = scratch("bad-identical-rejected");
    let (inbox, lake) = (dir.join("inbox"), dir.join("lake"));
    let bytes = stray(sample_text(PAYMENTS).as_bytes(), 30, 3, b"\xFF");
    let names = ["subsidy_payments/甲.csv", "subsidy_payments/乙.csv"];
    for name in names {
        std::fs::create_dir_all(inbox.join(name).parent().unwrap()).unwrap();
        std::fs::write(inbox.join(name), &bytes).unwrap();
    }
    let out = xuncha(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    for name in names {
        let batches = batches_of(&lake, name);
        assert_eq!(batches.len(), 1, "{name}: {batches:?}");
        assert_eq!(batches[0].0, "rejected");
    }
}

/// A rejected file delivered again is read again and said to have been
/// rejected before, and loads once it is fixed (item 9).
#[test]
fn a_rejected_file_delivered_again_is_not_taken_for_loaded() {
    let dir = scratch("bad-redelivered");
    let (inbox, lake) = (dir.join("inbox"), dir.join("lake"));
    let path = inbox.join(PAYMENTS);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = sample_text(PAYMENTS);
    std::fs::write(&path, stray(text.as_bytes(), 30, 3, b"\xFF")).unwrap();
    let ingest = || xuncha(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    let first = ingest();
    assert_eq!(first.status.code(), Some(1));
    let again = ingest();
    let out = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "{out}");
    assert!(out.contains("拒收") && out.contains("此前已拒收") && out.contains("第 30 行") && !out.lines().any(|l| l.starts_with("跳过")), "{out}");
    assert_eq!(batches_of(&lake, PAYMENTS).len(), 1, "the rejection recorded once");
    std::fs::write(&path, text.as_bytes()).unwrap();
    let fixed = ingest();
    assert!(fixed.status.success(), "{}", String::from_utf8_lossy(&fixed.stdout));
    let batches = batches_of(&lake, PAYMENTS);
    assert_eq!(batches.iter().map(|b| b.0.as_str()).collect::<Vec<_>>(), ["rejected", "loaded"]);
    assert_eq!(lake_rows(&lake, "subsidy_payments", PAYMENTS).len() as u64, batches[1].2);
}

/// Issue 32, values: a year or a month in a date column, a unit in a
/// header, the 1904 date system, a hidden first sheet, two columns for one
/// field — each loaded exactly or held, never changed.
#[test]
fn years_units_date_systems_hidden_sheets_and_twin_columns_never_change_a_value() {
    let text = sample_text(PAYMENTS);
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let paid_date = |row: usize, value: &str| with_line(&text, row, |l| set_field(l, 8, value));
    let mut months = text.clone();
    for (row, value) in [(15, "2019.03"), (16, "201903"), (17, "2019"), (18, "2021.10"), (19, "2019.3")] {
        months = with_line(&months, row, |l| set_field(l, 8, value));
    }
    // Three rows, amounts in the header's unit.
    let small = |header_unit: &str, amounts: [&str; 3]| -> Vec<u8> {
        let lines: Vec<&str> = text.split_inclusive('\n').take(4).collect();
        let mut out = lines[0].replace("金额（元）", &format!("金额（{header_unit}）"));
        for (i, amount) in amounts.iter().enumerate() {
            out.push_str(&set_field(lines[i + 1], 6, amount));
        }
        out.into_bytes()
    };
    let small_pristine = || (PAYMENTS, small("元", ["300", "15000", "120000"]));
    let file = "subsidy_payments/430223101000_低保.xlsx";
    let clean = xlsx(&text, |_| {});
    let xlsx_pristine = || (file, clean.clone());
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let mac = rezip(&xlsx(&text, |w| drop(w.worksheet_from_index(0).unwrap().write_number_with_format(11, 8, 43_894.0, &date_format))), "xl/workbook.xml", "<workbookPr", "<workbookPr date1904=\"1\"");
    let hidden_first = {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let stale = workbook.add_worksheet().set_name("旧表").unwrap();
        fill_sheet(stale, &with_line(&text, 5, |l| set_field(l, 6, "99999")));
        stale.set_hidden(true);
        let live = workbook.add_worksheet().set_name("花名册").unwrap();
        fill_sheet(live, &text);
        live.set_active(true);
        workbook.save_to_buffer().unwrap()
    };
    // A second amount column (发放金额) and a second ID column (证件号码).
    let twin = |column: usize, header: &str, changed: &[(usize, &str)]| -> Vec<u8> {
        let mut out = String::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let value = if i == 0 {
                header.to_string()
            } else {
                changed.iter().find(|(row, _)| *row == i + 1).map_or_else(|| line.trim_end().split(',').nth(column).unwrap_or_default().to_string(), |(_, v)| v.to_string())
            };
            out.push_str(&line.replace('\n', &format!(",{value}\n")));
        }
        out.into_bytes()
    };
    let cases = vec![
        loaded("date-given-as-month-or-year", PAYMENTS, months.into_bytes(), pristine(), vec![(15, "bad_date"), (16, "bad_date"), (17, "bad_date"), (18, "bad_date"), (19, "bad_date")]),
        loaded("date-given-as-an-implausible-serial", PAYMENTS, paid_date(20, "3000").into_bytes(), pristine(), vec![(20, "bad_date")]),
        touched(loaded("date-given-as-a-plausible-serial", PAYMENTS, paid_date(21, "45356").into_bytes(), pristine(), vec![]), vec![21], |rows| {
            assert_eq!(column("subsidy_payments", &rows[0], "paid_date"), "2024-03-05")
        }),
        loaded(
            "xlsx-date-as-number-month",
            file,
            xlsx(&text, |w| {
                let sheet = w.worksheet_from_index(0).unwrap();
                sheet.write_number(5, 8, 2019.03).unwrap();
                sheet.write_number(6, 8, 201_903.0).unwrap();
                sheet.write_number(7, 8, 2019.0).unwrap();
            }),
            xlsx_pristine(),
            vec![(6, "bad_date"), (7, "bad_date"), (8, "bad_date")],
        ),
        loaded("xlsx-period-2019-1-is-january-or-october", file, xlsx(&text, |w| drop(w.worksheet_from_index(0).unwrap().write_number(10, 5, 2019.1))), xlsx_pristine(), vec![(11, "bad_month")]),
        touched(loaded("amounts-in-wan-yuan", PAYMENTS, small("万元", ["0.03", "1.5", "12"]), small_pristine(), vec![]), vec![2, 3, 4], |rows| {
            let amounts: Vec<String> = rows.iter().map(|r| column("subsidy_payments", r, "amount")).collect();
            assert_eq!(amounts, ["300.00", "15000.00", "120000.00"])
        }),
        touched(loaded("amounts-in-thousand-yuan", PAYMENTS, small("千元", ["0.3", "15", "120"]), small_pristine(), vec![]), vec![2, 3, 4], |rows| {
            let amounts: Vec<String> = rows.iter().map(|r| column("subsidy_payments", r, "amount")).collect();
            assert_eq!(amounts, ["300.00", "15000.00", "120000.00"])
        }),
        loaded("wan-yuan-finer-than-a-cent", PAYMENTS, small("万元", ["0.03", "1.5", "0.0000001"]), small_pristine(), vec![(4, "bad_money")]),
        rejected("amount-in-percent", PAYMENTS, small("%", ["3", "15", "12"]), &["「%」", "金额"]),
        touched(Case { report: vec!["1904 日期系统"], ..loaded("xlsx-1904-date-system", file, mac, xlsx_pristine(), vec![]) }, vec![12], |rows| {
            assert_eq!(column("subsidy_payments", &rows[0], "paid_date"), "2024-03-05", "43894 in the 1904 system")
        }),
        Case { report: vec!["只读取了「花名册」", "旧表(隐藏)"], ..loaded("xlsx-hidden-stale-first-sheet", file, hidden_first, xlsx_pristine(), vec![]) },
        loaded(
            "twin-amount-columns-disagree",
            PAYMENTS,
            twin(6, "发放金额", &[(20, "1"), (21, "2")]),
            (PAYMENTS, twin(6, "发放金额", &[])),
            vec![(20, "conflicting_columns"), (21, "conflicting_columns")],
        ),
        loaded("twin-id-columns-disagree", PAYMENTS, twin(2, "证件号码", &[(24, "430223195003071233")]), (PAYMENTS, twin(2, "证件号码", &[])), vec![(24, "conflicting_columns")]),
    ];
    for case in cases {
        run(case);
    }
}

/// Issue 32, rows: a quote left open in a last field, exports joined in
/// one file, a 总计 row that is data — every line read, counted as
/// skipped, or the file rejected.
#[test]
fn quotes_joined_exports_and_total_rows_never_lose_a_row() {
    let text = sample_text(PAYMENTS);
    let pristine = || (PAYMENTS, sample(PAYMENTS));
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // A quote opened at the start of row `open`'s last field and closed at
    // the end of row `close`'s.
    let swallowing = |text: &str, open: usize, close: usize| {
        let quoted = |text: &str, row: usize, opening: bool| {
            with_line(text, row, |l| {
                let (head, last) = l.trim_end().rsplit_once(',').unwrap();
                if opening { format!("{head},\"{last}\n") } else { format!("{head},{last}\"\n") }
            })
        };
        quoted(&quoted(text, open, true), close, false)
    };
    let header = lines[0];
    let without_account = |line: &str| {
        let mut fields: Vec<&str> = line.trim_end().split(',').collect();
        fields.remove(7);
        fields.join(",") + "\n"
    };
    let short_then_full = format!("{}{}{}", lines[..6].iter().map(|l| without_account(l)).collect::<String>(), header, lines[6..].concat());
    let long_then_full = format!("{}{}{}", lines[..40].iter().map(|l| without_account(l)).collect::<String>(), header, lines[40..].concat());
    let twice = format!("{}{}{}", lines[..6].concat(), header, lines[6..].concat());
    let gbk_text = sample_text(PAYMENTS_GBK);
    let cases = vec![
        rejected("quote-open-in-a-last-field-closed-one-row-later", PAYMENTS, swallowing(&text, 10, 11).into_bytes(), &["第 10 行", "引号"]),
        rejected("quote-open-in-a-last-field-closed-five-rows-later", PAYMENTS, swallowing(&text, 10, 15).into_bytes(), &["第 10 行", "引号"]),
        rejected("quote-open-in-a-last-field-gbk", PAYMENTS_GBK, gbk(&swallowing(&gbk_text, 4, 6)), &["第 4 行", "引号"]),
        rejected("two-exports-the-second-wider", PAYMENTS, short_then_full.into_bytes(), &["第 1 行", "拼接"]),
        rejected("two-exports-the-first-long", PAYMENTS, long_then_full.into_bytes(), &["第 41 行又是一行表头"]),
        rejected("two-exports-the-same-header", PAYMENTS, twice.into_bytes(), &["第 7 行又是一行表头"]),
        touched(loaded("data-row-starting-with-zongji", PAYMENTS, with_line(&text, 30, |l| format!("总计{l}")).into_bytes(), pristine(), vec![]), vec![30], |rows| {
            assert!(column("subsidy_payments", &rows[0], "payment_id").starts_with("总计"), "{:?}", rows[0])
        }),
        loaded("total-row-above-data", PAYMENTS, with_line(&text, 20, |_| "合计,,,,,,12345,,,\n".into()).into_bytes(), pristine(), vec![(20, "total_above_data")]),
    ];
    for case in cases {
        run(case);
    }
}
