//! The page frame (navigation by role, the user and logout), tables with
//! masking (see `mask`) and CSV links, error pages, and the one stylesheet, embedded.

use crate::mask;
use crate::state::LoginSession;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use xuncha_queries::table::TextTable;

const CSS: &str = include_str!("app.css");

/// `/assets/app.css`.
pub(crate) async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], CSS).into_response()
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

/// Where a table row's first cell links to, if anywhere.
pub(crate) type RowLink<'a> = Option<&'a dyn Fn(&[String]) -> Option<String>>;

/// A result table; `masked` hides IDs and names. `export` is the CSV link.
pub(crate) fn table(t: &TextTable, headers: &[(&str, &str)], masked: bool, export: Option<&str>, link: RowLink<'_>) -> Markup {
    let header_of = |c: &str| headers.iter().find(|(k, _)| *k == c).map_or(c.to_string(), |(_, v)| (*v).to_string());
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
                                @let shown = if masked { mask::cell(&t.columns[i], cell) } else { cell.clone() };
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

/// Key figures as tiles: (label, value).
pub(crate) fn tiles(items: &[(String, String)]) -> Markup {
    html! { div.tiles { @for (label, value) in items { div.tile { div.value { (value) } div.label { (label) } } } } }
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
