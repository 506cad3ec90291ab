//! The commands that read the lake for findings and plans: `run`, `rules`,
//! `plan` and `report`.

use crate::cli::ReportKind;
use crate::{Ctx, runtime};
use anyhow::Context;
use xuncha_queries::run::RunOptions;
use xuncha_queries::session::session;

/// `xuncha run`.
pub(crate) fn run_rules(ctx: &Ctx, as_of: Option<chrono::NaiveDate>, rules: Vec<String>) -> anyhow::Result<()> {
    let lake = ctx.open_lake()?;
    let options = RunOptions { as_of, rules, ..RunOptions::configured(&ctx.config, ctx.session_options.clone()) };
    let (report, synced) = runtime()?.block_on(xuncha_cases::run_and_sync(&lake, &options))?;
    for r in &report.rules {
        match (&r.error, &r.waited) {
            (Some(e), _) => println!("  {:<32} 出错: {e}", r.rule_id),
            (None, Some(why)) => println!("  {:<32} 未运行,{why}", r.rule_id),
            (None, None) => println!("  {:<32} {:>7} 条  {:>6} ms", r.rule_id, r.findings, r.millis),
        }
    }
    println!("运行 {} (参考日 {}): {} 条比对发现, {} 个村风险评分, 状态 {}", report.run_id, report.as_of, report.findings, report.risk_scores, report.status);
    println!(
        "线索: 新增 {}, 重新发现 {}, 新增发现 {} 条; 数据核验通过 {}, 整改不实 {}, 反弹 {}; 撤销 {}(待交办而本次不再发现)",
        synced.opened, synced.reopened, synced.findings_added, synced.verified_by_data, synced.not_rectified, synced.rebounded, synced.withdrawn
    );
    if report.status != "ok" {
        anyhow::bail!("部分规则出错,见上");
    }
    Ok(())
}

/// `xuncha rules [--show ID]`.
pub(crate) fn rules(ctx: &Ctx, show: Option<String>, as_of: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    let rules = xuncha_queries::rules::catalogue(ctx.config.rules.dir.as_deref())?;
    let Some(id) = show else {
        for r in &rules {
            println!("{:<32} {:<4} {:<8} {:<10} {}  ({})", r.id, r.severity, r.sector, r.topic, r.title, r.origin);
        }
        return Ok(());
    };
    let rule = rules.iter().find(|r| r.id == id).with_context(|| format!("没有规则「{id}」;`xuncha rules` 列出全部规则"))?;
    let as_of = match as_of {
        Some(d) => d,
        None => {
            let rt = runtime()?;
            let session = rt.block_on(session(&ctx.open_lake()?, &ctx.session_options))?;
            rt.block_on(xuncha_queries::run::default_as_of(&session))?
        }
    };
    let params = xuncha_queries::rules::Params { as_of, thresholds: ctx.config.thresholds.clone() };
    println!("{}", rule.bind(&params)?.display());
    Ok(())
}

/// `xuncha plan`.
pub(crate) fn plan(ctx: &Ctx, term: Option<String>, per_round: Option<usize>) -> anyhow::Result<()> {
    let rt = runtime()?;
    let session = rt.block_on(session(&ctx.open_lake()?, &ctx.session_options))?;
    let plan = rt.block_on(xuncha_queries::plan::plan(&session, term.as_deref(), per_round, ctx.config.report.rounds_per_term))?;
    print_plan(&plan);
    Ok(())
}

/// `xuncha report common-issues`.
pub(crate) fn report(ctx: &Ctx, kind: ReportKind) -> anyhow::Result<()> {
    let ReportKind::CommonIssues { sector, topic, as_of, format, out } = kind;
    let format: xuncha_dashboard::report::Format = format.parse()?;
    let rt = runtime()?;
    let session = rt.block_on(session(&ctx.open_lake()?, &ctx.session_options))?;
    let report = rt.block_on(xuncha_queries::report::build(&session, &xuncha_queries::report::ReportOptions { sector, topic, as_of }, &ctx.config.report))?;
    xuncha_dashboard::report::write(&report, format, &out).with_context(|| format!("writing {}", out.display()))?;
    println!("专题报告已写入 {}: {} 类共性问题(标准: ≥{} 个乡镇, 共 {} 个)", out.display(), report.common().count(), report.threshold, report.towns_total);
    Ok(())
}

fn print_plan(plan: &xuncha_queries::plan::Plan) {
    println!(
        "{} 巡察计划: 共 {} 个村(社区), 已巡察 {}, 未巡察 {}; 已开展 {} 轮, 剩余 {} 轮, 每轮建议 {} 个",
        plan.term,
        plan.villages_total,
        plan.inspected,
        plan.villages.len(),
        plan.rounds_done,
        plan.rounds_left,
        plan.per_round
    );
    if plan.on_track {
        println!("届内全覆盖: 可按期完成(按每轮 {:.1} 个的进度)", plan.capacity);
    } else {
        println!("届内全覆盖: 有风险 —— 按每轮 {:.1} 个的进度, 剩余 {} 轮不足以覆盖 {} 个村", plan.capacity, plan.rounds_left, plan.villages.len());
    }
    for v in &plan.villages {
        let score = v.score.map_or_else(|| "—".to_string(), |s| format!("{s:.1}"));
        println!("  第{:>2}轮  {}  {:<10} {:<10} {:>6}  {}", v.round_no, v.village_code, v.town_name, v.village_name, score, v.tier);
    }
}
