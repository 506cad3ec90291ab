//! The files of the workbench: the filled 交办单 uploaded by a unit (or by
//! an analyst for it), the 交办单 XLSX to fill, and the letters (DOCX).
//! Each download is audited; a unit gets only its own.

use super::letters::{self, Letter};
use super::{actor, code, context};
use crate::auth::{Anyone, Authorized};
use crate::error::AppError;
use crate::layout;
use crate::secret::constant_time_eq;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

/// The largest 交办单 upload.
pub(crate) const MAX_UPLOAD_MB: usize = 5;
pub(crate) const MAX_UPLOAD_BYTES: usize = MAX_UPLOAD_MB << 20;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

#[derive(Debug, Deserialize)]
pub(crate) struct UnitQuery {
    unit: Option<String>,
}

/// The unit a download is for: a unit's own, whatever it asks; for others
/// the one named.
fn unit_of(session: &LoginSession, q: &UnitQuery) -> Result<String, AppError> {
    if let Some(own) = session.user.unit() {
        return match code(q.unit.as_deref().unwrap_or(""), "承办单位")? {
            Some(asked) if asked != own => Err(AppError::not_found("没有这份交办单", "只能下载本单位的交办单。")),
            _ => Ok(own.to_string()),
        };
    }
    code(q.unit.as_deref().unwrap_or(""), "承办单位")?.ok_or_else(|| AppError::bad_request("参数有误", "请给出承办单位代码(unit=12 位代码)。"))
}

fn attachment(mime: &str, name: &str, bytes: Vec<u8>) -> Response {
    let file = format!("attachment; filename=\"{name}\"; filename*=UTF-8''{}", crate::auth::urlencode(name));
    ([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, file)], bytes).into_response()
}

/// `GET /cases/handover.xlsx?unit=CODE`: the 交办单 to fill, with full
/// identities — for analysts and the unit itself; audited.
pub(crate) async fn handover_xlsx(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, Query(q): Query<UnitQuery>) -> Result<Response, AppError> {
    if session.user.role == Role::Leader {
        return Err(AppError::role_required(Role::Analyst));
    }
    let unit = unit_of(&session, &q)?;
    state.audit.record(&session.user.name, "case_export", &format!("交办单 {unit}(XLSX,含完整身份信息)")).map_err(AppError::internal("审计日志写入失败,未导出"))?;
    // The user's own session: a scoped analyst's 交办单 lists only cases in its scope.
    let ctx = context(&state, &session).await?;
    let (bytes, _) = xuncha_cases::export_bytes(&ctx, state.session_options.rules_dir.as_deref(), &unit).await?;
    Ok(attachment(XLSX, &format!("交办单-{unit}.xlsx"), bytes))
}

/// `GET /cases/letter/{kind}.docx`: 交办单 (`jiaoban`, full identities:
/// analysts and the unit), 督办函 (`duban`) for a unit, or the
/// 线索处置情况报告 (`report`, leaders and up); audited.
pub(crate) async fn letter(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, Path(kind): Path<String>, Query(q): Query<UnitQuery>) -> Result<Response, AppError> {
    let letter = match kind.as_str() {
        "jiaoban.docx" => Letter::Handover,
        "duban.docx" => Letter::Reminder,
        "report.docx" => Letter::Report,
        _ => return Err(AppError::no_such_page()),
    };
    let role = session.user.role;
    let unit = match letter {
        Letter::Handover if role == Role::Leader => return Err(AppError::role_required(Role::Analyst)),
        Letter::Report if role == Role::Unit => return Err(AppError::role_required(Role::Leader)),
        Letter::Report => None,
        Letter::Handover | Letter::Reminder => Some(unit_of(&session, &q)?),
    };
    state
        .audit
        .record(&session.user.name, "case_letter", &format!("{}{}", letter.title(), unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default()))
        .map_err(AppError::internal("审计日志写入失败,未导出"))?;
    let ctx = context(&state, &session).await?;
    let bytes = letters::build(&state, &ctx, letter, unit.as_deref()).await?;
    Ok(attachment(DOCX, &format!("{}{}.docx", letter.title(), unit.map(|u| format!("-{u}")).unwrap_or_default()), bytes))
}

/// `POST /cases/upload` (multipart: `csrf`, then `file`): a filled 交办单,
/// checked row by row like `xuncha cases import`; the valid rows land in
/// one commit, each bad one is listed with its row number and reason.
pub(crate) async fn upload(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Anyone>, mut multipart: Multipart) -> Result<Response, AppError> {
    if session.user.role == Role::Leader {
        return Err(AppError::role_required(Role::Analyst));
    }
    // Too large is 413, anything else unreadable 400 (the error knows which).
    let unreadable = |e: axum::extract::multipart::MultipartError| AppError::new(e.status(), "上传失败", format!("上传内容无法读取({}),文件不能超过 {MAX_UPLOAD_MB} MB。", e.body_text()));
    let mut csrf_ok = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => {
                let token = field.text().await.map_err(unreadable)?;
                csrf_ok = !token.is_empty() && constant_time_eq(token.as_bytes(), session.csrf.as_bytes());
            }
            Some("file") if csrf_ok => {
                let name = field.file_name().unwrap_or("交办单.xlsx").to_string();
                file = Some((name, field.bytes().await.map_err(unreadable)?.to_vec()));
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(AppError::forbidden("请求已失效", "表单校验码(CSRF)不符,请刷新页面后重试。"));
    }
    let (name, bytes) = file.ok_or_else(|| AppError::bad_request("上传失败", "没有收到文件,请选择填写好的交办单(.xlsx)。"))?;
    if !name.to_lowercase().ends_with(".xlsx") || !bytes.starts_with(b"PK\x03\x04") {
        return Err(AppError::bad_request("上传失败", format!("「{name}」不是 XLSX 文件:请上传从本系统下载、填写后的交办单(.xlsx)。")));
    }
    state.audit.record(&session.user.name, "case_import", &format!("{name}({} 字节)", bytes.len())).map_err(AppError::internal("审计日志写入失败,未导入"))?;
    let done = xuncha_cases::import_bytes(&state.lake, &actor(&session), &bytes, &name).await?;
    let body = html! {
        @if done.already {
            p.note { "此文件已导入过,未作改动。" }
        } @else {
            p { "已导入 " strong { (done.applied) } " 行;跳过 " (done.skipped) " 行(未填写或已导入);" strong { (done.refused.len()) } " 行有误未导入。" }
        }
        @if !done.refused.is_empty() {
            h2 { "未导入的行(请改正后重新上传)" }
            table { thead { tr { th { "行号" } th { "原因" } } } tbody { @for (row, why) in &done.refused { tr { td { (row) } td { (why) } } } } }
        }
        p { a href="/cases" { "← 返回线索处置" } }
    };
    Ok(layout::page(&session, "/cases", "交办单导入结果", body))
}
