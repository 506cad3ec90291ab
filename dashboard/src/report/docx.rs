//! The report as a Word document (docx-rs), laid out the way a 巡察办 hands
//! a 专题报告 to leaders: a centred title, numbered sections, ranked tables,
//! typical cases, and the town × topic distribution as a shaded table (a
//! heat map Word renders natively, with no image fonts to embed).

use super::text::{APPENDIX, RANKING, appendix_row, case, chinese_number, headline, ranking_row, topic_figures};
use crate::DashboardError;
use crate::charts::Grid;
use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts, Shading, Style, StyleType, Table, TableCell, TableRow};
use xuncha_queries::report::CommonIssueReport;

const BODY_FONT: &str = "仿宋_GB2312";
const HEADING_FONT: &str = "黑体";

/// A body paragraph.
pub(crate) fn text(s: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(s).fonts(RunFonts::new().east_asia(BODY_FONT)).size(28))
}

/// A heading of level 1 (黑体) or 2 (楷体).
pub(crate) fn heading(s: &str, level: usize) -> Paragraph {
    Paragraph::new().style(&format!("Heading{level}")).add_run(Run::new().add_text(s))
}

pub(crate) fn cell(s: &str) -> TableCell {
    TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text(s).size(21)))
}

pub(crate) fn header_row(names: &[&str]) -> TableRow {
    TableRow::new(names.iter().map(|n| TableCell::new().shading(Shading::new().fill("E8E8E8")).add_paragraph(Paragraph::new().add_run(Run::new().add_text(*n).bold().size(21)))).collect())
}

/// A document in the office's style (headings 黑体 and 楷体, body 仿宋),
/// opening with its centred title (方正小标宋).
pub(crate) fn document(title: &str) -> Docx {
    Docx::new()
        .add_style(Style::new("Heading1", StyleType::Paragraph).name("Heading 1").size(32).bold().fonts(RunFonts::new().east_asia(HEADING_FONT)))
        .add_style(Style::new("Heading2", StyleType::Paragraph).name("Heading 2").size(30).bold().fonts(RunFonts::new().east_asia("楷体_GB2312")))
        .add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(Run::new().add_text(title).size(44).bold().fonts(RunFonts::new().east_asia("方正小标宋简体"))))
}

/// A table of query rows: a shaded header, then the rows.
pub(crate) fn table(t: &xuncha_queries::table::TextTable) -> Table {
    let mut rows = vec![header_row(&t.columns.iter().map(String::as_str).collect::<Vec<_>>())];
    rows.extend(t.rows.iter().map(|r| TableRow::new(r.iter().map(|v| cell(v)).collect())));
    Table::new(rows)
}

/// The document's bytes.
pub(crate) fn pack(doc: Docx) -> Result<Vec<u8>, DashboardError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut bytes).map_err(|e| DashboardError::Usage(format!("无法生成 Word 文档: {e}")))?;
    Ok(bytes.into_inner())
}

/// The report's bytes.
pub(super) fn docx(report: &CommonIssueReport, title: &str, summary: &str) -> Result<Vec<u8>, DashboardError> {
    let mut doc = document(title)
        .add_paragraph(text(&format!("报告范围:{};统计截至 {};共性问题标准:在不少于 {} 个乡镇(街道)出现(共 {} 个)。", report.scope, report.as_of, report.threshold, report.towns_total)))
        .add_paragraph(heading("一、总体情况", 1))
        .add_paragraph(text(summary))
        .add_table(Table::new(vec![header_row(&headline(report).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()), TableRow::new(headline(report).iter().map(|(_, v)| cell(v)).collect())]))
        .add_paragraph(heading("二、共性问题排序", 1));
    let mut ranking = vec![header_row(&RANKING)];
    for (i, t) in report.common().enumerate() {
        ranking.push(TableRow::new(ranking_row(i, t).iter().map(|v| cell(v)).collect()));
    }
    doc = doc.add_table(Table::new(ranking));
    for (i, t) in report.common().enumerate() {
        doc = doc
            .add_paragraph(heading(&format!("({}){}", chinese_number(i + 1), t.topic), 2))
            .add_paragraph(text(&format!("涉及乡镇(街道):{}。", t.towns.join("、"))))
            .add_paragraph(text(&topic_figures(t)));
        if !t.cases.is_empty() {
            doc = doc.add_paragraph(text("典型案例:"));
            for (k, c) in t.cases.iter().enumerate() {
                doc = doc.add_paragraph(text(&format!("{}. {}", k + 1, case(c))));
            }
        }
        if !t.rules.is_empty() {
            doc = doc.add_paragraph(text(&format!("相关比对规则:{}。", t.rules.join("、"))));
        }
    }
    doc = doc.add_paragraph(heading("三、分布与趋势", 1)).add_paragraph(text("各乡镇(街道)共性问题分布(问题数与比对发现数之和,颜色越深越多):"));
    doc = doc.add_table(heat_table(report));
    doc = doc.add_paragraph(heading("四、数据附表", 1));
    let mut appendix = vec![header_row(&APPENDIX)];
    for t in &report.topics {
        appendix.push(TableRow::new(appendix_row(t).iter().map(|v| cell(v)).collect()));
    }
    pack(doc.add_table(Table::new(appendix)))
}

/// Towns × common topics, each cell shaded by its count.
fn heat_table(report: &CommonIssueReport) -> Table {
    let grid = Grid::from_table(&report.heat, "乡镇", "问题类别", "数量", Some(report.common().map(|t| t.topic.clone()).collect()));
    let max = grid.max();
    let mut rows = vec![header_row(&std::iter::once("乡镇").chain(grid.columns.iter().map(String::as_str)).collect::<Vec<_>>())];
    for (i, town) in grid.rows.iter().enumerate() {
        let mut cells = vec![cell(town)];
        for j in 0..grid.columns.len() {
            let v = grid.value(i, j);
            let level = (255.0 - 175.0 * v / max) as u8;
            cells.push(cell(&if v > 0.0 { format!("{v}") } else { String::new() }).shading(Shading::new().fill(format!("{level:02X}{:02X}FF", level / 2 + 120))));
        }
        rows.push(TableRow::new(cells));
    }
    Table::new(rows)
}
