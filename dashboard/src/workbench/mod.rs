//! The case workbench (线索处置): the queue of cases with bulk hand-over,
//! the case page with its words, evidence, history and the actions a role
//! allows, the units' answers (in a form or as the filled 交办单 XLSX),
//! and the letters that go out (交办单, 督办函, 线索处置情况报告).
//!
//! Every route admits units (整改责任单位) and narrows them itself: a unit
//! sees, changes and downloads only the cases handed to it — the engine
//! refuses any other case id as "not found" (`xuncha_cases::Actor::unit`),
//! so a guessed id tells nothing. Leaders read, masked; analysts and
//! admins act. Every change is one audited, conflict-checked commit.

mod case;
mod files;
mod letters;
mod queue;

pub(crate) use case::{act, case_page};
pub(crate) use files::{handover_xlsx, letter, upload};

/// The upload route's body limit: the file and the form around it.
pub(crate) const MAX_UPLOAD_BODY: usize = files::MAX_UPLOAD_BYTES + 64 * 1024;
pub(crate) use queue::{assign, close, queue};

use crate::auth::CsrfToken;
use crate::error::AppError;
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use datafusion::prelude::SessionContext;
use serde::Deserialize;
use std::sync::Arc;
use xuncha_cases::Actor;

/// A form read as its fields in order, repeated names kept (the queue's
/// check boxes).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed ("" when absent).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
    }

    /// Every non-empty value of `name`.
    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_string()).collect()
    }
}

impl CsrfToken for Fields {
    fn csrf(&self) -> &str {
        self.get("csrf")
    }
}

/// Who acts: a unit narrowed to its cases, anyone else to their scope.
fn actor(session: &LoginSession) -> Actor {
    let user = &session.user;
    match user.unit() {
        Some(unit) => Actor { user: user.name.clone(), scope: None, unit: Some(unit.to_string()) },
        None => Actor { user: user.name.clone(), scope: user.scope.clone(), unit: None },
    }
}

/// The session a user's case pages read: their scope's, or for a unit the
/// whole lake — every case query a unit reaches names its unit.
async fn context(state: &AppState, session: &LoginSession) -> Result<Arc<SessionContext>, AppError> {
    let scope = if session.user.role == Role::Unit { None } else { session.user.scope.as_deref() };
    Ok(state.context(scope).await?)
}

/// A 12-digit unit or division code from a form or link ("" → `None`).
fn code(value: &str, what: &'static str) -> Result<Option<String>, AppError> {
    match value.trim() {
        "" => Ok(None),
        v if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(v.to_string())),
        v => Err(AppError::bad_request("参数有误", format!("{what}「{v}」应为 12 位代码"))),
    }
}

/// A date from a form (YYYY-MM-DD).
fn date(value: &str, what: &'static str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| AppError::bad_request("参数有误", format!("{what}「{value}」应为 YYYY-MM-DD 格式的日期")))
}

/// A time limit set on a page: a date not before `today` (a limit already
/// past would make the case late the moment it is set). The command line
/// still takes past dates, to record hand-overs made on paper before.
fn due_date(value: &str, what: &'static str, today: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    let due = date(value, what)?;
    if due < today {
        let (due, today) = (xuncha_queries::udf::cn_date(due), xuncha_queries::udf::cn_date(today));
        return Err(AppError::bad_request("操作未执行", format!("{what}「{due}」早于今天({today}):这样设置后线索会立即逾期。请填写今天或以后的日期。")));
    }
    Ok(due)
}

/// The units a case can be handed to, picked by name (the towns of the
/// user's scope, from `divisions`); the form posts the unit's code.
fn unit_picker(units: &[xuncha_queries::report::q::filters::TownsRow]) -> maud::Markup {
    maud::html! {
        label { "承办单位"
            select name="unit" required {
                option value="" { "请选择" }
                @for u in units { option value=(u.town_code) { (u.town_name) } }
            }
        }
    }
}

/// Today for time limits: `[cases] today` (drills and tests) or the calendar's.
fn today(state: &AppState) -> chrono::NaiveDate {
    state.session_options.today.unwrap_or_else(|| chrono::Local::now().date_naive())
}
