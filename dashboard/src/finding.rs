//! A finding's page: what a rule found about one subject, its evidence
//! (masked; each view audited) and, for analysts, the audited reveal of the
//! full identity. The entity key (often an ID number) never appears in a
//! URL: links carry its keyed MAC ([`link_key`]).

use crate::auth::{Analyst, Authorized, CsrfToken, Leader, Posted};
use crate::error::AppError;
use crate::layout;
use crate::mask;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use xuncha_core::keys::KeyRing;
use xuncha_queries::report::q;
use xuncha_queries::sheet::text;

/// `/finding/{run}/{rule}/{link}`: one finding with its evidence (masked;
/// the view is audited). The entity key (often an ID number) never appears
/// in a URL: the link carries its keyed MAC instead.
pub(crate) async fn finding(
    State(state): State<Arc<AppState>>,
    Authorized { session, .. }: Authorized<Leader>,
    Path((run_id, rule_id, link)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let session = &session;
    state.audit.record(&session.user.name, "finding_view", &format!("{run_id}/{rule_id}/{link}")).map_err(AppError::internal("审计日志写入失败,未显示"))?;
    let markup = finding_detail(&state, session, &run_id, &rule_id, &link, false).await?;
    Ok(layout::page(session, "/p/findings", "比对发现详情", markup))
}

/// The key that stands for an entity key in links and forms: a keyed MAC
/// (the office's `ids.key`, outside the lake), so a link never leads back
/// to the ID number or account it stands for.
pub(crate) fn link_key(keys: &KeyRing, entity_key: &str) -> String {
    keys.identifier("finding", &[entity_key], LINK_KEY_LEN).unwrap_or_default()
}

const LINK_KEY_LEN: usize = 20;

/// Whether a run id has the shape `new_run_id` gives (`20261031T120000.123Z`).
fn is_run_id(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20 && b[8] == b'T' && b[15] == b'.' && b[19] == b'Z' && b.iter().enumerate().all(|(i, c)| matches!(i, 8 | 15 | 19) || c.is_ascii_digit())
}

/// A finding's page body (found by its run, rule and link key); `reveal`
/// shows IDs and names in full. Each path segment is checked against its
/// shape (and the rule against the catalogue) before any query; the values
/// are bound, never pasted into SQL.
async fn finding_detail(state: &AppState, session: &LoginSession, run_id: &str, rule_id: &str, link: &str, reveal: bool) -> Result<Markup, AppError> {
    let missing = || AppError::not_found("没有这条比对发现", "链接不完整或已失效,请从比对发现列表重新打开。");
    let rules = xuncha_queries::rules::catalogue(state.session_options.rules_dir.as_deref())?;
    if !is_run_id(run_id) || !rules.iter().any(|r| r.id == rule_id) || !xuncha_core::keys::is_identifier(link, &[LINK_KEY_LEN]) {
        return Err(missing());
    }
    let ctx = state.context(session.user.scope.as_deref()).await?;
    let which = [("run_id", text(Some(run_id))), ("rule_id", text(Some(rule_id)))];
    let keys: Vec<q::finding::KeysRow> = xuncha_queries::report::rows(&ctx, &which).await?;
    let keyring = state.lake.keys();
    let Some(entity_key) = keys.iter().map(|k| &k.entity_key).find(|k| link_key(keyring, k) == link) else {
        return Err(AppError::not_found("没有这条比对发现", "它可能不在您的范围内,或已被新的运行替换。"));
    };
    let values = [("run_id", text(Some(run_id))), ("rule_id", text(Some(rule_id))), ("entity_key", text(Some(entity_key)))];
    let found = xuncha_queries::report::document(&ctx, q::finding::FINDING, &values).await?;
    let Some(row) = found.rows.first() else {
        return Err(AppError::not_found("没有这条比对发现", "它可能不在您的范围内,或已被新的运行替换。"));
    };
    let cell = |name: &str| found.index(name).map_or(String::new(), |i| row[i].clone());
    let shown = |name: &str| if reveal { cell(name) } else { mask::cell(name, &cell(name)) };
    let evidence = serde_json::from_str::<serde_json::Value>(&cell("evidence")).unwrap_or(serde_json::Value::Null);
    let evidence = if reveal { evidence } else { mask::json(None, evidence) };
    Ok(html! {
        table {
            tbody {
                tr { th { "规则" } td { (cell("title")) "(" (cell("rule_id")) ")" } }
                tr { th { "含义" } td { (cell("description")) } }
                tr { th { "严重程度" } td { (cell("severity")) } }
                tr { th { "村(社区)" } td { a href=(format!("/p/village?village={}", cell("village_code"))) { (cell("town_name")) (cell("village_name")) } } }
                tr { th { "对象" } td { (shown("entity_key")) } }
                tr { th { "姓名" } td { (shown("person_name")) } }
                tr { th { "身份证号" } td { (shown("id_number")) } }
                tr { th { "所属期" } td { (cell("period")) } }
                tr { th { "涉及金额(元)" } td { (cell("amount")) } }
                tr { th { "参考日" } td { (cell("as_of")) } }
            }
        }
        h2 { "证据(核查时逐项比对原始数据)" }
        table.fields { tbody {
            @if let serde_json::Value::Object(fields) = &evidence {
                @for (key, value) in fields {
                    tr { th { (xuncha_queries::evidence::label(key).unwrap_or(key)) } td { (evidence_text(value)) } }
                }
            }
        } }
        details.raw { summary { "原始数据" } pre.evidence { (serde_json::to_string_pretty(&evidence).unwrap_or_default()) } }
        @if !reveal && session.user.role >= Role::Analyst {
            form method="post" action="/reveal" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="run_id" value=(run_id);
                input type="hidden" name="rule_id" value=(rule_id);
                input type="hidden" name="key" value=(link);
                button type="submit" { "显示完整身份信息(将记入审计日志)" }
            }
        }
        @if reveal { p.note { "完整信息已显示,本次查看已记入审计日志。" } }
    })
}

/// An evidence value as text: 是/否 for flags, lists joined.
fn evidence_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => if *b { "是" } else { "否" }.into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(evidence_text).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevealForm {
    csrf: String,
    run_id: String,
    rule_id: String,
    key: String,
}

impl CsrfToken for RevealForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /reveal`: one finding unmasked, for analysts; audited first.
pub(crate) async fn reveal(State(state): State<Arc<AppState>>, posted: Posted<Analyst, RevealForm>) -> Result<Response, AppError> {
    let Posted { session, form, .. } = posted;
    state.audit.record(&session.user.name, "reveal", &format!("{}/{}/{}", form.run_id, form.rule_id, form.key)).map_err(AppError::internal("审计日志写入失败,未显示"))?;
    let markup = finding_detail(&state, &session, &form.run_id, &form.rule_id, &form.key, true).await?;
    Ok(layout::page(&session, "/p/findings", "比对发现详情(完整信息)", markup))
}
