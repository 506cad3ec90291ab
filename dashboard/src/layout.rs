//! The page frame (navigation by role, the user and logout), tables with
//! masking (see `mask`) and CSV links, error pages, and the one stylesheet, embedded.

use crate::mask;
use crate::state::LoginSession;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::sync::OnceLock;
use xuncha_queries::table::TextTable;

const CSS: &str = include_str!("app.css");

/// `/assets/app.css`.
pub(crate) async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS).into_response()
}

const SCRIPT: &str = include_str!("app.js");

/// `/assets/app.js`: select-all and the picked count (pages work without it).
pub(crate) async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], SCRIPT).into_response()
}

/// `/assets/icon.svg` (and `/favicon.ico`, which browsers ask for on their own).
pub(crate) async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "max-age=86400")], ICON).into_response()
}

const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#b03a2e"/><text x="16" y="23" font-size="18" text-anchor="middle" fill="#fff" font-family="sans-serif">巡</text></svg>"##;

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · 巡察大数据比对平台" }
        link rel="stylesheet" href="/assets/app.css";
        link rel="icon" type="image/svg+xml" href="/assets/icon.svg";
        script src="/assets/app.js" defer {}
    }
}

/// A page without navigation (login, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { (head(title)) }
            body.bare { main { (body) } }
        }
    }
}

/// A page in the frame.
pub(crate) fn page(session: &LoginSession, active: &str, title: &str, body: Markup) -> Response {
    let user = &session.user;
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { (head(title)) }
            body {
                header {
                    span.brand { "巡察大数据比对平台" }
                    nav {
                        @for (path, name, role) in crate::site::nav() {
                            @if user.role >= role {
                                a href=(path) class=[(path == active).then_some("active")] { (name) }
                            }
                        }
                    }
                    span.user {
                        (user.name) " · " (user.role.label())
                        @if let Some(scope) = &user.scope { " · 范围 " (scope) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button type="submit" { "退出" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    ([(header::CACHE_CONTROL, "no-store")], markup).into_response()
}

/// The office's time zone, for every time a page shows (`[server]
/// timezone`, set once when the server starts; Asia/Shanghai until then).
static OFFICE_ZONE: OnceLock<Tz> = OnceLock::new();

/// Sets the office's time zone (checked by the session before this).
pub(crate) fn set_office_zone(zone: &str) {
    if let Ok(zone) = zone.parse() {
        let _ = OFFICE_ZONE.set(zone);
    }
}

/// A time as the office reads it: `2026年12月7日 12:57`, in its zone.
pub(crate) fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&OFFICE_ZONE.get().copied().unwrap_or(chrono_tz::Asia::Shanghai)).format("%Y年%-m月%-d日 %H:%M").to_string()
}

/// A value as a person reads it: a stored UTC time in the office's zone,
/// a date in Chinese, money (a column ending in 元) with thousands
/// separators; anything else unchanged.
pub(crate) fn readable(column: &str, value: &str) -> String {
    if value.len() >= 19 && value.get(4..5) == Some("-") && matches!(value.as_bytes().get(10), Some(b'T' | b' ')) {
        let utc = DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(value.trim_end_matches(" UTC"), "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()));
        if let Some(at) = utc {
            return local_time(at);
        }
    }
    if value.len() == 10
        && let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d")
    {
        return xuncha_queries::udf::cn_date(day);
    }
    if column.ends_with('元') && value.parse::<rust_decimal::Decimal>().is_ok() {
        return thousands(value);
    }
    value.to_string()
}

/// A number with its whole part grouped by thousands: `1,022,000.00`.
pub(crate) fn thousands(number: &str) -> String {
    let (sign, rest) = number.strip_prefix('-').map_or(("", number), |r| ("-", r));
    let (whole, fraction) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A column's header as a person reads it: the unit a name ends in put in
/// brackets (`涉及金额元` → `涉及金额(元)`, `整改率百分比` → `整改率(%)`).
pub(crate) fn header_words(column: &str) -> String {
    if let Some(name) = column.strip_suffix("百分比") {
        return format!("{name}(%)");
    }
    match column.strip_suffix("金额元") {
        Some(name) => format!("{name}金额(元)"),
        None => column.to_string(),
    }
}

/// Where a table row's first cell links to, if anywhere.
pub(crate) type RowLink<'a> = Option<&'a dyn Fn(&[String]) -> Option<String>>;

/// A result table; `masked` hides IDs and names. `export` is the CSV link.
pub(crate) fn table(t: &TextTable, headers: &[(&str, &str)], masked: bool, export: Option<&str>, link: RowLink<'_>) -> Markup {
    let header_of = |c: &str| headers.iter().find(|(k, _)| *k == c).map_or_else(|| header_words(c), |(_, v)| (*v).to_string());
    html! {
        div.tablewrap {
            @if let Some(href) = export {
                a.export href=(href) download { "导出 CSV" }
            }
            table {
                thead { tr { @for c in &t.columns { th { (header_of(c)) } } } }
                tbody {
                    @for row in &t.rows {
                        tr {
                            @for (i, cell) in row.iter().enumerate() {
                                @let shown = readable(&t.columns[i], &if masked { mask::cell(&t.columns[i], cell) } else { cell.clone() });
                                @let href = if i == 0 { link.and_then(|f| f(row)) } else { None };
                                td { @if let Some(h) = href { a href=(h) { (shown) } } @else { (shown) } }
                            }
                        }
                    }
                    @if t.rows.is_empty() { tr { td.empty colspan=(t.columns.len().max(1)) { "(无数据)" } } }
                }
            }
        }
    }
}

/// A chart's SVG, inline.
pub(crate) fn svg(svg: String) -> Markup {
    html! { figure.chart { (PreEscaped(svg)) } }
}

/// Key figures as tiles: (label, value, change on the month before).
pub(crate) fn tiles(items: &[(String, String, Option<String>)]) -> Markup {
    html! {
        div.tiles {
            @for (label, value, change) in items {
                div.tile { div.value { (value) } div.label { (label) } @if let Some(c) = change { div.change { (c) } } }
            }
        }
    }
}

/// CSV of a table, masked as on screen (UTF-8 with BOM, for Excel; CRLF;
/// cells that a spreadsheet would run as formulas neutralized).
pub(crate) fn masked_csv(t: &TextTable) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(t.columns.iter().map(|c| xuncha_queries::output::inert_cell(c).into_owned()))?;
    for row in &t.rows {
        out.write_record(row.iter().enumerate().map(|(i, v)| xuncha_queries::output::inert_cell(&mask::cell(&t.columns[i], v)).into_owned()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(readable("结束", "2026-12-07T04:57:03.123456Z"), "2026年12月7日 12:57", "UTC in the office's zone");
        assert_eq!(readable("时限", "2027-01-31"), "2027年1月31日");
        assert_eq!(readable("涉及金额元", "1022000.00"), "1,022,000.00");
        assert_eq!(readable("涉及金额元", "-950.5"), "-950.5");
        assert_eq!(readable("所属期", "2026-11"), "2026-11");
        assert_eq!(readable("村代码", "430223101201"), "430223101201", "codes are not money");
        assert_eq!((header_words("涉及金额元"), header_words("整改率百分比"), header_words("村")), ("涉及金额(元)".into(), "整改率(%)".into(), "村".into()));
    }
}
