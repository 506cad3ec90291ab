//! What every request shares: the lake, users, audit log, login sessions,
//! and one cached DataFusion session per scope, rebuilt when a table has a
//! new commit (so fresh data shows without a restart).

use crate::DashboardError;
use crate::users::UserStore;
use datafusion::prelude::SessionContext;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Semaphore;
use xuncha_core::audit::AuditLog;
use xuncha_core::config::ReportConfig;
use xuncha_core::lake::Lake;
use xuncha_queries::session::{SessionOptions, session};

/// Limits that keep one request from hurting the others.
#[derive(Debug, Clone)]
pub struct Limits {
    /// An SQL console query is cancelled after this.
    pub query_timeout: Duration,
    /// Any request is answered (with an error page) within this.
    pub request_timeout: Duration,
    /// Rows shown or exported from the SQL console.
    pub max_rows: usize,
    /// The SQL console's result size in memory.
    pub max_result_bytes: usize,
    /// A login lasts this long without activity …
    pub session_ttl: Duration,
    /// … and this long at most.
    pub session_max: Duration,
    /// Console queries running at once; more wait their turn briefly, then are refused.
    pub console_slots: usize,
    /// Session cookies always carry `Secure`.
    pub secure_cookies: bool,
    /// `X-Forwarded-Proto: https` from a reverse proxy makes them `Secure`.
    pub trust_forwarded_proto: bool,
    /// Console rows with full ID numbers a bulk-identity user may take per day.
    pub bulk_identity_daily_rows: usize,
    /// A request's whole body must arrive within this.
    pub body_read: Duration,
}

/// A logged-in user's session.
#[derive(Debug, Clone)]
pub(crate) struct LoginSession {
    /// The user as they were at login: a request finds the session ended
    /// once the stored user differs (password, role, scope changed, or removed).
    pub user: crate::users::User,
    pub csrf: String,
    /// When it ends without activity (slides with each request) …
    pub expires: Instant,
    /// … and when it ends in any case.
    pub ends: Instant,
}

pub(crate) type Fingerprint = Vec<(String, Option<SystemTime>)>;

/// What a session serves: pages, or analysts' own SQL, which gets a memory
/// pool of its own so that an expensive query cannot starve the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    Pages,
    Console,
}

/// One session per scope and purpose, with the lake state it was built at.
type ContextCache = HashMap<(Option<String>, Purpose), (Fingerprint, Arc<SessionContext>)>;

/// Shared state.
pub struct AppState {
    pub lake: Lake,
    pub session_options: SessionOptions,
    pub users: UserStore,
    pub audit: AuditLog,
    pub report: ReportConfig,
    pub limits: Limits,
    pub(crate) logins: Mutex<HashMap<String, LoginSession>>,
    pub(crate) failures: Mutex<crate::throttle::Failures>,
    /// Refused case actions, for the audit's per-user budget.
    pub(crate) refusals: Mutex<crate::throttle::Refusals>,
    /// Logins between arrival and answer (bounded: see `throttle`).
    pub(crate) logins_in_progress: std::sync::atomic::AtomicUsize,
    /// Password hashes computed at once.
    pub(crate) hashing: Semaphore,
    /// Console rows with full ID numbers taken today, by user.
    pub(crate) identity_rows: Mutex<HashMap<(String, chrono::NaiveDate), usize>>,
    pub(crate) console: Semaphore,
    contexts: tokio::sync::Mutex<ContextCache>,
    pages: Mutex<PageCache>,
}

/// Rendered page bodies by (scope, page and filters), with the lake state they show.
type PageCache = HashMap<(Option<String>, String), (Fingerprint, Arc<str>)>;

/// Rendered page bodies kept at most; beyond it the cache starts over.
const MAX_CACHED_PAGES: usize = 512;

impl AppState {
    /// State for the lake, with the given session options, limits and audit log.
    pub fn new(lake: Lake, session_options: SessionOptions, report: ReportConfig, limits: Limits, audit: AuditLog) -> Arc<AppState> {
        crate::layout::set_office_zone(&session_options.timezone);
        Arc::new(AppState {
            users: UserStore::of_lake(lake.root()),
            audit,
            console: Semaphore::new(limits.console_slots),
            lake,
            session_options,
            report,
            limits,
            logins: Mutex::new(HashMap::new()),
            failures: Mutex::new(crate::throttle::Failures::default()),
            refusals: Mutex::new(crate::throttle::Refusals::default()),
            logins_in_progress: std::sync::atomic::AtomicUsize::new(0),
            hashing: Semaphore::new(crate::throttle::HASHING_SLOTS),
            identity_rows: Mutex::new(HashMap::new()),
            contexts: tokio::sync::Mutex::new(HashMap::new()),
            pages: Mutex::new(HashMap::new()),
        })
    }

    /// The pages' session for a scope (`None` = everything), current with the lake.
    pub async fn context(&self, scope: Option<&str>) -> Result<Arc<SessionContext>, DashboardError> {
        self.context_for(scope, Purpose::Pages).await
    }

    /// The session for a scope and purpose; the console's has half the
    /// memory limit, in a pool separate from the pages'.
    pub(crate) async fn context_for(&self, scope: Option<&str>, purpose: Purpose) -> Result<Arc<SessionContext>, DashboardError> {
        let fingerprint = self.fingerprint()?;
        let key = (scope.map(str::to_string), purpose);
        let mut cache = self.contexts.lock().await;
        if let Some((seen, ctx)) = cache.get(&key)
            && *seen == fingerprint
        {
            return Ok(ctx.clone());
        }
        let memory_limit_mb = match purpose {
            Purpose::Pages => self.session_options.memory_limit_mb,
            Purpose::Console => (self.session_options.memory_limit_mb / 2).max(64),
        };
        let options = SessionOptions { scope: key.0.clone(), memory_limit_mb, ..self.session_options.clone() };
        let ctx = Arc::new(session(&self.lake, &options).await?);
        cache.insert(key, (fingerprint, ctx.clone()));
        Ok(ctx)
    }

    /// A page body rendered for this scope since the lake last changed,
    /// today (deadlines turn 逾期 at midnight without a commit).
    pub(crate) fn cached_page(&self, scope: Option<&str>, key: &str, fingerprint: &Fingerprint) -> Option<Arc<str>> {
        let pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.get(&(scope.map(str::to_string), self.dated(key))).filter(|(seen, _)| seen == fingerprint).map(|(_, body)| body.clone())
    }

    /// A cache key for today.
    fn dated(&self, key: &str) -> String {
        let today = self.session_options.today.unwrap_or_else(|| chrono::Local::now().date_naive());
        format!("{key}@{today}")
    }

    /// Keeps a page body rendered from the lake as it was at `fingerprint`
    /// (taken before rendering, so a commit during rendering is not missed).
    pub(crate) fn cache_page(&self, scope: Option<&str>, key: &str, fingerprint: Fingerprint, body: String) -> Arc<str> {
        let body: Arc<str> = body.into();
        let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pages.len() >= MAX_CACHED_PAGES {
            pages.clear();
        }
        pages.insert((scope.map(str::to_string), self.dated(key)), (fingerprint, body.clone()));
        body
    }

    /// The lake's state (see `Lake::fingerprint`).
    pub(crate) fn fingerprint(&self) -> Result<Fingerprint, DashboardError> {
        Ok(self.lake.fingerprint()?)
    }
}
