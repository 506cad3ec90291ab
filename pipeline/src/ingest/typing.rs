//! Typing raw rows into Arrow batches by the contract, and explaining every
//! row that cannot be typed (the quarantine reason names the column, the
//! value and what was expected).

use super::read::RawCell;
use crate::contract::{ColumnType, Source};
use crate::values::{self, Month};
use chrono::NaiveDate;
use deltalake::arrow::array::{ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Columns every source table has beside the contract's.
pub const LINEAGE_COLUMNS: &[&str] = &["extra", "batch_id", "source_file", "source_row"];

/// The Arrow type of a contract column.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Int => DataType::Int64,
        ColumnType::Date => DataType::Date32,
        ColumnType::Money => DataType::Decimal128(18, 2),
        ColumnType::Decimal => DataType::Decimal128(18, 4),
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Str | ColumnType::Code | ColumnType::Id | ColumnType::Month | ColumnType::Enum(_) => DataType::Utf8,
    }
}

/// The lake schema of a source: its columns, then `extra` (JSON of the
/// columns the contract does not name), `batch_id`, and where each row came
/// from (`source_file`, `source_row`).
pub fn schema(source: &Source) -> SchemaRef {
    let mut fields: Vec<Field> = source.columns.iter().map(|c| Field::new(c.name, arrow_type(c.ty), !c.required)).collect();
    fields.push(Field::new("extra", DataType::Utf8, true));
    fields.push(Field::new("batch_id", DataType::Utf8, false));
    fields.push(Field::new("source_file", DataType::Utf8, false));
    fields.push(Field::new("source_row", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Null,
    Str(String),
    Int(i64),
    Date(NaiveDate),
    Month(Month),
    Money(Decimal),
    Bool(bool),
}

impl Typed {
    /// The value as it appears in a key.
    pub fn key_text(&self) -> String {
        match self {
            Typed::Null => String::new(),
            Typed::Str(s) => s.clone(),
            Typed::Int(i) => i.to_string(),
            Typed::Date(d) => d.to_string(),
            Typed::Month(m) => m.to_string(),
            Typed::Money(d) => d.to_string(),
            Typed::Bool(b) => b.to_string(),
        }
    }
}

/// Why a row went to quarantine.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// `missing_required`, `bad_date`, `bad_month`, `bad_money`, `bad_int`,
    /// `bad_bool`, `bad_enum`, `bad_id`, `bad_decimal`, `duplicate_key`.
    pub kind: &'static str,
    pub column: Option<&'static str>,
    pub reason: String,
}

/// Types one cell for a column.
pub fn type_cell(source: &Source, index: usize, cell: &RawCell) -> Result<Typed, RowProblem> {
    let column = &source.columns[index];
    let problem = |kind: &'static str, why: String| RowProblem {
        kind,
        column: Some(column.name),
        reason: format!("列「{}」({}) {why}", column.header, column.name),
    };
    if cell.is_blank() {
        return if column.required { Err(problem("missing_required", "为必填项,但为空".into())) } else { Ok(Typed::Null) };
    }
    let text: std::borrow::Cow<'_, str> = match cell {
        RawCell::Text(t) => std::borrow::Cow::Borrowed(t),
        other => std::borrow::Cow::Owned(other.text()),
    };
    match (column.ty, cell) {
        (ColumnType::Date, RawCell::Serial(n) | RawCell::Number(n)) => {
            values::excel_serial_date(*n).map(Typed::Date).ok_or_else(|| problem("bad_date", format!("「{n}」不是有效的 Excel 日期")))
        }
        (ColumnType::Month, RawCell::Serial(n)) => {
            values::excel_serial_date(*n).map(|d| Typed::Month(Month::of(d))).ok_or_else(|| problem("bad_month", format!("「{n}」不是有效月份")))
        }
        (ColumnType::Money, RawCell::Number(n)) => values::money_from_f64(*n).map(Typed::Money).map_err(|e| problem("bad_money", e)),
        (ColumnType::Bool, RawCell::Bool(b)) => Ok(Typed::Bool(*b)),
        (ColumnType::Str, _) => Ok(Typed::Str(text.trim().to_string())),
        (ColumnType::Code, _) => Ok(Typed::Str(values::normalize_code(&text))),
        (ColumnType::Int, _) => values::parse_int(&text).map(Typed::Int).map_err(|e| problem("bad_int", e)),
        (ColumnType::Date, _) => values::parse_date(&text).map(Typed::Date).map_err(|e| problem("bad_date", e)),
        (ColumnType::Month, _) => values::parse_month(&text).map(Typed::Month).map_err(|e| problem("bad_month", e)),
        (ColumnType::Money, _) => values::parse_money(&text).map(Typed::Money).map_err(|e| problem("bad_money", e)),
        (ColumnType::Decimal, _) => values::parse_decimal(&text).map(Typed::Money).map_err(|e| problem("bad_decimal", e)),
        (ColumnType::Bool, _) => values::parse_bool(&text).map(Typed::Bool).map_err(|e| problem("bad_bool", e)),
        (ColumnType::Id, _) if source.name == "subsidy_payments" => {
            // Kept even when invalid: a wrong number in a payment is evidence.
            Ok(Typed::Str(values::parse_id(&text).unwrap_or_else(|_| values::normalize_code(&text))))
        }
        (ColumnType::Id, _) => values::parse_id(&text).map(Typed::Str).map_err(|e| problem("bad_id", e)),
        (ColumnType::Enum(allowed), _) => {
            let value = values::clean(&text);
            if allowed.contains(&value.as_str()) {
                Ok(Typed::Str(value))
            } else {
                Err(problem("bad_enum", format!("「{value}」不在允许值之内(应为 {})", allowed.join(" / "))))
            }
        }
    }
}

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

    fn push(&mut self, value: &Typed) {
        match (self, value) {
            (ColumnBuilder::Str(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Date(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Decimal(b, _), Typed::Null) => b.append_null(),
            (ColumnBuilder::Bool(b), Typed::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Typed::Int(i)) => b.append_value(*i),
            (ColumnBuilder::Date(b), Typed::Date(d)) => b.append_value(Date32Type::from_naive_date(*d)),
            (ColumnBuilder::Decimal(b, scale), Typed::Money(d)) => {
                let mut d = *d;
                d.rescale(*scale);
                b.append_value(d.mantissa())
            }
            (ColumnBuilder::Bool(b), Typed::Bool(v)) => b.append_value(*v),
            (ColumnBuilder::Str(b), other) => b.append_value(other.key_text()),
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

/// Accumulates typed rows of one file into record batches.
pub struct BatchBuilder {
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    rows: usize,
    batches: Vec<RecordBatch>,
}

impl BatchBuilder {
    pub fn new(schema: SchemaRef) -> BatchBuilder {
        let builders = schema.fields().iter().map(|f| ColumnBuilder::new(f.data_type())).collect();
        BatchBuilder { schema, builders, rows: 0, batches: Vec::new() }
    }

    /// Adds a row: the contract values, then the lineage values.
    pub fn push(&mut self, values: &[Typed], extra: Option<String>, batch_id: &str, file: &str, row: u64) {
        for (builder, value) in self.builders.iter_mut().zip(values) {
            builder.push(value);
        }
        let n = values.len();
        self.builders[n].push(&extra.map_or(Typed::Null, Typed::Str));
        self.builders[n + 1].push(&Typed::Str(batch_id.to_string()));
        self.builders[n + 2].push(&Typed::Str(file.to_string()));
        self.builders[n + 3].push(&Typed::Int(row as i64));
        self.rows += 1;
        if self.rows == 65_536 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let columns = self.builders.iter_mut().map(ColumnBuilder::finish).collect();
        self.batches.push(RecordBatch::try_new(self.schema.clone(), columns).expect("columns match the schema"));
        self.rows = 0;
    }

    pub fn finish(mut self) -> Vec<RecordBatch> {
        self.flush();
        self.batches
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::source;

    fn cell(s: &str) -> RawCell {
        RawCell::Text(s.into())
    }

    #[test]
    fn cells_are_typed_or_explained() {
        let pay = source("subsidy_payments").unwrap();
        let i = |n| pay.column_index(n).unwrap();
        assert_eq!(type_cell(pay, i("amount"), &cell("1,350.00元")).unwrap(), Typed::Money("1350.00".parse().unwrap()));
        assert_eq!(type_cell(pay, i("amount"), &RawCell::Number(430.1)).unwrap(), Typed::Money("430.10".parse().unwrap()));
        assert_eq!(type_cell(pay, i("period"), &cell("2024年3月")).unwrap(), Typed::Month(Month::new(2024, 3).unwrap()));
        assert_eq!(type_cell(pay, i("paid_date"), &RawCell::Serial(45356.0)).unwrap(), Typed::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()));
        assert_eq!(type_cell(pay, i("id_number"), &cell("43022319500307123")).unwrap(), Typed::Str("43022319500307123".into()));
        let e = type_cell(pay, i("program"), &cell("低保金")).unwrap_err();
        assert_eq!(e.kind, "bad_enum");
        assert!(e.reason.contains("资金项目") && e.reason.contains("低保金"), "{}", e.reason);
        let e = type_cell(pay, i("amount"), &cell("待定")).unwrap_err();
        assert_eq!((e.kind, e.column), ("bad_money", Some("amount")));
        assert_eq!(type_cell(pay, i("name"), &RawCell::Empty).unwrap_err().kind, "missing_required");
        assert_eq!(type_cell(pay, i("bank_account"), &RawCell::Empty).unwrap(), Typed::Null);
        let pop = source("population").unwrap();
        assert_eq!(type_cell(pop, 0, &cell("4302231950030712")).unwrap_err().kind, "bad_id");
        assert_eq!(type_cell(pop, 0, &cell("430223480615071")).unwrap(), Typed::Str("430223194806150715".into()));
    }
}
