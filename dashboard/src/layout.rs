//! The page frame (navigation by role, the user and logout), tables with
//! masking and CSV links, error pages, and the one stylesheet, embedded.

use crate::state::LoginSession;
use crate::users::Role;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use xuncha_queries::table::TextTable;
use xuncha_queries::udf::{mask_id, mask_name};

const CSS: &str = include_str!("app.css");

/// Pages in the navigation: (path, title, lowest role).
pub(crate) const NAV: &[(&str, &str, Role)] = &[
    ("/p/overview", "总览", Role::Leader),
    ("/p/rectification", "问题整改", Role::Leader),
    ("/p/findings", "比对发现", Role::Leader),
    ("/p/risk", "风险画像", Role::Leader),
    ("/p/petitions", "信访", Role::Leader),
    ("/p/common", "共性问题", Role::Leader),
    ("/p/village", "村情档案", Role::Leader),
    ("/p/data", "数据", Role::Leader),
    ("/sql", "SQL 控制台", Role::Analyst),
    ("/admin/users", "用户", Role::Admin),
    ("/admin/audit", "审计日志", Role::Admin),
];

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
                        @for (path, name, role) in NAV {
                            @if user.role >= *role {
                                a href=(path) class=[(*path == active).then_some("active")] { (name) }
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

/// An error page with a status.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    (status, bare(title, html! { h1 { (title) } p.error { (message) } p { a href="/" { "返回首页" } } })).into_response()
}

/// What a panic becomes: a 500 page, never a dropped connection.
pub(crate) fn panic_page(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误", "页面生成时出错,已记录;请稍后重试或联系管理员。")
}

/// Columns that hold a person's name.
const NAME_COLUMNS: &[&str] = &["name", "person_name", "owner_name", "legal_rep_name", "accused_name", "holder_name", "姓名"];

/// Whether a value looks like a citizen ID number (15 or 18 characters).
pub(crate) fn looks_like_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    (bytes.len() == 18 && bytes[..17].iter().all(u8::is_ascii_digit) && (bytes[17].is_ascii_digit() || bytes[17] == b'X'))
        || (bytes.len() == 15 && bytes.iter().all(u8::is_ascii_digit))
}

/// Masks a cell by its column: ID numbers anywhere, names in name columns.
pub(crate) fn mask_cell(column: &str, value: &str) -> String {
    if looks_like_id(value) {
        mask_id(value)
    } else if value.contains('|') && value.split('|').any(looks_like_id) {
        value.split('|').map(|part| if looks_like_id(part) { mask_id(part) } else { part.to_string() }).collect::<Vec<_>>().join("|")
    } else if NAME_COLUMNS.contains(&column) && !value.is_empty() {
        mask_name(value)
    } else if value.starts_with('{') || value.starts_with('[') {
        serde_json::from_str::<serde_json::Value>(value).map_or_else(|_| value.to_string(), |v| mask_json(None, v).to_string())
    } else {
        value.to_string()
    }
}

/// Masks ID numbers and personal names inside evidence JSON.
pub(crate) fn mask_json(key: Option<&str>, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if looks_like_id(&s) => Value::String(mask_id(&s)),
        Value::String(s) if key.is_some_and(|k| NAME_COLUMNS.contains(&k) || k.ends_with("person_name") || k == "counterparty_name" && looks_like_person(&s)) => Value::String(mask_name(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| mask_json(key, v)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| { let masked = mask_json(Some(&k), v); (k, masked) }).collect()),
        other => other,
    }
}

/// A counterparty that is a person (a short name, not a company).
fn looks_like_person(name: &str) -> bool {
    name.chars().count() <= 4 && !["公司", "合作社", "厂", "店", "部", "社", "中心"].iter().any(|w| name.contains(w))
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
                                @let shown = if masked { mask_cell(&t.columns[i], cell) } else { cell.clone() };
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

/// CSV of a table, masked as on screen (UTF-8 with BOM, for Excel; CRLF).
pub(crate) fn masked_csv(t: &TextTable) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(&t.columns)?;
    for row in &t.rows {
        out.write_record(row.iter().enumerate().map(|(i, v)| mask_cell(&t.columns[i], v)))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_masked_in_cells_and_evidence() {
        assert_eq!(mask_cell("id_number", "43022319800101123X"), "430223********123X");
        assert_eq!(mask_cell("anything", "430223198001011234"), "430223********1234");
        assert_eq!(mask_cell("person_name", "欧阳明"), "欧阳*");
        assert_eq!(mask_cell("entity_key", "43022319800101123X|低保|2026-05"), "430223********123X|低保|2026-05");
        assert_eq!(mask_cell("village_name", "长坪村"), "长坪村");
        let evidence = r#"{"name":"张三","members":[{"id_number":"43022319800101123X","person_name":"李四"}],"counterparty_name":"王五","amount":"300.00"}"#;
        let masked = mask_cell("evidence", evidence);
        assert!(!masked.contains("张三") && !masked.contains("李四") && !masked.contains("王五") && !masked.contains("19800101"), "{masked}");
        assert!(masked.contains("300.00"));
        assert_eq!(mask_json(Some("counterparty_name"), serde_json::json!("株洲市某建筑有限公司")), serde_json::json!("株洲市某建筑有限公司"));
    }
}
