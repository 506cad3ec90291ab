//! The common-issue thematic report (共性问题专题报告).
//!
//! A topic is *common* when it is found — through 巡察 problems, or through
//! findings of rules mapped to that topic — in at least
//! max(`common_min_towns`, `common_town_share` × towns in scope) towns.
//! The report ranks topics, gives each its towns, counts, money involved and
//! recovered, rectification rate, overdue count, typical cases (masked) and
//! the rules behind it, plus a town × topic heat map, a trend by round and
//! rectification bars. `render` writes it as HTML, Markdown or Word.

mod docx;
pub(crate) mod render;

use crate::DashboardError;
use crate::mask;
use crate::pages::DONE;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use xuncha_core::config::ReportConfig;
use xuncha_queries::table::{TextTable, quote};

pub use render::{Format, write};

/// What the report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub sector: Option<String>,
    pub topic: Option<String>,
    /// Problems found and findings made up to this day (default: the latest run's as_of, or today).
    pub as_of: Option<NaiveDate>,
}

/// One topic's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicSummary {
    pub topic: String,
    pub common: bool,
    pub towns: Vec<String>,
    pub problems: u64,
    pub findings: u64,
    /// Yuan: problems' funds involved plus the findings' amounts at stake.
    pub money_involved: f64,
    pub money_recovered: f64,
    /// Share of the topic's problems rectified (已整改/已销号), percent.
    pub rectification_rate: Option<f64>,
    pub overdue: u64,
    /// Typical cases, masked.
    pub cases: Vec<String>,
    /// Titles of the rules mapped to the topic that found something.
    pub rules: Vec<String>,
}

/// The whole report's content.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonIssueReport {
    pub scope: String,
    pub as_of: NaiveDate,
    pub towns_total: usize,
    pub threshold: usize,
    pub headline: Vec<(String, String)>,
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

/// Builds the report from a session (scoped or not).
pub async fn build(ctx: &SessionContext, options: &ReportOptions, config: &ReportConfig) -> Result<CommonIssueReport, DashboardError> {
    let as_of = match options.as_of {
        Some(d) => d,
        None => {
            let latest = TextTable::query(ctx, "SELECT CAST(max(as_of) AS VARCHAR) FROM runs WHERE status = 'ok'").await.map(|t| t.scalar().to_string()).unwrap_or_default();
            NaiveDate::parse_from_str(&latest, "%Y-%m-%d").unwrap_or_else(|_| chrono::Local::now().date_naive())
        }
    };
    // Over `problems p`: every query below names the table `p`.
    let mut problem_filter = format!("p.found_date <= DATE '{as_of}' AND length(p.target_code) = 12 AND substr(p.target_code, 10, 3) <> '000'");
    let mut rule_filter = String::from("true");
    if let Some(sector) = &options.sector {
        problem_filter.push_str(&format!(" AND p.sector = {}", quote(sector)));
        rule_filter.push_str(&format!(" AND r.sector = {}", quote(sector)));
    }
    if let Some(topic) = &options.topic {
        problem_filter.push_str(&format!(" AND p.topic = {}", quote(topic)));
        rule_filter.push_str(&format!(" AND r.topic = {}", quote(topic)));
    }
    let findings = if ctx.table_exist("latest_findings")? { "latest_findings" } else { "(SELECT * FROM findings WHERE false)" };
    let hits = format!(
        "SELECT substr(target_code, 1, 9) || '000' AS town_code, topic, 1 AS problem, 0 AS finding, coalesce(funds_involved, 0) AS involved, coalesce(funds_recovered, 0) AS recovered, \
                {DONE} AS done, \
                CASE WHEN (deadline < DATE '{as_of}' AND status IN ('未整改', '整改中')) OR rectified_date > deadline THEN 1 ELSE 0 END AS overdue \
         FROM problems p WHERE {problem_filter} \
         UNION ALL \
         SELECT f.town_code, r.topic, 0, 1, coalesce(f.amount, 0), 0, 0, 0 FROM {findings} f JOIN rule_catalogue r ON r.rule_id = f.rule_id WHERE f.town_code IS NOT NULL AND {rule_filter}"
    );
    let towns_total: usize = TextTable::query(ctx, "SELECT count(DISTINCT town_code) FROM villages").await?.scalar().parse().unwrap_or(0);
    let threshold = (config.common_min_towns as usize).max((config.common_town_share * towns_total as f64).ceil() as usize);
    let per_topic = TextTable::query(
        ctx,
        &format!(
            "SELECT h.topic, count(DISTINCT h.town_code) AS towns, sum(h.problem) AS problems, sum(h.finding) AS findings, \
                    CAST(sum(h.involved) AS DOUBLE) AS involved, CAST(sum(h.recovered) AS DOUBLE) AS recovered, \
                    CASE WHEN sum(h.problem) > 0 THEN round(100.0 * sum(h.done) / sum(h.problem), 1) END AS rate, sum(h.overdue) AS overdue, \
                    array_to_string(array_sort(array_agg(DISTINCT coalesce(v.town_name, h.town_code))), '、') AS town_names \
             FROM ({hits}) h LEFT JOIN (SELECT DISTINCT town_code, town_name FROM villages) v ON v.town_code = h.town_code \
             GROUP BY h.topic ORDER BY towns DESC, problems + findings DESC, h.topic"
        ),
    )
    .await?;
    let mut topics = Vec::new();
    for row in &per_topic.rows {
        let number = |i: usize| row[i].parse::<f64>().unwrap_or(0.0);
        let topic = row[0].clone();
        let towns: Vec<String> = row[8].split('、').filter(|s| !s.is_empty()).map(String::from).collect();
        topics.push(TopicSummary {
            common: towns.len() >= threshold,
            cases: cases(ctx, &topic, &problem_filter, findings, &rule_filter).await?,
            rules: TextTable::query(
                ctx,
                &format!("SELECT DISTINCT r.title FROM {findings} f JOIN rule_catalogue r ON r.rule_id = f.rule_id WHERE r.topic = {} AND {rule_filter} ORDER BY 1", quote(&topic)),
            )
            .await?
            .rows
            .into_iter()
            .map(|r| r[0].clone())
            .collect(),
            problems: number(2) as u64,
            findings: number(3) as u64,
            money_involved: number(4),
            money_recovered: number(5),
            rectification_rate: row[6].parse().ok(),
            overdue: number(7) as u64,
            towns,
            topic,
        });
    }
    topics.sort_by_key(|t| !t.common);
    let heat = TextTable::query(
        ctx,
        &format!(
            "SELECT coalesce(v.town_name, h.town_code) AS 乡镇, h.topic AS 问题类别, sum(h.problem + h.finding) AS 数量 FROM ({hits}) h \
             LEFT JOIN (SELECT DISTINCT town_code, town_name FROM villages) v ON v.town_code = h.town_code GROUP BY 1, 2 ORDER BY 1, 2"
        ),
    )
    .await?;
    let common_list: Vec<String> = topics.iter().filter(|t| t.common).map(|t| quote(&t.topic)).collect();
    let trend = TextTable::query(
        ctx,
        &format!(
            "SELECT i.term || '第' || CAST(i.round_no AS VARCHAR) || '轮' AS 轮次, p.topic AS 问题类别, count(*) AS 问题数 \
             FROM problems p JOIN (SELECT DISTINCT round_id, term, round_no FROM inspections) i ON i.round_id = p.round_id \
             WHERE {problem_filter} AND p.topic IN ({}) GROUP BY i.term, i.round_no, p.topic ORDER BY i.term, i.round_no, p.topic",
            if common_list.is_empty() { "NULL".to_string() } else { common_list.join(", ") }
        ),
    )
    .await?;
    let common: Vec<&TopicSummary> = topics.iter().filter(|t| t.common).collect();
    let headline = vec![
        ("乡镇(街道)".to_string(), towns_total.to_string()),
        ("共性问题类别".to_string(), common.len().to_string()),
        ("涉及问题".to_string(), common.iter().map(|t| t.problems).sum::<u64>().to_string()),
        ("比对发现".to_string(), common.iter().map(|t| t.findings).sum::<u64>().to_string()),
        ("涉及金额".to_string(), wan(common.iter().map(|t| t.money_involved).sum())),
        ("挽回(追回)金额".to_string(), wan(common.iter().map(|t| t.money_recovered).sum())),
        ("逾期未整改".to_string(), common.iter().map(|t| t.overdue).sum::<u64>().to_string()),
    ];
    let scope = match (&options.sector, &options.topic) {
        (Some(s), _) => format!("{s}领域"),
        (None, Some(t)) => format!("「{t}」类"),
        (None, None) => "全部领域".to_string(),
    };
    Ok(CommonIssueReport { scope, as_of, towns_total, threshold, headline, topics, heat, trend })
}

/// Two or three typical cases of a topic: the largest problems, then the largest findings; masked.
async fn cases(ctx: &SessionContext, topic: &str, problem_filter: &str, findings: &str, rule_filter: &str) -> Result<Vec<String>, DashboardError> {
    let t = quote(topic);
    let problems = TextTable::query(
        ctx,
        &format!(
            "SELECT coalesce(v.town_name || v.village_name, p.target_code), p.description, CAST(coalesce(p.funds_involved, 0) AS DOUBLE), p.status \
             FROM problems p LEFT JOIN villages v ON v.village_code = p.target_code WHERE p.topic = {t} AND {problem_filter} \
             ORDER BY p.funds_involved DESC NULLS LAST, p.problem_id LIMIT 2"
        ),
    )
    .await?;
    let found = TextTable::query(
        ctx,
        &format!(
            "SELECT coalesce(v.town_name || v.village_name, f.village_code), r.title, f.person_name, CAST(coalesce(f.amount, 0) AS DOUBLE), f.period \
             FROM {findings} f JOIN rule_catalogue r ON r.rule_id = f.rule_id LEFT JOIN villages v ON v.village_code = f.village_code \
             WHERE r.topic = {t} AND {rule_filter} ORDER BY f.amount DESC NULLS LAST, f.entity_key LIMIT 1"
        ),
    )
    .await?;
    let mut out: Vec<String> = problems.rows.iter().map(|r| format!("{}:{}(涉及金额 {},{})", r[0], mask::cell("description", &r[1]), yuan(&r[2]), r[3])).collect();
    out.extend(found.rows.iter().map(|r| format!("{}:大数据比对发现「{}」,对象 {},所属期 {},涉及金额 {}", r[0], r[1], mask::cell("person_name", &r[2]), r[4], yuan(&r[3]))));
    Ok(out)
}

/// Yuan as 万元 with two decimals (Chinese convention for large sums).
pub fn wan(yuan: f64) -> String {
    format!("{:.2} 万元", yuan / 10_000.0)
}

fn yuan(text: &str) -> String {
    let v = text.parse::<f64>().unwrap_or(0.0);
    if v >= 10_000.0 { wan(v) } else { format!("{v:.2} 元") }
}

/// A percentage with one decimal.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}
