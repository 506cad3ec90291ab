//! The filters a page takes from its query string: checked (a bad value is
//! named in a 400 page), held to the user's scope (a town or village outside
//! it is a 404), and handed to the panels' SQL as placeholders.

use crate::auth::urlencode;
use crate::error::AppError;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use maud::{Markup, html};
use serde::Deserialize;
use xuncha_queries::panels::{self, PanelSheet};
use xuncha_queries::report::{q, rows};

/// The filters as sent (every one optional, blank = unset).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawFilters {
    town: Option<String>,
    term: Option<String>,
    from: Option<String>,
    to: Option<String>,
    village: Option<String>,
    rule: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A 12-digit code filter, or the message naming it.
fn code(value: &Option<String>, what: &str) -> Result<Option<String>, String> {
    match given(value) {
        None => Ok(None),
        Some(v) if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(v.to_string())),
        Some(v) => Err(format!("{what}「{v}」应为 12 位区划代码")),
    }
}

fn date(value: &Option<String>, what: &str) -> Result<Option<NaiveDate>, String> {
    given(value).map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| format!("{what}「{v}」应为 YYYY-MM-DD"))).transpose()
}

impl RawFilters {
    /// The checked filters, within `scope` (the user's, if any).
    pub(crate) fn check(&self, scope: Option<&str>) -> Result<panels::Filters, AppError> {
        let bad = |m: String| AppError::bad_request("筛选条件有误", m);
        let filters = panels::Filters {
            town: code(&self.town, "乡镇").map_err(bad)?,
            village: code(&self.village, "村").map_err(bad)?,
            from: date(&self.from, "开始日期").map_err(bad)?,
            to: date(&self.to, "结束日期").map_err(bad)?,
            term: match given(&self.term) {
                Some(term) if term.chars().count() > 32 || term.chars().any(char::is_control) => return Err(bad("届次过长或含控制字符".into())),
                term => term.map(String::from),
            },
            rule: match given(&self.rule) {
                Some(rule) if rule.len() > 64 || !rule.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => return Err(bad("没有这条规则".into())),
                rule => rule.map(String::from),
            },
        };
        // A town or village outside the user's scope is refused rather than
        // run into queries that can only come back empty.
        if let Some(scope) = scope.and_then(|s| xuncha_queries::scope::scope_prefix(s).ok()) {
            for (value, what) in [(&filters.town, "乡镇"), (&filters.village, "村")] {
                if let Some(prefix) = value.as_deref().and_then(|c| xuncha_queries::scope::scope_prefix(c).ok())
                    && !prefix.starts_with(&scope)
                    && !scope.starts_with(&prefix)
                {
                    return Err(AppError::not_found("不在您的范围内", format!("{what}「{}」不在您的范围内。", value.as_deref().unwrap_or_default())));
                }
            }
        }
        Ok(filters)
    }

    /// The filters given, as a query string (for exports and the cache).
    pub(crate) fn query_string(&self) -> String {
        let pairs = [("town", &self.town), ("term", &self.term), ("from", &self.from), ("to", &self.to), ("village", &self.village), ("rule", &self.rule)];
        pairs.iter().filter_map(|(k, v)| given(v).map(|v| format!("{k}={}", urlencode(v)))).collect::<Vec<_>>().join("&")
    }
}

/// Whether a panel's SQL (its `${name}` placeholders already made `$name`)
/// uses filter `name` (`$to` is not `$town`).
fn uses_filter(sql: &str, name: &str) -> bool {
    let placeholder = format!("${name}");
    sql.match_indices(&placeholder).any(|(at, _)| !sql[at + placeholder.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The filter bar: the filters the page's panels use (town, term, date
/// range, village; the rule filter rides along hidden).
pub(crate) async fn form(sheet: &PanelSheet, raw: &RawFilters, ctx: &SessionContext) -> Markup {
    let uses = |name: &str| sheet.panels.iter().any(|p| uses_filter(&p.sql, name));
    if !["town", "term", "from", "village", "rule"].iter().any(|f| uses(f)) {
        return html! {};
    }
    let towns: Vec<q::filters::TownsRow> = rows(ctx, &[]).await.unwrap_or_default();
    let terms: Vec<q::filters::TermsRow> = rows(ctx, &[]).await.unwrap_or_default();
    let current = |v: &Option<String>| given(v).unwrap_or("").to_string();
    html! {
        form.filters method="get" action=(format!("/p/{}", sheet.page)) {
            @if uses("town") {
                label { "乡镇"
                    select name="town" {
                        option value="" { "全部" }
                        @for town in &towns { option value=(town.town_code) selected[current(&raw.town) == town.town_code] { (town.town_name) } }
                    }
                }
            }
            @if uses("term") {
                label { "届次"
                    select name="term" {
                        option value="" { "全部" }
                        @for term in &terms { option value=(term.term) selected[current(&raw.term) == term.term] { (term.term) } }
                    }
                }
            }
            @if uses("from") {
                label { "开始日期" input type="date" name="from" value=(current(&raw.from)); }
                label { "结束日期" input type="date" name="to" value=(current(&raw.to)); }
            }
            @if uses("village") { label { "村代码" input name="village" value=(current(&raw.village)) placeholder="12 位代码"; } }
            @if uses("rule") { input type="hidden" name="rule" value=(current(&raw.rule)); }
            button type="submit" { "筛选" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_is_used_by_its_whole_placeholder() {
        let sql = "SELECT 1 WHERE ($town IS NULL OR x = $town) AND ($from IS NULL)";
        assert!(uses_filter(sql, "town") && uses_filter(sql, "from"));
        assert!(!uses_filter(sql, "to"), "$to is not $town");
        assert!(!uses_filter("SELECT 1", "town"));
    }
}
