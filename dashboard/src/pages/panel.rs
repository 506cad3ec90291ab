//! One panel on screen: its chart, key figures or table, always masked
//! (analysts reveal one finding at a time on its evidence page), with its
//! CSV link; rows link to a finding or a village where the sheet says so.

use crate::auth::urlencode;
use crate::charts;
use crate::layout;
use maud::{Markup, html};
use xuncha_core::keys::KeyRing;
use xuncha_queries::panels::{Links, Panel, View};
use xuncha_queries::table::TextTable;

/// The columns that identify a finding: they make the link, and are not shown.
const FINDING_COLUMNS: [&str; 3] = ["run_id", "rule_id", "entity_key"];

/// The hidden column of a `links: cases` panel: the queue's filters for the row.
const DRILL_COLUMN: &str = "筛选";

/// A drill-down's query string with each value percent-encoded.
fn drill_query(raw: &str) -> String {
    raw.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

/// A panel with its rows.
pub(super) fn render(p: &Panel, table: &TextTable, export: &str, keys: &KeyRing) -> Markup {
    let number = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    let chart = match &p.view {
        View::Bars { label, value, unit } => {
            Some(charts::bars(&table.column(label).into_iter().map(String::from).collect::<Vec<_>>(), &table.column(value).into_iter().map(number).collect::<Vec<_>>(), unit))
        }
        View::Lines { x, values } => Some(charts::lines(
            &table.column(x).into_iter().map(String::from).collect::<Vec<_>>(),
            &values.iter().map(|v| (v.clone(), table.column(v).into_iter().map(number).collect())).collect::<Vec<_>>(),
        )),
        View::Heat { row, column, value } => Some(charts::Grid::from_table(table, row, column, value, None).heat_map()),
        View::Tiles | View::Table | View::Cards => None,
    };
    let (shown, links): (TextTable, Vec<Option<String>>) = match p.links {
        Links::Findings => {
            let visible: Vec<usize> = (0..table.columns.len()).filter(|&i| !FINDING_COLUMNS.contains(&table.columns[i].as_str())).collect();
            let (run, rule, key) = (table.column("run_id"), table.column("rule_id"), table.column("entity_key"));
            let links = (0..table.rows.len()).map(|i| Some(format!("/finding/{}/{}/{}", urlencode(run[i]), urlencode(rule[i]), crate::finding::link_key(keys, key[i])))).collect();
            let pick = |row: &Vec<String>| visible.iter().map(|&i| row[i].clone()).collect();
            (TextTable { columns: visible.iter().map(|&i| table.columns[i].clone()).collect(), rows: table.rows.iter().map(pick).collect() }, links)
        }
        Links::Village => (table.clone(), table.rows.iter().map(|row| row.first().map(|code| format!("/p/village?village={code}"))).collect()),
        Links::Case => (table.clone(), table.rows.iter().map(|row| row.first().map(|id| format!("/case/{}", urlencode(id)))).collect()),
        Links::Cases => {
            let drill = table.index(DRILL_COLUMN);
            let visible: Vec<usize> = (0..table.columns.len()).filter(|&i| Some(i) != drill).collect();
            let links = table.rows.iter().map(|row| drill.map(|i| format!("/cases?{}", drill_query(&row[i])))).collect();
            let pick = |row: &Vec<String>| visible.iter().map(|&i| row[i].clone()).collect();
            (TextTable { columns: visible.iter().map(|&i| table.columns[i].clone()).collect(), rows: table.rows.iter().map(pick).collect() }, links)
        }
        Links::None => (table.clone(), Vec::new()),
    };
    let by_row = |row: &[String]| -> Option<String> { shown.rows.iter().position(|r| r.as_slice() == row).and_then(|i| links.get(i).cloned().flatten()) };
    let link: layout::RowLink<'_> = if links.is_empty() { None } else { Some(&by_row) };
    html! {
        section id=(p.id) {
            h2 { (p.title) }
            @match &p.view {
                View::Tiles => {
                    @let row = table.rows.first().cloned().unwrap_or_default();
                    (layout::tiles(&table.columns.iter().zip(row.iter()).map(|(c, v)| (label_of(c), figure(c, v))).collect::<Vec<_>>()))
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                View::Cards => {
                    div.cards {
                        @for (i, row) in shown.rows.iter().enumerate() {
                            @let late = shown.index("逾期").and_then(|k| row[k].parse::<i64>().ok()).unwrap_or(0) > 0;
                            a.card.red[late].yellow[!late] href=[links.get(i).cloned().flatten()] {
                                div.title { (row.first().cloned().unwrap_or_default()) }
                                @for (c, v) in shown.columns.iter().zip(row).skip(1) { div { span.label { (c) } " " span.value { (v) } } }
                            }
                        }
                        @if shown.rows.is_empty() { p.empty { "暂无逾期或临期线索。" } }
                    }
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                View::Heat { .. } => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                _ => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    (layout::table(&shown, &[("person_name", "姓名"), ("id_number", "身份证号")], true, Some(export), link))
                }
            }
        }
    }
}

/// A key figure's label without its unit suffix.
fn label_of(column: &str) -> String {
    column.trim_end_matches("元").trim_end_matches("百分比").to_string()
}

/// A key figure: money in 万元, rates with %, counts as they are.
fn figure(column: &str, value: &str) -> String {
    if value.is_empty() {
        return "—".into();
    }
    if column.ends_with("金额元") {
        return value.parse::<rust_decimal::Decimal>().map_or(value.to_string(), crate::report::wan);
    }
    if column.ends_with("百分比") {
        return format!("{value}%");
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_figures_carry_their_units() {
        assert_eq!((label_of("涉及金额元"), figure("涉及金额元", "123456")), ("涉及金额".to_string(), "12.35 万元".to_string()));
        assert_eq!((label_of("整改率百分比"), figure("整改率百分比", "87.5")), ("整改率".to_string(), "87.5%".to_string()));
        assert_eq!(figure("发现问题", ""), "—");
    }
}
