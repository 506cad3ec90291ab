//! The commands about the dashboard and its users: `serve`, `demo`,
//! `schedule` (which may serve too), `user` and `audit`.

use crate::cli::{AuditAction, UserAction};
use crate::{Ctx, runtime};
use std::path::Path;
use xuncha_core::config::Config;
use xuncha_core::lake::Lake;
use xuncha_pipeline::ingest::{FileOutcome, IngestOptions, ingest};
use xuncha_queries::report::q;
use xuncha_queries::run::RunOptions;
use xuncha_queries::session::{SessionOptions, session};
use xuncha_synth::{GenConfig, Scale, generate};

/// `xuncha serve`.
pub(crate) fn serve(ctx: &Ctx, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let state = dashboard_state(ctx.open_lake()?, &ctx.config, ctx.session_options.clone());
    if state.users.list()?.is_empty() {
        anyhow::bail!("还没有任何用户;先用 xuncha user add 名称 --role admin 创建");
    }
    println!("仪表盘: http://{addr}/  (Ctrl-C 停止)");
    runtime()?.block_on(xuncha_dashboard::serve(state, addr))?;
    Ok(())
}

/// `xuncha schedule`: the jobs, and the dashboard beside them when asked.
pub(crate) fn schedule(ctx: &Ctx, serve: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    let lake = ctx.open_lake()?;
    let server = serve.map(|addr| (dashboard_state(lake.clone(), &ctx.config, ctx.session_options.clone()), addr));
    if let Some(addr) = serve {
        println!("仪表盘: http://{addr}/");
    }
    println!("调度器已启动: {} 个任务 (Ctrl-C 停止)", ctx.config.schedule.jobs.len());
    runtime()?.block_on(crate::jobs::schedule(lake, ctx.config.clone(), ctx.session_options.clone(), server))?;
    println!("调度器已停止");
    Ok(())
}

/// `xuncha audit verify|list`.
pub(crate) fn audit(ctx: &Ctx, action: AuditAction) -> anyhow::Result<()> {
    let log = ctx.audit_log()?;
    match action {
        AuditAction::Verify => {
            let n = match log.verify()? {
                Ok(n) => n,
                Err(e) => anyhow::bail!("审计日志校验失败: {e}"),
            };
            let problems = runtime()?.block_on(xuncha_cases::verify_history(&ctx.open_lake()?))?;
            if !problems.is_empty() {
                anyhow::bail!("线索处置记录校验失败: {}", problems.join(";"));
            }
            println!("审计日志校验通过: {n} 条记录;线索处置记录均有审计日志为凭");
        }
        AuditAction::List => {
            for e in log.entries()? {
                println!("{:>6} {} {:<12} {:<14} {}", e.seq, e.at, e.user, e.action, e.detail);
            }
        }
    }
    Ok(())
}

/// `xuncha user …`.
pub(crate) fn user(ctx: &Ctx, action: UserAction) -> anyhow::Result<()> {
    user_command(&xuncha_dashboard::users::UserStore::of_lake(ctx.open_lake()?.root()), action)
}

fn dashboard_state(lake: Lake, config: &Config, session_options: SessionOptions) -> std::sync::Arc<xuncha_dashboard::AppState> {
    let limits = xuncha_dashboard::limits(&config.engine, &config.server);
    let audit = xuncha_core::audit::AuditLog::open(&lake);
    xuncha_dashboard::AppState::new(lake, session_options, config.report.clone(), limits, audit)
}

/// `xuncha demo`: ingest the sample inbox (a no-op when already loaded), run
/// the rules when new data arrived, give each demo login a fresh password,
/// and serve.
pub(crate) fn demo(ctx: &Ctx, inbox: &Path, addr: std::net::SocketAddr, no_serve: bool) -> anyhow::Result<()> {
    let (lake, config, session_options) = (&ctx.open_lake()?, &ctx.config, ctx.session_options.clone());
    let generated;
    let inbox = if inbox.is_dir() {
        inbox.to_path_buf()
    } else {
        generated = tempfile::tempdir()?;
        println!("未找到 {},按同一种子生成样例数据 …", inbox.display());
        generate(&GenConfig { scale: Scale::Sample, seed: 2026, out: generated.path().to_path_buf() })?;
        generated.path().to_path_buf()
    };
    let rt = runtime()?;
    let reports = rt.block_on(ingest(lake, &inbox, &IngestOptions { dry_run: false, config: config.ingest.clone() }))?;
    let loaded: u64 = reports.iter().filter(|r| matches!(r.outcome, FileOutcome::Loaded)).map(|r| r.rows_loaded).sum();
    println!("样例数据入库: {} 个文件, 新入库 {loaded} 行", reports.len());
    let has_run = lake.tables()?.iter().any(|t| t == "runs");
    if loaded > 0 || !has_run {
        let (report, synced) = rt.block_on(xuncha_cases::run_and_sync(lake, &RunOptions::configured(config, session_options.clone())))?;
        println!("比对运行 {}: {} 条发现, {} 个村风险评分, 新线索 {} 条", report.run_id, report.findings, report.risk_scores, synced.opened);
    }
    let store = xuncha_dashboard::users::UserStore::of_lake(lake.root());
    let first_town = rt.block_on(async {
        let ctx = session(lake, &session_options).await?;
        let towns: Vec<q::system::FirstTownRow> = xuncha_queries::report::rows(&ctx, &[]).await?;
        Ok::<_, xuncha_queries::QueryError>(towns.into_iter().next().map(|t| t.town).unwrap_or_default())
    })?;
    println!("演示账号(密码每次启动重新生成):");
    let demo_users = [("admin", "admin", None), ("analyst", "analyst", None), ("leader", "leader", None), ("town_leader", "leader", Some(first_town.clone())), ("town_unit", "unit", Some(first_town))];
    for (name, role, scope) in demo_users {
        let password = random_password();
        store.put(name, role.parse()?, scope.clone().filter(|s| !s.is_empty()), &password, true)?;
        println!("  {name:<12} 密码 {password}  角色 {role}{}", scope.map(|s| format!("  范围 {s}")).unwrap_or_default());
    }
    if no_serve {
        return Ok(());
    }
    println!("仪表盘: http://{addr}/  (Ctrl-C 停止)");
    rt.block_on(xuncha_dashboard::serve(dashboard_state(lake.clone(), config, session_options), addr))?;
    Ok(())
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("XUNCHA_PASSWORD") {
        return Ok(p);
    }
    let first = rpassword::prompt_password("密码: ")?;
    let again = rpassword::prompt_password("再输一次: ")?;
    if first != again {
        anyhow::bail!("两次输入的密码不一致");
    }
    Ok(first)
}

fn user_command(store: &xuncha_dashboard::users::UserStore, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Add { name, role, scope, bulk_identity } => {
            let role = role.parse()?;
            store.put(&name, role, scope, &read_password()?, false)?;
            if bulk_identity {
                store.update(&name, None, None, Some(true))?;
            }
            println!("已添加用户 {name}");
        }
        UserAction::Set { name, role, scope, bulk_identity } => {
            let role = role.map(|r| r.parse()).transpose()?;
            let scope = scope.map(|s| if s == "all" { None } else { Some(s) });
            store.update(&name, role, scope, bulk_identity)?;
            println!("已修改用户 {name};其已登录的会话随即失效");
        }
        UserAction::Remove { name } => {
            store.remove(&name)?;
            println!("已删除用户 {name};其已登录的会话随即失效");
        }
        UserAction::Passwd { name } => {
            store.set_password(&name, &read_password()?)?;
            println!("已修改 {name} 的密码");
        }
        UserAction::List => {
            for u in store.list()? {
                println!("{:<16} {:<8} {:<14} {}", u.name, u.role.label(), u.scope.as_deref().unwrap_or("全部"), if u.bulk_identity { "完整身份" } else { "" });
            }
        }
    }
    Ok(())
}
