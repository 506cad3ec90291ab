//! Query results written out: an aligned text table, CSV, JSON Lines or
//! Parquet. Shared by `xuncha sql` and the dashboard's downloads.

use crate::QueryError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use std::io::Write;

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
                w.write(&RecordBatch::new_empty(schema.clone()))?;
            }
            for b in batches {
                w.write(b)?;
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
