//! Login, logout, the session cookie and CSRF.
//!
//! A login sets `xuncha_session` (random 256-bit token; HttpOnly,
//! SameSite=Strict, `Secure` over TLS, expiring) and gives the session a
//! CSRF token that every POST form carries and every POST handler checks.
//! The login form itself is protected by a double-submit cookie.
//!
//! - Five failed logins for a name from one address lock that pair, thirty
//!   from one address lock the address, both for 15 minutes; password
//!   hashing is bounded (see `throttle`).
//! - Sessions slide (each request extends them) up to an absolute limit,
//!   and end at once when the user's password, role or scope changes or
//!   the user is removed: every request compares the session's user with
//!   the stored one.
//! - After login the browser goes only to a path this app serves (`next`
//!   is parsed; `//host`, `/\host`, control characters go to `/`).
//! - A user name longer than 64 characters is refused unread, and failed
//!   logins are audited at most `throttle::AUDITED_FAILURES_PER_MINUTE` a minute
//!   (the rest counted in one entry), so nobody can fill the disk through
//!   the login form.

use crate::error::AppError;
use crate::layout;
use crate::secret::{constant_time_eq, token};
use crate::state::{AppState, LoginSession};
use crate::throttle::Refusal;
use crate::users::Role;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::html;
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

const SESSION_COOKIE: &str = "xuncha_session";
const LOGIN_COOKIE: &str = "xuncha_login";
/// Paths a login may go on to: the app's own pages.
const NEXT_PATHS: &[&str] = &["/p/", "/sql", "/finding/", "/admin/", "/export/", "/report/", "/cases", "/case/"];

/// Where to go after login: `next` if it is a path this app serves, else `/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next else { return "/".into() };
    let decoded: String = url::form_urlencoded::parse(format!("x={}", next.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
    let suspicious = |t: &str| !t.starts_with('/') || t.starts_with("//") || t.chars().any(|c| c == '\\' || c.is_control());
    if next.len() > 2048 || suspicious(next) || suspicious(&decoded) {
        return "/".into();
    }
    match next.parse::<axum::http::uri::PathAndQuery>() {
        Ok(pq) if pq.path() == "/" || NEXT_PATHS.iter().any(|p| pq.path().starts_with(p)) => pq.as_str().to_string(),
        _ => "/".into(),
    }
}

/// Whether cookies for this request must carry `Secure`.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.limits.secure_cookies || (state.limits.trust_forwarded_proto && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
}

/// The logged-in user of a request; pages that need one take this, and a
/// request without a live session is sent to the login page. Pages open to
/// a higher role take [`Authorized`], forms [`Posted`].
pub(crate) struct Auth(pub LoginSession);

/// The lowest role a route admits, as a type.
pub(crate) trait MinRole {
    const ROLE: Role;
}

/// Routes for leaders and above (every page but the units' own).
pub(crate) struct Leader;
impl MinRole for Leader {
    const ROLE: Role = Role::Leader;
}

/// Routes for analysts and admins.
pub(crate) struct Analyst;
impl MinRole for Analyst {
    const ROLE: Role = Role::Analyst;
}

/// Routes for admins only.
pub(crate) struct Admin;
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// Routes for every logged-in user, units included (logout; the case
/// routes, which narrow a unit to its own cases themselves).
pub(crate) struct Anyone;
impl MinRole for Anyone {
    const ROLE: Role = Role::Unit;
}

/// A logged-in user whose role is at least `R::ROLE`; a lower role gets 403.
pub(crate) struct Authorized<R: MinRole> {
    pub(crate) session: LoginSession,
    role: std::marker::PhantomData<R>,
}

impl<R: MinRole> Authorized<R> {
    fn admit(session: LoginSession) -> Result<Self, AppError> {
        if session.user.role >= R::ROLE { Ok(Authorized { session, role: std::marker::PhantomData }) } else { Err(AppError::role_required(R::ROLE)) }
    }
}

impl<R: MinRole + Send + Sync> FromRequestParts<Arc<AppState>> for Authorized<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        Self::admit(Auth::from_request_parts(parts, state).await?.0).map_err(IntoResponse::into_response)
    }
}

/// A form that carries the session's CSRF token (`csrf`).
pub(crate) trait CsrfToken {
    fn csrf(&self) -> &str;
}

/// A POSTed form from a user of role `R::ROLE` or higher whose CSRF token
/// matches the session's: the role is checked first (403), then the token
/// (403), so no handler can forget either.
pub(crate) struct Posted<R: MinRole, T> {
    pub(crate) session: LoginSession,
    pub(crate) form: T,
    role: std::marker::PhantomData<R>,
}

impl<R, T> FromRequest<Arc<AppState>> for Posted<R, T>
where
    R: MinRole + Send + Sync,
    T: CsrfToken + serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Authorized { session, .. } = Authorized::<R>::from_request_parts(&mut parts, state).await?;
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        if form.csrf().is_empty() || !constant_time_eq(form.csrf().as_bytes(), session.csrf.as_bytes()) {
            return Err(AppError::forbidden("请求已失效", "表单校验码(CSRF)不符,请刷新页面后重试。").into_response());
        }
        Ok(Posted { session, form, role: std::marker::PhantomData })
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Auth, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let to_login = || Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response();
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else { return Err(to_login()) };
        let session = {
            let mut logins = state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            logins.retain(|_, s| s.expires > now && s.ends > now);
            match logins.get_mut(&token) {
                Some(session) => {
                    session.expires = now + state.limits.session_ttl;
                    session.clone()
                }
                None => return Err(to_login()),
            }
        };
        // The user as stored now: a changed password, role or scope, or a
        // removal, ends the session.
        match state.users.get(&session.user.name) {
            Ok(Some(stored)) if stored == session.user => {
                tracing::Span::current().record("user", tracing::field::display(&session.user.name));
                Ok(Auth(session))
            }
            _ => {
                state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&token);
                Err(to_login())
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// The login form.
pub(crate) async fn login_page(State(state): State<Arc<AppState>>, headers: HeaderMap, jar: CookieJar, axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Response {
    let form_token = token();
    let cookie = Cookie::build((LOGIN_COOKIE, form_token.clone())).http_only(true).secure(secure(&state, &headers)).same_site(SameSite::Strict).path("/login").build();
    (jar.add(cookie), login_form(&form_token, &safe_next(q.next.as_deref()), None)).into_response()
}

fn login_form(form_token: &str, next: &str, error: Option<&str>) -> maud::Markup {
    layout::bare(
        "登录",
        html! {
            form.login method="post" action="/login" {
                h1 { "巡察大数据比对平台" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                input type="hidden" name="form_token" value=(form_token);
                input type="hidden" name="next" value=(next);
                label { "用户名" input name="username" autocomplete="username" required autofocus; }
                label { "密码" input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { "登录" }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    form_token: String,
    next: Option<String>,
}

/// Checks the password; on success starts a session.
pub(crate) async fn login(State(state): State<Arc<AppState>>, client: Option<Extension<ClientAddr>>, headers: HeaderMap, jar: CookieJar, Form(form): Form<LoginForm>) -> Response {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let secure = secure(&state, &headers);
    let retry = |message: &str, status: StatusCode| {
        let form_token = token();
        let cookie = Cookie::build((LOGIN_COOKIE, form_token.clone())).http_only(true).secure(secure).same_site(SameSite::Strict).path("/login").build();
        (status, jar.clone().add(cookie), login_form(&form_token, &next, Some(message))).into_response()
    };
    if form.username.chars().count() > crate::users::MAX_NAME_CHARS || form.username.chars().any(char::is_control) {
        return retry("用户名无效。", StatusCode::BAD_REQUEST);
    }
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.form_token.as_bytes()) {
        return retry("登录表单已失效,请重新输入。", StatusCode::FORBIDDEN);
    }
    let now = Instant::now();
    let address = client.map_or(IpAddr::from([0, 0, 0, 0]), |Extension(ClientAddr(a))| a);
    // At most HASHING_SLOTS + HASHING_QUEUE logins in progress; the rest are
    // answered before any hashing.
    let Some(_in_progress) = LoginSlot::take(&state) else {
        tracing::warn!(%address, "login refused: too many logins in progress");
        return retry("登录请求过多,请稍后再试。", StatusCode::TOO_MANY_REQUESTS);
    };
    // One attempt at a time per address and name: a burst gets its five tries in turn.
    let turn = failures(&state).turn(address, &form.username, now);
    let _turn = turn.lock().await;
    let now = Instant::now();
    let admitted = failures(&state).admit(address, &form.username, now);
    if let Err(refusal) = admitted {
        let (detail, message) = match refusal {
            Refusal::NameLocked => ("该用户名从此地址连续登录失败,已锁定", "登录失败次数过多,请 15 分钟后再试。"),
            Refusal::AddressLocked => ("此地址登录失败过多,已锁定", "此地址登录失败次数过多,请 15 分钟后再试。"),
        };
        tracing::warn!(%address, ?refusal, "login refused: locked");
        audit_failure(&state, &form.username, "login_locked", &format!("{detail}({address})"), now);
        return retry(message, StatusCode::TOO_MANY_REQUESTS);
    }
    let user = {
        let _hashing = state.hashing.acquire().await;
        tokio::task::spawn_blocking({
            let state = state.clone();
            let (name, password) = (form.username.clone(), form.password.clone());
            move || state.users.verify(&name, &password)
        })
        .await
    };
    let user = match user {
        Ok(Ok(user)) => user,
        Ok(Err(e)) => return AppError::internal("登录出错")(e).into_response(),
        Err(e) => return AppError::internal("登录出错")(e).into_response(),
    };
    let Some(user) = user else {
        failures(&state).failed(address, &form.username, now);
        audit_failure(&state, &form.username, "login_failed", &address.to_string(), now);
        return retry("用户名或密码错误。", StatusCode::UNAUTHORIZED);
    };
    failures(&state).succeeded(address, &form.username);
    let session_token = token();
    let _ = state.audit.record(&user.name, "login", user.role.label());
    state
        .logins
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(session_token.clone(), LoginSession { user, csrf: token(), expires: now + state.limits.session_ttl, ends: now + state.limits.session_max });
    let max_age = cookie::time::Duration::seconds(i64::try_from(state.limits.session_ttl.min(state.limits.session_max).as_secs()).unwrap_or(i64::MAX));
    let cookie = Cookie::build((SESSION_COOKIE, session_token)).http_only(true).secure(secure).same_site(SameSite::Strict).path("/").max_age(max_age).build();
    (jar.remove(Cookie::build(LOGIN_COOKIE).path("/login")).add(cookie), Redirect::to(&next)).into_response()
}

/// The client's address, put on every request by the server's accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

fn failures(state: &AppState) -> std::sync::MutexGuard<'_, crate::throttle::Failures> {
    state.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A login in progress, counted while it lives.
struct LoginSlot<'a>(&'a AppState);

impl<'a> LoginSlot<'a> {
    fn take(state: &'a AppState) -> Option<LoginSlot<'a>> {
        let limit = crate::throttle::HASHING_SLOTS + crate::throttle::HASHING_QUEUE;
        state.logins_in_progress.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).ok().map(|_| LoginSlot(state))
    }
}

impl Drop for LoginSlot<'_> {
    fn drop(&mut self) {
        self.0.logins_in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Audits a failed or locked login within the per-minute budget.
fn audit_failure(state: &AppState, name: &str, action: &str, detail: &str, now: Instant) {
    let (audit, skipped) = failures(state).audit_budget(now);
    if let Some(n) = skipped {
        let _ = state.audit.record("-", "login_failures_unaudited", &format!("上一分钟另有 {n} 次失败或锁定的登录超出审计速率,未逐条记录"));
    }
    if audit {
        let _ = state.audit.record(name, action, detail);
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

impl CsrfToken for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Ends the session.
pub(crate) async fn logout(State(state): State<Arc<AppState>>, jar: CookieJar, posted: Posted<Anyone, CsrfForm>) -> Response {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(c.value());
    }
    let _ = state.audit.record(&posted.session.user.name, "logout", "");
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/login")).into_response()
}

/// Percent-encodes text for a query parameter.
pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_a_path_this_app_serves() {
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "/p/x\r\nSet-Cookie: a=b",
            "/%2F%2Fevil.example",
            "/%5Cevil.example",
            "evil",
            "/unknown",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        for good in ["/", "/p/overview", "/p/findings?rule=deceased_paid&town=430223101000", "/sql", "/finding/r/deceased_paid/0123456789abcdef0123"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        assert_eq!(safe_next(None), "/");
    }
}
