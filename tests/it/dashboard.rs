//! The dashboard over HTTP: the real `xuncha serve` on a lake built by
//! `xuncha demo --no-serve` from the committed samples. Every route × role
//! (allowed, forbidden, scoped), CSRF, masking, reveal and audit, session
//! expiry, logout and login throttling; the server's log (every request,
//! no personal data) and what an internal failure shows and logs.

use crate::common::{full_ids, scratch, xuncha, xuncha_ok};
use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `xuncha serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) passwords: BTreeMap<String, String>,
    pub(crate) lake: PathBuf,
    /// The server's standard error: its log.
    log: PathBuf,
}

impl Server {
    /// What the server has logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server process's resident memory, in MiB.
    pub(crate) fn rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0) >> 10
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(name: &str, config: &str) -> Server {
    start_logging(name, config, "text")
}

/// A server whose log is written as `log_format` (`text` or `json`).
pub(crate) fn start_logging(name: &str, config: &str, log_format: &str) -> Server {
    let dir = scratch(name);
    let lake = dir.join("lake");
    let config_path = dir.join("xuncha.toml");
    std::fs::write(&config_path, config).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let (lake_s, config_s) = (lake.to_str().unwrap(), config_path.to_str().unwrap());
    let out = xuncha_ok(&["--lake", lake_s, "--config", config_s, "demo", "--no-serve", "--inbox", samples.to_str().unwrap()]);
    let passwords: BTreeMap<String, String> = out
        .lines()
        .filter(|l| l.contains(" 密码 "))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            (parts[0].to_string(), parts[2].to_string())
        })
        .collect();
    assert_eq!(passwords.len(), 5, "{out}");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", lake_s, "--config", config_s, "--log-format", log_format, "serve", "--addr", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("xuncha serve starts");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, base, passwords, lake, log }
}

pub(crate) fn client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(60)).build().unwrap()
}

/// A logged-in browser: its session cookie and CSRF token.
pub(crate) struct Login {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
    pub(crate) set_cookie: String,
}

pub(crate) fn form_token(client: &Client, base: &str) -> (String, String) {
    let page = client.get(format!("{base}/login")).send().unwrap();
    let cookie = page.headers().get(SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let body = page.text().unwrap();
    let token = between(&body, "name=\"form_token\" value=\"", "\"");
    (cookie, token)
}

/// Posts the login form of the server at `base`, as a browser would.
pub(crate) fn try_login(base: &str, user: &str, password: &str) -> Response {
    login_with(&client(), base, user, password)
}

/// A browser on another machine: its connections come from `ip` (a
/// loopback address, 127.0.0.x), so the server throttles it apart.
pub(crate) fn client_from(ip: [u8; 4]) -> Client {
    Client::builder().local_address(std::net::IpAddr::from(ip)).redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(60)).build().unwrap()
}

/// Posts the login form with `client`.
pub(crate) fn login_with(client: &Client, base: &str, user: &str, password: &str) -> Response {
    let (cookie, token) = form_token(client, base);
    client.post(format!("{base}/login")).header(COOKIE, cookie).form(&[("username", user), ("password", password), ("form_token", &token), ("next", "/p/overview")]).send().unwrap()
}

/// The whole `Set-Cookie` of the session a successful login started.
pub(crate) fn session_set_cookie(response: &Response) -> String {
    response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).find(|v| v.starts_with("xuncha_session=")).expect("a session cookie")
}

pub(crate) fn login(server: &Server, user: &str) -> Login {
    let response = try_login(&server.base, user, &server.passwords[user]);
    assert_eq!(response.status(), 303, "{user} logs in");
    let set_cookie = session_set_cookie(&response);
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // The queue: a page every role, units included, may open.
    let page = get(server, &Login { cookie: cookie.clone(), csrf: String::new(), set_cookie: String::new() }, "/cases");
    let csrf = between(&page.text().unwrap(), "name=\"csrf\" value=\"", "\"");
    Login { cookie, csrf, set_cookie }
}

pub(crate) fn get(server: &Server, login: &Login, path: &str) -> Response {
    client().get(format!("{}{path}", server.base)).header(COOKIE, &login.cookie).send().unwrap()
}

pub(crate) fn post(server: &Server, login: &Login, path: &str, form: &[(&str, &str)]) -> Response {
    client().post(format!("{}{path}", server.base)).header(COOKIE, &login.cookie).form(form).send().unwrap()
}

pub(crate) fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in page")) + start.len();
    text[from..from + text[from..].find(end).unwrap()].to_string()
}

pub(crate) const PAGES: &[&str] = &["/p/overview", "/p/rectification", "/p/findings", "/p/risk", "/p/petitions", "/p/common", "/p/village", "/p/village?village=430223101201", "/p/data"];

#[test]
fn routes_by_role_masking_scope_csrf_and_audit() {
    let server = start("dashboard-roles", "");
    let anonymous = client().get(format!("{}/p/overview", server.base)).send().unwrap();
    assert_eq!(anonymous.status(), 303);
    assert!(anonymous.headers()[LOCATION].to_str().unwrap().starts_with("/login?next="));

    let expected: &[(&str, u16, u16)] = &[("leader", 403, 403), ("analyst", 200, 403), ("admin", 200, 200)];
    for (user, sql, admin) in expected {
        let session = login(&server, user);
        assert!(session.set_cookie.contains("HttpOnly") && session.set_cookie.contains("SameSite=Strict") && session.set_cookie.contains("Max-Age"), "{}", session.set_cookie);
        for page in PAGES {
            let response = get(&server, &session, page);
            assert_eq!(response.status(), 200, "{user} {page}");
            let body = response.text().unwrap();
            assert!(!body.contains("查询出错"), "{user} {page}: a panel failed");
            assert!(full_ids(&body).is_empty(), "{user} {page} shows unmasked IDs: {:?}", full_ids(&body));
        }
        assert_eq!(get(&server, &session, "/sql").status().as_u16(), *sql, "{user} /sql");
        assert_eq!(get(&server, &session, "/admin/users").status().as_u16(), *admin, "{user} /admin/users");
        assert_eq!(get(&server, &session, "/admin/audit").status().as_u16(), *admin, "{user} /admin/audit");
        let csv = get(&server, &session, "/export/findings/list");
        assert_eq!(csv.status(), 200);
        let csv = csv.text().unwrap();
        assert!(csv.lines().count() > 100 && full_ids(&csv).is_empty(), "exports are masked");
    }

    // A crawl as leader: every page and every export, no full ID and no full
    // three-character name from the population table.
    let names: std::collections::HashSet<String> =
        crate::common::rows(&server.lake, "SELECT DISTINCT name FROM population").into_iter().map(|r| r[0].clone()).filter(|n| n.chars().count() == 3).collect();
    let leader = login(&server, "leader");
    for page in PAGES {
        let body = get(&server, &leader, page).text().unwrap();
        let mut links: Vec<String> = body.split("href=\"/export/").skip(1).map(|rest| format!("/export/{}", &rest[..rest.find('"').unwrap()]).replace("&amp;", "&")).collect();
        links.push((*page).to_string());
        for link in links {
            let text = get(&server, &leader, &link).text().unwrap();
            assert!(full_ids(&text).is_empty(), "{link} shows an unmasked ID");
            let chars: Vec<char> = text.chars().collect();
            let leaked: Vec<String> = chars.windows(3).map(|w| w.iter().collect::<String>()).filter(|w| names.contains(w)).collect();
            assert!(leaked.is_empty(), "{link} shows full names: {leaked:?}");
        }
    }

    // Analysts: CSRF, the read-only guard, reveal (audited).
    let analyst = login(&server, "analyst");
    assert_eq!(post(&server, &analyst, "/sql", &[("csrf", "forged"), ("sql", "SELECT 1")]).status(), 403, "a forged CSRF token is refused");
    assert_eq!(post(&server, &analyst, "/sql", &[("sql", "SELECT 1")]).status().as_u16(), 422, "no token, no query");
    let ok = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT count(*) AS n FROM population")]);
    assert_eq!(ok.status(), 200);
    assert!(ok.text().unwrap().contains("<td>10"), "the sample has over ten thousand people");
    let refused = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "DROP TABLE population")]);
    assert_eq!(refused.status(), 400);
    assert!(refused.text().unwrap().contains("只允许只读查询"));
    let csv = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT id_number FROM population LIMIT 3"), ("format", "csv")]);
    assert_eq!(csv.text().unwrap().lines().count(), 4);
    let capped = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT value, repeat('x', 1000) AS padding FROM generate_series(1, 100000000)"), ("format", "csv")]);
    assert_eq!(capped.text().unwrap().lines().count(), 1 + 5_000, "the console computes only its row cap (default 5,000) of a 100 GB result");
    let list = get(&server, &analyst, "/p/findings?rule=deceased_paid").text().unwrap();
    let link = between(&list, "href=\"/finding/", "\"");
    let parts: Vec<&str> = link.split('/').collect();
    let masked = get(&server, &analyst, &format!("/finding/{link}")).text().unwrap();
    assert!(masked.contains("证据") && full_ids(&masked).is_empty());
    let revealed = post(&server, &analyst, "/reveal", &[("csrf", &analyst.csrf), ("run_id", parts[0]), ("rule_id", parts[1]), ("key", parts[2])]);
    assert_eq!(revealed.status(), 200);
    assert!(!full_ids(&revealed.text().unwrap()).is_empty(), "a reveal shows the full ID");
    assert_eq!(post(&server, &leader, "/reveal", &[("csrf", &leader.csrf), ("run_id", parts[0]), ("rule_id", parts[1]), ("key", parts[2])]).status(), 403);

    // The audit log saw it all, and its chain holds.
    let admin = login(&server, "admin");
    let audit = get(&server, &admin, "/admin/audit").text().unwrap();
    assert!(audit.contains("哈希链校验通过"), "chain verifies");
    for action in ["登录", "控制台查询", "导出", "查看完整身份信息"] {
        assert!(audit.contains(&format!("<td>{action}</td>")), "audit has {action}, in words");
    }

    // The verify command finds a tampered line.
    let lake = server.lake.to_str().unwrap();
    assert!(crate::common::xuncha_ok(&["--lake", lake, "audit", "verify"]).contains("校验通过"));
    let log = server.lake.join("_xuncha/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("\"action\":\"reveal\"", "\"action\":\"login\"", 1)).unwrap();
    let verify = crate::common::xuncha(&["--lake", lake, "audit", "verify"]);
    assert!(!verify.status.success() && String::from_utf8_lossy(&verify.stderr).contains("被改动"), "tampering is detected");
    std::fs::write(&log, text).unwrap();

    // A town-scoped leader sees only the town.
    let town = login(&server, "town_leader");
    let risk = get(&server, &town, "/export/risk/ranking").text().unwrap();
    let codes: Vec<&str> = risk.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| c.starts_with("430223101")), "{codes:?}");
    let all = get(&server, &leader, "/export/risk/ranking").text().unwrap();
    assert!(all.lines().count() > risk.lines().count());

    // Logout ends the session.
    assert_eq!(post(&server, &leader, "/logout", &[("csrf", &leader.csrf)]).status(), 303);
    assert_eq!(get(&server, &leader, "/p/overview").status(), 303);

    // The log: a line per request with its route pattern, status, time and
    // user; no ID number, no name, no value of a path.
    let log = server.log();
    assert!(log.lines().any(|l| l.contains("route=/p/{page}") && l.contains("user=leader") && l.contains("status=200") && l.contains("ms=")), "{log}");
    assert!(log.lines().any(|l| l.contains("route=/sql") && l.contains("status=403") && l.contains("request refused")), "refusals are logged");
    assert!(log.lines().any(|l| l.contains("route=/finding/{run_id}/{rule_id}/{entity_key}")), "routes are logged as patterns");
    assert!(!log.contains(parts[2]) && !log.contains("/p/village?"), "no path values in the log");
    assert!(full_ids(&log).is_empty(), "the log holds an ID number");
    let chars: Vec<char> = log.chars().collect();
    let leaked: Vec<String> = chars.windows(3).map(|w| w.iter().collect::<String>()).filter(|w| names.contains(w)).collect();
    assert!(leaked.is_empty(), "the log holds names: {leaked:?}");
}

/// A table file that cannot be read: the user gets a 500 page with an
/// incident number and nothing internal; the log has one line with that
/// number and the cause, and the request's line carries the number too.
#[test]
fn a_failure_shows_an_incident_number_and_logs_its_cause() {
    let server = start_logging("dashboard-incident", "", "json");
    let events = server.lake.join("case_events");
    let mut broken = 0;
    for entry in std::fs::read_dir(&events).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            std::fs::write(&path, b"not a parquet file").unwrap();
            broken += 1;
        }
    }
    assert!(broken > 0, "the demo wrote case events");
    let response = try_login(&server.base, "analyst", &server.passwords["analyst"]);
    let cookie = session_set_cookie(&response).split(';').next().unwrap().to_string();
    let analyst = Login { cookie, csrf: String::new(), set_cookie: String::new() };
    let page = get(&server, &analyst, "/cases");
    assert_eq!(page.status(), 500);
    let body = page.text().unwrap();
    let number = between(&body, "事件编号 ", ",");
    assert_eq!(number.len(), 8, "{body}");
    for internal in ["parquet", "Parquet", "case_events", "DataFusion", "Arrow", "External", "Error:", "error:"] {
        assert!(!body.contains(internal), "the page shows internal text {internal:?}: {body}");
    }
    let lines: Vec<serde_json::Value> = server.log().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let causes: Vec<&serde_json::Value> = lines.iter().filter(|l| l["fields"]["incident"] == number.as_str() && l["fields"]["cause"].is_string()).collect();
    assert_eq!(causes.len(), 1, "one line with the incident and its cause");
    let cause = causes[0]["fields"]["cause"].as_str().unwrap();
    assert!(cause.to_lowercase().contains("parquet"), "the cause is logged: {cause}");
    assert_eq!(causes[0]["span"]["route"], "/cases");
    let request = lines.iter().find(|l| l["span"]["incident"] == number.as_str() && l["fields"]["status"] == 500).expect("the request's line carries the incident");
    assert_eq!(request["span"]["user"], "analyst");
    assert!(request["fields"]["ms"].is_u64());
}

#[test]
fn scoped_sql_sessions_expire_and_logins_are_throttled() {
    let server = start("dashboard-limits", "[server]\nsession_ttl_secs = 3\n");
    let (lake, config) = (server.lake.to_str().unwrap().to_string(), server.lake.parent().unwrap().join("xuncha.toml"));
    let add = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", &lake, "--config", config.to_str().unwrap(), "user", "add", "town_analyst", "--role", "analyst", "--scope", "430223101000"])
        .env("XUNCHA_PASSWORD", "town analyst pw")
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let duplicate = xuncha(&["--lake", &lake, "user", "add", "town_analyst", "--role", "analyst"]);
    assert!(!duplicate.status.success());

    let response = try_login(&server.base, "town_analyst", "town analyst pw");
    assert_eq!(response.status(), 303);
    let cookie = session_set_cookie(&response);
    let mut session = Login { cookie: cookie.split(';').next().unwrap().to_string(), csrf: String::new(), set_cookie: cookie };
    session.csrf = between(&get(&server, &session, "/sql").text().unwrap(), "name=\"csrf\" value=\"", "\"");
    let towns = post(&server, &session, "/sql", &[("csrf", &session.csrf), ("sql", "SELECT DISTINCT substr(village_code, 1, 9) AS t FROM subsidy_payments")]).text().unwrap();
    assert!(towns.contains("<td>430223101</td>") && !towns.contains("<td>430223102</td>"), "scoped SQL sees one town");
    let deaths = post(&server, &session, "/sql", &[("csrf", &session.csrf), ("sql", "SELECT count(*) FROM deaths d WHERE d.id_number NOT IN (SELECT id_number FROM population)")]).text().unwrap();
    assert!(deaths.contains("<td>0</td>"), "deaths are scoped through population");
    let hidden = post(&server, &session, "/sql", &[("csrf", &session.csrf), ("sql", "SELECT * FROM quarantine")]);
    assert_eq!(hidden.status(), 400, "the quarantine's raw rows are not in a scoped session");

    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(get(&server, &session, "/p/overview").status(), 303, "an idle session expires");

    for _ in 0..5 {
        assert_eq!(try_login(&server.base, "leader", "wrong password").status(), 401);
    }
    assert_eq!(try_login(&server.base, "leader", &server.passwords["leader"]).status(), 429, "locked after five failures");
    let c = client();
    let (_, token) = form_token(&c, &server.base);
    let no_cookie = c.post(format!("{}/login", server.base)).form(&[("username", "admin"), ("password", server.passwords["admin"].as_str()), ("form_token", &token)]).send().unwrap();
    assert_eq!(no_cookie.status(), 403, "login CSRF: the form token must match its cookie");
}
