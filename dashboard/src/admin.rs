//! The admins' pages: the users (managed with `xuncha user`) and the audit
//! log with its chain and anchor check.

use crate::auth::{Admin, Authorized};
use crate::error::AppError;
use crate::layout;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use std::sync::Arc;

/// `/admin/audit`: the latest entries and the chain check.
pub(crate) async fn audit_page(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Admin>) -> Result<Response, AppError> {
    let entries = state.audit.entries().map_err(AppError::internal("审计日志无法读取"))?;
    let verdict = state.audit.verify().map_err(AppError::internal("审计日志无法读取"))?;
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
    Ok(layout::page(&session, "/admin/audit", "审计日志", body))
}

/// `/admin/users`: who may log in (managed with `xuncha user`).
pub(crate) async fn users_page(State(state): State<Arc<AppState>>, Authorized { session, .. }: Authorized<Admin>) -> Result<Response, AppError> {
    let users = state.users.list().map_err(AppError::internal("用户列表无法读取"))?;
    let body = html! {
        table {
            thead { tr { th { "用户名" } th { "角色" } th { "范围" } th { "控制台完整身份信息" } } }
            tbody { @for u in &users { tr { td { (u.name) } td { (u.role.label()) } td { (u.scope.as_deref().unwrap_or("全部")) } td { (if u.bulk_identity { "允许(每日限额)" } else { "脱敏" }) } } } }
        }
        p.note { "用户在服务器上用命令管理:xuncha user add 名称 --role leader|analyst|admin [--scope 区划代码] [--bulk-identity];xuncha user passwd 名称;xuncha user set 名称 [--role …] [--scope …|all] [--bulk-identity true|false];xuncha user remove 名称。修改或删除后,该用户已登录的会话随即失效。" }
    };
    Ok(layout::page(&session, "/admin/users", "用户", body))
}
