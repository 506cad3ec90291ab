//! A workbook (XLSX, a zip of XML parts) checked before a reader opens it:
//! a small file may unpack to gigabytes (a zip bomb), hold millions of
//! shared strings that a reader keeps in memory, or claim a sheet of
//! 16,384 × 1,048,576 cells. [`check_xlsx`] unpacks every part once into
//! nothing, counting, and stops at the first limit passed — it never holds
//! more than a buffer, whatever the file claims — so the reader that
//! follows (calamine, streaming cells) works within known bounds. On the
//! way it notes the workbook's date system ([`Checked`]), and
//! [`visible_sheet`] chooses the sheet a person sees.

use std::io::{Read, Seek};

/// What a workbook may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkbookLimits {
    /// Parts in the zip.
    pub max_parts: usize,
    /// All parts unpacked, in bytes.
    pub max_unpacked_bytes: u64,
    /// Strings of the shared-strings table (each kept in memory by the reader).
    pub max_shared_strings: u64,
    /// Cells over all sheets (`<c` elements).
    pub max_cells: u64,
}

impl WorkbookLimits {
    /// A department's delivery (the inbox): up to a full sheet of
    /// 1,048,576 rows of a wide table.
    pub const DELIVERY: WorkbookLimits = WorkbookLimits { max_parts: 1_000, max_unpacked_bytes: 3 << 29, max_shared_strings: 8_000_000, max_cells: 25_000_000 };
    /// A unit's filled 交办单 (a few hundred cases at most).
    pub const UPLOAD: WorkbookLimits = WorkbookLimits { max_parts: 200, max_unpacked_bytes: 64 << 20, max_shared_strings: 200_000, max_cells: 1_000_000 };
}

/// What the check learned of the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checked {
    /// The workbook counts dates from 1904-01-01 (`<workbookPr
    /// date1904="1"/>`, Excel for Mac): its date serials are
    /// [`DAYS_1900_TO_1904`] less than the 1900 system's.
    pub date_1904: bool,
}

/// Days between the 1900 and the 1904 date systems' serials of one date.
pub const DAYS_1900_TO_1904: f64 = 1462.0;

impl Checked {
    /// A date cell's serial in the 1900 system, which the readers count in.
    pub fn serial_1900(&self, serial: f64) -> f64 {
        if self.date_1904 { serial + DAYS_1900_TO_1904 } else { serial }
    }
}

/// The sheet a person sees on opening the workbook: the first visible
/// worksheet (a hidden first sheet is often a stale copy), and the names
/// of the other sheets, which are not read.
pub fn visible_sheet(sheets: &[calamine::Sheet]) -> Option<(String, Vec<String>)> {
    let worksheet = |s: &&calamine::Sheet| s.typ == calamine::SheetType::WorkSheet;
    let chosen = sheets.iter().filter(worksheet).find(|s| s.visible == calamine::SheetVisible::Visible).or_else(|| sheets.iter().find(worksheet))?;
    let others = sheets.iter().filter(|s| s.name != chosen.name).map(|s| if s.visible == calamine::SheetVisible::Visible { s.name.clone() } else { format!("{}(隐藏)", s.name) }).collect();
    Some((chosen.name.clone(), others))
}

/// Whether `workbook.xml` declares the 1904 date system.
fn declares_1904(book: &[u8]) -> bool {
    memchr::memmem::find_iter(book, b"date1904=").any(|at| matches!(book.get(at + 9..at + 11), Some([b'"' | b'\'', b'1' | b't'])))
}

/// Checks a workbook's zip against `limits`; `Err` is the reason, in
/// Chinese, for the person who sent it.
pub fn check_xlsx<R: Read + Seek>(file: R, limits: &WorkbookLimits) -> Result<Checked, String> {
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("不是有效的 XLSX 文件(无法作为压缩包打开:{e})"))?;
    if zip.len() > limits.max_parts {
        return Err(format!("工作簿由 {} 个部件组成,超过上限 {};请另存为普通的 XLSX 后重新报送", zip.len(), limits.max_parts));
    }
    let mut unpacked = 0u64;
    let mut cells = 0u64;
    let mut checked = Checked::default();
    let mut buffer = vec![0u8; 64 * 1024];
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).map_err(|e| format!("工作簿的第 {} 个部件无法读取:{e}", index + 1))?;
        let name = part.name().to_string();
        let shared = name == "xl/sharedStrings.xml";
        let sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        // The workbook part's head, where its properties stand.
        let mut book: Option<Vec<u8>> = (name == "xl/workbook.xml").then(Vec::new);
        let tag: &[u8] = if shared { b"<si" } else { b"<c" };
        let mut strings = 0u64;
        // Carried between reads: the bytes where a tag may start whose next byte is not read yet.
        let mut window: Vec<u8> = Vec::new();
        loop {
            let read = part.read(&mut buffer).map_err(|e| format!("工作簿的部件「{name}」已损坏,无法解压:{e}"))?;
            if read == 0 {
                break;
            }
            unpacked += read as u64;
            if unpacked > limits.max_unpacked_bytes {
                return Err(format!("工作簿解压后超过 {} MB(文件很小但解压后极大,可能是压缩炸弹),未读取", limits.max_unpacked_bytes >> 20));
            }
            if let Some(book) = book.as_mut().filter(|b| b.len() < 1 << 20) {
                book.extend_from_slice(&buffer[..read]);
            }
            if !(shared || sheet) {
                continue;
            }
            window.extend_from_slice(&buffer[..read]);
            let found = count_tags(&window, tag);
            window.drain(..window.len() - window.len().min(tag.len()));
            if shared {
                strings += found;
                if strings > limits.max_shared_strings {
                    return Err(format!("工作簿的共享字符串超过 {} 个,超出了能读取的规模;请拆分成几个文件后重新报送", limits.max_shared_strings));
                }
            } else {
                cells += found;
                if cells > limits.max_cells {
                    return Err(format!("工作簿的单元格超过 {} 个,超出了能读取的规模;请拆分成几个文件后重新报送", limits.max_cells));
                }
            }
        }
        if let Some(book) = book {
            checked.date_1904 = declares_1904(&book);
        }
    }
    Ok(checked)
}

/// Occurrences of `tag` followed by a space, `>` or `/` in `bytes` (one at
/// the very end, whose next byte is unknown, is left for the next read).
fn count_tags(bytes: &[u8], tag: &[u8]) -> u64 {
    memchr::memmem::find_iter(bytes, tag).filter(|at| bytes.get(at + tag.len()).is_some_and(|b| matches!(b, b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r'))).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn workbook(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in parts {
            zip.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    const SMALL: WorkbookLimits = WorkbookLimits { max_parts: 10, max_unpacked_bytes: 1 << 20, max_shared_strings: 100, max_cells: 1_000 };

    #[test]
    fn bombs_are_refused_and_a_sheet_passes() {
        let sheet = |cells: usize| format!("<worksheet><sheetData><row r=\"1\">{}</row></sheetData></worksheet>", "<c r=\"A1\" t=\"s\"><v>0</v></c>".repeat(cells)).into_bytes();
        let fine = workbook(&[("xl/worksheets/sheet1.xml", sheet(999)), ("xl/sharedStrings.xml", "<sst><si><t>a</t></si></sst>".repeat(100).into_bytes())]);
        assert_eq!(check_xlsx(Cursor::new(fine), &SMALL), Ok(Checked { date_1904: false }));
        let mac = workbook(&[("xl/workbook.xml", b"<workbook><workbookPr date1904=\"1\"/></workbook>".to_vec())]);
        assert_eq!(check_xlsx(Cursor::new(mac), &SMALL), Ok(Checked { date_1904: true }));
        let windows = workbook(&[("xl/workbook.xml", b"<workbook><workbookPr date1904=\"0\"/></workbook>".to_vec())]);
        assert_eq!(check_xlsx(Cursor::new(windows), &SMALL), Ok(Checked { date_1904: false }));
        let cells = workbook(&[("xl/worksheets/sheet1.xml", sheet(1_001))]);
        assert!(check_xlsx(Cursor::new(cells), &SMALL).unwrap_err().contains("单元格"));
        let strings = workbook(&[("xl/sharedStrings.xml", "<si><t/></si>".repeat(101).into_bytes())]);
        assert!(check_xlsx(Cursor::new(strings), &SMALL).unwrap_err().contains("共享字符串"));
        // 1.5 MB of zeros packs into a few KB.
        let bomb = workbook(&[("xl/worksheets/sheet2.xml", vec![b' '; 3 << 19])]);
        assert!(bomb.len() < 20_000);
        assert!(check_xlsx(Cursor::new(bomb), &SMALL).unwrap_err().contains("压缩炸弹"));
        assert!(check_xlsx(Cursor::new(b"PK not a zip".to_vec()), &SMALL).unwrap_err().contains("不是有效的 XLSX"));
    }

    #[test]
    fn tags_split_between_reads_count_once() {
        for split in 0..8 {
            let text = b"xx<c r=1/><c>y<cc<si>";
            let (a, b) = text.split_at(split.min(text.len()));
            let mut window = a.to_vec();
            let first = count_tags(&window, b"<c");
            window.drain(..window.len() - window.len().min(2));
            window.extend_from_slice(b);
            assert_eq!(first + count_tags(&window, b"<c"), 2, "split at {split}");
        }
    }
}
