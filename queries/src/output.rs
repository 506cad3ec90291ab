//! Query results written out: an aligned text table, CSV, JSON Lines or
//! Parquet. Shared by `xuncha sql` and the dashboard's downloads.
//!
//! CSV is opened by people in Excel or WPS, where a cell that starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return runs as a formula: a
//! department's data could carry `=HYPERLINK(…)` into an inspector's
//! spreadsheet. Every CSV text cell and header xuncha writes goes through
//! [`inert_cell`], which puts a `'` before such a cell (OWASP's advice);
//! numbers such as `-12.50` are left as they are.

use crate::QueryError;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

impl std::str::FromStr for Format {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Format, QueryError> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "parquet" => Ok(Format::Parquet),
            other => Err(QueryError::Usage(format!("未知格式「{other}」,应为 table、csv、json 或 parquet"))),
        }
    }
}

/// Writes `batches` in `format` to `out`.
pub fn write(format: Format, schema: &SchemaRef, batches: &[RecordBatch], mut out: impl Write + Send) -> Result<(), QueryError> {
    match format {
        Format::Table => {
            let text = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{text}")?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(out, "({rows} 行)")?;
        }
        Format::Csv => {
            // A BOM so that Excel opens the Chinese text correctly.
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
            if batches.is_empty() {
                w.write(&for_csv(&RecordBatch::new_empty(schema.clone()))?)?;
            }
            for b in batches {
                w.write(&for_csv(b)?)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::Parquet => {
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema.clone(), None).map_err(|e| QueryError::Usage(e.to_string()))?;
            for b in batches {
                w.write(b).map_err(|e| QueryError::Usage(e.to_string()))?;
            }
            w.close().map_err(|e| QueryError::Usage(e.to_string()))?;
        }
    }
    Ok(())
}

/// A text cell a spreadsheet will show as text, never run as a formula.
pub fn inert_cell(text: &str) -> Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = text.trim().parse::<f64>().is_ok_and(f64::is_finite) && !text.contains(['\t', '\r']);
    if risky && !number { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

/// `batch` ready for CSV: each nested column (struct, list, map: a
/// finding's evidence, an `array_agg`) as JSON text, since a CSV cell holds
/// one flat value; text cells and headers made inert (see [`inert_cell`]).
fn for_csv(batch: &RecordBatch) -> Result<RecordBatch, QueryError> {
    let options = arrow::json::writer::EncoderOptions::default();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = inert_cell(field.name()).into_owned();
        let text: ArrayRef = if field.data_type().is_nested() {
            let mut encoder = arrow::json::writer::make_encoder(field, column.as_ref(), &options)?;
            let mut text = StringBuilder::new();
            let mut json = Vec::new();
            for row in 0..column.len() {
                if encoder.is_null(row) {
                    text.append_null();
                } else {
                    json.clear();
                    encoder.encode(row, &mut json);
                    text.append_value(inert_cell(&String::from_utf8_lossy(&json)));
                }
            }
            Arc::new(text.finish())
        } else if matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            let strings = arrow::compute::cast(column, &DataType::Utf8)?;
            Arc::new(strings.as_string::<i32>().iter().map(|v| v.map(|s| inert_cell(s).into_owned())).collect::<datafusion::arrow::array::StringArray>())
        } else {
            fields.push(Field::new(name, field.data_type().clone(), field.is_nullable()));
            columns.push(column.clone());
            continue;
        };
        fields.push(Field::new(name, DataType::Utf8, true));
        columns.push(text);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn csv_holds_nested_values_as_json() {
        let ctx = SessionContext::new();
        let frame = ctx
            .sql(
                "SELECT 'a' AS rule, named_struct('ids', make_array('P1', 'P2'), 'amount', 12.5) AS evidence \
                  UNION ALL SELECT 'b', CASE WHEN 1 = 0 THEN named_struct('ids', make_array('P9'), 'amount', 1.0) END",
            )
            .await
            .unwrap();
        let schema = frame.schema().inner().clone();
        let batches = frame.collect().await.unwrap();
        let mut out = Vec::new();
        write(Format::Csv, &schema, &batches, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        lines.sort();
        assert_eq!(lines, ["a,\"{\"\"ids\"\":[\"\"P1\"\",\"\"P2\"\"],\"\"amount\"\":12.5}\"", "b,", "rule,evidence"]);
    }

    #[tokio::test]
    async fn csv_cells_that_would_run_as_formulas_are_made_inert() {
        for (cell, shown) in [
            ("=1+1", "'=1+1"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-12.50", "-12.50"),
            ("+86", "+86"),
            ("张三", "张三"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(inert_cell(cell), shown, "{cell:?}");
        }
        let ctx = SessionContext::new();
        let frame = ctx.sql("SELECT '=HYPERLINK(\"http://x\")' AS \"=bad\", -5 AS n, named_struct('a', '@x') AS s").await.unwrap();
        let schema = frame.schema().inner().clone();
        let mut out = Vec::new();
        write(Format::Csv, &schema, &frame.collect().await.unwrap(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "'=bad,n,s");
        assert!(lines[1].starts_with("\"'=HYPERLINK(") && lines[1].contains(",-5,"), "{}", lines[1]);
    }
}
