//! The report as a file: HTML (one self-contained file, charts inline as
//! SVG), Markdown (charts as SVG files beside it) or Word (`docx`).

use super::text::{APPENDIX, RANKING, appendix_row, case, chinese_number, headline, ranking_row, topic_figures};
use crate::DashboardError;
use crate::charts;
use maud::{DOCTYPE, PreEscaped, html};
use std::path::Path;
use xuncha_queries::report::CommonIssueReport;

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Docx,
}

impl std::str::FromStr for Format {
    type Err = DashboardError;
    fn from_str(s: &str) -> Result<Format, DashboardError> {
        match s {
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "docx" => Ok(Format::Docx),
            other => Err(DashboardError::Usage(format!("未知报告格式「{other}」,应为 html、md 或 docx"))),
        }
    }
}

/// Towns × the common topics (or, when none is common, the eight most
/// widespread) from the report's heat table.
fn heat_grid(report: &CommonIssueReport) -> charts::Grid {
    let mut topics: Vec<String> = report.common().map(|t| t.topic.clone()).collect();
    if topics.is_empty() {
        topics = report.topics.iter().take(8).map(|t| t.topic.clone()).collect();
    }
    charts::Grid::from_table(&report.heat, "乡镇", "问题类别", "数量", Some(topics))
}

/// The report's charts as SVG: (file stem, title, svg).
pub(super) fn charts(report: &CommonIssueReport) -> Vec<(&'static str, &'static str, String)> {
    let heat_svg = heat_grid(report).heat_map(&|_, _| None);
    let mut rounds: Vec<String> = report.trend.column("轮次").into_iter().map(String::from).collect();
    rounds.dedup();
    let at = |name: &str| report.trend.index(name).unwrap_or(usize::MAX);
    let (round_at, topic_at, count_at) = (at("轮次"), at("问题类别"), at("问题数"));
    let cell = |row: &[String], i: usize| row.get(i).map_or("", String::as_str).to_string();
    let series: Vec<(String, Vec<f64>)> = report
        .common()
        .take(4)
        .map(|t| {
            let values = rounds
                .iter()
                .map(|r| report.trend.rows.iter().find(|row| &cell(row, round_at) == r && cell(row, topic_at) == t.topic).map_or(0.0, |row| cell(row, count_at).parse().unwrap_or(0.0)))
                .collect();
            (t.topic.clone(), values)
        })
        .collect();
    let common: Vec<_> = report.common().filter(|t| t.rectification_rate.is_some()).collect();
    let bars = charts::bars(&common.iter().map(|t| t.topic.clone()).collect::<Vec<_>>(), &common.iter().map(|t| t.rectification_rate.unwrap_or(0.0)).collect::<Vec<_>>(), "整改率 %", &[]);
    vec![("heatmap", "乡镇 × 问题类别分布", heat_svg), ("trend", "各轮次问题数趋势", charts::lines(&rounds, &series)), ("rectification", "共性问题整改率", bars)]
}

fn title(report: &CommonIssueReport) -> String {
    format!("关于{}共性问题的专题报告", report.scope)
}

fn summary(report: &CommonIssueReport) -> String {
    let common: Vec<&str> = report.common().map(|t| t.topic.as_str()).collect();
    if common.is_empty() {
        format!("截至 {},在 {} 个乡镇(街道)范围内,尚无问题类别在 {} 个及以上乡镇出现,未形成共性问题。", report.as_of, report.towns_total, report.threshold)
    } else {
        format!(
            "截至 {},在 {} 个乡镇(街道)范围内,共有 {} 类问题在 {} 个及以上乡镇(街道)出现,构成共性问题:{}。建议由主管部门牵头开展专项治理,举一反三、建章立制。",
            report.as_of,
            report.towns_total,
            common.len(),
            report.threshold,
            common.join("、")
        )
    }
}

/// The HTML report: one file, charts inline.
pub(super) fn html(report: &CommonIssueReport) -> String {
    let charts = charts(report);
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title(report)) }
                style { (PreEscaped("body{font-family:'Noto Serif CJK SC','SimSun',serif;max-width:960px;margin:2rem auto;color:#222;line-height:1.7}h1{text-align:center;font-size:1.6rem}h2{border-left:4px solid #b03a2e;padding-left:.5rem}table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left}th{background:#f1f1f1}.headline{display:flex;flex-wrap:wrap;gap:1rem}.headline div{border:1px solid #ccc;padding:.4rem .8rem}figure{margin:.6rem 0}figcaption{text-align:center;font-size:.9rem}")) }
            }
            body {
                h1 { (title(report)) }
                p { "报告范围:" (report.scope) ";统计截至 " (report.as_of) ";共性问题标准:在不少于 " (report.threshold) " 个乡镇(街道)出现(共 " (report.towns_total) " 个)。" }
                h2 { "一、总体情况" }
                div.headline { @for (k, v) in &headline(report) { div { b { (v) } br; (k) } } }
                p { (summary(report)) }
                h2 { "二、共性问题排序" }
                table {
                    thead { tr { @for h in RANKING { th { (h) } } } }
                    tbody {
                        @for (i, t) in report.common().enumerate() {
                            tr { @for v in ranking_row(i, t) { td { (v) } } }
                        }
                    }
                }
                @for (i, t) in report.common().enumerate() {
                    h2 { "(" (chinese_number(i + 1)) ")" (t.topic) }
                    p { "涉及乡镇(街道):" (t.towns.join("、")) "。" }
                    p { (topic_figures(t)) }
                    @if !t.cases.is_empty() { p { b { "典型案例:" } } ol { @for c in &t.cases { li { (case(c)) } } } }
                    @if !t.rules.is_empty() { p { "相关比对规则:" (t.rules.join("、")) "。" } }
                }
                h2 { "三、分布与趋势" }
                @for (_, caption, svg) in &charts { figure { (PreEscaped(svg)) figcaption { (caption) } } }
                h2 { "四、数据附表" }
                (appendix_html(report))
            }
        }
    }
    .into_string()
}

fn appendix_html(report: &CommonIssueReport) -> maud::Markup {
    html! {
        table {
            thead { tr { @for h in APPENDIX { th { (h) } } } }
            tbody {
                @for t in &report.topics {
                    tr { @for v in appendix_row(t) { td { (v) } } }
                }
            }
        }
    }
}

/// The Markdown report; charts are written beside it as `<stem>-<chart>.svg`.
pub(super) fn markdown(report: &CommonIssueReport, out: &Path) -> Result<String, DashboardError> {
    let stem = out.file_stem().map_or("report".into(), |s| s.to_string_lossy().into_owned());
    let dir = out.parent().unwrap_or(Path::new("."));
    let mut md = format!(
        "# {}\n\n报告范围:{};统计截至 {};共性问题标准:在不少于 {} 个乡镇(街道)出现(共 {} 个)。\n\n## 一、总体情况\n\n",
        title(report),
        report.scope,
        report.as_of,
        report.threshold,
        report.towns_total
    );
    md.push_str("| 指标 | 数值 |\n|---|---|\n");
    for (k, v) in &headline(report) {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md.push_str(&format!("\n{}\n\n## 二、共性问题排序\n\n{}", summary(report), markdown_row(&RANKING)));
    md.push_str(&markdown_rule(RANKING.len()));
    for (i, t) in report.common().enumerate() {
        md.push_str(&markdown_row(&ranking_row(i, t)));
    }
    for (i, t) in report.common().enumerate() {
        md.push_str(&format!("\n### ({}){}\n\n涉及乡镇(街道):{}。\n\n", chinese_number(i + 1), t.topic, t.towns.join("、")));
        md.push_str(&format!("{}\n\n", topic_figures(t)));
        if !t.cases.is_empty() {
            md.push_str("典型案例:\n\n");
            for (k, c) in t.cases.iter().enumerate() {
                md.push_str(&format!("{}. {}\n", k + 1, case(c)));
            }
            md.push('\n');
        }
        if !t.rules.is_empty() {
            md.push_str(&format!("相关比对规则:{}。\n", t.rules.join("、")));
        }
    }
    md.push_str("\n## 三、分布与趋势\n\n");
    for (name, caption, svg) in charts(report) {
        let file = format!("{stem}-{name}.svg");
        std::fs::write(dir.join(&file), svg)?;
        md.push_str(&format!("![{caption}]({file})\n\n"));
    }
    md.push_str(&format!("## 四、数据附表\n\n{}{}", markdown_row(&APPENDIX), markdown_rule(APPENDIX.len())));
    for t in &report.topics {
        md.push_str(&markdown_row(&appendix_row(t)));
    }
    Ok(md)
}

/// A Markdown table row.
fn markdown_row<S: AsRef<str>>(cells: &[S]) -> String {
    format!("| {} |\n", cells.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" | "))
}

/// The rule under a Markdown table's header.
fn markdown_rule(columns: usize) -> String {
    format!("|{}\n", "---|".repeat(columns))
}

/// Writes the report to `out` in `format`.
pub fn write(report: &CommonIssueReport, format: Format, out: &Path) -> Result<(), DashboardError> {
    match format {
        Format::Html => std::fs::write(out, html(report))?,
        Format::Markdown => {
            let md = markdown(report, out)?;
            std::fs::write(out, md)?;
        }
        Format::Docx => std::fs::write(out, super::docx::docx(report, &title(report), &summary(report))?)?,
    }
    Ok(())
}

/// The report as bytes (HTML or DOCX), for downloads.
pub fn bytes(report: &CommonIssueReport, format: Format) -> Result<Vec<u8>, DashboardError> {
    match format {
        Format::Html => Ok(html(report).into_bytes()),
        Format::Docx => super::docx::docx(report, &title(report), &summary(report)),
        Format::Markdown => Err(DashboardError::Usage("Markdown 报告需要写到文件夹(图表为单独的 SVG 文件)".into())),
    }
}
