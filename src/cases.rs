//! `xuncha cases …`: the cases as they stand, one case's history, and the
//! changes of the workflow (交办, 核查, 整改, 整改完成, 销号, 线索移交,
//! 追缴/补发); each change audited before it is made, by the OS user.

use crate::cli::{CasesAction, Expect};
use crate::sql::os_user;
use crate::{Ctx, runtime};
use anyhow::Context;
use xuncha_cases::{Actor, Change, State, Verdict};
use xuncha_queries::output::{self, Format};
use xuncha_queries::report::q;
use xuncha_queries::session::session;
use xuncha_queries::sheet::text;
use xuncha_queries::table::TextTable;

/// `xuncha cases ACTION`.
pub(crate) fn cases(ctx: &Ctx, action: CasesAction) -> anyhow::Result<()> {
    match action {
        CasesAction::List { state, rule, unit, overdue, format } => list(ctx, state, rule, unit, overdue, format),
        CasesAction::Show { id } => show(ctx, &id),
        CasesAction::Assign { ids, rule, place, state, unit, due } => {
            let unit = xuncha_core::values::normalize_code(&unit).into_owned();
            if unit.len() != 12 || !unit.bytes().all(|b| b.is_ascii_digit()) {
                anyhow::bail!("承办单位「{unit}」应为 12 位区划或单位代码");
            }
            let lake = ctx.open_lake()?;
            let ids = if ids.is_empty() {
                if rule.is_none() && place.is_none() {
                    anyhow::bail!("请给出线索编号,或用 --rule / --place 选择一批线索");
                }
                let state = State::parse(&state)?;
                runtime()?.block_on(xuncha_cases::select(&lake, &actor(), rule.as_deref(), place.as_deref(), Some(state)))?
            } else {
                ids
            };
            change(ctx, &ids, &Change::Assign { unit, due }, None)
        }
        CasesAction::Verdict { id, result, note, expect } => change(ctx, &[id], &Change::Verdict { verdict: Verdict::parse(&result)?, note }, expected(&expect)?),
        CasesAction::Rectify { id, measures, due, expect } => change(ctx, &[id], &Change::Rectify { measures, due }, expected(&expect)?),
        CasesAction::Done { id, note, expect } => change(ctx, &[id], &Change::Rectified { note }, expected(&expect)?),
        CasesAction::Close { id, note, expect } => change(ctx, &[id], &Change::Close { note }, expected(&expect)?),
        CasesAction::Export { unit, out } => {
            let lake = ctx.open_lake()?;
            ctx.audit_log()?.record(&os_user(), "case_export", &format!("交办单 {unit} → {}(含完整身份信息)", out.display())).context("审计日志写入失败,未导出")?;
            let n = runtime()?.block_on(xuncha_cases::export(&lake, &ctx.session_options, &unit, &out))?;
            println!("交办单已写出: {}({n} 条线索)", out.display());
            Ok(())
        }
        CasesAction::Import { file } => {
            let lake = ctx.open_lake()?;
            ctx.audit_log()?.record(&os_user(), "case_import", &file.display().to_string()).context("审计日志写入失败,未导入")?;
            let done = runtime()?.block_on(xuncha_cases::import(&lake, &actor(), &file))?;
            if done.already {
                println!("此文件已导入过,未作改动");
                return Ok(());
            }
            for (row, why) in &done.refused {
                println!("第 {row} 行未导入:{why}");
            }
            println!("导入 {} 行,跳过 {} 行(未填写或已导入),{} 行有误未导入", done.applied, done.skipped, done.refused.len());
            if !done.refused.is_empty() {
                anyhow::bail!("{} 行有误未导入(原因见上),其余各行已导入", done.refused.len());
            }
            Ok(())
        }
        CasesAction::Transfer { id, outcome, note } => change(ctx, &[id], &Change::Transfer { outcome, note }, None),
        CasesAction::Money { id, recovered, back_paid, people } => {
            let cents = |v: Option<String>| -> anyhow::Result<Option<i128>> { v.map(|v| xuncha_core::values::money_cents(&v).map_err(|e| anyhow::anyhow!(e))).transpose() };
            change(ctx, &[id], &Change::Money { recovered: cents(recovered)?, back_paid: cents(back_paid)?, people }, None)
        }
    }
}

/// The command line acts for the whole lake, as the OS user.
fn actor() -> Actor {
    Actor { user: os_user(), scope: None, unit: None }
}

fn expected(expect: &Expect) -> anyhow::Result<Option<State>> {
    Ok(expect.state.as_deref().map(State::parse).transpose()?)
}

/// Audits, then makes the change; prints each case's new state.
fn change(ctx: &Ctx, ids: &[String], change: &Change, expect: Option<State>) -> anyhow::Result<()> {
    let lake = ctx.open_lake()?;
    let actor = actor();
    ctx.audit_log()?.record(&actor.user, "case_change", &format!("{} {} ({} 条) {change:?}", change.action(), ids.join(","), ids.len())).context("审计日志写入失败,未执行")?;
    let events = runtime()?.block_on(xuncha_cases::apply(&lake, &actor, ids, change, expect))?;
    for e in &events {
        println!("{} {} → {}(第 {} 条记录)", e.case_id, e.action, e.state, e.seq);
    }
    println!("「{}」完成: {} 条线索", change.action(), events.len());
    Ok(())
}

/// `xuncha cases list`.
fn list(ctx: &Ctx, state: Option<String>, rule: Option<String>, unit: Option<String>, overdue: bool, format: Format) -> anyhow::Result<()> {
    let values = [
        ("state", text(state.as_deref().map(State::parse).transpose()?.map(State::label))),
        ("rule", text(rule.as_deref())),
        ("unit", text(unit.as_deref())),
        ("overdue", datafusion::common::ScalarValue::Boolean(Some(overdue))),
    ];
    let query = xuncha_queries::report::document_query(q::cases::LIST, &values)?;
    let rt = runtime()?;
    let session = rt.block_on(session(&ctx.open_lake()?, &ctx.session_options))?;
    // The query's own schema: a lake with no cases still gets the header.
    let (schema, batches) = rt.block_on(async {
        let frame = query.frame(&session).await?;
        let schema = frame.schema().inner().clone();
        anyhow::Ok((schema, frame.collect().await?))
    })?;
    output::write(format, &schema, &batches, std::io::stdout())?;
    Ok(())
}

/// `xuncha cases show ID`.
fn show(ctx: &Ctx, id: &str) -> anyhow::Result<()> {
    let rt = runtime()?;
    let session = rt.block_on(session(&ctx.open_lake()?, &ctx.session_options))?;
    let values = [("case_id", text(Some(id)))];
    let query = |name| -> anyhow::Result<TextTable> { Ok(rt.block_on(xuncha_queries::report::document(&session, name, &values))?) };
    let case = query(q::cases::CASE)?;
    let Some(row) = case.rows.first() else { anyhow::bail!("没有线索「{id}」") };
    for (column, value) in case.columns.iter().zip(row) {
        println!("{column:<10} {value}");
    }
    for (name, title) in [(q::cases::FINDINGS, "比对发现"), (q::cases::EVENTS, "处置经过")] {
        let table = query(name)?;
        println!("\n{title}({} 条):", table.rows.len());
        println!("{}", table.columns.join(" | "));
        for r in &table.rows {
            println!("{}", r.join(" | "));
        }
    }
    Ok(())
}
