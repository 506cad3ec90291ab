//! SQL functions for rules and analysts (listed by `xuncha sql --help`):
//!
//! | function | returns |
//! |---|---|
//! | `id_valid(id)` | GB 11643: 18 characters, real birth date, right check digit |
//! | `id_birth_date(id)` | the birth date coded in the number |
//! | `id_gender(id)` | 男 / 女 from the sequence digit |
//! | `id_region(id)` | the 6-digit region code |
//! | `age_on(birth_date, day)` | whole years on `day` |
//! | `norm_name(name)` | CONTRACT §3's name normalization |
//! | `mask_id(id)` | `430102********123X` |
//! | `mask_name(name)` | surname + `*` |
//! | `month_start(period)`, `month_end(period)` | first and last day of a `YYYY-MM` month |
//! | `hash64(a, b, …)` | a 64-bit hash of the values, equal for equal values |
//! | `local_time(ts)` | a time in the office's zone, as people write it: `2026年12月7日 12:57` |
//! | `cn_date(day)` | a date as people write it: `2026年12月7日` |

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Date32Array, Int64Array, StringArray, StringViewArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use xuncha_core::values::{self, Month};

/// The text argument as a view array: lake text columns are views already
/// (no copy), a literal or `Utf8` column is viewed in place.
fn strings(arg: &ArrayRef, name: &str) -> Result<StringViewArray> {
    let cast = datafusion::arrow::compute::cast(arg, &DataType::Utf8View)?;
    cast.as_any().downcast_ref::<StringViewArray>().cloned().ok_or_else(|| DataFusionError::Execution(format!("{name}: expected text")))
}

/// A one-argument text function.
fn text_udf<T, F>(name: &'static str, return_type: DataType, f: F) -> ScalarUDF
where
    F: Fn(&str) -> Option<T> + Send + Sync + 'static,
    T: Into<Out>,
{
    let ret = return_type.clone();
    create_udf(
        name,
        vec![DataType::Utf8View],
        return_type,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let input = strings(&arrays[0], name)?;
            let values = input.iter().map(|v| v.and_then(|s| f(s).map(Into::into)));
            Ok(ColumnarValue::Array(collect(values, &ret)))
        }),
    )
}

/// A function result before it becomes an Arrow array.
pub(crate) enum Out {
    Bool(bool),
    Text(String),
    Date(NaiveDate),
}

impl From<bool> for Out {
    fn from(v: bool) -> Out {
        Out::Bool(v)
    }
}
impl From<String> for Out {
    fn from(v: String) -> Out {
        Out::Text(v)
    }
}
impl From<NaiveDate> for Out {
    fn from(v: NaiveDate) -> Out {
        Out::Date(v)
    }
}

fn collect(values: impl Iterator<Item = Option<Out>>, data_type: &DataType) -> ArrayRef {
    match data_type {
        DataType::Boolean => Arc::new(values.map(|v| v.map(|o| matches!(o, Out::Bool(true)))).collect::<BooleanArray>()),
        DataType::Date32 => Arc::new(values.map(|v| v.and_then(|o| if let Out::Date(d) = o { Some(Date32Type::from_naive_date(d)) } else { None })).collect::<Date32Array>()),
        _ => Arc::new(values.map(|v| v.and_then(|o| if let Out::Text(t) = o { Some(t) } else { None })).collect::<StringArray>()),
    }
}

/// `430102********123X`: region and the last four kept.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// Surname and `*` (two-character surnames such as 欧阳 kept whole).
pub fn mask_name(name: &str) -> String {
    let trimmed: String = name.chars().filter(|c| !c.is_whitespace() && *c != '\u{3000}').collect();
    if let Some((first, _)) = trimmed.split_once('·') {
        return format!("{first}·*");
    }
    const DOUBLE: &[&str] = &["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯"];
    let surname_len = if DOUBLE.iter().any(|d| trimmed.starts_with(d)) { 2 } else { 1 };
    let surname: String = trimmed.chars().take(surname_len).collect();
    if surname.is_empty() { String::new() } else { format!("{surname}*") }
}

/// `hash64(a, b, …)`: one 64-bit hash of a row's values (the same values
/// give the same hash in every session). Rules group by it to find the few
/// candidate keys among millions of payments with a one-column integer
/// aggregation, then group the candidates' rows by the real columns: a
/// collision can only add a candidate, never hide one.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Hash64 {
    signature: Signature,
}

impl ScalarUDFImpl for Hash64 {
    fn name(&self) -> &str {
        "hash64"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut hashes = vec![0; args.number_rows];
        create_hashes(&arrays, &RandomState::with_seed(0x7875_6e63_6861), &mut hashes)?;
        Ok(ColumnarValue::Array(Arc::new(UInt64Array::from(hashes))))
    }
}

/// `local_time(ts)`: a UTC time in the office's zone `zone`, written
/// `2026年12月7日 12:57` (NULL stays NULL).
pub fn local_time(zone: chrono_tz::Tz) -> ScalarUDF {
    let utc = DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into()));
    create_udf(
        "local_time",
        vec![utc.clone()],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let cast = datafusion::arrow::compute::cast(&arrays[0], &utc)?;
            let times = cast.as_any().downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>().ok_or_else(|| DataFusionError::Execution("local_time: expected a time".into()))?;
            let shown: StringArray = times.iter().map(|t| t.and_then(chrono::DateTime::from_timestamp_micros).map(|t| t.with_timezone(&zone).format("%Y年%-m月%-d日 %H:%M").to_string())).collect();
            Ok(ColumnarValue::Array(Arc::new(shown)))
        }),
    )
}

/// A date as people write it: `2026年12月7日`.
pub fn cn_date(day: NaiveDate) -> String {
    day.format("%Y年%-m月%-d日").to_string()
}

/// Registers every function on `ctx` (`local_time`, which needs the
/// office's zone, is registered by the session).
pub fn register(ctx: &SessionContext) {
    crate::bounded::register(ctx);
    crate::cancel::register(ctx);
    ctx.register_udf(ScalarUDF::from(Hash64 { signature: Signature::variadic_any(Volatility::Immutable) }));
    ctx.register_udf(text_udf("id_valid", DataType::Boolean, |s| Some(values::id_valid(s))));
    ctx.register_udf(text_udf("id_birth_date", DataType::Date32, values::id_birth_date));
    ctx.register_udf(text_udf("id_gender", DataType::Utf8, |s: &str| (s.len() == 18 && s.as_bytes()[16].is_ascii_digit()).then(|| if s.as_bytes()[16] % 2 == 1 { "男" } else { "女" }.to_string())));
    ctx.register_udf(text_udf("id_region", DataType::Utf8, |s: &str| s.get(..6).filter(|r| r.bytes().all(|b| b.is_ascii_digit())).map(str::to_string)));
    ctx.register_udf(text_udf("norm_name", DataType::Utf8, |s| Some(values::normalize_name(s))));
    ctx.register_udf(text_udf("mask_id", DataType::Utf8, |s| Some(mask_id(s))));
    ctx.register_udf(text_udf("mask_name", DataType::Utf8, |s| Some(mask_name(s))));
    ctx.register_udf(text_udf("month_start", DataType::Date32, |s| values::parse_month(s).ok().map(Month::first_day)));
    ctx.register_udf(text_udf("month_end", DataType::Date32, |s| values::parse_month(s).ok().map(Month::last_day)));
    ctx.register_udf(create_udf(
        "cn_date",
        vec![DataType::Date32],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let days = arrays[0].as_any().downcast_ref::<Date32Array>().ok_or_else(|| DataFusionError::Execution("cn_date: expected a date".into()))?;
            let shown: StringArray = (0..days.len()).map(|i| days.is_valid(i).then(|| days.value_as_date(i).map(cn_date)).flatten()).collect();
            Ok(ColumnarValue::Array(Arc::new(shown)))
        }),
    ));
    ctx.register_udf(create_udf(
        "age_on",
        vec![DataType::Date32, DataType::Date32],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let births = arrays[0].as_any().downcast_ref::<Date32Array>().ok_or_else(|| DataFusionError::Execution("age_on: birth_date must be a date".into()))?;
            let days = arrays[1].as_any().downcast_ref::<Date32Array>().ok_or_else(|| DataFusionError::Execution("age_on: day must be a date".into()))?;
            let ages: Int64Array = births
                .iter()
                .zip(days.iter())
                .map(|(b, d)| {
                    let (b, d) = (Date32Type::to_naive_date_opt(b?)?, Date32Type::to_naive_date_opt(d?)?);
                    let mut age = d.year() - b.year();
                    if (d.month(), d.day()) < (b.month(), b.day()) {
                        age -= 1;
                    }
                    Some(i64::from(age))
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(ages)))
        }),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id("43010219800101123X"), "430102********123X");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳*");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿依古丽·*");
        assert_eq!(mask_name("张　伟"), "张*");
    }

    #[tokio::test]
    async fn functions_in_sql() {
        let ctx = SessionContext::new();
        register(&ctx);
        let sql = "SELECT id_valid('43022319640101102X'), id_valid('430223195003071230'), CAST(id_birth_date('43022319640101102X') AS VARCHAR), \
                   id_gender('43022319640101102X'), id_region('43022319640101102X'), age_on(DATE '1964-01-01', DATE '2024-01-01'), \
                   age_on(DATE '1964-01-02', DATE '2024-01-01'), norm_name('阿依古丽•买买提') = norm_name('阿依古丽·买买提'), \
                   mask_id('43022319640101102X'), mask_name('王秀英'), CAST(month_end('2024-02') AS VARCHAR), CAST(month_start('2024-02') AS VARCHAR)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let row: Vec<String> = (0..batches[0].num_columns()).map(|c| datafusion::arrow::util::display::array_value_to_string(batches[0].column(c), 0).unwrap()).collect();
        assert_eq!(row, ["true", "false", "1964-01-01", "女", "430223", "60", "59", "true", "430223********102X", "王*", "2024-02-29", "2024-02-01"]);
    }

    #[tokio::test]
    async fn hash64_is_equal_for_equal_rows_and_differs_otherwise() {
        let ctx = SessionContext::new();
        register(&ctx);
        let sql = "SELECT hash64(a, b) = hash64(a2, b2) AS same FROM (VALUES \
                   ('430223195003071233', '2024-03', '430223195003071233', '2024-03'), \
                   ('430223195003071233', '2024-03', '430223195003071233', '2024-04'), \
                   ('43022319500307123', '32024-03', '430223195003071233', '2024-03')) AS t(a, b, a2, b2)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let same: Vec<String> = (0..batches[0].num_rows()).map(|r| datafusion::arrow::util::display::array_value_to_string(batches[0].column(0), r).unwrap()).collect();
        assert_eq!(same, ["true", "false", "false"], "columns hash separately, not as one concatenated text");
        let again = ctx.sql("SELECT hash64('430223195003071233', '2024-03') AS h").await.unwrap().collect().await.unwrap();
        let fresh = SessionContext::new();
        register(&fresh);
        let other = fresh.sql("SELECT hash64('430223195003071233', '2024-03') AS h").await.unwrap().collect().await.unwrap();
        assert_eq!(again[0].column(0), other[0].column(0), "the same in every session");
    }
}
