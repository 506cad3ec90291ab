//! Query results written out: an aligned text table, CSV, JSON Lines or
//! Parquet. Shared by `xuncha sql` and the dashboard's downloads.

use crate::QueryError;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
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
                w.write(&flat(&RecordBatch::new_empty(schema.clone()))?)?;
            }
            for b in batches {
                w.write(&flat(b)?)?;
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

/// `batch` with each nested column (struct, list, map: a finding's
/// evidence, an `array_agg`) as JSON text, since a CSV cell holds one flat
/// value; other columns are kept as they are.
fn flat(batch: &RecordBatch) -> Result<RecordBatch, QueryError> {
    if !batch.schema().fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let options = arrow::json::writer::EncoderOptions::default();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let mut encoder = arrow::json::writer::make_encoder(field, column.as_ref(), &options)?;
        let mut text = StringBuilder::new();
        let mut json = Vec::new();
        for row in 0..column.len() {
            if encoder.is_null(row) {
                text.append_null();
            } else {
                json.clear();
                encoder.encode(row, &mut json);
                text.append_value(String::from_utf8_lossy(&json));
            }
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
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
            .sql("SELECT 'a' AS rule, named_struct('ids', make_array('P1', 'P2'), 'amount', 12.5) AS evidence \
                  UNION ALL SELECT 'b', CASE WHEN 1 = 0 THEN named_struct('ids', make_array('P9'), 'amount', 1.0) END")
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
}
