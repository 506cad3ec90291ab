//! The data of the common-issue thematic report (共性问题专题报告); its
//! queries are `queries/reports/common_issues.sql`, which says what makes a
//! topic common and how every figure is counted. The dashboard renders it
//! (HTML, Markdown, Word) and masks the people in its typical cases.

use crate::QueryError;
use crate::sheet::{Bound, Param, Sheet, date, text};
use crate::table::TextTable;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use rust_decimal::Decimal;
use std::sync::OnceLock;
use xuncha_core::config::ReportConfig;

/// Every `queries/reports/*.sql` file, embedded by `build.rs` as (name, text).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_reports.rs"));

/// What the report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub sector: Option<String>,
    pub topic: Option<String>,
    /// Problems found and findings made up to this day (default: the latest run's as_of, or today).
    pub as_of: Option<NaiveDate>,
}

/// A typical case, unmasked (the renderer masks it).
#[derive(Debug, Clone, PartialEq)]
pub enum Case {
    /// One of the topic's largest 巡察 problems.
    Problem { place: String, description: String, amount: Decimal, status: String },
    /// The topic's largest finding.
    Finding { place: String, rule: String, person_name: String, amount: Decimal, period: String },
}

/// One topic's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicSummary {
    pub topic: String,
    pub common: bool,
    pub towns: Vec<String>,
    pub problems: u64,
    pub findings: u64,
    /// Yuan, exact: problems' funds involved plus the findings' amounts at stake.
    pub money_involved: Decimal,
    pub money_recovered: Decimal,
    /// Share of the topic's problems rectified (已整改/已销号), percent.
    pub rectification_rate: Option<f64>,
    pub overdue: u64,
    pub cases: Vec<Case>,
    /// Titles of the rules mapped to the topic that found something.
    pub rules: Vec<String>,
}

/// The whole report's content.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonIssueReport {
    /// 全部领域, 「低保」类 or 民政领域.
    pub scope: String,
    pub as_of: NaiveDate,
    pub towns_total: usize,
    /// Towns a topic must reach to be common.
    pub threshold: usize,
    /// Every topic found anywhere, common ones first.
    pub topics: Vec<TopicSummary>,
    /// Town × topic counts (problems + findings).
    pub heat: TextTable,
    /// Problems per round (term 第n轮) for the common topics.
    pub trend: TextTable,
}

impl CommonIssueReport {
    /// The common topics.
    pub fn common(&self) -> impl Iterator<Item = &TopicSummary> {
        self.topics.iter().filter(|t| t.common)
    }
}

/// Every built-in sheet of `queries/reports/`, parsed once (a bad built-in
/// sheet is a build defect that the tests catch).
fn sheets() -> &'static [(&'static str, Sheet)] {
    static SHEETS: OnceLock<Vec<(&'static str, Sheet)>> = OnceLock::new();
    SHEETS.get_or_init(|| BUILTIN.iter().map(|(name, text)| (*name, Sheet::parse(text, &format!("reports/{name}.sql")).unwrap_or_else(|e| panic!("built-in report sheet: {e}")))).collect())
}

/// Query `query` of the built-in sheet `queries/reports/<sheet>.sql`, its
/// placeholders bound to `values`.
pub fn document_query(sheet: &str, query: &str, values: &[Param]) -> Result<Bound, QueryError> {
    let (_, found) = sheets().iter().find(|(name, _)| *name == sheet).ok_or_else(|| QueryError::UnknownQuery { sheet: "reports".into(), kind: "sheet".into(), name: sheet.into() })?;
    Bound::new(&found.block("query", query)?.sql, values, &format!("reports/{sheet}.sql query {query}"))
}

/// Runs [`document_query`].
pub async fn document(ctx: &SessionContext, sheet: &str, query: &str, values: &[Param]) -> Result<TextTable, QueryError> {
    TextTable::run(ctx, &document_query(sheet, query, values)?).await
}

/// The report's parameters.
struct Params {
    values: Vec<Param>,
}

impl Params {
    async fn query(&self, ctx: &SessionContext, name: &str, case_topic: Option<&str>) -> Result<TextTable, QueryError> {
        let mut values = self.values.clone();
        values.push(("case_topic", text(case_topic)));
        document(ctx, "common_issues", name, &values).await
    }
}

/// Builds the report from a session (scoped or not).
pub async fn build(ctx: &SessionContext, options: &ReportOptions, config: &ReportConfig) -> Result<CommonIssueReport, QueryError> {
    let unbound = Params { values: vec![] };
    let as_of = match options.as_of {
        Some(d) => d,
        None => {
            let latest = unbound.query(ctx, "as_of", None).await.map(|t| t.scalar().to_string()).unwrap_or_default();
            NaiveDate::parse_from_str(&latest, "%Y-%m-%d").unwrap_or_else(|_| chrono::Local::now().date_naive())
        }
    };
    let params = Params { values: vec![("as_of", date(Some(as_of))), ("sector", text(options.sector.as_deref())), ("topic", text(options.topic.as_deref()))] };
    let towns_total: usize = params.query(ctx, "towns_total", None).await?.scalar().parse().unwrap_or(0);
    let threshold = (config.common_min_towns as usize).max((config.common_town_share * towns_total as f64).ceil() as usize);
    let per_topic = params.query(ctx, "per_topic", None).await?;
    let mut topics = Vec::new();
    for row in &per_topic.rows {
        let number = |i: usize| row[i].parse::<u64>().unwrap_or(0);
        let money = |i: usize| money(&row[i]);
        let topic = row[0].clone();
        let towns: Vec<String> = row[8].split('、').filter(|s| !s.is_empty()).map(String::from).collect();
        topics.push(TopicSummary {
            common: towns.len() >= threshold,
            cases: cases(ctx, &params, &topic).await?,
            rules: params.query(ctx, "topic_rules", Some(&topic)).await?.rows.into_iter().map(|r| r[0].clone()).collect(),
            problems: number(2),
            findings: number(3),
            money_involved: money(4),
            money_recovered: money(5),
            rectification_rate: row[6].parse().ok(),
            overdue: number(7),
            towns,
            topic,
        });
    }
    topics.sort_by_key(|t| !t.common);
    let heat = params.query(ctx, "heat", None).await?;
    let mut trend = params.query(ctx, "trend", None).await?;
    trend.rows.retain(|r| topics.iter().any(|t| t.common && t.topic == r[1]));
    let scope = match (&options.sector, &options.topic) {
        (Some(s), _) => format!("{s}领域"),
        (None, Some(t)) => format!("「{t}」类"),
        (None, None) => "全部领域".to_string(),
    };
    Ok(CommonIssueReport { scope, as_of, towns_total, threshold, topics, heat, trend })
}

/// A sum of money as the query gives it (exact decimal text; NULL, an
/// empty sum, is zero).
fn money(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

/// Two or three typical cases of a topic: the largest problems, then the largest finding.
async fn cases(ctx: &SessionContext, params: &Params, topic: &str) -> Result<Vec<Case>, QueryError> {
    let mut out: Vec<Case> = params
        .query(ctx, "typical_problems", Some(topic))
        .await?
        .rows
        .into_iter()
        .map(|r| Case::Problem { amount: money(&r[2]), place: r[0].clone(), description: r[1].clone(), status: r[3].clone() })
        .collect();
    out.extend(params.query(ctx, "typical_findings", Some(topic)).await?.rows.into_iter().map(|r| Case::Finding {
        amount: money(&r[3]),
        place: r[0].clone(),
        rule: r[1].clone(),
        person_name: r[2].clone(),
        period: r[4].clone(),
    }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_report_sheet_parses_with_the_queries_the_code_runs() {
        let sheet = |name: &str| &super::sheets().iter().find(|(n, _)| *n == name).unwrap().1;
        for name in ["as_of", "towns_total", "per_topic", "heat", "trend", "topic_rules", "typical_problems", "typical_findings"] {
            assert!(sheet("common_issues").block("query", name).is_ok(), "{name}");
        }
        assert!(sheet("filters").block("query", "towns").is_ok() && sheet("filters").block("query", "terms").is_ok());
        assert!(sheet("finding").block("query", "finding").is_ok() && sheet("console").block("query", "example").is_ok());
    }
}
