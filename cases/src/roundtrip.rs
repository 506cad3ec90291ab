//! The round trip with the units that verify: `export` writes a unit's
//! 交办单 (the cases handed to it, what each is about in plain words, with
//! the full identity the unit must check) with columns to fill, the verdict
//! a drop-down list; `import` reads the filled sheet back. Each row is
//! checked (unknown case, a case not handed to that unit or not awaiting a
//! verdict, a verdict outside the list, bad money, date or count) and
//! listed with its row number and reason; the valid rows land in one
//! commit, and importing the same file again changes nothing.

use crate::CaseError;
use crate::state::{Answer, Change, State, Verdict};
use crate::store::{Actor, Writer, apply_batch};
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use rust_xlsxwriter::{DataValidation, Format, Workbook};
use std::collections::BTreeMap;
use std::path::Path;
use xuncha_core::lake::Lake;
use xuncha_queries::report::q;
use xuncha_queries::session::SessionOptions;
use xuncha_queries::sheet;
use xuncha_queries::table::TextTable;

/// The columns a unit fills, after the case's own.
pub const TO_FILL: [&str; 10] = ["核查结论", "核查说明", "整改措施", "整改时限", "追缴金额(元)", "补发金额(元)", "处理人数", "是否移交线索", "核查人", "核查日期"];

/// The cases handed to `unit` and awaiting its verdict, as the 交办单 lists
/// them: what each is (the rule's words over its findings, in full: the
/// unit must verify them) and where, whom, when and how much — read in
/// `ctx`, the caller's session (a scoped user's lists only its scope).
pub async fn handover(ctx: &SessionContext, rules_dir: Option<&Path>, unit: &str) -> Result<TextTable, CaseError> {
    let mut table = xuncha_queries::report::document(ctx, q::cases::HANDOVER, &[("unit", sheet::text(Some(unit)))]).await?;
    let rules = xuncha_queries::rules::catalogue(rules_dir)?;
    let words = xuncha_queries::evidence::describe(ctx, &rules, None, Some(unit), &xuncha_queries::evidence::in_full).await?;
    let at = table.index("问题说明").unwrap_or(table.columns.len());
    let id_at = table.index("线索编号").unwrap_or(usize::MAX);
    table.columns.insert(at, "问题情况".into());
    for row in &mut table.rows {
        let sentence = row.get(id_at).and_then(|id| words.get(id)).map(|d| d.sentence.clone()).unwrap_or_default();
        row.insert(at, sentence);
    }
    Ok(table)
}

/// Writes the 交办单 of `unit` to `out`; returns how many cases it lists.
pub async fn export(lake: &Lake, options: &SessionOptions, unit: &str, out: &Path) -> Result<usize, CaseError> {
    let ctx = xuncha_queries::session::session(lake, options).await?;
    let (bytes, cases) = export_bytes(&ctx, options.rules_dir.as_deref(), unit).await?;
    std::fs::write(out, bytes)?;
    Ok(cases)
}

/// The 交办单 of `unit` as XLSX bytes, and how many cases it lists.
pub async fn export_bytes(ctx: &SessionContext, rules_dir: Option<&Path>, unit: &str) -> Result<(Vec<u8>, usize), CaseError> {
    let table = handover(ctx, rules_dir, unit).await?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let xlsx = |e: rust_xlsxwriter::XlsxError| CaseError::Invalid(format!("无法写出交办单: {e}"));
    sheet.set_name("交办单").map_err(xlsx)?;
    let bold = Format::new().set_bold();
    let fill = Format::new().set_bold().set_background_color(rust_xlsxwriter::Color::RGB(0xFFF2CC));
    sheet.write_string_with_format(0, 0, format!("线索交办单 — 承办单位 {unit}(请填写黄色列后交回;核查结论从下拉列表选择)"), &bold).map_err(xlsx)?;
    let header: Vec<&str> = table.columns.iter().map(String::as_str).collect();
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(1, col as u16, *name, &bold).map_err(xlsx)?;
    }
    for (i, name) in TO_FILL.iter().enumerate() {
        sheet.write_string_with_format(1, (header.len() + i) as u16, *name, &fill).map_err(xlsx)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet.write_string(2 + r as u32, c as u16, value).map_err(xlsx)?;
        }
    }
    let last = (table.rows.len().max(1) + 1) as u32;
    let verdicts = DataValidation::new().allow_list_strings(&Verdict::ALL.map(Verdict::label)).map_err(xlsx)?;
    sheet.add_data_validation(2, header.len() as u16, last, header.len() as u16, &verdicts).map_err(xlsx)?;
    let yes_no = DataValidation::new().allow_list_strings(&["是", "否"]).map_err(xlsx)?;
    let transfer_col = (header.len() + 7) as u16;
    sheet.add_data_validation(2, transfer_col, last, transfer_col, &yes_no).map_err(xlsx)?;
    sheet.set_column_width(0, 28).map_err(xlsx)?;
    if let Some(words) = table.index("问题情况") {
        sheet.set_column_width(words as u16, 60).map_err(xlsx)?;
    }
    Ok((workbook.save_to_buffer().map_err(xlsx)?, table.rows.len()))
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Rows whose changes were committed.
    pub applied: usize,
    /// Rows left blank, or already imported before.
    pub skipped: usize,
    /// (row number in the sheet, reason) of each refused row.
    pub refused: Vec<(usize, String)>,
    /// The whole file was imported before: nothing changed.
    pub already: bool,
}

/// A cell as text (numbers without a needless ".0", dates as YYYY-MM-DD).
fn text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) | Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => s.trim().to_string(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
        Some(Data::DateTime(d)) => xuncha_core::values::excel_serial_date(d.as_f64()).map_or_else(|| d.as_f64().to_string(), |d| d.to_string()),
        Some(Data::Error(e)) => e.to_string(),
    }
}

/// The most rows and columns a 交办单 may have (it lists a unit's cases).
const MAX_SHEET_ROWS: u32 = 10_000;
const MAX_SHEET_COLUMNS: u32 = 64;

/// The first sheet's rows, read cell by cell: the zip is checked against
/// bombs first (`xuncha_core::workbook`), and a cell beyond the bounds
/// refuses the file — nothing is sized by what the sheet claims.
fn sheet_rows(bytes: &[u8], file: &str) -> Result<Vec<Vec<Data>>, CaseError> {
    let unreadable = |e: calamine::XlsxError| CaseError::Invalid(format!("无法读取交办单「{file}」:不是有效的 XLSX 文件({e})。请上传 xuncha 导出的交办单(.xlsx)"));
    let checked =
        xuncha_core::workbook::check_xlsx(std::io::Cursor::new(bytes), &xuncha_core::workbook::WorkbookLimits::UPLOAD).map_err(|why| CaseError::Invalid(format!("无法读取交办单「{file}」:{why}")))?;
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let (name, _) = xuncha_core::workbook::visible_sheet(workbook.sheets_metadata()).ok_or_else(|| CaseError::Invalid("交办单中没有工作表".into()))?;
    let mut rows: BTreeMap<u32, Vec<Data>> = BTreeMap::new();
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(unreadable)?;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let value = match Data::from(cell.get_value().clone()) {
            // Dates counted as the 1900 system counts them.
            Data::DateTime(d) if checked.date_1904 => Data::Float(checked.serial_1900(d.as_f64())),
            other => other,
        };
        if value == Data::Empty {
            continue;
        }
        if row >= MAX_SHEET_ROWS || col >= MAX_SHEET_COLUMNS {
            return Err(CaseError::Invalid(format!(
                "交办单「{file}」第 {} 行第 {} 列有内容,超出了交办单的范围({MAX_SHEET_ROWS} 行、{MAX_SHEET_COLUMNS} 列);请用 xuncha 导出的交办单填写",
                row + 1,
                col + 1
            )));
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= col as usize {
            cells.resize(col as usize + 1, Data::Empty);
        }
        cells[col as usize] = value;
    }
    // Row numbers as in the sheet: a missing row is an empty one.
    let last = rows.keys().next_back().map_or(0, |r| *r as usize + 1);
    let mut out = vec![Vec::new(); last];
    for (row, cells) in rows {
        out[row as usize] = cells;
    }
    Ok(out)
}

/// Reads a filled 交办单 file back as `actor`.
pub async fn import(lake: &Lake, actor: &Actor, file: &Path) -> Result<Imported, CaseError> {
    import_bytes(lake, actor, &std::fs::read(file)?, &file.display().to_string()).await
}

/// Reads a filled 交办单 (XLSX bytes, called `name` in messages) back as
/// `actor`. A unit's upload may change only the cases handed to it: any
/// other row is refused with its number, whatever the sheet's title says.
pub async fn import_bytes(lake: &Lake, actor: &Actor, bytes: &[u8], name: &str) -> Result<Imported, CaseError> {
    let app_id = format!("xuncha-cases-import:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
    let rows = sheet_rows(bytes, name)?;
    let (header_at, header) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| text(r.first()) == "线索编号")
        .map(|(i, r)| (i, r.iter().map(|c| text(Some(c))).collect::<Vec<_>>()))
        .ok_or_else(|| CaseError::Invalid("交办单中找不到表头「线索编号」:请用 xuncha cases export 导出的文件填写".into()))?;
    let column = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| CaseError::Invalid(format!("交办单缺少「{name}」列")));
    let at: Vec<usize> = std::iter::once("线索编号").chain(TO_FILL).map(column).collect::<Result<_, _>>()?;
    let unit = actor.unit.clone().or_else(|| {
        let title = text(rows.first().and_then(|r| r.first()));
        title.split_whitespace().find(|w| w.len() >= 12 && w.bytes().take(12).all(|b| b.is_ascii_digit())).map(|w| w[..12].to_string())
    });

    let writer = Writer::open(lake).await?;
    if writer.committed(&app_id).await? {
        return Ok(Imported { already: true, ..Imported::default() });
    }
    let current = writer.current(&[]).await?;
    drop(writer);
    // Without the unit's login or a title naming it, the sheet's cases must
    // all be one unit's: verdicts never land on another unit's cases.
    let unit = match unit {
        Some(unit) => Some(unit),
        None => {
            let listed: std::collections::BTreeSet<&str> =
                rows.iter().skip(header_at + 1).filter_map(|r| current.get(&text(r.get(at[0])))).filter(|c| crate::store::visible(actor, c)).filter_map(|c| c.unit_code.as_deref()).collect();
            if listed.len() > 1 {
                let shown: Vec<&str> = listed.iter().take(5).copied().collect();
                return Err(CaseError::Invalid(format!(
                    "交办单「{name}」没有写明承办单位(标题行已删除),而其中的线索分属 {} 个承办单位({}):无法确认是哪个单位的答复,未导入。请用该单位的账号上传,或恢复标题行(含单位代码)后重新导入",
                    listed.len(),
                    shown.join("、")
                )));
            }
            listed.into_iter().next().map(String::from)
        }
    };

    let mut imported = Imported::default();
    let mut batch: Vec<(String, Vec<Change>)> = Vec::new();
    let mut first_row: BTreeMap<String, usize> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate().skip(header_at + 1) {
        let number = i + 1;
        let cell = |k: usize| text(row.get(at[k]));
        let id = cell(0);
        let filled: Vec<String> = (1..at.len()).map(cell).collect();
        if id.is_empty() || filled.iter().all(String::is_empty) {
            imported.skipped += usize::from(!id.is_empty());
            continue;
        }
        let mut refuse = |why: String| imported.refused.push((number, why));
        // One answer for a case that does not exist and one the importer
        // may not see (another town's, or not handed to this unit).
        let Some(case) = current.get(&id).filter(|c| crate::store::visible(actor, c)) else {
            refuse(format!("没有线索「{id}」(或不在您的范围内)"));
            continue;
        };
        // An analyst's sheet for one unit: only that unit's cases (a unit
        // sees no other case, so never gets here).
        if let Some(unit) = &unit
            && case.unit_code.as_ref() != Some(unit)
        {
            refuse(format!("线索 {id} 未交办给 {unit}"));
            continue;
        }
        if let Some(first) = first_row.get(&id) {
            refuse(format!("线索 {id} 已在第 {first} 行填写,同一条线索只填一行"));
            continue;
        }
        first_row.insert(id.clone(), number);
        match parse_row(case.state, &filled) {
            // Answered before: by this importer (the sheet again), or by
            // someone else meanwhile — a conflict, reported as one.
            Ok(None) if case.changed_by == actor.user => imported.skipped += 1,
            Ok(None) => refuse(format!("冲突:线索 {id} 已由 {} 于 {} 改为「{}」,本行未导入;请重新导出交办单后再填写", case.changed_by, case.changed_at, case.state.label())),
            Ok(Some(changes)) => match actor.may_not(&changes) {
                Some(why) => refuse(format!("线索 {id}:{why};如需移交线索,请在核查说明中写明")),
                None => batch.push((id, changes)),
            },
            Err(why) => refuse(why),
        }
    }
    // Rows whose changes the state machine refuses are listed too; the rest land together.
    let mut valid = Vec::new();
    for (id, changes) in batch {
        let state = current[&id].state;
        match changes.iter().try_fold(state, |s, c| c.next(s)) {
            Ok(_) => valid.push((id, changes)),
            Err(why) => {
                let number = first_row.get(&id).copied().unwrap_or(0);
                imported.refused.push((number, format!("线索 {id}:{why}")));
            }
        }
    }
    imported.refused.sort();
    imported.applied = valid.len();
    if !valid.is_empty() {
        apply_batch(lake, actor, &valid, None, Some(&app_id)).await?;
    }
    Ok(imported)
}

/// A filled row's changes, or `None` when it was imported before (the case
/// has its verdict already), or why the row is refused.
fn parse_row(state: State, filled: &[String]) -> Result<Option<Vec<Change>>, String> {
    let [verdict, note, measures, due, recovered, back_paid, people, transfer, checker, checked_on] = filled else { return Err("列数不对".into()) };
    let verdict = Verdict::parse(verdict).map_err(|_| format!("核查结论「{verdict}」应从下拉列表选择:属实、部分属实 或 不属实"))?;
    if state != State::Assigned {
        return Ok(None);
    }
    let money = |v: &str, what: &str| -> Result<Option<i128>, String> { (!v.is_empty()).then(|| xuncha_core::values::money_cents(v).map_err(|e| format!("{what}:{e}"))).transpose() };
    let date = |v: &str, what: &str| -> Result<Option<NaiveDate>, String> { (!v.is_empty()).then(|| xuncha_core::values::parse_date(v).map_err(|e| format!("{what}:{e}"))).transpose() };
    let people = (!people.is_empty()).then(|| people.parse::<i64>().map_err(|_| format!("处理人数「{people}」应为整数"))).transpose()?;
    let (recovered, back_paid) = (money(recovered, "追缴金额")?, money(back_paid, "补发金额")?);
    date(checked_on, "核查日期")?;
    let mut note = note.clone();
    if !checker.is_empty() {
        note = format!("{note}(核查人:{checker})");
    }
    let transfer = match transfer.as_str() {
        "" | "否" => false,
        "是" => true,
        other => return Err(format!("是否移交线索「{other}」应为 是 或 否")),
    };
    let due = date(due, "整改时限")?;
    let changes = Answer { verdict: Some(verdict), note, measures: measures.clone(), due, recovered, back_paid, people, transfer }.changes()?;
    Ok(Some(changes))
}
