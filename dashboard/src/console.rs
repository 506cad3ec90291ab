//! The analysts' and admins' pages: the SQL console (same read-only guard
//! as `xuncha sql`, the user's scope, a time limit, a row and byte cap, at
//! most a few queries at once), a finding's evidence with an audited
//! reveal, the users list and the audit log with its chain check.
//!
//! Identity in bulk: the console shows ID numbers, names, accounts and
//! birth dates masked, as every page does. A user granted bulk identity
//! (`xuncha user set NAME --bulk-identity true`) gets them in full, up to
//! `[server] bulk_identity_daily_rows` rows a day; each such result is
//! audited with its count, and past the cap results are masked again.

use crate::auth::Auth;
use crate::layout::{self, error_page};
use crate::mask;
use crate::state::{AppState, LoginSession, Purpose};
use crate::users::Role;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use xuncha_queries::output::{self, Format};
use xuncha_queries::table::{TextTable, quote};
use xuncha_queries::{catalog, guard};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

/// `GET /sql`: the console with the table list.
pub(crate) async fn sql_page(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let session = match auth.require(Role::Analyst) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let body = console_body(&state, session, "SELECT rule_id, count(*) AS n FROM latest_findings GROUP BY rule_id ORDER BY n DESC", html! {}).await;
    layout::page(session, "/sql", "SQL 控制台(只读)", body)
}

async fn console_body(state: &AppState, session: &LoginSession, sql: &str, result: Markup) -> Markup {
    let tables = match state.context(session.user.scope.as_deref()).await {
        Ok(ctx) => catalog::tables(&ctx).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    html! {
        form method="post" action="/sql" {
            input type="hidden" name="csrf" value=(session.csrf);
            textarea.sql name="sql" spellcheck="false" { (sql) }
            p {
                button type="submit" name="format" value="html" { "执行" } " "
                button type="submit" name="format" value="csv" { "下载 CSV" } " "
                button type="submit" name="format" value="parquet" { "下载 Parquet" }
                span.note { " 只读;最多显示 " (state.limits.max_rows) " 行;超过 " (state.limits.query_timeout.as_secs()) " 秒自动取消。每次查询都记入审计日志。" }
                span.note {
                    @if session.user.bulk_identity { " 您可查看完整身份信息,每日最多 " (state.limits.bulk_identity_daily_rows) " 行。" }
                    @else { " 身份证号、姓名、账号、出生日期均已脱敏。" }
                }
            }
        }
        (result)
        h2 { "表与视图" }
        table { thead { tr { th { "名称" } th { "说明" } } } tbody { @for (name, title) in &tables { tr { td { code { (name) } } td { (title) } } } } }
        p.note { "函数:id_valid、id_birth_date、id_gender、id_region、age_on、norm_name、mask_id、mask_name、month_start、month_end。" }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SqlForm {
    csrf: String,
    sql: String,
    format: Option<String>,
}

/// `POST /sql`: runs one read-only query; audited before it runs.
pub(crate) async fn sql_run(State(state): State<Arc<AppState>>, auth: Auth, Form(form): Form<SqlForm>) -> Response {
    let session = match auth.require(Role::Analyst) {
        Ok(s) => s.clone(),
        Err(r) => return *r,
    };
    if let Err(r) = auth.check_csrf(&form.csrf) {
        return *r;
    }
    let format = form.format.as_deref().unwrap_or("html");
    if let Err(e) = state.audit.record(&session.user.name, "sql", &format!("[{format}] {}", form.sql.trim())) {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志写入失败,未执行", &e.to_string());
    }
    let Ok(_slot) = tokio::time::timeout(Duration::from_secs(5), state.console.acquire()).await else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, "查询繁忙", "同时运行的查询已达上限,请稍后再试。");
    };
    let result = async {
        let ctx = state.context_for(session.user.scope.as_deref(), Purpose::Console).await?;
        let limits = guard::QueryLimits { timeout: state.limits.query_timeout, max_rows: Some(state.limits.max_rows), max_bytes: Some(state.limits.max_result_bytes) };
        let (schema, batches) = guard::query(&ctx, &form.sql, &limits).await?;
        identity_policy(&state, &session, schema, batches)
    }
    .await;
    let ((schema, batches), policy_note) = match result {
        Ok(r) => r,
        Err(e) => {
            let message = e.to_string();
            let body = console_body(&state, &session, &form.sql, html! { p.error role="alert" { (message.lines().next().unwrap_or_default()) } }).await;
            return (StatusCode::BAD_REQUEST, layout::page(&session, "/sql", "SQL 控制台(只读)", body)).into_response();
        }
    };
    match format {
        "csv" | "parquet" => {
            let (fmt, mime, ext) = if format == "csv" { (Format::Csv, "text/csv; charset=utf-8", "csv") } else { (Format::Parquet, "application/vnd.apache.parquet", "parquet") };
            let mut bytes = Vec::new();
            if let Err(e) = output::write(fmt, &schema, &batches, &mut bytes) {
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, "导出失败", &e.to_string());
            }
            ([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"xuncha-query.{ext}\""))], bytes).into_response()
        }
        _ => {
            let table = match TextTable::from_batches(&schema, &batches) {
                Ok(t) => t,
                Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "结果无法显示", &e.to_string()),
            };
            let note = format!("{} 行{}{policy_note}", table.rows.len(), if table.rows.len() >= state.limits.max_rows { "(已截断)" } else { "" });
            let body = console_body(&state, &session, &form.sql, html! { p.note { (note) } (layout::table(&table, &[], false, None, None)) }).await;
            layout::page(&session, "/sql", "SQL 控制台(只读)", body)
        }
    }
}

/// Masks a console result unless the user may see identities in bulk and
/// has rows left today; the note says which happened.
fn identity_policy(state: &AppState, session: &LoginSession, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<((SchemaRef, Vec<RecordBatch>), String), crate::DashboardError> {
    let arrow = |e: datafusion::arrow::error::ArrowError| crate::DashboardError::Usage(e.to_string());
    if session.user.bulk_identity {
        let rows = mask::rows_with_identities(&batches).map_err(arrow)?;
        let today = chrono::Local::now().date_naive();
        let mut taken = state.identity_rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        taken.retain(|(_, day), _| *day == today);
        let used = taken.entry((session.user.name.clone(), today)).or_insert(0);
        if rows == 0 {
            return Ok(((schema, batches), String::new()));
        }
        if *used + rows <= state.limits.bulk_identity_daily_rows {
            *used += rows;
            let left = state.limits.bulk_identity_daily_rows - *used;
            drop(taken);
            state.audit.record(&session.user.name, "sql_identity", &format!("{rows} 行含完整身份信息;今日余 {left} 行"))?;
            return Ok(((schema, batches), format!(";含完整身份信息 {rows} 行(已记入审计,今日还可查看 {left} 行)")));
        }
        let masked = mask::batches(&schema, &batches).map_err(arrow)?;
        return Ok((masked, format!(";今日完整身份信息额度({} 行)不足,本次结果已脱敏", state.limits.bulk_identity_daily_rows)));
    }
    Ok((mask::batches(&schema, &batches).map_err(arrow)?, String::new()))
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

/// `/admin/audit`: the latest entries and the chain check.
pub(crate) async fn audit_page(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let session = match auth.require(Role::Admin) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let (entries, verdict) = match (state.audit.entries(), state.audit.verify()) {
        (Ok(e), Ok(v)) => (e, v),
        (Err(e), _) | (_, Err(e)) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志无法读取", &e.to_string()),
    };
    let body = html! {
        @match &verdict {
            Ok(n) => p.ok { "哈希链校验通过:共 " (n) " 条记录,未被改动。" },
            Err(e) => p.error role="alert" { "哈希链校验失败:" (e) },
        }
        table {
            thead { tr { th { "序号" } th { "时间" } th { "用户" } th { "操作" } th { "内容" } th { "哈希" } } }
            tbody {
                @for e in entries.iter().rev().take(500) {
                    tr { td { (e.seq) } td { (e.at) } td { (e.user) } td { (e.action) } td { code { (e.detail) } } td { code { (&e.hash[..12]) } } }
                }
            }
        }
    };
    layout::page(session, "/admin/audit", "审计日志", body)
}

/// `/admin/users`: who may log in (managed with `xuncha user`).
pub(crate) async fn users_page(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let session = match auth.require(Role::Admin) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let users = match state.users.list() {
        Ok(u) => u,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "用户列表无法读取", &e.to_string()),
    };
    let body = html! {
        table {
            thead { tr { th { "用户名" } th { "角色" } th { "范围" } th { "控制台完整身份信息" } } }
            tbody { @for u in &users { tr { td { (u.name) } td { (u.role.label()) } td { (u.scope.as_deref().unwrap_or("全部")) } td { (if u.bulk_identity { "允许(每日限额)" } else { "脱敏" }) } } } }
        }
        p.note { "用户在服务器上用命令管理:xuncha user add 名称 --role leader|analyst|admin [--scope 区划代码] [--bulk-identity];xuncha user passwd 名称;xuncha user set 名称 [--role …] [--scope …|all] [--bulk-identity true|false];xuncha user remove 名称。修改或删除后,该用户已登录的会话随即失效。" }
    };
    layout::page(session, "/admin/users", "用户", body)
}
