//! The `xuncha` command line: argument parsing; the work lives in the
//! `core`, `pipeline`, `synth`, `queries` and `dashboard` crates, and the
//! scheduler's job loop (`jobs`), which composes them, beside it.

mod analysis;
mod cases;
mod cli;
mod data;
mod jobs;
mod server;
mod sql;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command};
use std::path::PathBuf;
use std::process::ExitCode;
use xuncha_core::config::Config;
use xuncha_core::lake::Lake;
use xuncha_queries::session::SessionOptions;

/// mimalloc: ingest and the rules allocate many small strings on every core,
/// where it is markedly faster than the system allocator. Built without
/// transparent huge pages (`no_thp`): each fresh 2 MiB page is zeroed whole
/// by the kernel at its first touch, which cost a third of ingest's CPU and
/// 7 s of system time in the city rule suite (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mi_option_e`, mimalloc.h; the
/// Rust bindings name no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before it goes back to the
/// OS, for the commands that ingest (mimalloc's default is one second).
/// Ingest frees a sorted run of about 1 GiB and types the next one at once:
/// returned, every page was faulted in and zeroed again (12 s of system
/// time in a city-scale ingest with the default; bench/RESULTS.md). `ingest`
/// ends when its files are loaded, so it never returns memory (`-1`): its
/// peak is what it holds anyway. `demo` and `schedule` live on as servers
/// and keep memory two seconds. The rule suite gains nothing from either
/// and peaks higher, so the other commands keep the default.
#[allow(unsafe_code)]
fn keep_freed_memory(milliseconds: std::ffi::c_long) {
    // SAFETY: sets one integer option; mimalloc reads its options at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, milliseconds) };
}

/// A command piped into `head` stops quietly when the reader goes, as a
/// Unix tool does, instead of panicking on the closed pipe. The server and
/// the scheduler keep Rust's ignored SIGPIPE: a client that hangs up is an
/// error on its socket only.
#[allow(unsafe_code)]
fn stop_quietly_when_the_reader_goes() {
    // SAFETY: restores the default action of one signal before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Demo { .. } | Command::Schedule { .. } | Command::Serve { .. });
    log_to_stderr(cli.log_format, serving);
    match cli.command {
        Command::Ingest { .. } => keep_freed_memory(-1),
        Command::Demo { .. } | Command::Schedule { .. } => keep_freed_memory(2000),
        _ => {}
    }
    if !serving {
        stop_quietly_when_the_reader_goes();
    }
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!("xuncha: {}", text.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
    }
}

/// The server's and jobs' log (requests, refusals, incidents, jobs and
/// ingest steps) on standard error, as text or one JSON object a line.
/// Levels come from `RUST_LOG` (an `EnvFilter`); without it, xuncha's own
/// events from INFO and the libraries' from WARN. Events carry routes, ids,
/// counts and timings, never personal data. A one-off command (`ingest`,
/// `run`) prints its own report, so by default it logs only warnings. The
/// Delta kernel's snapshot builder logs an ERROR for every table probed
/// before its first commit, which the lake reads as "absent": silenced.
fn log_to_stderr(format: cli::LogFormat, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let ours = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            ["xuncha", "xuncha_core", "xuncha_pipeline", "xuncha_queries", "xuncha_cases", "xuncha_dashboard"].map(|t| format!("{t}={ours}")).join(",") + ",warn,buoyant_kernel::snapshot::builder=off",
        )
    });
    // Colours only on a terminal: a log file or collector gets plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours);
    match format {
        cli::LogFormat::Text => builder.init(),
        cli::LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}

/// The async runtime; its workers get 8 MiB stacks (DataFusion's plans and
/// expressions are walked recursively; the SQL guard bounds their depth).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(8 << 20).build()?)
}

/// What every command starts from: the configuration, the lake's folder and
/// the session options the configuration implies.
struct Ctx {
    config: Config,
    lake_path: PathBuf,
    session_options: SessionOptions,
}

impl Ctx {
    fn new(cli: &Cli) -> anyhow::Result<Ctx> {
        let config = Config::load(&cli.config)?;
        let lake_path = cli.lake.clone().or_else(|| config.lake.clone()).unwrap_or_else(|| PathBuf::from("./lake"));
        let session_options = SessionOptions {
            memory_limit_mb: config.engine.memory_limit_mb,
            rules_dir: config.rules.dir.clone(),
            due_soon_days: config.cases.due_soon_days,
            today: config.cases.today().map_err(anyhow::Error::msg)?,
            sources: config.ingest.sources.clone(),
            case_number_prefix: config.cases.number_prefix.clone(),
            timezone: config.server.timezone.clone(),
            ..SessionOptions::default()
        };
        Ok(Ctx { config, lake_path, session_options })
    }

    fn open_lake(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(&self.lake_path).with_context(|| format!("opening lake {}", self.lake_path.display()))?.with_key_dir(self.config.server.audit_anchor_dir.as_deref()))
    }

    /// The lake's audit log, anchored where the configuration says.
    fn audit_log(&self) -> anyhow::Result<xuncha_core::audit::AuditLog> {
        Ok(xuncha_core::audit::AuditLog::open(&self.open_lake()?))
    }
}

fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Gen { scale, seed, out } => data::generate_inbox(scale, seed, &out),
        Command::Ingest { inbox, dry_run } => data::ingest_inbox(&ctx, &inbox, dry_run),
        Command::Check { inbox } => data::check_inbox(&ctx, &inbox),
        Command::Optimize { tables } => data::optimize(&ctx.open_lake()?, tables),
        Command::Vacuum { tables, retain_hours, dry_run } => data::vacuum(&ctx.open_lake()?, tables, retain_hours, dry_run),
        Command::Run { as_of, rules } => analysis::run_rules(&ctx, as_of, rules),
        Command::Rules { show, as_of } => analysis::rules(&ctx, show, as_of),
        Command::Plan { term, per_round } => analysis::plan(&ctx, term, per_round),
        Command::Report { kind } => analysis::report(&ctx, kind),
        Command::Serve { addr } => server::serve(&ctx, addr),
        Command::Demo { addr, inbox, no_serve } => server::demo(&ctx, &inbox, addr, no_serve),
        Command::Schedule { serve } => server::schedule(&ctx, serve),
        Command::Audit { action } => server::audit(&ctx, action),
        Command::User { action } => server::user(&ctx, action),
        Command::Sql { query, format, out, at, versions } => sql::sql(&ctx, query, format, out, at, versions),
        Command::Cases { action } => cases::cases(&ctx, action),
    }
}
