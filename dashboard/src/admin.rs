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

/// What each audited action is, in words (the log keeps the short name).
const ACTION_WORDS: &[(&str, &str)] = &[
    ("login", "登录"),
    ("logout", "退出"),
    ("login_failures_unaudited", "登录失败(超出记录速率的合计)"),
    ("sql", "控制台查询"),
    ("sql_cli", "命令行查询"),
    ("sql_identity", "控制台查询(完整身份信息)"),
    ("export", "导出"),
    ("report", "下载报告"),
    ("reveal", "查看完整身份信息"),
    ("finding_view", "查看比对发现"),
    ("case_view", "查看线索"),
    ("case_assign", "交办线索"),
    ("case_verdict", "提交核查结论"),
    ("case_rectify", "登记整改措施"),
    ("case_done", "报告整改完成"),
    ("case_close", "销号"),
    ("case_money", "登记追缴、补发与处理"),
    ("case_transfer", "线索移交"),
    ("case_instruct", "批示"),
    ("case_supervise", "督办"),
    ("case_change", "修改线索(命令行)"),
    ("case_export", "下载交办单"),
    ("case_import", "导入交办单"),
    ("case_letter", "下载文书"),
    ("case_refused", "线索操作被拒绝"),
    ("case_refused_unaudited", "线索操作被拒绝(超出记录速率的合计)"),
];

/// An audited action in words (its short name when it has none).
fn action_words(action: &str) -> &str {
    ACTION_WORDS.iter().find(|(name, _)| *name == action).map_or(action, |(_, words)| words)
}

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
                    tr { td { (e.seq) } td { (layout::readable("时间", &e.at)) } td { (e.user) } td { (action_words(&e.action)) } td { code { (e.detail) } } td { code { (&e.hash[..12]) } } }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_action_has_words() {
        for action in xuncha_cases::Action::ALL {
            let name = format!("case_{}", action.key());
            assert_ne!(action_words(&name), name, "{name} has no words");
        }
        assert_eq!(action_words("case_view"), "查看线索");
    }
}
