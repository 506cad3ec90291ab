//! Attacks on the real server and the real SQL session, each one a test that
//! failed before its defence (issue 21): hostile SQL that once crashed the
//! process or read other towns' ID numbers through errors, masking on every
//! page, finding, export and download, the login and session attacks, the
//! audit log cut short or rebuilt, CSV formulas, resource limits and
//! hardening headers.

use crate::common::{full_ids, rows, scratch, xuncha};
use crate::dashboard::{Login, PAGES, Server, client, get, login, post, start, try_login};
use reqwest::header::{CACHE_CONTROL, LOCATION};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

/// The town the scoped users see.
const TOWN: &str = "430223101000";

/// A config with the audit anchor inside the test's own folder.
pub(crate) fn config_with(dir_name: &str, extra: &str) -> String {
    let anchor = scratch(&format!("{dir_name}-anchor"));
    format!("[server]\naudit_anchor_dir = \"{}\"\n{extra}", anchor.display())
}

/// `xuncha --lake … --config …` for a server's lake.
fn cli(server: &Server, args: &[&str]) -> std::process::Output {
    let config = server.lake.parent().unwrap().join("xuncha.toml");
    let mut all = vec!["--lake", server.lake.to_str().unwrap(), "--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    xuncha(&all)
}

/// Adds a user through the command line and remembers the password.
pub(crate) fn add_user(server: &mut Server, name: &str, role: &str, extra: &[&str]) {
    let config = server.lake.parent().unwrap().join("xuncha.toml");
    let password = format!("{name} password 2026");
    let mut args = vec!["--lake", server.lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "user", "add", name, "--role", role];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_xuncha")).args(&args).env("XUNCHA_PASSWORD", &password).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.passwords.insert(name.to_string(), password);
}

/// Posts one console query; (status, the page's message or result).
fn sql(server: &Server, who: &Login, query: &str) -> (u16, String) {
    let response = post(server, who, "/sql", &[("csrf", &who.csrf), ("sql", query)]);
    let status = response.status().as_u16();
    let body = response.text().unwrap_or_default();
    let shown = if status == 200 {
        body.split("<table").nth(1).map(|t| t.split("</table>").next().unwrap_or_default().to_string()).unwrap_or_default()
    } else {
        body.split("role=\"alert\">").nth(1).map(|t| t.split('<').next().unwrap_or_default().to_string()).unwrap_or(body)
    };
    (status, shown)
}

fn alive(server: &Server, who: &Login) {
    let started = Instant::now();
    assert_eq!(get(server, who, "/p/overview").status(), 200, "the server still serves pages");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Statements that must be refused, fail cleanly or be cut off, never end the process.
fn hostile_statements() -> Vec<(String, &'static str)> {
    let mut s: Vec<(String, &'static str)> = Vec::new();
    let mut add = |sql: String, expect: &'static str| s.push((sql, expect));
    // The read-only guard.
    for q in [
        "DROP TABLE population",
        "DELETE FROM population",
        "INSERT INTO findings SELECT * FROM findings",
        "UPDATE population SET name = 'x'",
        "CREATE TABLE t AS SELECT 1",
        "CREATE VIEW v AS SELECT 1",
        "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/xuncha-pwned.csv'",
        "COPY population TO '/tmp/xuncha-pwned.parquet'",
        "SET datafusion.execution.target_partitions = 1000",
        "SET datafusion.runtime.memory_limit = '100T'",
        "SELECT 1; DROP TABLE population",
        "SELECT 1; SELECT 2",
        "PREPARE p AS SELECT 1",
        "BEGIN",
        "DROP VIEW villages",
        "CREATE FUNCTION f() RETURNS INT RETURN 1",
        "SELECT * INTO t2 FROM population",
        "TRUNCATE population",
        "ALTER TABLE population ADD COLUMN x INT",
    ] {
        add(q.to_string(), "refused");
    }
    for q in [
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'file:///etc/passwd'",
        "SELECT * FROM 'https://example.com/x.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/etc/passwd')",
        "SELECT * FROM quarantine_raw_rows_that_do_not_exist",
        "SELECT nonsense(",
        "SELECT 1/0",
        "SELECT CAST('x' AS INT)",
        "SELECT arrow_cast('x', 'Int64')",
    ] {
        add(q.to_string(), "error");
    }
    // Depth and size: once a stack overflow that aborted the server.
    add(format!("SELECT 1{}", "-1".repeat(10_000)), "refused");
    add(format!("SELECT 1{}", "-1".repeat(1_500)), "refused");
    add(format!("SELECT 1{}", "+1".repeat(3_000)), "refused");
    add(format!("SELECT 1{}", " OR 1=1".repeat(2_000)), "refused");
    add(format!("SELECT 1{}", " AND true".repeat(2_000)), "refused");
    add(format!("SELECT 'a'{}", " || 'a'".repeat(5_000)), "refused");
    add(format!("SELECT {}1{}", "(".repeat(3_000), ")".repeat(3_000)), "error");
    add(format!("SELECT {}1{}", "abs(".repeat(2_000), ")".repeat(2_000)), "error");
    add(format!("SELECT {}1", "-".repeat(5_000)), "error");
    add(format!("SELECT {}1{}", "CASE WHEN true THEN ".repeat(1_000), " END".repeat(1_000)), "error");
    add(format!("SELECT {} 1 {}", "(SELECT".repeat(500), ")".repeat(500)), "error");
    add(format!("SELECT 1 {}", "UNION ALL SELECT 1 ".repeat(2_000)), "refused");
    add(format!("SELECT 1 FROM population p0 {}", (1..300).map(|i| format!("JOIN population p{i} ON p{i}.id_number = p0.id_number ")).collect::<String>()), "refused");
    add(format!("SELECT 1 FROM (VALUES (1)) t0 {}", (1..200).map(|i| format!("CROSS JOIN (VALUES ({i})) t{i} ")).collect::<String>()), "refused");
    add(format!("SELECT 1 FROM population p0 {}", (1..40).map(|i| format!("JOIN population p{i} ON p{i}.id_number = p0.id_number ")).collect::<String>()), "survives");
    add(format!("SELECT '{}'", "x".repeat(70_000)), "refused");
    add(format!("SELECT count(*) FROM population WHERE id_number IN ({})", (0..3_000).map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",")), "ok");
    add(format!("SELECT 1{}", "-1".repeat(100)), "ok");
    // Memory outside the pool, result bytes, recursion.
    for q in [
        "SELECT length(repeat('x', 1000000000))",
        "SELECT repeat('x', 200000000)",
        "SELECT lpad('x', 1000000000, 'y')",
        "SELECT rpad('x', 1000000000)",
        "SELECT cardinality(array_repeat(1, 1000000000))",
        "SELECT cardinality(range(1, 1000000000))",
        "SELECT cardinality(generate_series(1, 2000000000))",
        "SELECT length(repeat(name, 100000000)) FROM population LIMIT 1",
        "WITH RECURSIVE t(s, n) AS (SELECT 'x', 1 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT length(s) FROM t",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        "SELECT repeat('x', 1000000) FROM generate_series(1, 100)",
        "SELECT repeat(id_number, 50000) FROM population",
    ] {
        add(q.to_string(), "error");
    }
    for q in [
        "SELECT value FROM generate_series(1, 100000000000)",
        "SELECT a.id_number FROM population a CROSS JOIN population b",
        "SELECT count(*) FROM population",
        "EXPLAIN SELECT * FROM deaths",
        "SHOW TABLES",
        "DESCRIBE population",
        "SELECT * FROM information_schema.df_settings LIMIT 5",
    ] {
        add(q.to_string(), "ok");
    }
    s
}

#[test]
fn hostile_sql_never_ends_the_server_and_scoped_probes_learn_nothing() {
    let mut server = start("security-sql", &config_with("security-sql", "[engine]\nquery_timeout_secs = 20\nmemory_limit_mb = 2048\n"));
    add_user(&mut server, "town_analyst", "analyst", &["--scope", TOWN]);
    let analyst = login(&server, "analyst");
    let town = login(&server, "town_analyst");

    let statements = hostile_statements();
    for (query, expect) in &statements {
        for who in [&analyst, &town] {
            let (status, shown) = sql(&server, who, query);
            let head: String = query.chars().take(80).collect();
            match *expect {
                "refused" => {
                    assert!(status == 400 && ["只允许只读查询", "嵌套过深", "上限", "一次只能", "不支持", "语法错误", "过长", "过大"].iter().any(|w| shown.contains(w)), "{head}: {status} {shown}")
                }
                "error" => assert_eq!(status, 400, "{head}: {shown}"),
                "survives" => assert!(status == 200 || status == 400, "{head}: {status} {shown}"),
                _ => assert_eq!(status, 200, "{head}: {shown}"),
            }
            assert!(!shown.contains("panicked") && !shown.contains("stack overflow"), "{head}: {shown}");
        }
        alive(&server, &analyst);
    }
    let huge = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", &"x".repeat(300_000))]);
    assert_eq!(huge.status(), 413);
    assert!(huge.text().unwrap().contains("超过上限"), "a body over the limit is refused in Chinese");
    assert!(!std::path::Path::new("/tmp/xuncha-pwned.csv").exists() && !std::path::Path::new("/tmp/xuncha-pwned.parquet").exists());

    // The command line refuses the same statement instead of aborting.
    let out = cli(&server, &["sql", &format!("SELECT 1{}", "-1".repeat(10_000))]);
    assert_eq!(out.status.code(), Some(1), "xuncha sql exits with an error, not a signal: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("嵌套过深"));

    // Side channels: for every scoped table, a key outside the town. An
    // error-raising, a cast and a slow predicate on that key must behave
    // exactly as on a key that exists nowhere; for the unscoped analyst the
    // same probe does see the key (so the probe is real).
    // (table, key column, the condition that puts a row in the town)
    let in_town = "IN (SELECT id_number FROM population WHERE village_code LIKE '430223101%')";
    let targets: Vec<(&str, &str, String)> = vec![
        ("population", "id_number", "village_code LIKE '430223101%'".into()),
        ("subsidy_payments", "payment_id", "village_code LIKE '430223101%'".into()),
        ("welfare_jobs", "job_id", "village_code LIKE '430223101%'".into()),
        ("cadres", "id_number", "org_code LIKE '430223101%'".into()),
        ("deaths", "id_number", format!("id_number {in_town}")),
        ("social_insurance", "id_number", format!("id_number {in_town}")),
        ("vehicles", "owner_id_number", format!("owner_id_number {in_town}")),
        ("businesses", "credit_code", "village_code LIKE '430223101%'".into()),
        ("business_people", "credit_code", "credit_code IN (SELECT credit_code FROM businesses WHERE village_code LIKE '430223101%')".into()),
        ("attendance", "job_id", "job_id IN (SELECT job_id FROM welfare_jobs WHERE village_code LIKE '430223101%')".into()),
        ("findings", "entity_key", "village_code LIKE '430223101%'".into()),
        ("petitions", "petition_id", "village_code LIKE '430223101%'".into()),
        ("finance_vouchers", "voucher_id", "village_code LIKE '430223101%'".into()),
        ("contracts", "contract_id", "village_code LIKE '430223101%'".into()),
    ];
    let targets: Vec<(&str, &str, String)> = targets
        .into_iter()
        .map(|(table, column, in_scope)| {
            let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} NOT IN (SELECT {column} FROM {table} WHERE {in_scope} AND {column} IS NOT NULL) LIMIT 1");
            let key = rows(&server.lake, &sql).first().map(|r| r[0].clone()).unwrap_or_else(|| panic!("no out-of-town row: {sql}"));
            assert!(!key.contains('\''), "{key}");
            (table, column, key)
        })
        .collect();
    let probes = [
        "SELECT count(*) AS n FROM {t} WHERE 1/(CASE WHEN {c} = '{k}' THEN 0 ELSE 1 END) = 1",
        "SELECT count(*) AS n FROM {t} WHERE CAST(CASE WHEN {c} = '{k}' THEN 'x' ELSE '1' END AS INT) = 1",
        "SELECT count(*) AS n FROM {t} WHERE arrow_cast(CASE WHEN {c} = '{k}' THEN 'y' ELSE '2' END, 'Int64') > 0",
        "SELECT count(*) AS n FROM (SELECT {c} FROM {t}) s WHERE 1/(CASE WHEN starts_with({c}, '{k}') THEN 0 ELSE 1 END) = 1",
        "SELECT count(*) AS n FROM {t} x JOIN {t} y ON x.{c} = y.{c} AND 1/(CASE WHEN x.{c} = '{k}' THEN 0 ELSE 1 END) = 1",
        "SELECT count(*) AS n FROM {t} WHERE {c} LIKE '{k}%'",
    ];
    let mut probed = 0;
    for (table, column, key) in &targets {
        for probe in probes {
            let with = |k: &str| probe.replace("{t}", table).replace("{c}", column).replace("{k}", k);
            let scoped = sql(&server, &town, &with(key));
            let nowhere = sql(&server, &town, &with("不存在的键"));
            assert_eq!(scoped, nowhere, "{table}: the town analyst learns about an out-of-town key through {probe}");
            assert_eq!(scoped.0, 200, "{table} {probe}: {scoped:?}");
            probed += 1;
        }
        let (status, _) = sql(&server, &analyst, &probes[0].replace("{t}", table).replace("{c}", column).replace("{k}", key));
        assert_eq!(status, 400, "{table}: the probe does find the key when it is in scope");
    }
    assert!(statements.len() + probed >= 100, "{} statements", statements.len() + probed);

    // Counts about the whole county are not in a scoped session.
    let (status, loads) = sql(&server, &town, "SELECT count(*) AS n FROM ingest_batches WHERE rows_loaded IS NOT NULL OR error IS NOT NULL OR notes IS NOT NULL");
    assert_eq!((status, loads.contains("<td>0</td>")), (200, true), "{loads}");
    let (_, runs) = sql(&server, &town, "SELECT count(*) AS n FROM runs WHERE findings_rows IS NOT NULL OR rule_stats IS NOT NULL");
    assert!(runs.contains("<td>0</td>"), "{runs}");
    alive(&server, &town);
}

#[test]
fn pages_stay_fast_while_two_heavy_console_queries_run() {
    let server = start("security-load", &config_with("security-load", "[engine]\nquery_timeout_secs = 15\n"));
    let analyst = login(&server, "analyst");
    let leader = login(&server, "leader");
    for page in PAGES {
        assert_eq!(get(&server, &leader, page).status(), 200, "{page} (warm-up)");
    }
    let heavy = "SELECT count(*) AS n FROM population a CROSS JOIN population b WHERE a.id_number < b.id_number AND a.name <> b.name";
    let mut times = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| sql(&server, &analyst, heavy));
        }
        std::thread::sleep(Duration::from_millis(500));
        for round in 0..4 {
            for page in PAGES {
                let started = Instant::now();
                assert_eq!(get(&server, &leader, page).status(), 200, "{page} round {round}");
                times.push(started.elapsed());
            }
        }
    });
    times.sort();
    let p95 = times[times.len() * 95 / 100];
    assert!(p95 < Duration::from_secs(1), "page p95 {p95:?} while two heavy queries ran: {times:?}");
}

/// Every bank account and pre-2000 birth date in the lake, and its
/// population's three-character names.
pub(crate) fn secrets(server: &Server) -> (HashSet<String>, HashSet<String>, HashSet<String>) {
    let column = |sql: &str| rows(&server.lake, sql).into_iter().map(|r| r[0].clone()).collect::<HashSet<String>>();
    let names = column("SELECT DISTINCT name FROM population").into_iter().filter(|n| n.chars().count() == 3).collect();
    let accounts = column("SELECT DISTINCT bank_account FROM subsidy_payments WHERE length(bank_account) >= 12");
    let births = column("SELECT DISTINCT CAST(birth_date AS VARCHAR) FROM population WHERE birth_date < DATE '2000-01-01'");
    (names, accounts, births)
}

pub(crate) fn assert_masked(link: &str, text: &str, (names, accounts, births): &(HashSet<String>, HashSet<String>, HashSet<String>)) {
    assert!(full_ids(text).is_empty(), "{link} shows an unmasked ID: {:?}", full_ids(text));
    let chars: Vec<char> = text.chars().collect();
    let leaked: Vec<String> = chars.windows(3).map(|w| w.iter().collect::<String>()).filter(|w| names.contains(w)).collect();
    assert!(leaked.is_empty(), "{link} shows full names: {leaked:?}");
    let digits: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|d| d.len() >= 12).collect();
    assert!(!digits.iter().any(|d| accounts.contains(*d)), "{link} shows a full bank account");
    let dates: Vec<&str> = (0..text.len().saturating_sub(10)).filter_map(|i| text.get(i..i + 10)).filter(|d| births.contains(*d)).collect();
    assert!(dates.is_empty(), "{link} shows birth dates: {dates:?}");
}

/// The text of a Word document (its body's XML without tags), read by Python's zipfile.
pub(crate) fn docx_text(bytes: &[u8]) -> String {
    let path = scratch("security-docx").join("report.docx");
    std::fs::write(&path, bytes).unwrap();
    let out = crate::common::python3()
        .args(["-c", "import re, sys, zipfile; print(re.sub('<[^>]+>', '', zipfile.ZipFile(sys.argv[1]).read('word/document.xml').decode()))", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn leaders_see_no_identity_on_any_page_finding_export_or_download() {
    let server = start("security-crawl", &config_with("security-crawl", ""));
    let secrets = secrets(&server);
    assert!(!secrets.1.is_empty() && !secrets.2.is_empty());
    let rules: Vec<String> = rows(&server.lake, "SELECT DISTINCT rule_id FROM findings ORDER BY 1").into_iter().map(|r| r[0].clone()).collect();
    assert!(rules.len() >= 10, "{rules:?}");
    for user in ["leader", "town_leader"] {
        let who = login(&server, user);
        let mut visited = 0;
        let mut findings = 0;
        let mut pages: Vec<String> = PAGES.iter().map(|p| (*p).to_string()).collect();
        pages.extend(rules.iter().map(|r| format!("/p/findings?rule={r}")));
        // The case workbench: the queue, every rule's queue and their cases.
        pages.push("/cases".into());
        pages.extend(rules.iter().map(|r| format!("/cases?rule={r}")));
        for page in &pages {
            let response = get(&server, &who, page);
            assert_eq!(response.status(), 200, "{user} {page}");
            let headers = response.headers().clone();
            for (name, want) in [
                ("content-security-policy", "frame-ancestors 'none'"),
                ("x-frame-options", "DENY"),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "no-referrer"),
                ("cache-control", "no-store"),
            ] {
                assert!(headers.get(name).is_some_and(|v| v.to_str().unwrap().contains(want)), "{page}: {name}");
            }
            let body = response.text().unwrap();
            assert_masked(page, &body, &secrets);
            visited += 1;
            let mut links: Vec<String> = body.split("href=\"/export/").skip(1).map(|rest| format!("/export/{}", &rest[..rest.find('"').unwrap()]).replace("&amp;", "&")).collect();
            links.extend(body.split("href=\"/finding/").skip(1).take(5).map(|rest| format!("/finding/{}", &rest[..rest.find('"').unwrap()])));
            links.extend(body.split("href=\"/case/").skip(1).take(3).map(|rest| format!("/case/{}", &rest[..rest.find('"').unwrap()])));
            for link in links {
                let response = get(&server, &who, &link);
                assert_eq!(response.status(), 200, "{user} {link}");
                if link.starts_with("/export/") {
                    assert_eq!(response.headers().get(CACHE_CONTROL).unwrap(), "no-store", "{link}");
                } else {
                    findings += 1;
                }
                let text = response.text().unwrap();
                assert_masked(&link, &text, &secrets);
                if link.starts_with("/export/") {
                    let mut csv = csv::ReaderBuilder::new().has_headers(false).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
                    for record in csv.records() {
                        for cell in record.unwrap().iter() {
                            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.trim().parse::<f64>().is_err();
                            assert!(!formula, "{link}: a cell a spreadsheet would run: {cell:?}");
                        }
                    }
                }
                visited += 1;
            }
        }
        for download in ["/report/common-issues.html", "/report/common-issues.docx", "/cases/letter/report.docx"] {
            let response = get(&server, &who, download);
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers().get(CACHE_CONTROL).unwrap(), "no-store");
            let bytes = response.bytes().unwrap();
            let text = if download.ends_with("docx") { docx_text(&bytes) } else { String::from_utf8(bytes.to_vec()).unwrap() };
            assert_masked(download, &text, &secrets);
        }
        assert!(visited > 100 && findings >= rules.len(), "{user}: {visited} pages, {findings} findings");
    }
    // A village of another town: refused plainly, not a 500.
    let town = login(&server, "town_leader");
    for path in ["/export/village/profile?village=430223105201", "/p/village?village=430223105201", "/p/findings?town=430223105000"] {
        let response = get(&server, &town, path);
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.text().unwrap().contains("不在您的范围内"));
    }
}

#[test]
fn logins_sessions_redirects_and_the_audit_log_hold_under_attack() {
    let mut server = start("security-auth", &config_with("security-auth", "trust_forwarded_proto = true\nsession_max_secs = 6\nbulk_identity_daily_rows = 5\n"));
    // 40 parallel wrong passwords: five are checked, the rest refused, and
    // then even the right one is refused.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40).map(|_| s.spawn(|| try_login(&server.base, "leader", "wrong password").status().as_u16())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 35);
    let right = server.passwords["leader"].clone();
    let burst: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32).map(|_| s.spawn(|| try_login(&server.base, "leader", &right).status().as_u16())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(burst.iter().all(|s| *s == 429), "{burst:?}");

    // Open redirects and header injection through `next`.
    for next in ["/\\evil.example", "/%09/evil.example", "/\t/evil.example", "//evil.example", "https://evil.example", "/p/overview\r\nSet-Cookie: x=1"] {
        let c = client();
        let (cookie, token) = crate::dashboard::form_token(&c, &server.base);
        let response = c
            .post(format!("{}/login", server.base))
            .header("cookie", cookie)
            .form(&[("username", "admin"), ("password", server.passwords["admin"].as_str()), ("form_token", &token), ("next", next)])
            .send()
            .unwrap();
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(response.headers()[LOCATION], "/", "{next:?}");
    }

    // Flooding the audit log through the login form.
    let audit_lines = || std::fs::read_to_string(server.lake.join("_xuncha/audit.jsonl")).map(|t| t.lines().count()).unwrap_or(0);
    let before = audit_lines();
    let long = "x".repeat(60_000);
    for _ in 0..20 {
        assert_eq!(try_login(&server.base, &long, "wrong").status(), 400);
    }
    // (From another address: the flood locks that address out of every login.)
    let flooder = crate::dashboard::client_from([127, 0, 0, 7]);
    for i in 0..80 {
        crate::dashboard::login_with(&flooder, &server.base, &format!("nobody{i}"), "wrong");
    }
    let grown = audit_lines() - before;
    assert!(grown <= auth_budget(), "{grown} audit lines from 100 anonymous failures");

    // Secure cookies behind a TLS proxy.
    let c = client();
    let (cookie, token) = crate::dashboard::form_token(&c, &server.base);
    let behind = c
        .post(format!("{}/login", server.base))
        .header("cookie", cookie)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "admin"), ("password", server.passwords["admin"].as_str()), ("form_token", &token), ("next", "/p/overview")])
        .send()
        .unwrap();
    assert!(crate::dashboard::session_set_cookie(&behind).contains("Secure"));
    assert!(!crate::dashboard::session_set_cookie(&try_login(&server.base, "admin", &server.passwords["admin"])).contains("Secure"));

    // Sessions end with a password change, a role or scope change, a
    // removal, and after the absolute lifetime.
    add_user(&mut server, "wang", "analyst", &[]);
    let changes: [&[&str]; 3] = [&["user", "set", "wang", "--scope", TOWN], &["user", "set", "wang", "--role", "leader"], &["user", "remove", "wang"]];
    for change in changes {
        let wang = login(&server, "wang");
        assert_eq!(get(&server, &wang, "/p/overview").status(), 200);
        let out = cli(&server, change);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(get(&server, &wang, "/p/overview").status(), 303, "{change:?} ends the session");
    }
    let analyst = login(&server, "analyst");
    let out = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", server.lake.to_str().unwrap(), "--config", server.lake.parent().unwrap().join("xuncha.toml").to_str().unwrap(), "user", "passwd", "analyst"])
        .env("XUNCHA_PASSWORD", "a new analyst password")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(get(&server, &analyst, "/p/overview").status(), 303, "a password change ends the session");
    server.passwords.insert("analyst".into(), "a new analyst password".into());
    let admin = login(&server, "admin");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        assert_eq!(get(&server, &admin, "/p/overview").status(), 200, "an active session lives");
        std::thread::sleep(Duration::from_millis(700));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(get(&server, &admin, "/p/overview").status(), 303, "but not past session_max_secs");

    // Bulk identity: masked in the console unless granted, then up to the daily cap.
    let analyst = login(&server, "analyst");
    let ids = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT id_number, name, bank_account FROM subsidy_payments LIMIT 3"), ("format", "csv")]).text().unwrap();
    assert!(full_ids(&ids).is_empty() && ids.lines().count() == 4, "{ids}");
    assert!(cli(&server, &["user", "set", "analyst", "--bulk-identity", "true"]).status.success());
    let analyst = login(&server, "analyst");
    let full = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT id_number FROM population WHERE id_valid(id_number) ORDER BY 1 LIMIT 4"), ("format", "csv")]).text().unwrap();
    assert_eq!(full_ids(&full).len(), 4, "granted: full IDs");
    let over = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT id_number FROM population WHERE id_valid(id_number) ORDER BY 1 LIMIT 4")]).text().unwrap();
    assert!(full_ids(&over).is_empty() && over.contains("额度"), "past the daily cap of 5 rows: masked");

    // CSV formulas from the console are inert.
    let csv = post(&server, &analyst, "/sql", &[("csrf", &analyst.csrf), ("sql", "SELECT '=1+1' AS a, '+1+1' AS b, '-1+1' AS c, '@SUM(A1)' AS d, -5 AS n"), ("format", "csv")]).text().unwrap();
    assert!(csv.contains("'=1+1,'+1+1,'-1+1,'@SUM(A1),-5"), "{csv}");

    // The audit log: the command line's queries and evidence views are in
    // it; cutting it short or rebuilding it is found.
    assert!(cli(&server, &["sql", "SELECT 42"]).status.success());
    let list = String::from_utf8(cli(&server, &["audit", "list"]).stdout).unwrap();
    assert!(list.contains("sql_cli") && list.contains("SELECT 42") && list.contains("sql_identity"), "{list}");
    assert!(cli(&server, &["audit", "verify"]).status.success());
    let log = server.lake.join("_xuncha/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log, lines[..lines.len() - 5].join("\n") + "\n").unwrap();
    let cut = cli(&server, &["audit", "verify"]);
    assert!(!cut.status.success() && String::from_utf8_lossy(&cut.stderr).contains("截断"), "{cut:?}");
    std::fs::write(&log, &text).unwrap();
    assert!(cli(&server, &["audit", "verify"]).status.success());
}

/// Audit lines 100 anonymous failures may add at most: one minute's budget,
/// and one line that counts the rest.
fn auth_budget() -> usize {
    32
}

#[test]
fn a_slow_client_is_cut_off_and_cannot_hold_its_connection() {
    let server = start("security-slowloris", &config_with("security-slowloris", ""));
    let address = server.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_secs(2));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        slow.set_nonblocking(true).unwrap();
        match slow.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {
                closed = true; // answered (408) and closing
                break;
            }
            Err(_) => {}
        }
        slow.set_nonblocking(false).unwrap();
    }
    assert!(closed && started.elapsed() < Duration::from_secs(20), "a client dribbling headers was held {:?}", started.elapsed());
    assert_eq!(client().get(format!("{}/login", server.base)).send().unwrap().status(), 200);
}
