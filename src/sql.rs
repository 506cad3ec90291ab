//! `xuncha sql`: one read-only query, or the interactive shell; every
//! statement under the same guard as the dashboard's console, audited.

use crate::{Ctx, runtime};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xuncha_queries::output::{self, Format};
use xuncha_queries::session::{SessionOptions, session};
use xuncha_queries::{catalog, guard};

/// `xuncha sql [QUERY]`.
pub(crate) fn sql(ctx: &Ctx, query: Option<String>, format: Format, out: Option<PathBuf>, at: Option<chrono::DateTime<chrono::Utc>>, versions: Vec<(String, u64)>) -> anyhow::Result<()> {
    let lake = ctx.open_lake()?;
    let audit = ctx.audit_log()?;
    let timeout = Duration::from_secs(ctx.config.engine.query_timeout_secs);
    let options = SessionOptions { as_of_time: at, table_versions: versions, ..ctx.session_options.clone() };
    let rt = runtime()?;
    let session = rt.block_on(session(&lake, &options))?;
    match query {
        Some(q) => rt.block_on(sql_once(&session, &audit, &q, format, out.as_deref(), timeout)),
        None => shell(&rt, &session, &audit, &ctx.lake_path, timeout),
    }
}

/// Who runs this command, for the audit log (`xuncha sql` by the OS user).
pub(crate) fn os_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).map_or_else(|_| "命令行".to_string(), |u| format!("{u}(命令行)"))
}

/// Runs one query from the command line; audited before it runs, like the console's.
async fn sql_once(ctx: &datafusion::prelude::SessionContext, audit: &xuncha_core::audit::AuditLog, sql: &str, format: Format, out: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
    if format == Format::Parquet && out.is_none() {
        anyhow::bail!("--format parquet 需要 --out FILE");
    }
    let target = out.map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    audit.record(&os_user(), "sql_cli", &format!("[{format:?} → {target}] {}", sql.trim())).context("审计日志写入失败,未执行")?;
    let guard::Answer { schema, batches, .. } = guard::query(ctx, sql, &guard::QueryLimits { timeout, max_rows: None, max_bytes: None }).await?;
    match out {
        Some(path) => output::write(format, &schema, &batches, std::io::BufWriter::new(std::fs::File::create(path)?))?,
        None => {
            let mut stdout = PipedStdout { inner: std::io::BufWriter::new(std::io::stdout()), closed: false };
            match output::write(format, &schema, &batches, &mut stdout) {
                // The reader went away (`xuncha sql … | head`): nothing is wrong.
                Err(_) if stdout.closed => {}
                written => written?,
            }
        }
    }
    Ok(())
}

/// Standard output that notes when its reader has gone away.
struct PipedStdout {
    inner: std::io::BufWriter<std::io::Stdout>,
    closed: bool,
}

impl std::io::Write for PipedStdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.inner.write(bytes).inspect_err(|e| self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.closed |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The interactive shell: history, `\d`, `\d TABLE`, `\q`.
fn shell(rt: &tokio::runtime::Runtime, ctx: &datafusion::prelude::SessionContext, audit: &xuncha_core::audit::AuditLog, lake: &Path, timeout: Duration) -> anyhow::Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = lake.join(".xuncha_history");
    let _ = editor.load_history(&history);
    println!("xuncha SQL(只读)。\\d 列出表, \\d 表名 查看列, \\q 退出。语句以 ; 结束。");
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "xuncha> " } else { "   ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(_) => break,
        };
        let trimmed = line.trim();
        if buffer.is_empty() && trimmed.starts_with('\\') {
            let _ = editor.add_history_entry(trimmed);
            match trimmed.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["\\q"] => break,
                ["\\d"] => match rt.block_on(catalog::tables(ctx)) {
                    Ok(tables) => tables.iter().for_each(|(name, title)| println!("  {name:<24} {title}")),
                    Err(e) => eprintln!("错误: {e}"),
                },
                ["\\d", table] => match rt.block_on(catalog::columns(ctx, table)) {
                    Ok(columns) => columns.iter().for_each(|(name, ty, header)| println!("  {name:<28} {ty:<28} {header}")),
                    Err(e) => eprintln!("错误: {e}"),
                },
                _ => eprintln!("未知命令;可用 \\d、\\d 表名、\\q"),
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if trimmed.ends_with(';') {
            let sql = std::mem::take(&mut buffer);
            let _ = editor.add_history_entry(sql.trim());
            if let Err(e) = rt.block_on(sql_once(ctx, audit, &sql, Format::Table, None, timeout)) {
                eprintln!("错误: {}", format!("{e:#}").lines().next().unwrap_or_default());
            }
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}
