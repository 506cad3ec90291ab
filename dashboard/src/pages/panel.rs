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

/// The hidden column of a `links: cases` or `links: page NAME` panel: the
/// filters of the rows behind the row, as a query string.
const DRILL_COLUMN: &str = "筛选";

/// The hidden column of a `links: case` panel: the case the row is.
const CASE_COLUMN: &str = "case_id";

/// The suffix of a key figure's column holding its value a month before.
const LAST_MONTH: &str = "上月";

/// A drill-down's query string with each value percent-encoded.
fn drill_query(raw: &str) -> String {
    raw.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

/// One row of a table, its cells by column name.
struct Cells<'a> {
    table: &'a TextTable,
    row: &'a [String],
}

impl<'a> Cells<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.table.index(name).and_then(|i| self.row.get(i)).map_or("", String::as_str)
    }
}

/// The table without `hidden` columns, and each row's link made from the
/// full row.
fn split_links(table: &TextTable, hidden: &[&str], link: impl Fn(&Cells<'_>) -> Option<String>) -> (TextTable, Vec<Option<String>>) {
    let visible: Vec<usize> = (0..table.columns.len()).filter(|&i| !hidden.contains(&table.columns[i].as_str())).collect();
    let links = table.rows.iter().map(|row| link(&Cells { table, row })).collect();
    let pick = |row: &Vec<String>| visible.iter().map(|&i| row[i].clone()).collect();
    (TextTable { columns: visible.iter().map(|&i| table.columns[i].clone()).collect(), rows: table.rows.iter().map(pick).collect() }, links)
}

/// The rows as shown (hidden columns dropped) and where each leads.
fn rows_and_links(p: &Panel, table: &TextTable, keys: &KeyRing) -> (TextTable, Vec<Option<String>>) {
    match &p.links {
        Links::Findings => split_links(table, &FINDING_COLUMNS, |cells| {
            Some(format!("/finding/{}/{}/{}", urlencode(cells.get("run_id")), urlencode(cells.get("rule_id")), crate::finding::link_key(keys, cells.get("entity_key"))))
        }),
        Links::Village => (table.clone(), table.rows.iter().map(|row| row.first().map(|code| format!("/p/village?village={}", urlencode(code)))).collect()),
        Links::Case => split_links(table, &[CASE_COLUMN], |cells| Some(format!("/case/{}", urlencode(cells.get(CASE_COLUMN))))),
        Links::Cases => split_links(table, &[DRILL_COLUMN], |cells| Some(format!("/cases?{}", drill_query(cells.get(DRILL_COLUMN))))),
        Links::Page(page) => split_links(table, &[DRILL_COLUMN], |cells| Some(format!("/p/{page}?{}", drill_query(cells.get(DRILL_COLUMN))))),
        Links::None => (table.clone(), Vec::new()),
    }
}

/// A panel with its rows.
pub(super) fn render(p: &Panel, table: &TextTable, export: &str, keys: &KeyRing) -> Markup {
    let number = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    let texts = |column: &str| table.column(column).into_iter().map(String::from).collect::<Vec<_>>();
    let (shown, links) = rows_and_links(p, table, keys);
    let (chart, reading) = match &p.view {
        View::Bars { label, value, unit } => {
            let (labels, values) = (texts(label), table.column(value).into_iter().map(number).collect::<Vec<_>>());
            (Some(charts::bars(&labels, &values, unit, &links)), charts::reading_bars(&labels, &values, unit))
        }
        View::Lines { x, values } => {
            let (xs, series) = (texts(x), values.iter().map(|v| (v.clone(), table.column(v).into_iter().map(number).collect())).collect::<Vec<_>>());
            (Some(charts::lines(&xs, &series)), charts::reading_lines(&xs, &series))
        }
        View::Heat { row, column, value } => {
            let cell_links: Vec<((String, String), String)> =
                table.column(row).into_iter().zip(table.column(column)).zip(&links).filter_map(|((r, c), l)| Some(((r.to_string(), c.to_string()), l.clone()?))).collect();
            let link = |r: &str, c: &str| cell_links.iter().find(|((a, b), _)| a == r && b == c).map(|(_, l)| l.clone());
            (Some(charts::Grid::from_table(table, row, column, value, None).heat_map(&link)), None)
        }
        View::Funnel { stage, count } => {
            let steps: Vec<charts::Step> = texts(stage)
                .into_iter()
                .zip(table.column(count))
                .zip(links.iter().cloned().chain(std::iter::repeat(None)))
                .map(|((name, c), link)| charts::Step { name, count: number(c), link })
                .collect();
            let reading = steps
                .windows(2)
                .map(|w| (&w[0], &w[1]))
                .filter(|(a, _)| a.count > 0.0)
                .min_by(|(a, b), (c, d)| (b.count / a.count).total_cmp(&(d.count / c.count)))
                .map(|(a, b)| format!("转化最低的一步:{}→{}({:.0}%)。", a.name, b.name, 100.0 * b.count / a.count));
            (Some(charts::funnel(&steps)), reading)
        }
        View::Map { town, place, tier } => {
            let places: Vec<charts::Place> = texts(town)
                .into_iter()
                .zip(texts(place))
                .zip(texts(tier))
                .zip(links.iter().cloned().chain(std::iter::repeat(None)))
                .map(|(((town, name), tier), link)| charts::Place { town, name, tier, link })
                .collect();
            let high = places.iter().filter(|p| p.tier.starts_with('高')).count();
            let reading = (!places.is_empty()).then(|| format!("{} 个村(社区)中高风险 {high} 个;点击方块查看村情档案。", places.len()));
            (Some(charts::tile_map(&places, &|_| None)), reading)
        }
        View::Tiles | View::Table | View::Cards => (None, None),
    };
    let by_row = |row: &[String]| -> Option<String> { shown.rows.iter().position(|r| r.as_slice() == row).and_then(|i| links.get(i).cloned().flatten()) };
    let link: layout::RowLink<'_> = if links.is_empty() { None } else { Some(&by_row) };
    html! {
        section.panel id=(p.id) class=(format!("view-{}", view_name(&p.view))) {
            h2 { (p.title) }
            @match &p.view {
                View::Tiles => {
                    @let row = table.rows.first().cloned().unwrap_or_default();
                    @let value_of = |name: &str| table.index(name).and_then(|i| row.get(i)).cloned();
                    (layout::tiles(&table.columns.iter().zip(row.iter()).filter(|(c, _)| !c.ends_with(LAST_MONTH)).map(|(c, v)| (label_of(c), figure(c, v), change(c, v, value_of(&format!("{c}{LAST_MONTH}")).as_deref()))).collect::<Vec<_>>()))
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                View::Cards => {
                    div.cards {
                        @for (i, row) in shown.rows.iter().enumerate() {
                            @let count = |name: &str| shown.index(name).and_then(|k| row[k].parse::<i64>().ok()).unwrap_or(0);
                            @let colour = if count("逾期") > 0 { "red" } else if count("临期") > 0 { "yellow" } else { "green" };
                            a class=(format!("card {colour}")) href=[links.get(i).cloned().flatten()] {
                                div.title { (row.first().cloned().unwrap_or_default()) }
                                @for (c, v) in shown.columns.iter().zip(row).skip(1) { div { span.label { (layout::header_words(c)) } " " span.value { (layout::readable(c, v)) } } }
                            }
                        }
                        @if shown.rows.is_empty() { p.empty { "暂无已交办的线索。" } }
                    }
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                View::Heat { .. } | View::Funnel { .. } | View::Map { .. } => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    @if let Some(r) = &reading { p.reading { (r) } }
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                _ => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    @if let Some(r) = &reading { p.reading { (r) } }
                    @if chart_and_table(&p.view) {
                        details.rows { summary { "查看数据表" } (layout::table(&shown, &[("person_name", "对象(个人或单位)"), ("id_number", "身份证号")], true, Some(export), link)) }
                    } @else {
                        (layout::table(&shown, &[("person_name", "对象(个人或单位)"), ("id_number", "身份证号")], true, Some(export), link))
                    }
                }
            }
        }
    }
}

/// A view's name, for the page's layout (`view-bars` …).
fn view_name(view: &View) -> &'static str {
    match view {
        View::Tiles => "tiles",
        View::Table => "table",
        View::Cards => "cards",
        View::Bars { .. } => "bars",
        View::Lines { .. } => "lines",
        View::Heat { .. } => "heat",
        View::Funnel { .. } => "funnel",
        View::Map { .. } => "map",
    }
}

/// Whether the view is a chart whose table is folded under it.
fn chart_and_table(view: &View) -> bool {
    matches!(view, View::Bars { .. } | View::Lines { .. })
}

/// A key figure's change on the month before: `较上月 +3`.
fn change(column: &str, value: &str, before: Option<&str>) -> Option<String> {
    let (now, then) = (value.parse::<rust_decimal::Decimal>().ok()?, before?.parse::<rust_decimal::Decimal>().ok()?);
    let delta = now - then;
    let shown = if column.ends_with("金额元") {
        crate::report::wan(delta.abs())
    } else if column.ends_with("百分比") {
        format!("{} 个百分点", delta.abs().normalize())
    } else {
        delta.abs().normalize().to_string()
    };
    Some(match delta.cmp(&rust_decimal::Decimal::ZERO) {
        std::cmp::Ordering::Greater => format!("较上月 +{shown}"),
        std::cmp::Ordering::Less => format!("较上月 −{shown}"),
        std::cmp::Ordering::Equal => "与上月持平".into(),
    })
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
        assert_eq!(change("逾期", "5", Some("3")).unwrap(), "较上月 +2");
        assert_eq!(change("追缴金额元", "10000", Some("30000")).unwrap(), "较上月 −2.00 万元");
        assert_eq!(change("整改率百分比", "50.0", Some("50")).unwrap(), "与上月持平");
        assert_eq!(change("逾期", "5", None), None);
    }
}
