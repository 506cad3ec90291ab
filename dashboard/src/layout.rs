//! The page frame (navigation by role, the user and logout), tables with
//! masking (see `mask`) and CSV links, error pages, and the one stylesheet, embedded.

use crate::error::AppError;
use crate::state::LoginSession;
use crate::users::Role;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use xuncha_queries::table::TextTable;
use crate::mask;

const CSS: &str = include_str!("app.css");

/// The navigation: every page (see `pages::PAGES`), then the console and
/// the admin pages — (path, title, lowest role).
fn nav() -> impl Iterator<Item = (String, &'static str, Role)> {
    let pages = crate::pages::PAGES.iter().map(|p| (format!("/p/{}", p.name), p.sheet().title.as_str(), p.role));
    let tools = [("/sql", "SQL 控制台", Role::Analyst), ("/admin/users", "用户", Role::Admin), ("/admin/audit", "审计日志", Role::Admin)];
    pages.chain(tools.into_iter().map(|(path, title, role)| (path.to_string(), title, role)))
}

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
                        @for (path, name, role) in nav() {
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

/// A request the extractors refused (too large, a form that does not parse)
/// answers in plain English text; it becomes a Chinese error page with the
/// same status.
pub(crate) async fn rejection_in_chinese(response: Response) -> Response {
    let plain = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    if !plain {
        return response;
    }
    let message = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => "提交的内容超过上限(表单 64 KiB,SQL 控制台 256 KiB),未处理。",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "表单内容不完整或格式不对,请刷新页面后重试。",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "请求类型不对:请从页面上的表单提交。",
        StatusCode::METHOD_NOT_ALLOWED => "不支持这种请求方式。",
        _ => return response,
    };
    AppError::new(response.status(), "请求无法处理", message).into_response()
}

/// What a panic becomes: a 500 page, never a dropped connection.
pub(crate) fn panic_page(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误", "页面生成时出错,已记录;请稍后重试或联系管理员。").into_response()
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
