//! A finding's page: what a rule found about one subject, its evidence
//! (masked; each view audited) and, for analysts, the audited reveal of the
//! full identity. The entity key (often an ID number) never appears in a
//! URL: links carry its digest.

use crate::auth::Auth;
use crate::layout::{self, error_page};
use crate::mask;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use xuncha_queries::table::{TextTable, quote};

/// `/finding/{run}/{rule}/{digest}`: one finding with its evidence (masked;
/// the view is audited). The entity key (often an ID number) never appears
/// in a URL: the link carries its digest instead.
pub(crate) async fn finding(State(state): State<Arc<AppState>>, auth: Auth, Path((run_id, rule_id, digest)): Path<(String, String, String)>) -> Response {
    let session = &auth.0;
    if let Err(e) = state.audit.record(&session.user.name, "finding_view", &format!("{run_id}/{rule_id}/{digest}")) {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志写入失败,未显示", &e.to_string());
    }
    match finding_detail(&state, session, &run_id, &rule_id, &digest, false).await {
        Ok(markup) => layout::page(session, "/p/findings", "比对发现详情", markup),
        Err(response) => response,
    }
}

/// The digest that stands for an entity key in links and forms.
pub(crate) fn key_digest(entity_key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(entity_key.as_bytes()))[..DIGEST_LEN].to_string()
}

const DIGEST_LEN: usize = 20;

/// A finding's page body (found by the digest of its entity key); `reveal`
/// shows IDs and names in full.
pub(crate) async fn finding_detail(state: &AppState, session: &LoginSession, run_id: &str, rule_id: &str, digest: &str, reveal: bool) -> Result<Markup, Response> {
    if digest.len() != DIGEST_LEN || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(error_page(StatusCode::NOT_FOUND, "没有这条比对发现", "链接不完整。"));
    }
    let ctx = state.context(session.user.scope.as_deref()).await.map_err(|e| error_page(StatusCode::INTERNAL_SERVER_ERROR, "无法读取数据湖", &e.to_string()))?;
    let sql = format!(
        "SELECT f.rule_id, r.title, f.severity, v.town_name, v.village_name, f.village_code, f.entity_key, f.person_name, f.id_number, f.period, f.amount, f.as_of, f.evidence, r.description \
         FROM findings f LEFT JOIN rule_catalogue r ON r.rule_id = f.rule_id LEFT JOIN villages v ON v.village_code = f.village_code \
         WHERE f.run_id = {} AND f.rule_id = {} AND left(encode(sha256(f.entity_key), 'hex'), {DIGEST_LEN}) = {} LIMIT 1",
        quote(run_id),
        quote(rule_id),
        quote(&digest.to_ascii_lowercase())
    );
    let found = TextTable::query(&ctx, &sql).await.map_err(|e| error_page(StatusCode::INTERNAL_SERVER_ERROR, "查询出错", &e.to_string()))?;
    let Some(row) = found.rows.first() else {
        return Err(error_page(StatusCode::NOT_FOUND, "没有这条比对发现", "它可能不在您的范围内,或已被新的运行替换。"));
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
        pre.evidence { (serde_json::to_string_pretty(&evidence).unwrap_or_default()) }
        @if !reveal && session.user.role >= Role::Analyst {
            form method="post" action="/reveal" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="run_id" value=(run_id);
                input type="hidden" name="rule_id" value=(rule_id);
                input type="hidden" name="key" value=(digest);
                button type="submit" { "显示完整身份信息(将记入审计日志)" }
            }
        }
        @if reveal { p.note { "完整信息已显示,本次查看已记入审计日志。" } }
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevealForm {
    csrf: String,
    run_id: String,
    rule_id: String,
    key: String,
}

/// `POST /reveal`: one finding unmasked, for analysts; audited first.
pub(crate) async fn reveal(State(state): State<Arc<AppState>>, auth: Auth, Form(form): Form<RevealForm>) -> Response {
    let session = match auth.require(Role::Analyst) {
        Ok(s) => s.clone(),
        Err(r) => return *r,
    };
    if let Err(r) = auth.check_csrf(&form.csrf) {
        return *r;
    }
    if let Err(e) = state.audit.record(&session.user.name, "reveal", &format!("{}/{}/{}", form.run_id, form.rule_id, form.key)) {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志写入失败,未显示", &e.to_string());
    }
    match finding_detail(&state, &session, &form.run_id, &form.rule_id, &form.key, true).await {
        Ok(markup) => layout::page(&session, "/p/findings", "比对发现详情(完整信息)", markup),
        Err(r) => r,
    }
}
