//! Login, logout, the session cookie and CSRF.
//!
//! A login sets `xuncha_session` (random 256-bit token; HttpOnly,
//! SameSite=Strict, expiring) and gives the session a CSRF token that every
//! POST form carries and every POST handler checks. The login form itself
//! is protected by a double-submit cookie. Five failed logins for a name
//! lock it for 15 minutes. Sessions slide: each request extends them.

use crate::layout::{self, error_page};
use crate::state::{AppState, LoginSession};
use crate::users::Role;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::html;
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SESSION_COOKIE: &str = "xuncha_session";
const LOGIN_COOKIE: &str = "xuncha_login";
const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// A random 256-bit token as hex.
pub(crate) fn token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The logged-in user of a request; pages that need one take this, and a
/// request without a live session is sent to the login page.
pub(crate) struct Auth(pub LoginSession);

impl Auth {
    /// The session, or a 403 page when the user's role is below `role`.
    pub(crate) fn require(&self, role: Role) -> Result<&LoginSession, Box<Response>> {
        if self.0.user.role >= role {
            Ok(&self.0)
        } else {
            Err(Box::new(error_page(StatusCode::FORBIDDEN, "无权访问", &format!("此功能需要「{}」或更高角色。", role.label()))))
        }
    }

    /// Checks a POSTed form's CSRF token.
    pub(crate) fn check_csrf(&self, sent: &str) -> Result<(), Box<Response>> {
        if !sent.is_empty() && constant_time_eq(sent.as_bytes(), self.0.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(Box::new(error_page(StatusCode::FORBIDDEN, "请求已失效", "表单校验码(CSRF)不符,请刷新页面后重试。")))
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Auth, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let to_login = || Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response();
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else { return Err(to_login()) };
        let mut logins = state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        logins.retain(|_, s| s.expires > now);
        match logins.get_mut(&token) {
            Some(session) => {
                session.expires = now + state.limits.session_ttl;
                Ok(Auth(session.clone()))
            }
            None => Err(to_login()),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// The login form.
pub(crate) async fn login_page(jar: CookieJar, axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Response {
    let form_token = token();
    let cookie = Cookie::build((LOGIN_COOKIE, form_token.clone())).http_only(true).same_site(SameSite::Strict).path("/login").build();
    (jar.add(cookie), login_form(&form_token, q.next.as_deref().unwrap_or("/"), None)).into_response()
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
pub(crate) async fn login(State(state): State<Arc<AppState>>, jar: CookieJar, Form(form): Form<LoginForm>) -> Response {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let next = form.next.filter(|n| n.starts_with('/') && !n.starts_with("//")).unwrap_or_else(|| "/".into());
    let retry = |message: &str, status: StatusCode| {
        let form_token = token();
        let cookie = Cookie::build((LOGIN_COOKIE, form_token.clone())).http_only(true).same_site(SameSite::Strict).path("/login").build();
        (status, jar.clone().add(cookie), login_form(&form_token, &next, Some(message))).into_response()
    };
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.form_token.as_bytes()) {
        return retry("登录表单已失效,请重新输入。", StatusCode::FORBIDDEN);
    }
    let now = Instant::now();
    {
        let mut failures = state.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((count, since)) = failures.get(&form.username).copied() {
            if now.duration_since(since) > LOCKOUT {
                failures.remove(&form.username);
            } else if count >= MAX_FAILURES {
                drop(failures);
                let _ = state.audit.record(&form.username, "login_locked", "连续登录失败,已锁定");
                return retry("登录失败次数过多,请 15 分钟后再试。", StatusCode::TOO_MANY_REQUESTS);
            }
        }
    }
    let user = match tokio::task::spawn_blocking({
        let state = state.clone();
        let (name, password) = (form.username.clone(), form.password.clone());
        move || state.users.verify(&name, &password)
    })
    .await
    {
        Ok(Ok(user)) => user,
        Ok(Err(e)) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "登录出错", &e.to_string()),
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "登录出错", &e.to_string()),
    };
    let Some(user) = user else {
        let mut failures = state.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = failures.entry(form.username.clone()).or_insert((0, now));
        entry.0 += 1;
        drop(failures);
        let _ = state.audit.record(&form.username, "login_failed", "");
        return retry("用户名或密码错误。", StatusCode::UNAUTHORIZED);
    };
    state.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&user.name);
    let session_token = token();
    let _ = state.audit.record(&user.name, "login", user.role.label());
    state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(
        session_token.clone(),
        LoginSession { user, csrf: token(), expires: now + state.limits.session_ttl },
    );
    let max_age = cookie::time::Duration::seconds(i64::try_from(state.limits.session_ttl.as_secs()).unwrap_or(i64::MAX));
    let cookie = Cookie::build((SESSION_COOKIE, session_token)).http_only(true).same_site(SameSite::Strict).path("/").max_age(max_age).build();
    (jar.remove(Cookie::build(LOGIN_COOKIE).path("/login")).add(cookie), Redirect::to(&next)).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Ends the session.
pub(crate) async fn logout(State(state): State<Arc<AppState>>, auth: Auth, jar: CookieJar, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = auth.check_csrf(&form.csrf) {
        return *r;
    }
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(c.value());
    }
    let _ = state.audit.record(&auth.0.user.name, "logout", "");
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/login")).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes text for a query parameter.
pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
