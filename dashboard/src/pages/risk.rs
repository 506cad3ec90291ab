//! The risk page's own section: the inspection plan (queries::plan) above
//! the score panels.

use crate::layout;
use crate::state::AppState;
use datafusion::prelude::SessionContext;
use maud::{Markup, html};
use xuncha_queries::table::TextTable;

/// The inspection plan: the villages not yet inspected this term, riskiest first.
pub(super) async fn plan_section(state: &AppState, ctx: &SessionContext) -> Markup {
    match xuncha_queries::plan::plan(ctx, None, None, state.report.rounds_per_term).await {
        Ok(plan) => {
            let table = TextTable {
                columns: ["建议轮次", "乡镇", "村", "风险分", "等级"].map(String::from).to_vec(),
                rows: plan
                    .villages
                    .iter()
                    .take(60)
                    .map(|v| vec![format!("第{}轮", v.round_no), v.town_name.clone(), v.village_name.clone(), v.score.map_or("—".into(), |s| format!("{s:.1}")), v.tier.clone()])
                    .collect(),
            };
            html! {
                section id="plan" {
                    h2 { "巡察计划建议(" (plan.term) ")" }
                    p {
                        "共 " (plan.villages_total) " 个村(社区),已巡察 " (plan.inspected) ",未巡察 " (plan.villages.len())
                        ";已开展 " (plan.rounds_done) " 轮,剩余 " (plan.rounds_left) " 轮。"
                        @if plan.on_track { span.ok { "届内全覆盖可按期完成" } } @else { span.error { "届内全覆盖有风险:按每轮 " (format!("{:.1}", plan.capacity)) " 个的进度无法覆盖" } }
                    }
                    (layout::table(&table, &[], false, None, None))
                }
            }
        }
        // What the user can act on (no inspections yet) is said; anything
        // else is an incident, its cause in the log.
        Err(xuncha_queries::QueryError::Usage(message)) => html! { h2 { "巡察计划建议" } p.note { (message) } },
        Err(e) => {
            let incident = crate::error::incident("plan", &e);
            html! { h2 { "巡察计划建议" } p.error { "这一栏暂时无法显示(事件编号 " (incident) "),请联系管理员。" } }
        }
    }
}
