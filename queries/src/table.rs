//! Query results as text: a header and rows of display strings (NULL as an
//! empty cell). What pages, reports and plans show is built from these.

use crate::QueryError;
use crate::sheet::Bound;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{DataFrame, SessionContext};

/// A small result, all cells as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// Runs constant SQL written by xuncha itself (no values in it).
    pub async fn query(ctx: &SessionContext, sql: &'static str) -> Result<TextTable, QueryError> {
        TextTable::collect(ctx.sql(sql).await?).await
    }

    /// Runs xuncha's SQL with its parameters bound.
    pub async fn run(ctx: &SessionContext, query: &Bound) -> Result<TextTable, QueryError> {
        TextTable::collect(query.frame(ctx).await?).await
    }

    async fn collect(frame: DataFrame) -> Result<TextTable, QueryError> {
        let schema = frame.schema().inner().clone();
        let batches = frame.collect().await?;
        TextTable::from_batches(&schema, &batches)
    }

    /// Formats batches.
    pub fn from_batches(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<TextTable, QueryError> {
        let options = FormatOptions::default().with_null("");
        let mut rows = Vec::new();
        for batch in batches {
            let formatters = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<Vec<_>, _>>()?;
            for row in 0..batch.num_rows() {
                rows.push(formatters.iter().map(|f| f.value(row).to_string()).collect());
            }
        }
        Ok(TextTable { columns: schema.fields().iter().map(|f| f.name().clone()).collect(), rows })
    }

    /// The index of a column.
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// Every row's value of `column` (empty strings if it is absent).
    pub fn column(&self, column: &str) -> Vec<&str> {
        let index = self.index(column);
        self.rows.iter().map(|r| index.and_then(|i| r.get(i)).map_or("", String::as_str)).collect()
    }

    /// The first row's first cell, or "".
    pub fn scalar(&self) -> &str {
        self.rows.first().and_then(|r| r.first()).map_or("", String::as_str)
    }
}
