//! The letters that go out, as Word documents in the office's style:
//! - 交办单: a unit's cases, each in the rule's words (in full: the unit
//!   must verify them), with the 核查时限 and what to send back;
//! - 督办函: a unit's overdue cases — which, due when, how late;
//! - 线索处置情况报告: the funnel, red cards, the units' scorecard, the
//!   cases the data found back, and each rule's 属实率, for the leadership
//!   meeting. Its figures are the overview's panels (`queries/panels/overview.sql`).

use crate::error::AppError;
use crate::report::docx::{document, heading, pack, table, text};
use crate::state::AppState;
use datafusion::prelude::SessionContext;
use xuncha_queries::panels::{self, Filters};
use xuncha_queries::report::q;
use xuncha_queries::sheet;
use xuncha_queries::table::TextTable;

/// Which letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Letter {
    Handover,
    Reminder,
    Report,
}

impl Letter {
    pub(crate) fn title(self) -> &'static str {
        match self {
            Letter::Handover => "问题线索交办单",
            Letter::Reminder => "督办函",
            Letter::Report => "线索处置情况报告",
        }
    }
}

/// The day the letter is dated (the configured `[cases] today`, else the calendar's).
fn today(state: &AppState) -> chrono::NaiveDate {
    state.session_options.today.unwrap_or_else(|| chrono::Local::now().date_naive())
}

fn chinese_day(d: chrono::NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// The letter's bytes (`unit`: for the 交办单 and the 督办函).
pub(crate) async fn build(state: &AppState, ctx: &SessionContext, letter: Letter, unit: Option<&str>) -> Result<Vec<u8>, AppError> {
    let query = |name| async move { xuncha_queries::report::document(ctx, name, &[("unit", sheet::text(unit))]).await };
    let unit_name = match unit {
        Some(_) => query(q::cases::UNIT_NAME).await.map_err(AppError::internal("文书生成失败"))?.scalar().to_string(),
        None => String::new(),
    };
    let dated = chinese_day(today(state));
    let doc = match letter {
        Letter::Handover => {
            let unit = unit.unwrap_or_default();
            let cases = xuncha_cases::handover(ctx, state.session_options.rules_dir.as_deref(), unit).await.map_err(AppError::internal("文书生成失败"))?;
            let mut doc = document(letter.title()).add_paragraph(text(&format!("{unit_name}({unit}):")));
            doc = doc.add_paragraph(text(&format!(
                "经大数据比对,发现下列 {} 条问题线索,现交你单位核查。请逐条核实,在核查时限前将核查结论(属实、部分属实或不属实)、核查说明、整改措施及时限、追缴或补发金额、处理人数报巡察办;可在平台上逐条答复,或填写同名交办单(XLSX)后上传。不属实的,须写明理由。",
                cases.rows.len()
            )));
            let cell = |row: &[String], name: &str| cases.index(name).map_or(String::new(), |i| row[i].clone());
            for (i, row) in cases.rows.iter().enumerate() {
                doc = doc.add_paragraph(heading(&format!("{}. {}({})", i + 1, cell(row, "问题类型"), cell(row, "线索编号")), 2)).add_paragraph(text(&format!(
                    "{}:{} 核查时限:{}。",
                    cell(row, "村社区"),
                    cell(row, "问题情况"),
                    cell(row, "核查时限")
                )));
            }
            if cases.rows.is_empty() {
                doc = doc.add_paragraph(text("目前没有待你单位核查的线索。"));
            }
            doc.add_paragraph(text(&format!("巡察办  {dated}")))
        }
        Letter::Reminder => {
            let late = query(q::cases::OVERDUE).await.map_err(AppError::internal("文书生成失败"))?;
            let doc = document(letter.title()).add_paragraph(text(&format!("{unit_name}({}):", unit.unwrap_or_default())));
            let doc = if late.rows.is_empty() {
                doc.add_paragraph(text(&format!("截至{dated},交你单位办理的线索均在时限内,无逾期。")))
            } else {
                let longest = late.column("逾期天数").iter().filter_map(|d| d.parse::<i64>().ok()).max().unwrap_or(0);
                doc.add_paragraph(text(&format!(
                    "截至{dated},交你单位核查或整改的下列 {} 条问题线索已超过办理时限(最长逾期 {longest} 天)。请于收到本函后 5 个工作日内办结,并将核查、整改结果报巡察办;逾期未办结的,将按规定通报并追究责任。",
                    late.rows.len()
                )))
                .add_table(table(&late))
            };
            doc.add_paragraph(text(&format!("巡察办  {dated}")))
        }
        Letter::Report => report(ctx, &dated).await?,
    };
    pack(doc).map_err(AppError::internal("文书生成失败"))
}

/// Panel `id` of page `page` over the whole scope, without its hidden columns.
async fn panel(ctx: &SessionContext, page: &str, id: &str) -> Result<TextTable, AppError> {
    let sheet = panels::page(page).ok_or_else(|| AppError::internal("文书生成失败")(format!("queries/panels/{page}.sql is missing")))?;
    let filters = Filters::default();
    let panel = sheet.panel(id, &filters).ok_or_else(|| AppError::internal("文书生成失败")(format!("{page}.sql has no panel {id}")))?;
    let mut t = TextTable::run(ctx, &panel.bind(&filters).map_err(AppError::internal("文书生成失败"))?).await.map_err(AppError::internal("文书生成失败"))?;
    for hidden in ["筛选", "case_id"] {
        if let Some(i) = t.index(hidden) {
            t.columns.remove(i);
            t.rows.iter_mut().for_each(|r| {
                r.remove(i);
            });
        }
    }
    Ok(t)
}

async fn report(ctx: &SessionContext, dated: &str) -> Result<docx_rs::Docx, AppError> {
    let funnel = panel(ctx, "overview", "case_funnel").await?;
    let (stage_at, count_at) = (funnel.index("阶段"), funnel.index("线索"));
    let count = |stage: &str| funnel.rows.iter().find(|r| stage_at.is_some_and(|i| r[i] == stage)).and_then(|r| count_at.map(|i| r[i].clone())).unwrap_or_else(|| "0".into());
    let money = |column: &str| funnel.index(column).and_then(|i| funnel.rows.first().map(|r| r[i].clone())).unwrap_or_default();
    let flagged = panel(ctx, "rectification", "case_flagged").await?;
    let by_rule = xuncha_queries::report::document(ctx, q::cases::BY_RULE, &[]).await.map_err(AppError::internal("文书生成失败"))?;
    Ok(document("线索处置情况报告")
        .add_paragraph(text(&format!("统计截至{dated}。")))
        .add_paragraph(heading("一、总体情况", 1))
        .add_paragraph(text(&format!(
            "大数据比对共形成问题线索 {} 条,已交办 {} 条,已核查 {} 条,其中属实(含部分属实){} 条;整改完成 {} 条,已销号 {} 条;移交纪委监委线索 {} 条,立案 {} 条。追缴资金 {} 元,补发资金 {} 元。",
            count("疑点"),
            count("交办"),
            count("已核查"),
            count("属实"),
            count("整改完成"),
            count("销号"),
            count("线索移交"),
            count("立案"),
            money("追缴金额元"),
            money("补发金额元")
        )))
        .add_table(table(&funnel))
        .add_paragraph(heading("二、逾期督办(红牌、黄牌)", 1))
        .add_table(table(&panel(ctx, "overview", "case_overdue").await?))
        .add_paragraph(heading("三、承办单位考核", 1))
        .add_table(table(&panel(ctx, "rectification", "case_scorecard_unit").await?))
        .add_paragraph(heading("四、整改不实与反弹", 1))
        .add_paragraph(text(&if flagged.rows.is_empty() {
            "数据比对未发现整改不实或反弹的线索。".to_string()
        } else {
            format!("数据比对发现 {} 条线索标记整改后问题仍在或再次出现,须重新督办:", flagged.rows.len())
        }))
        .add_table(table(&flagged))
        .add_paragraph(heading("五、各规则核查属实率", 1))
        .add_table(table(&by_rule)))
}
