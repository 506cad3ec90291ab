//! Functions that cannot build unbounded values.
//!
//! DataFusion's memory pool counts what operators hold, not what a scalar
//! function allocates: `repeat('x', 1000000000)` took the process to 3.9 GB
//! before any limit could act, and `range(1, 1e9)` builds an 8 GB list. The
//! functions that make a value larger than their input (`repeat`, `lpad`,
//! `rpad`, `array_repeat`, `range`, `generate_series`) are replaced in every
//! session by the same function behind a check of the size it would build:
//! at most [`MAX_BUILT_BYTES`] per string and [`MAX_BUILT_ITEMS`] per list,
//! and [`MAX_BATCH_BYTES`] for a batch of rows together (5,000 strings of
//! 900 KB each are 4.5 GB), refused with a message before anything is
//! allocated.

use crate::wrapped::{self, Around};
use datafusion::arrow::array::{Array, AsArray, Int64Array, StringViewArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, Volatility};
use datafusion::prelude::SessionContext;

/// The largest string one call may build.
pub const MAX_BUILT_BYTES: i64 = 1 << 20;
/// The longest list one call may build.
pub const MAX_BUILT_ITEMS: i64 = 1_000_000;
/// What one call may build for a whole batch of rows.
pub const MAX_BATCH_BYTES: i64 = 64 << 20;

/// What a function builds, and which of its arguments decide how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`: the text's bytes times n.
    Repeat,
    /// `lpad` / `rpad(text, n, …)`: n characters (each up to 4 bytes).
    Pad,
    /// `array_repeat(value, n)`: n items.
    Items,
    /// `range` / `generate_series(start, stop[, step])` over integers.
    Range,
}

/// Replaces the growing built-ins of `ctx` with bounded ones.
///
/// They are declared volatile so that they are never folded into a constant
/// at planning time: `repeat('x', 1000000)` folded once would then be copied
/// into every row of every batch (8,192 MB for one batch) without a check;
/// unfolded, each call sees how many rows it builds for.
pub fn register(ctx: &SessionContext) {
    for (name, growth) in [("repeat", Growth::Repeat), ("lpad", Growth::Pad), ("rpad", Growth::Pad), ("array_repeat", Growth::Items), ("range", Growth::Range), ("generate_series", Growth::Range)] {
        wrapped::replace(ctx, name, growth, Some(Volatility::Volatile));
    }
}

/// Row `i` of an integer argument (a column, or a scalar: one value for
/// every row), if not null.
fn int_at(ints: &[Option<Int64Array>], arg: usize, i: usize) -> Option<i64> {
    let ints = ints.get(arg)?.as_ref()?;
    let row = if ints.len() == 1 { 0 } else { i };
    ints.is_valid(row).then(|| ints.value(row))
}

/// Row `i`'s byte length of a text argument, if not null.
fn text_len_at(texts: Option<&StringViewArray>, i: usize) -> Option<i64> {
    let texts = texts?;
    let row = if texts.len() == 1 { 0 } else { i };
    texts.is_valid(row).then(|| i64::try_from(texts.value(row).len()).unwrap_or(i64::MAX))
}

impl Growth {
    /// Refuses a call of `name` that would build more than the limits allow.
    fn check(self, name: &str, args: &[ColumnarValue], rows: usize) -> Result<()> {
        let integer_args = args.iter().take(2).all(|a| a.data_type().is_integer());
        if self == Growth::Range && !integer_args {
            return Ok(()); // date and timestamp ranges are bounded by their calendar
        }
        let values = ColumnarValue::values_to_arrays(args)?;
        // Each argument cast once, then read row by row.
        let ints: Vec<Option<Int64Array>> = values.iter().map(|v| cast(v, &DataType::Int64).ok().map(|a| a.as_primitive::<Int64Type>().clone())).collect();
        let texts: Option<StringViewArray> = values.first().and_then(|v| cast(v, &DataType::Utf8View).ok()).map(|a| a.as_string_view().clone());
        let mut batch_bytes = 0i64;
        for i in 0..rows.max(1) {
            let (built, limit, unit) = match self {
                Growth::Repeat => (text_len_at(texts.as_ref(), i).unwrap_or(0).saturating_mul(int_at(&ints, 1, i).unwrap_or(0).max(0)), MAX_BUILT_BYTES, "字节"),
                Growth::Pad => (int_at(&ints, 1, i).unwrap_or(0).saturating_mul(4), MAX_BUILT_BYTES, "字节"),
                Growth::Items => (int_at(&ints, 1, i).unwrap_or(0), MAX_BUILT_ITEMS, "项"),
                Growth::Range => {
                    let (start, stop) = if values.len() == 1 { (Some(0), int_at(&ints, 0, i)) } else { (int_at(&ints, 0, i), int_at(&ints, 1, i)) };
                    let step = if values.len() >= 3 { int_at(&ints, 2, i).unwrap_or(1) } else { 1 };
                    let items = match (start, stop) {
                        (Some(a), Some(b)) if step != 0 => i64::try_from(((i128::from(b) - i128::from(a)) / i128::from(step)).max(0)).unwrap_or(i64::MAX),
                        _ => 0,
                    };
                    (items, MAX_BUILT_ITEMS, "项")
                }
            };
            if built > limit {
                return Err(DataFusionError::Execution(format!("函数 {name} 将生成约 {built} {unit},超过上限 {limit} {unit};请缩小参数")));
            }
            if unit == "字节" {
                batch_bytes = batch_bytes.saturating_add(built);
                if batch_bytes > MAX_BATCH_BYTES {
                    return Err(DataFusionError::Execution(format!("函数 {name} 在一批 {rows} 行中将生成超过 {} MiB,超过上限;请减少行数或缩小参数", MAX_BATCH_BYTES >> 20)));
                }
            }
        }
        Ok(())
    }
}

impl Around for Growth {
    fn call(&self, inner: &ScalarUDF, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.check(inner.name(), &args.args, args.number_rows)?;
        inner.invoke_with_args(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<datafusion::arrow::array::RecordBatch>> {
        ctx.sql(sql).await?.collect().await
    }

    #[tokio::test]
    async fn growing_functions_are_refused_beyond_their_limit_and_work_below_it() {
        let ctx = SessionContext::new();
        register(&ctx);
        for sql in [
            "SELECT length(repeat('x', 1000000000))",
            "SELECT lpad('a', 500000000, 'b')",
            "SELECT rpad('a', 500000000)",
            "SELECT cardinality(array_repeat(1, 100000000))",
            "SELECT cardinality(range(1, 1000000000))",
            "SELECT cardinality(generate_series(1, 1000000000, 1))",
            "SELECT length(repeat(s, n)) FROM (VALUES ('ab', 1), ('x', 2000000)) t(s, n)",
            "SELECT length(repeat('x', 900000)) FROM generate_series(1, 100)",
            "SELECT repeat('x', 1000000) FROM generate_series(1, 8192)",
        ] {
            let e = run(&ctx, sql).await.expect_err(sql).to_string();
            assert!(e.contains("超过上限"), "{sql}: {e}");
        }
        let ok = run(&ctx, "SELECT length(repeat('ab', 1000)), length(lpad('a', 10, 'b')), cardinality(range(1, 100)), cardinality(array_repeat(0, 5))").await.unwrap();
        let row: Vec<String> = (0..4).map(|c| datafusion::arrow::util::display::array_value_to_string(ok[0].column(c), 0).unwrap()).collect();
        assert_eq!(row, ["2000", "10", "99", "5"]);
        let dates = run(&ctx, "SELECT cardinality(range(DATE '2020-01-01', DATE '2020-02-01', INTERVAL '1' DAY))").await.unwrap();
        assert_eq!(datafusion::arrow::util::display::array_value_to_string(dates[0].column(0), 0).unwrap(), "31");
    }
}
