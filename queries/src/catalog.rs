//! What analysts see of the lake: its tables with their Chinese titles, and
//! each table's columns with the Chinese header departments use.

use crate::QueryError;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use xuncha_core::declared::Catalog;

/// Titles of the tables beside the sources.
const OTHER_TABLES: &[(&str, &str)] = &[
    ("quarantine", "隔离区(未能入库的行及原因)"),
    ("ingest_batches", "入库批次"),
    ("findings", "比对发现(所有运行)"),
    ("latest_findings", "最新一次运行的比对发现"),
    ("risk_scores", "村级风险评分(所有运行)"),
    ("latest_risk_scores", "最新一次运行的风险评分"),
    ("runs", "运行记录"),
    ("case_events", "线索处置事件(交办、核查、整改、销号…,只追加)"),
    ("case_findings", "各线索包含的比对发现"),
    ("cases", "线索当前状态(由处置事件汇总)"),
    ("rule_catalogue", "比对规则目录(含含义、严重程度、领域)"),
    ("villages", "村(社区)及所属乡镇、县"),
    ("towns", "乡镇(街道)代码与名称"),
    ("rounds", "巡察轮次(届次、第几轮、轮次名称)"),
    ("death_dates", "每人最早死亡日期"),
];

/// The sources a session knows (see `SessionOptions::sources`).
fn sources(ctx: &SessionContext) -> Arc<Catalog> {
    ctx.state().config().get_extension::<Catalog>().unwrap_or_default()
}

/// The Chinese title of a table.
fn title(sources: &Catalog, table: &str) -> &'static str {
    sources.get(table).map(|s| s.title).or_else(|| OTHER_TABLES.iter().find(|(n, _)| *n == table).map(|(_, t)| *t)).unwrap_or("")
}

/// The Chinese header of a column, where the contract (or a declaration) names one.
fn header(sources: &Catalog, table: &str, column: &str) -> &'static str {
    match (sources.get(table).and_then(|s| s.column(column)), column) {
        (Some(c), _) => c.header,
        (None, "extra") => "合同外的列(JSON)",
        (None, "batch_id") => "入库批次",
        (None, "source_file") => "来源文件",
        (None, "source_row") => "来源行号",
        _ => "",
    }
}

/// Tables and views of the session: (name, title).
pub async fn tables(ctx: &SessionContext) -> Result<Vec<(String, &'static str)>, QueryError> {
    let batches = ctx.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name").await?.collect().await?;
    let sources = sources(ctx);
    let mut out = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            let name = array_value_to_string(b.column(0), r)?;
            out.push((name.clone(), title(&sources, &name)));
        }
    }
    Ok(out)
}

/// Columns of a table: (name, type, Chinese header).
pub async fn columns(ctx: &SessionContext, table: &str) -> Result<Vec<(String, String, &'static str)>, QueryError> {
    let provider = ctx.table_provider(table).await.map_err(|_| QueryError::Usage(format!("没有表「{table}」;用 \\d 列出所有表")))?;
    let sources = sources(ctx);
    Ok(provider.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().to_string(), header(&sources, table, f.name()))).collect())
}
