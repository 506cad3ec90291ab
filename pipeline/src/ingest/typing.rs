//! Typing raw rows into Arrow batches by the contract, and explaining every
//! row that cannot be typed (the quarantine reason names the column, the
//! value and what was expected).

use super::read::{Cell, RawColumn};
use chrono::{Datelike, NaiveDate};
use deltalake::arrow::array::{ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use deltalake::arrow::buffer::BooleanBuffer;
use deltalake::arrow::compute::nullif;
use deltalake::arrow::datatypes::DataType;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use xuncha_core::contract::{Column, ColumnType, Source, arrow_type};
use xuncha_core::values::{self, Month};

/// Columns every source table has beside the contract's.
pub const LINEAGE_COLUMNS: &[&str] = &["extra", "batch_id", "source_file", "source_row"];

/// One typed value; text borrows from its row when typing did not change it.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Date(NaiveDate),
    Month(Month),
    Money(Decimal),
    Bool(bool),
}

impl Typed<'_> {
    /// The value, owning its text.
    fn into_owned(self) -> Typed<'static> {
        match self {
            Typed::Null => Typed::Null,
            Typed::Str(s) => Typed::Str(Cow::Owned(s.into_owned())),
            Typed::Int(i) => Typed::Int(i),
            Typed::Date(d) => Typed::Date(d),
            Typed::Month(m) => Typed::Month(m),
            Typed::Money(d) => Typed::Money(d),
            Typed::Bool(b) => Typed::Bool(b),
        }
    }
}

impl std::fmt::Display for Typed<'_> {
    /// The value as text, as it appears in a text column.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Typed::Null => Ok(()),
            Typed::Str(s) => f.write_str(s),
            Typed::Int(i) => write!(f, "{i}"),
            Typed::Date(d) => write!(f, "{d}"),
            Typed::Month(m) => write!(f, "{m}"),
            Typed::Money(d) => write!(f, "{d}"),
            Typed::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Why a row went to quarantine.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// `missing_required`, `bad_date`, `bad_month`, `bad_money`, `bad_int`,
    /// `bad_bool`, `bad_enum`, `bad_id`, `bad_code`, `bad_decimal`,
    /// `bad_formula`, `duplicate_key`, `unknown_village`, `ambiguous_village`,
    /// `conflicting_columns` (two headers for one column disagree),
    /// `total_above_data` (a 合计 row with data below it).
    pub kind: &'static str,
    pub column: Option<&'static str>,
    pub reason: String,
}

/// Types one cell for a column.
pub fn type_cell<'a>(source: &Source, index: usize, cell: Cell<'a>) -> Result<Typed<'a>, RowProblem> {
    let column = &source.columns[index];
    let problem = |kind: &'static str, why: String| RowProblem { kind, column: Some(column.name), reason: format!("列「{}」({}) {why}", column.header, column.name) };
    if cell.is_blank() {
        return if column.required { Err(problem("missing_required", "为必填项,但为空".into())) } else { Ok(Typed::Null) };
    }
    match (column.ty, cell) {
        (_, Cell::Formula(formula)) => Err(problem("bad_formula", format!("是公式 ={},但文件中没有保存它的计算结果;请在 Excel/WPS 中打开这份文件、保存后重新报送", values::excerpt(formula, 100)))),
        // A spreadsheet number holds 15 significant digits: an ID number or
        // an account typed as a number has lost its last digits already.
        (ColumnType::Id | ColumnType::Code, Cell::Number(n)) if n.abs() >= 1e15 => Err(problem(
            if column.ty == ColumnType::Id { "bad_id" } else { "bad_code" },
            format!("「{}」在表格中存成了数字,超过 15 位的数字已丢失末尾几位;请把这一列设为「文本」格式、重新录入后报送", Cell::Number(n).text()),
        )),
        // A date cell is a date; a plain number is read as its text (a year
        // or a month is refused, a serial taken only where plausible).
        (ColumnType::Date, Cell::Serial(n)) => values::excel_serial_date(n).map(Typed::Date).ok_or_else(|| problem("bad_date", format!("「{n}」不是有效的 Excel 日期"))),
        (ColumnType::Month, Cell::Serial(n)) => values::excel_serial_date(n).map(|d| Typed::Month(Month::of(d))).ok_or_else(|| problem("bad_month", format!("「{n}」不是有效月份"))),
        (ColumnType::Money, Cell::Number(n)) => values::money_from_f64(n).map(Typed::Money).map_err(|e| problem("bad_money", e)),
        (ColumnType::Bool, Cell::Bool(b)) => Ok(Typed::Bool(b)),
        (_, Cell::Text(text)) => type_text(source, column, text).map_err(|(kind, why)| problem(kind, why)),
        (_, other) => type_text(source, column, &other.text()).map(Typed::into_owned).map_err(|(kind, why)| problem(kind, why)),
    }
}

/// Types the text of a cell: the value, or the kind of problem and why.
fn type_text<'a>(source: &Source, column: &Column, text: &'a str) -> Result<Typed<'a>, (&'static str, String)> {
    let fail = |kind: &'static str| move |why: String| (kind, why);
    match column.ty {
        ColumnType::Str => Ok(Typed::Str(Cow::Borrowed(values::trim(text)))),
        ColumnType::Code => Ok(Typed::Str(values::normalize_code(text))),
        ColumnType::Int => values::parse_int(text).map(Typed::Int).map_err(fail("bad_int")),
        ColumnType::Date => values::parse_date(text).map(Typed::Date).map_err(fail("bad_date")),
        ColumnType::Month if values::is_canonical_month(text) => Ok(Typed::Str(Cow::Borrowed(text))),
        ColumnType::Month => values::parse_month(text).map(Typed::Month).map_err(fail("bad_month")),
        ColumnType::Money => values::parse_money(text).map(Typed::Money).map_err(fail("bad_money")),
        ColumnType::Decimal => values::parse_decimal(text).map(Typed::Money).map_err(fail("bad_decimal")),
        ColumnType::Bool => values::parse_bool(text).map(Typed::Bool).map_err(fail("bad_bool")),
        // Kept even when invalid: a wrong number in a payment is evidence.
        ColumnType::Id if source.name == "subsidy_payments" => Ok(Typed::Str(values::parse_id(text).unwrap_or_else(|_| values::normalize_code(text)))),
        ColumnType::Id => values::parse_id(text).map(Typed::Str).map_err(fail("bad_id")),
        // The allowed spelling itself, as most deliveries write it.
        ColumnType::Enum(allowed) if allowed.contains(&text) => Ok(Typed::Str(Cow::Borrowed(text))),
        ColumnType::Enum(allowed) => {
            let value = values::clean(text);
            if allowed.contains(&value.as_ref()) {
                Ok(Typed::Str(value))
            } else {
                let closest = xuncha_core::mapping::closest(&value, allowed);
                let hint = match closest.as_slice() {
                    [] => String::new(),
                    [one] => format!(",最接近的是「{one}」;如果是,请在 xuncha.toml 的 [sources.{}.values.{}] 下加一行 \"{value}\" = \"{one}\"", source.name, column.name),
                    many => format!(",最接近的是「{}」;可在 xuncha.toml 的 [sources.{}.values.{}] 下把它映射到其中一个", many.join("」「"), source.name, column.name),
                };
                Err(("bad_enum", format!("{}不在允许值之内(应为 {}){hint}", values::quoted(&value), allowed.join(" / "))))
            }
        }
    }
}

/// A cell of a money column whose header names another unit: read in that
/// unit (any decimals), multiplied by ten to the `shift` (`金额(万元)`: 4),
/// and loaded if the result is exact to the cent and fits, else the row's
/// problem. Never rounded.
fn type_in_unit<'a>(source: &Source, index: usize, cell: Cell<'a>, shift: i32) -> Result<Typed<'a>, RowProblem> {
    let column = &source.columns[index];
    let amount = match cell {
        _ if column.ty != ColumnType::Money || cell.is_blank() => return type_cell(source, index, cell),
        Cell::Number(n) => values::number_as_shown(n),
        Cell::Text(text) => values::parse_amount(text),
        _ => return type_cell(source, index, cell),
    };
    let problem = |why: String| RowProblem { kind: "bad_money", column: Some(column.name), reason: format!("列「{}」({}) {why}", column.header, column.name) };
    let amount = amount.map_err(problem)?;
    let factor = Decimal::from_i128_with_scale(10i128.pow(shift.unsigned_abs()), 0);
    let scaled = if shift > 0 { amount.checked_mul(factor) } else { amount.checked_div(factor) };
    let scaled = scaled.ok_or_else(|| problem(format!("「{amount}」按表头的单位换算后超出了金额能保存的范围")))?;
    values::exact_money(scaled).map(Typed::Money).map_err(|why| problem(format!("「{amount}」按表头的单位换算后是 {}{why}", scaled.normalize())))
}

/// `value`, if it is not an amount above `ceiling` (either sign).
fn within_ceiling<'a>(source: &Source, index: usize, value: Typed<'a>, ceiling: Option<Decimal>) -> Result<Typed<'a>, RowProblem> {
    match (&value, ceiling) {
        (Typed::Money(amount), Some(ceiling)) if amount.abs() > ceiling => {
            let column = &source.columns[index];
            Err(RowProblem {
                kind: "bad_money",
                column: Some(column.name),
                reason: format!(
                    "列「{}」({}) 「{amount}」超过了这一列的上限 {ceiling} 元,不像是真实金额(是否填错了列?);如确属实,请在 xuncha.toml 的 [ingest.money_ceilings] 中调高 \"{}.{}\"",
                    column.header, column.name, source.name, column.name
                ),
            })
        }
        _ => Ok(value),
    }
}

/// 1970-01-01 as `NaiveDate::num_days_from_ce` counts it.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

enum ColumnBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    Date(Date32Builder),
    Decimal(Decimal128Builder, u32),
    Bool(BooleanBuilder),
}

impl ColumnBuilder {
    fn new(data_type: &DataType) -> ColumnBuilder {
        match data_type {
            DataType::Int64 => ColumnBuilder::Int(Int64Builder::new()),
            DataType::Date32 => ColumnBuilder::Date(Date32Builder::new()),
            DataType::Decimal128(p, s) => ColumnBuilder::Decimal(Decimal128Builder::new().with_precision_and_scale(*p, *s).expect("valid decimal"), *s as u32),
            DataType::Boolean => ColumnBuilder::Bool(BooleanBuilder::new()),
            _ => ColumnBuilder::Str(StringBuilder::new()),
        }
    }

    fn push(&mut self, value: &Typed<'_>) {
        match (self, value) {
            (ColumnBuilder::Str(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Date(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Decimal(b, _), Typed::Null) => b.append_null(),
            (ColumnBuilder::Bool(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Typed::Int(i)) => b.append_value(*i),
            // Days since 1970-01-01, counted from the common era's day one
            // (Arrow's own conversion subtracts two dates, several times slower).
            (ColumnBuilder::Date(b), Typed::Date(d)) => b.append_value(d.num_days_from_ce() - UNIX_EPOCH_FROM_CE),
            (ColumnBuilder::Decimal(b, scale), Typed::Money(d)) => {
                let mut d = *d;
                d.rescale(*scale);
                b.append_value(d.mantissa())
            }
            (ColumnBuilder::Bool(b), Typed::Bool(v)) => b.append_value(*v),
            (ColumnBuilder::Str(b), Typed::Str(s)) => b.append_value(s),
            (ColumnBuilder::Str(b), other) => {
                // The builder is a fmt::Write: the text goes straight into it.
                write!(b, "{other}").expect("writing to a string builder");
                b.append_value("");
            }
            (_, other) => unreachable!("typed value {other:?} does not fit its column"),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Str(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b, _) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// Whether `text` plainly types to itself in a column of type `ty`, told
/// from its bytes alone: the common case, before the full typing of
/// [`type_cell`] (which gives the same answer, more slowly).
fn types_to_itself(ty: ColumnType, text: &str) -> bool {
    let bytes = text.as_bytes();
    match ty {
        ColumnType::Str => values::is_plainly_trimmed(text),
        ColumnType::Code => !bytes.is_empty() && values::is_canonical_code(bytes),
        ColumnType::Month => values::is_canonical_month(text),
        ColumnType::Enum(allowed) => allowed.contains(&text),
        ColumnType::Id => values::is_canonical_id_shape(bytes),
        _ => false,
    }
}

/// Types column `index` of the contract for every row of a chunk (`cells`:
/// the file's column, `None` when the file lacks it). Returns one value per
/// row (null where `skip` says the row is not data or its cell cannot be
/// typed) and the problems by row index, ascending.
///
/// A text column whose every value types to itself (the lake's own
/// spelling, as most deliveries write it) is returned as the very array the
/// reader filled, its empty strings made null: no value is copied.
/// [`type_cell`], then, for a value outside the allowed list, the
/// configured value mapping (`mapped`) if it names that value.
fn type_mapped<'a>(source: &Source, index: usize, cell: Cell<'a>, mapped: Option<&BTreeMap<String, String>>) -> Result<Typed<'a>, RowProblem> {
    match type_cell(source, index, cell) {
        Err(problem) if problem.kind == "bad_enum" => match (mapped, cell) {
            (Some(map), Cell::Text(text)) => map.get(values::clean(text).as_ref()).map(|to| Typed::Str(Cow::Owned(to.clone()))).ok_or(problem),
            _ => Err(problem),
        },
        other => other,
    }
}

pub fn type_column(
    source: &Source,
    index: usize,
    cells: Option<&RawColumn>,
    skip: &[bool],
    ceiling: Option<Decimal>,
    shift: i32,
    mapped: Option<&BTreeMap<String, String>>,
) -> (ArrayRef, Vec<(usize, RowProblem)>) {
    let data_type = arrow_type(source.columns[index].ty);
    let mut problems = Vec::new();
    let mut first_changed = 0;
    if let (Some(RawColumn::Text(array)), DataType::Utf8) = (cells, &data_type) {
        let mut unchanged = |(row, text): (usize, &str)| {
            if skip[row] {
                return true;
            }
            let cell = if text.is_empty() { Cell::Empty } else { Cell::Text(text) };
            match type_mapped(source, index, cell, mapped) {
                // Borrowed text as long as the cell is the cell itself.
                Ok(Typed::Str(Cow::Borrowed(typed))) => typed.len() == text.len(),
                Ok(Typed::Null) => text.is_empty(),
                Ok(_) => false,
                Err(problem) => {
                    problems.push((row, problem));
                    true
                }
            }
        };
        let offsets = array.value_offsets();
        let rows = offsets.len() - 1;
        let bytes = &array.values()[offsets[0] as usize..offsets[rows] as usize];
        let changed = if source.columns[index].ty == ColumnType::Code && values::is_canonical_code(bytes) {
            // Codes in the lake's spelling throughout (checked on the bytes
            // of the whole column at once): only the empty cells need a look.
            (0..rows).filter(|row| offsets[*row] == offsets[*row + 1]).find(|row| !unchanged((*row, "")))
        } else {
            let ty = source.columns[index].ty;
            array.iter().map(Option::unwrap_or_default).enumerate().position(|cell| !(types_to_itself(ty, cell.1) || unchanged(cell)))
        };
        match changed {
            None => {
                // The reader's own array (checked UTF-8 already), its empty
                // cells made null.
                let empty = BooleanArray::new(BooleanBuffer::collect_bool(rows, |row| offsets[row] == offsets[row + 1]), None);
                return (nullif(array, &empty).expect("a mask of the array's length"), problems);
            }
            Some(row) => first_changed = row,
        }
    }
    let mut builder = ColumnBuilder::new(&data_type);
    for (row, &skipped) in skip.iter().enumerate() {
        let cell = cells.map_or(Cell::Empty, |c| c.cell(row));
        if row < first_changed {
            // Typed to itself above (or skipped, or already a problem).
            builder.push(&match cell {
                Cell::Text(text) => Typed::Str(Cow::Borrowed(text)),
                _ => Typed::Null,
            });
            continue;
        }
        let typed = match (skipped, shift) {
            (true, _) => Ok(Typed::Null),
            (false, 0) => type_mapped(source, index, cell, mapped),
            (false, _) => type_in_unit(source, index, cell, shift),
        };
        match typed.and_then(|value| within_ceiling(source, index, value, ceiling)) {
            Ok(value) => builder.push(&value),
            Err(problem) => {
                builder.push(&Typed::Null);
                problems.push((row, problem));
            }
        }
    }
    (builder.finish(), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_core::contract::source;

    fn cell(s: &str) -> Cell<'_> {
        Cell::Text(s)
    }

    #[test]
    fn the_quick_check_of_a_value_agrees_with_its_typing() {
        let pay = source("subsidy_payments").unwrap();
        let samples = [
            "430281193707097786",
            "43028119370709778X",
            "43028119370709778x",
            "430281370709778",
            "4302811937070977",
            "张三",
            " 张三",
            "张三 ",
            "\u{3000}张三",
            "张三\u{3000}",
            "2025-07",
            "2025-7",
            "2025-13",
            "低保",
            "低保 ",
            "ABC-123",
            "abc",
            "",
            " ",
            "4422.93",
            "2025-07-06",
        ];
        let mut quick = 0;
        for (index, column) in pay.columns.iter().enumerate() {
            for text in samples {
                if types_to_itself(column.ty, text) {
                    quick += 1;
                    let typed = type_cell(pay, index, Cell::Text(text));
                    assert!(matches!(&typed, Ok(Typed::Str(Cow::Borrowed(t))) if *t == text), "{} {text:?}: {typed:?}", column.name);
                }
            }
        }
        assert!(quick > 10, "the samples exercise the quick check ({quick})");
    }

    #[test]
    fn a_column_in_the_lakes_spelling_is_kept_and_others_are_typed_from_the_first_change() {
        use deltalake::arrow::array::{Array, AsArray, StringArray};
        let pay = source("subsidy_payments").unwrap();
        let i = |n| pay.column_index(n).unwrap();
        let text = |values: &[&str]| RawColumn::Text(StringArray::from(values.to_vec()));
        let skip = [false, false, false, true];
        // Clean text, an empty cell, and a 合计 row that is skipped: the very array.
        let departments = text(&["攸县民政局", "攸县人社局", "", "合计"]);
        let (typed, problems) = type_column(pay, i("department"), Some(&departments), &skip, None, 0, None);
        let RawColumn::Text(raw) = &departments else { unreachable!() };
        assert_eq!(typed.as_string::<i32>().values().as_ptr(), raw.values().as_ptr(), "no value copied");
        assert!(problems.is_empty() && typed.is_null(2) && typed.as_string::<i32>().value(1) == "攸县人社局");
        // An ID number that needs cleaning: typed from there on, the rows before kept.
        let ids = text(&["430223195003071233", " 43022319500307123x", "", "合计"]);
        let (typed, _) = type_column(pay, i("id_number"), Some(&ids), &skip, None, 0, None);
        let typed = typed.as_string::<i32>();
        assert_eq!((typed.value(0), typed.value(1)), ("430223195003071233", "43022319500307123X"));
        assert!(typed.is_null(2));
        // Codes checked on the whole column's bytes: kept, the empty
        // required one a problem; a code with a space is typed.
        let payment_ids = text(&["P1", "", "P3", "合计"]);
        let (typed, problems) = type_column(pay, i("payment_id"), Some(&payment_ids), &skip, None, 0, None);
        let RawColumn::Text(raw) = &payment_ids else { unreachable!() };
        assert_eq!(typed.as_string::<i32>().values().as_ptr(), raw.values().as_ptr(), "no value copied");
        assert_eq!(problems.iter().map(|(row, p)| (*row, p.kind)).collect::<Vec<_>>(), [(1, "missing_required")]);
        let accounts = text(&["6217", "6217 99", "", "合计"]);
        let (typed, problems) = type_column(pay, i("bank_account"), Some(&accounts), &skip, None, 0, None);
        assert_eq!((typed.as_string::<i32>().value(1), typed.is_null(2), problems.len()), ("621799", true, 0));
        // Money is always parsed; problems come back by row.
        let amounts = text(&["1,350.00", "待定", "", "合计"]);
        let (typed, problems) = type_column(pay, i("amount"), Some(&amounts), &skip, None, 0, None);
        assert_eq!(typed.as_primitive::<deltalake::arrow::datatypes::Decimal128Type>().value(0), 135_000);
        assert_eq!(problems.iter().map(|(row, p)| (*row, p.kind)).collect::<Vec<_>>(), [(1, "bad_money"), (2, "missing_required")]);
        // A column the file lacks is null throughout.
        let (typed, problems) = type_column(pay, i("paid_date"), None, &skip, None, 0, None);
        assert_eq!((typed.null_count(), problems.len()), (4, 0));
    }

    #[test]
    fn an_amount_that_does_not_fit_or_passes_its_ceiling_is_quarantined_never_wrapped() {
        use deltalake::arrow::array::AsArray;
        use deltalake::arrow::datatypes::Decimal128Type;
        let pay = source("subsidy_payments").unwrap();
        let amount = pay.column_index("amount").unwrap();
        let cells = RawColumn::Text(deltalake::arrow::array::StringArray::from(vec![
            "430224198505202854",
            "6217002870012345678",
            "99999999999999999.99",
            "9999999999999999.99",
            "1000000.01",
            "1000000",
            "-1000000.01",
        ]));
        let skip = [false; 7];
        let ceiling = Some(Decimal::from(1_000_000));
        let (typed, problems) = type_column(pay, amount, Some(&cells), &skip, ceiling, 0, None);
        let rows: Vec<usize> = problems
            .iter()
            .map(|(row, p)| {
                assert_eq!(p.kind, "bad_money");
                *row
            })
            .collect();
        assert_eq!(rows, [0, 1, 2, 3, 4, 6], "beyond Decimal(18,2) or the ceiling");
        assert!(problems[0].1.reason.contains("430224198505202854") && problems[0].1.reason.contains("范围"), "{}", problems[0].1.reason);
        assert!(problems[4].1.reason.contains("上限 1000000") && problems[4].1.reason.contains("subsidy_payments.amount"), "{}", problems[4].1.reason);
        assert_eq!(typed.as_primitive::<Decimal128Type>().value(5), 100_000_000);
        // Without a ceiling the largest amount the type holds is kept exactly.
        let (typed, problems) = type_column(pay, amount, Some(&cells), &skip, None, 0, None);
        assert_eq!(problems.len(), 3);
        assert_eq!(typed.as_primitive::<Decimal128Type>().value(3), 999_999_999_999_999_999);
        // An amount in 万元 is read into 元 exactly (issue 32): 0.03 万元 is 300 元.
        let wan = RawColumn::Text(deltalake::arrow::array::StringArray::from(vec!["0.03", "1.23456", "0.0000001", "12"]));
        let (typed, problems) = type_column(pay, amount, Some(&wan), &[false; 4], None, 4, None);
        let typed = typed.as_primitive::<Decimal128Type>();
        assert_eq!((typed.value(0), typed.value(1), typed.value(3)), (30_000, 1_234_560, 12_000_000));
        assert_eq!(problems.iter().map(|(row, p)| (*row, p.kind)).collect::<Vec<_>>(), [(2, "bad_money")], "0.001 元 is not a whole cent");
        // A spreadsheet's float: as Excel shows it, never rounded beyond.
        assert_eq!(type_cell(pay, amount, Cell::Number(129.00000000000003)).unwrap(), Typed::Money("129.00".parse().unwrap()));
        assert_eq!(type_cell(pay, amount, Cell::Number(1350.125)).unwrap_err().kind, "bad_money");
        assert_eq!(type_cell(pay, amount, Cell::Number(1e20)).unwrap_err().kind, "bad_money");
        assert_eq!(type_cell(pay, amount, Cell::Text("1e20")).unwrap_err().kind, "bad_money");
        // An ID number stored as a spreadsheet number lost its last digits.
        let id = pay.column_index("id_number").unwrap();
        assert_eq!(type_cell(pay, id, Cell::Number(430223197405287618.0)).unwrap_err().kind, "bad_id");
        let account = pay.column_index("bank_account").unwrap();
        assert_eq!(type_cell(pay, account, Cell::Number(6217002870012345678.0)).unwrap_err().kind, "bad_code");
        assert_eq!(type_cell(pay, account, Cell::Number(621700287.0)).unwrap(), Typed::Str(Cow::Owned("621700287".into())));
        let e = type_cell(pay, pay.column_index("name").unwrap(), Cell::Formula("A1&B1")).unwrap_err();
        assert!(e.kind == "bad_formula" && e.reason.contains("=A1&B1"), "{e:?}");
    }

    #[test]
    fn dates_are_days_since_1970_as_arrow_counts_them() {
        use deltalake::arrow::array::AsArray;
        use deltalake::arrow::datatypes::Date32Type;
        for (y, m, d) in [(1970, 1, 1), (1969, 12, 31), (1900, 3, 1), (2024, 2, 29), (2099, 12, 31)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut builder = ColumnBuilder::new(&DataType::Date32);
            builder.push(&Typed::Date(date));
            let days = builder.finish().as_primitive::<Date32Type>().value(0);
            assert_eq!(days, Date32Type::from_naive_date(date), "{date}");
        }
    }

    #[test]
    fn cells_are_typed_or_explained() {
        let pay = source("subsidy_payments").unwrap();
        let i = |n| pay.column_index(n).unwrap();
        assert_eq!(type_cell(pay, i("amount"), cell("1,350.00元")).unwrap(), Typed::Money("1350.00".parse().unwrap()));
        assert_eq!(type_cell(pay, i("amount"), Cell::Number(430.1)).unwrap(), Typed::Money("430.10".parse().unwrap()));
        assert_eq!(type_cell(pay, i("period"), cell("2024年3月")).unwrap(), Typed::Month(Month::new(2024, 3).unwrap()));
        assert_eq!(type_cell(pay, i("period"), cell("2024-03")).unwrap(), Typed::Str(Cow::Borrowed("2024-03")), "the lake's spelling is kept as it is");
        assert_eq!(type_cell(pay, i("period"), cell("2024-13")).unwrap_err().kind, "bad_month");
        assert_eq!(type_cell(pay, i("period"), cell("2024-00")).unwrap_err().kind, "bad_month");
        assert_eq!(type_cell(pay, i("paid_date"), Cell::Serial(45356.0)).unwrap(), Typed::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()));
        assert_eq!(type_cell(pay, i("paid_date"), Cell::Number(45356.0)).unwrap(), Typed::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()));
        // Years and months typed as numbers in a date column (issue 32).
        for (number, what) in [(2019.03, "年月"), (201903.0, "年月"), (2019.0, "年份"), (2021.1, "年月"), (1234.0, "不合理")] {
            let e = type_cell(pay, i("paid_date"), Cell::Number(number)).unwrap_err();
            assert!(e.kind == "bad_date" && e.reason.contains(what), "{number}: {}", e.reason);
        }
        assert_eq!(type_cell(pay, i("period"), Cell::Number(2019.03)).unwrap(), Typed::Month(Month::new(2019, 3).unwrap()));
        assert_eq!(type_cell(pay, i("period"), Cell::Number(2019.1)).unwrap_err().kind, "bad_month");
        assert_eq!(type_cell(pay, i("id_number"), cell("43022319500307123")).unwrap(), Typed::Str(Cow::Borrowed("43022319500307123")));
        let e = type_cell(pay, i("program"), cell("低保金")).unwrap_err();
        assert_eq!(e.kind, "bad_enum");
        assert!(e.reason.contains("资金项目") && e.reason.contains("低保金"), "{}", e.reason);
        let e = type_cell(pay, i("amount"), cell("待定")).unwrap_err();
        assert_eq!((e.kind, e.column), ("bad_money", Some("amount")));
        assert_eq!(type_cell(pay, i("name"), Cell::Empty).unwrap_err().kind, "missing_required");
        assert_eq!(type_cell(pay, i("bank_account"), Cell::Empty).unwrap(), Typed::Null);
        let pop = source("population").unwrap();
        assert_eq!(type_cell(pop, 0, cell("4302231950030712")).unwrap_err().kind, "bad_id");
        assert_eq!(type_cell(pop, 0, cell("430223480615071")).unwrap(), Typed::Str(Cow::Borrowed("430223194806150715")));
    }
}
