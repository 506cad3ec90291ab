//! Header resolution: finding a file's header among its first rows (title
//! rows above it checked), what each header means (the contract, an alias,
//! a mapping of `xuncha.toml`, a village name), the columns a file lacks and
//! the hints to fix it, two headers for one column, and the shape of footer
//! rows. The file reader ([`super::file`]) and the ingest both ask here.

use super::read::{self, Cell, RawRow, Row, Rows};
use super::villages;
use crate::PipelineError;
use std::collections::HashSet;
use std::path::Path;
use xuncha_core::contract::Source;
use xuncha_core::declared::Catalog;
use xuncha_core::mapping::{HeaderMappings, Via};
use xuncha_core::values;

/// How one header of a file was read.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnUse {
    pub header: String,
    /// The column it fills, if any (else it is kept in `extra`).
    pub column: Option<&'static str>,
    /// By which rule: the contract's header, a declared alias, a mapping of
    /// `xuncha.toml`, a shipped spelling, a village name.
    pub via: &'static str,
}

/// Whether `text` starts with a word of a total row: 合计, 总计 or 小计.
pub(super) fn starts_with_total(text: &str) -> bool {
    ["合计", "总计", "小计"].iter().any(|w| text.starts_with(w))
}

/// Whether a row is a footer or a note rather than data: 合计/总计/小计 in
/// one of its first three filled cells, or a lone `制表人:…` line.
pub(super) fn is_footer(row: &impl Row) -> bool {
    let is_total = |c: &Cell<'_>| matches!(c, Cell::Text(t) if !t.is_ascii() && starts_with_total(t.trim_start()));
    let mut filled = row.cells().filter(|c| !c.is_blank());
    let Some(first) = filled.next() else { return false };
    match filled.next() {
        None => is_total(&first) || matches!(first, Cell::Text(t) if t.contains([':', '：'])),
        Some(second) => is_total(&first) || is_total(&second) || filled.next().is_some_and(|c| is_total(&c)),
    }
}

/// Whether a row whose first three cells are `first` is plainly data, told
/// by a look at their first bytes: each starts with a character that is
/// neither white space nor the start of a total word, so the row is neither
/// blank nor a footer. `false` leaves it to [`is_footer`].
pub(super) fn plainly_data<'a>(mut first: impl Iterator<Item = &'a str>) -> bool {
    first.all(|text| values::starts_unspaced(text) && !starts_with_total(text))
}

/// A delivered file opened and its header found.
pub(super) struct Opened {
    pub(super) format: String,
    pub(super) header: Vec<String>,
    /// The rows of its head below the header (read while looking for it).
    pub(super) head_rest: Vec<RawRow>,
    /// The rest of the rows.
    pub(super) rows: Rows,
    /// What the report should say about the file (other sheets not read).
    pub(super) notes: Vec<String>,
}

/// Opens a file by its extension and finds its header.
pub(super) fn open_rows(source: &Source, sources: &Catalog, headers: &HeaderMappings, path: &Path) -> Result<Opened, PipelineError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (format, mut rows, notes) = match ext.as_str() {
        "csv" | "txt" => {
            let (encoding, rows) = read::csv_rows(path)?;
            (format!("CSV {}", encoding.label()), rows, Vec::new())
        }
        "xlsx" | "xlsm" => {
            let (rows, notes) = read::xlsx_rows(path, None)?;
            (ext.to_uppercase(), Rows::cells(rows), notes)
        }
        "xls" => return Err(PipelineError::Unreadable("不支持旧版 Excel 97-2003 格式(.xls);请在 Excel/WPS 中另存为 .xlsx 后重新报送".into())),
        "jsonl" | "ndjson" | "json" => {
            let (keys, rows) = read::jsonl_rows(path)?;
            return Ok(Opened { format: "JSON Lines".to_string(), header: keys, head_rest: Vec::new(), rows: Rows::cells(rows), notes: Vec::new() });
        }
        other => return Err(PipelineError::Unreadable(format!("不支持的文件类型「.{}」(应为 CSV、XLSX 或 JSON Lines)", values::excerpt(other, 20)))),
    };
    // Look for the header among the first rows.
    let mut head: Vec<RawRow> = Vec::new();
    while head.len() < 30
        && let Some(row) = rows.next_row()
    {
        head.push(row?);
    }
    let Some(at) = find_header(source, headers, &head) else {
        rows.check_head_text()?;
        let first = head.iter().find(|r| !r.is_blank());
        let shown = first.map(|r| r.cells().take(30).map(|c| c.text()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        let tabs = if first.is_some_and(|r| r.width() == 1 && r.cells().any(|c| matches!(c, Cell::Text(t) if t.contains('\t')))) {
            "。这一行用制表符分隔,像是 Excel「Unicode 文本」或 TSV:请另存为「CSV(逗号分隔)」或 XLSX"
        } else {
            ""
        };
        // Its first row may be the header in the department's own words:
        // what each required column most resembles there, and the line to add.
        let first_header: Vec<String> = first.map(|r| r.cells().map(|c| c.text()).collect()).unwrap_or_default();
        let missing = missing_required(source, headers, &first_header);
        let hints = hints(source, headers, &first_header, &missing);
        let hints = if hints.is_empty() { hints } else { format!("。如果第一行就是表头,它缺少必填列 {}{hints}", missing_names(source, &missing)) };
        return Err(PipelineError::Unreadable(format!(
            "在前 30 行中找不到「{}」({}) 的表头;第一行是: {}{tabs}{}{hints}",
            source.title,
            source.name,
            values::excerpt(&shown, 200),
            looks_like(source, sources, headers, &head)
        )));
    };
    let header: Vec<String> = head[at].cells().map(|c| c.text()).collect();
    let mut notes = notes;
    let titles = titles_above(source, headers, &head[..at], &head[at])?;
    if titles > 0 {
        notes.push(format!("表头在第 {} 行,其上 {titles} 行是标题,不作数据读取", head[at].number()));
    }
    rows.name_columns(&header);
    rows.check_head_text()?;
    let head_rest = head.split_off(at + 1);
    for row in &head_rest {
        row.check_quoted_lines(header.len())?;
    }
    Ok(Opened { format, header, head_rest, rows, notes })
}

/// The non-blank rows above a file's header, each a title (a cell or a
/// few: `2024年XX镇低保发放花名册`, `填报单位:…`); a row there that is
/// another header or reads like data means several exports were joined in
/// one file, whose first parts would go unread: the file is rejected.
pub(super) fn titles_above(source: &Source, headers: &HeaderMappings, above: &[RawRow], header: &RawRow) -> Result<usize, PipelineError> {
    let width = header.cells().filter(|c| !c.is_blank()).count();
    let mut titles = 0;
    for row in above.iter().filter(|r| !r.is_blank()) {
        let filled = row.cells().filter(|c| !c.is_blank()).count();
        let what = if header_score(source, headers, row) >= 2 {
            "也是一行表头"
        } else if filled >= 3 && filled * 2 >= width {
            "像是一行数据"
        } else {
            titles += 1;
            continue;
        };
        return Err(PipelineError::Unreadable(format!(
            "第 {} 行在表头(第 {} 行)之上,却{what}:文件像是几份导出拼接在一起,为免漏读其中一份,整份文件未入库;请把每份导出存成单独的文件后重新报送",
            row.number(),
            header.number()
        )));
    }
    Ok(titles)
}

/// " — 看起来是 X 的文件" when another source's header fits the first rows.
pub(super) fn looks_like(expected: &Source, sources: &Catalog, headers: &HeaderMappings, head: &[RawRow]) -> String {
    for other in sources.all().filter(|s| s.name != expected.name) {
        if let Some(at) = find_header(other, headers, head) {
            let header: Vec<String> = head[at].cells().map(|c| c.text()).collect();
            if missing_required(other, headers, &header).is_empty() {
                return format!("。看起来是「{}」的文件,应放在 {}/ 文件夹", other.title, other.name);
            }
        }
    }
    String::new()
}

/// The column each of a file's headers means (a column taken once: the
/// first header that means it). Contract headers are placed first, so that
/// a mapped spelling never takes a column a contract header names.
pub(super) fn mapping(source: &Source, headers: &HeaderMappings, header: &[String]) -> Vec<Option<usize>> {
    let recognised: Vec<Option<(usize, Via)>> = header.iter().map(|h| headers.column(source, h)).collect();
    let mut used = HashSet::new();
    let mut out = vec![None; header.len()];
    for contract in [true, false] {
        for (i, r) in recognised.iter().enumerate() {
            if let Some((column, via)) = r
                && matches!(via, Via::Contract | Via::Alias) == contract
                && used.insert(*column)
            {
                out[i] = Some(*column);
            }
        }
    }
    out
}

/// (contract column, file column) of each header that names a column an
/// earlier header took (see [`mapping`]): the twins compared row by row.
pub(super) fn twins(source: &Source, headers: &HeaderMappings, header: &[String], map: &[Option<usize>]) -> Vec<(usize, usize)> {
    header
        .iter()
        .enumerate()
        .filter(|(i, _)| map[*i].is_none())
        .filter_map(|(i, h)| headers.column(source, h).map(|(column, _)| (column, i)))
        .filter(|(column, _)| map.contains(&Some(*column)))
        .collect()
}

/// The required columns a file's header lacks (their indices); a village
/// code given by name (see [`villages`]) is not lacking.
pub(super) fn missing_required(source: &Source, headers: &HeaderMappings, header: &[String]) -> Vec<usize> {
    let map = mapping(source, headers, header);
    let by_name = villages::names_in(source, header, &map).map(|names| names.column);
    let mapped: HashSet<usize> = map.into_iter().flatten().chain(by_name).collect();
    source.columns.iter().enumerate().filter(|(i, c)| c.required && !mapped.contains(i)).map(|(i, _)| i).collect()
}

/// How each header of a file is read: the column it fills and by which rule.
pub(super) fn column_uses(source: &Source, headers: &HeaderMappings, header: &[String], map: &[Option<usize>]) -> Vec<ColumnUse> {
    let names = villages::names_in(source, header, map);
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (column, via) = match (map[i], names) {
                (Some(c), _) => (Some(source.columns[c].name), headers.column(source, h).map_or("", |(_, via)| via.label())),
                (None, Some(n)) if n.village == i || n.town == Some(i) => (Some(source.columns[n.column].name), "乡镇、村名称对照行政区划"),
                (None, _) => (None, "合同外的列,存入 extra"),
            };
            ColumnUse { header: h.clone(), column, via }
        })
        .collect()
}

/// Why a file lacking required columns is rejected, and how to fix it: for
/// each, the file's likeliest header and the line to add to `xuncha.toml`.
pub(super) fn missing_reason(source: &Source, headers: &HeaderMappings, header: &[String], missing: &[usize]) -> String {
    format!("表头缺少必填列: {}(读到的表头: {}){}", missing_names(source, missing), values::excerpt(&header.join(", "), 300), hints(source, headers, header, missing))
}

/// The Chinese headers of `missing` columns.
pub(super) fn missing_names(source: &Source, missing: &[usize]) -> String {
    missing.iter().map(|i| source.columns[*i].header).collect::<Vec<_>>().join("、")
}

/// For each missing column, ";" and the file's likeliest header with the
/// line to add (see [`xuncha_core::mapping::suggestion`]).
pub(super) fn hints(source: &Source, headers: &HeaderMappings, header: &[String], missing: &[usize]) -> String {
    let mapped = mapping(source, headers, header);
    let unmapped: Vec<&str> = header.iter().zip(&mapped).filter(|(h, m)| m.is_none() && !h.trim().is_empty()).map(|(h, _)| h.as_str()).collect();
    missing.iter().filter_map(|i| xuncha_core::mapping::suggestion(source, *i, &unmapped)).map(|hint| format!(";{hint}")).collect()
}

/// The non-blank cells at `indices` as a JSON object keyed by header (a
/// JSON Lines key first seen late arrives as `key=value`), or `None`.
pub(super) fn cells_json(header: &[String], row: &impl Row, indices: impl Iterator<Item = usize>) -> Option<String> {
    let mut object = serde_json::Map::new();
    for i in indices {
        let cell = row.cell(i);
        if cell.is_blank() {
            continue;
        }
        let (key, value) = match header.get(i).map(|h| h.trim()).filter(|h| !h.is_empty()) {
            Some(h) => (h.to_string(), cell.text()),
            None => match cell.text().split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (format!("第{}列", i + 1), cell.text()),
            },
        };
        object.insert(key, serde_json::Value::String(value));
    }
    (!object.is_empty()).then(|| serde_json::Value::Object(object).to_string())
}

/// The longest cell that is looked at as a possible column name.
const MAX_HEADER_BYTES: usize = 200;

/// Finds the header row among the first rows: the row naming most of the
/// source's columns (title rows above it are skipped). Returns its position.
pub(super) fn find_header(source: &Source, headers: &HeaderMappings, rows: &[RawRow]) -> Option<usize> {
    let best = rows.iter().enumerate().max_by_key(|(i, row)| (header_score(source, headers, *row), std::cmp::Reverse(*i)))?;
    (header_score(source, headers, best.1) >= 2.min(source.columns.len())).then_some(best.0)
}

/// How many of a row's cells are headers of `source`'s columns.
pub(super) fn header_score(source: &Source, headers: &HeaderMappings, row: &impl Row) -> usize {
    // A header cell is short, and a header has at most a few hundred of them.
    let is_header = |c: Cell<'_>| matches!(c, Cell::Text(t) if t.len() <= MAX_HEADER_BYTES) && headers.column(source, &c.text()).is_some();
    row.cells().take(read::MAX_SHEET_COLUMNS as usize).filter(|c| is_header(*c)).count()
}
