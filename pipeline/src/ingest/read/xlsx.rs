//! XLSX: the rows of a workbook's first visible sheet, the cells it holds
//! and never its declared range, after the zip is checked against bombs.

use super::{RawCell, RawRow, RowIter};
use crate::PipelineError;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;
use xuncha_core::values;

/// A sheet's widest plausible row: a cell with content beyond it rejects
/// the file (blank cells beyond it, such as a stray space typed far to
/// the right, are ignored).
pub const MAX_SHEET_COLUMNS: u32 = 1000;

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

#[cfg(test)]
mod tests {
    #[test]
    fn spreadsheet_escapes_are_undone() {
        use super::unescape_xstring;
        assert_eq!(unescape_xstring("a_x000D_\nb"), "a\r\nb");
        assert_eq!(unescape_xstring("_x005F_x000D_"), "_x000D_", "an escaped underscore");
        assert_eq!(unescape_xstring("x_1_xZZ_ 张_x"), "x_1_xZZ_ 张_x", "not escapes");
        assert_eq!(unescape_xstring("_x5F20__x4E09_"), "张三");
    }
}
