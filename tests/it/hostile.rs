//! Attacks of issue 31, each failing without its defence: SQL injection
//! through every path segment, query parameter and form field that reaches
//! a query (values are bound, never pasted); identifiers reversed to ID
//! numbers (links and case numbers are keyed MACs); and a grep of the
//! workspace for SQL text built from values.

use crate::common::{full_ids, rows, scratch, xuncha};
use crate::dashboard::{Login, Server, client_from, get, login, login_with, post, start, try_login};
use crate::security::{add_user, assert_masked, config_with, secrets};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;

/// Payloads that broke out of the quotes when sheets pasted values: a
/// placeholder expanded a second time, a quote, a comment, a UNION.
const PAYLOADS: &[&str] = &[
    "${rule_id}",
    "${rule_id}' UNION SELECT id_number, name, CAST(birth_date AS VARCHAR), id_number, name, id_number, id_number, name, id_number, name, name, name, name, name FROM population --",
    "x' OR '1'='1",
    "x'; SELECT id_number FROM population; --",
    "${town}${rule}${term}",
    "$1",
    "$rule_id",
    "'||(SELECT string_agg(id_number, ',') FROM population)||'",
];

fn percent(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

type Secrets = (HashSet<String>, HashSet<String>, HashSet<String>);

/// A response's body, checked: no full ID number, name, account or birth
/// date, no internal error text; and the server still answers.
fn clean(server: &Server, who: &Login, what: &str, status: u16, body: &str, secrets: &Secrets) {
    assert_masked(&format!("{what} ({status})"), body, secrets);
    assert!(!body.contains("DataFusion") && !body.contains("Arrow error") && !body.contains("Schema error") && !body.contains("Error during planning"), "{what} ({status}) shows internal error text");
    assert_eq!(get(server, who, "/p/overview").status(), 200, "alive after {what}");
}

#[test]
fn values_never_become_sql_on_any_route() {
    let mut server = start("hostile-injection", &config_with("hostile-injection", ""));
    add_user(&mut server, "town_analyst", "analyst", &["--scope", "430223101000"]);
    let names = secrets(&server);
    let link = {
        let leader = login(&server, "leader");
        let page = get(&server, &leader, "/p/findings").text().unwrap();
        let href = page.split("href=\"/finding/").nth(1).expect("a finding link").split('"').next().unwrap().to_string();
        href.split('/').map(String::from).collect::<Vec<_>>()
    };
    let (run, rule, key) = (&link[0], &link[1], &link[2]);
    for user in ["leader", "town_leader", "analyst", "town_analyst"] {
        let who = login(&server, user);
        // The finding's path: each segment in turn.
        for payload in PAYLOADS {
            let p = percent(payload);
            for path in [format!("/finding/{p}/{rule}/{key}"), format!("/finding/{run}/{p}/{key}"), format!("/finding/{run}/{rule}/{p}")] {
                let response = get(&server, &who, &path);
                let status = response.status().as_u16();
                assert_eq!(status, 404, "{user} {path}");
                clean(&server, &who, &format!("{user} GET {path}"), status, &response.text().unwrap(), &names);
            }
            // Every filter of every page, and the exports.
            for page in ["overview", "findings", "rectification", "risk", "petitions", "common", "village", "data"] {
                for filter in ["term", "rule", "town", "village", "from", "to"] {
                    let path = format!("/p/{page}?{filter}={p}");
                    let response = get(&server, &who, &path);
                    let status = response.status().as_u16();
                    clean(&server, &who, &format!("{user} GET {path}"), status, &response.text().unwrap(), &names);
                }
            }
            let response = get(&server, &who, &format!("/export/findings/list?term={p}&rule={p}"));
            let status = response.status().as_u16();
            clean(&server, &who, &format!("{user} export"), status, &response.text().unwrap(), &names);
            // The case queue's filters, a case page and the letters.
            for path in [format!("/cases?state={p}&rule={p}&town={p}&unit={p}&deadline={p}&flag={p}&stage={p}"), format!("/case/{p}"), format!("/cases/letter/duban.docx?unit={p}")] {
                let response = get(&server, &who, &path);
                let status = response.status().as_u16();
                let body = String::from_utf8_lossy(&response.bytes().unwrap()).into_owned();
                clean(&server, &who, &format!("{user} GET {path}"), status, &body, &names);
            }
            // The reveal form (analysts): never more than one finding, never a payload's rows.
            if user.ends_with("analyst") {
                for (field, value) in [("run_id", *payload), ("rule_id", *payload), ("key", *payload)] {
                    let mut form = vec![("csrf", who.csrf.as_str()), ("run_id", run.as_str()), ("rule_id", rule.as_str()), ("key", key.as_str())];
                    form.retain(|(k, _)| *k != field);
                    form.push((field, value));
                    let response = post(&server, &who, "/reveal", &form);
                    let status = response.status().as_u16();
                    assert_eq!(status, 404, "{user} reveal with {field}={payload}");
                    clean(&server, &who, &format!("{user} reveal {field}"), status, &response.text().unwrap(), &names);
                }
            }
        }
    }
}

#[test]
fn identifiers_do_not_lead_back_to_id_numbers() {
    let server = start("hostile-ids", &config_with("hostile-ids", ""));
    let leader = login(&server, "leader");
    // Every finding link a leader sees.
    let mut links = HashSet::new();
    for page in ["/p/findings", "/p/overview", "/p/rectification"] {
        let body = get(&server, &leader, page).text().unwrap();
        for part in body.split("href=\"/finding/").skip(1) {
            links.insert(part.split('"').next().unwrap().rsplit('/').next().unwrap().to_string());
        }
    }
    assert!(links.len() >= 10, "{} finding links", links.len());
    // The unkeyed digest of every ID number, account and entity key in the lake.
    let candidates: Vec<String> =
        rows(&server.lake, "SELECT id_number FROM population UNION SELECT entity_key FROM findings UNION SELECT bank_account FROM subsidy_payments WHERE bank_account IS NOT NULL")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    assert!(candidates.len() > 1_000, "{} candidates", candidates.len());
    let reversed: Vec<&String> = candidates.iter().filter(|c| links.contains(&hex::encode(Sha256::digest(c.as_bytes()))[..20])).collect();
    assert!(reversed.is_empty(), "{} of {} finding links reversed by an unkeyed SHA-256, e.g. {:?}", reversed.len(), links.len(), reversed.first());
    // A page shows a link the server opens; the same key made without the office's key does not open.
    let one = links.iter().next().unwrap();
    let body = get(&server, &leader, "/p/findings").text().unwrap();
    let href = body.split("href=\"/finding/").find(|p| p.contains(one.as_str())).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(get(&server, &leader, &format!("/finding/{href}")).status(), 200);

    // Case numbers: neither the old unkeyed digest of rule|subject nor of the subject alone.
    let cases = rows(&server.lake, "SELECT case_id, rule_id, subject FROM cases");
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for c in &cases {
        let (id, rule, subject) = (&c[0], &c[1], &c[2]);
        let number = id.strip_prefix(&format!("{rule}-")).unwrap_or_else(|| panic!("{id}: the rule, a dash and the number"));
        assert_eq!(number.len(), 12, "{id}");
        let unkeyed = hex::encode(Sha256::digest(format!("{rule}|{subject}").as_bytes()));
        assert!(!unkeyed.starts_with(number) && !hex::encode(Sha256::digest(subject.as_bytes())).starts_with(number), "{id} is an unkeyed digest of its subject");
    }
    // Another run keeps every case's number (a finding finds its case by rule and subject).
    let before: HashSet<String> = cases.iter().map(|c| c[0].clone()).collect();
    let config = server.lake.parent().unwrap().join("xuncha.toml");
    crate::common::xuncha_ok(&["--lake", server.lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "run"]);
    let after: HashSet<String> = rows(&server.lake, "SELECT case_id FROM cases").into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(before, after, "a second run opens no case twice");
}

/// Whether a statement (the text from `format!(` or `push_str(` to the end
/// of its first string literal) builds SQL with interpolated values.
fn builds_sql(statement: &str) -> bool {
    let Some(open) = statement.find('"') else { return false };
    let literal: String = statement[open + 1..]
        .chars()
        .scan(false, |escaped, c| {
            let end = c == '"' && !*escaped;
            *escaped = c == '\\' && !*escaped;
            (!end).then_some(c)
        })
        .collect();
    let upper = literal.to_uppercase();
    let sql = ["SELECT ", " FROM ", " WHERE ", "INSERT ", " JOIN ", " AND ", "UNION "].iter().any(|k| upper.contains(k));
    let interpolated = literal.replace("{{", "").replace("}}", "").contains('{');
    sql && interpolated
}

/// The Rust sources of the workspace (not its tests), each with the lines
/// before its `#[cfg(test)]` module.
pub(crate) fn workspace_sources() -> Vec<(String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = ["core", "pipeline", "queries", "cases", "dashboard", "synth", "src"].iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("tests") && !path.ends_with("target") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") && !path.ends_with("properties.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let lines = text.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]")).map(String::from).collect();
                out.push((path.strip_prefix(root).unwrap().display().to_string(), lines));
            }
        }
    }
    out
}

/// The mark a line building SQL *code* (an identifier or expression of a
/// rule file, a placeholder's name) carries on it or the line above.
const CODE_MARK: &str = "SQL code, not values";

#[test]
fn no_sql_text_is_built_from_values() {
    let mut found = Vec::new();
    let sources = workspace_sources();
    assert!(sources.len() > 50, "{} files", sources.len());
    for (file, lines) in &sources {
        for (i, line) in lines.iter().enumerate() {
            let statement: String = lines[i..lines.len().min(i + 6)].join("\n");
            let marked = line.contains(CODE_MARK) || (i > 0 && lines[i - 1].contains(CODE_MARK)) || (i > 1 && lines[i - 2].contains(CODE_MARK));
            let building = ["format!(", "push_str(", "write!(", "concat!("].iter().filter_map(|m| line.find(m).map(|at| &statement[at..])).any(builds_sql);
            let pasting = line.contains(".replace(\"${") || line.contains("replace(\"$");
            if (building || pasting) && !marked {
                found.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "SQL text built from values (bind them with xuncha_queries::sheet::Bound):\n{}", found.join("\n"));
    // The check finds what it looks for.
    assert!(builds_sql("format!(\"SELECT * FROM t WHERE id = '{id}'\")") && builds_sql("push_str(&format!(\" AND unit_code = {}\", quote(u)))"));
    assert!(!builds_sql("format!(\"{unit_name}({unit}):\")") && !builds_sql("format!(\"SELECT 1\")"));
}

/// The demo's unit (`town_unit`) and its town.
const TOWN: &str = "430223101000";

/// Posts a multipart upload of a 交办单 as `who`: its status and page.
fn upload(server: &Server, who: &Login, name: &str, bytes: &[u8]) -> (u16, String) {
    let response = crate::workbench::upload(server, who, name, bytes);
    (response.status().as_u16(), response.text().unwrap_or_default())
}

/// A zip (XLSX) rewritten by Python: member `name` becomes `prefix` + `filler` × `times` + `suffix`
/// (streamed, so a bomb of any size is made in constant memory).
fn bomb(name: &str, prefix: &str, filler: &str, times: usize, suffix: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.add_worksheet().write_string(0, 0, "线索编号").unwrap();
    workbook.save(&base).unwrap();
    let out = dir.path().join("bomb.xlsx");
    let script = r#"
import sys, zipfile
src, dst, name, prefix, filler, times, suffix = sys.argv[1:8]
times = int(times)
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        if item.filename != name:
            zout.writestr(item, zin.read(item.filename))
    with zout.open(name, "w", force_zip64=True) as member:
        member.write(prefix.encode())
        chunk = (filler * 4096).encode()
        for _ in range(times // 4096):
            member.write(chunk)
        member.write((filler * (times % 4096)).encode())
        member.write(suffix.encode())
"#;
    let done = crate::common::python3().args(["-c", script, base.to_str().unwrap(), out.to_str().unwrap(), name, prefix, filler, &times.to_string(), suffix]).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    std::fs::read(out).unwrap()
}

const SHEET_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>线索编号</t></is></c></row>";

/// Workbooks that once ended the server or took gigabytes: each refused
/// with a message, the server alive and small after every one.
fn workbook_bombs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let far = |row: u32, col: u16| {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "线索编号").unwrap();
        sheet.write_string(row, col, "x").unwrap();
        workbook.save_to_buffer().unwrap()
    };
    vec![
        ("one cell at XFD1048576", far(1_048_575, 16_383), "超出了交办单的范围"),
        ("cells at A1 and CV1048576", far(1_048_575, 99), "超出了交办单的范围"),
        ("a sheet that unpacks to 300 MB", bomb("xl/worksheets/sheet1.xml", SHEET_HEAD, " ", 300 << 20, "</sheetData></worksheet>"), "压缩炸弹"),
        (
            "a note cell that unpacks to 200 MB",
            bomb("xl/worksheets/sheet1.xml", &format!("{SHEET_HEAD}<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>"), "屎", 70 << 20, "</t></is></c></row></sheetData></worksheet>"),
            "压缩炸弹",
        ),
        (
            "500,000 shared strings",
            bomb("xl/sharedStrings.xml", "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">", "<si><t/></si>", 500_000, "</sst>"),
            "共享字符串",
        ),
        ("two million cells", bomb("xl/worksheets/sheet1.xml", &format!("{SHEET_HEAD}<row r=\"2\">"), "<c/>", 2_000_000, "</row></sheetData></worksheet>"), "单元格"),
    ]
}

#[test]
fn a_units_upload_cannot_end_the_server_and_the_case_stays_whole() {
    let server = start("hostile-cases", &config_with("hostile-cases", "[cases]\ntoday = \"2026-12-06\"\n"));
    let (analyst, unit) = (login(&server, "analyst"), login(&server, "town_unit"));
    let ids = |filter: &str| rows(&server.lake, &format!("SELECT case_id FROM cases WHERE {filter} ORDER BY case_id")).into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let pending = ids(&format!("state = '待交办' AND starts_with(village_code, '{}')", &TOWN[..9]));
    assert!(pending.len() >= 6);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &analyst.csrf), ("unit", TOWN), ("due", "2026-12-30")];
    form.extend(pending[..5].iter().map(|id| ("ids", id.as_str())));
    form.push(("ids", pending[0].as_str()));
    assert_eq!(post(&server, &analyst, "/cases/assign", &form).status(), 303, "a case listed twice in a batch");
    let state = |id: &str| rows(&server.lake, &format!("SELECT state FROM cases WHERE case_id = '{id}'"))[0][0].clone();
    let whole = || {
        let counts = rows(&server.lake, "SELECT count(*), count(DISTINCT case_id) FROM cases");
        assert_eq!(counts[0][0], counts[0][1], "one row per case in the cases view");
        assert!(rows(&server.lake, "SELECT case_id, seq FROM case_events GROUP BY case_id, seq HAVING count(*) > 1").is_empty(), "no repeated seq");
        rows(&server.lake, "SELECT sum(people), sum(recovered) FROM cases");
    };
    whole();

    // A reason of zero-width characters only, money and people past the ceilings: refused by the form.
    let verdict = |id: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", unit.csrf.as_str()), ("action", "verdict"), ("expect", "已交办")];
        form.extend_from_slice(fields);
        post(&server, &unit, &format!("/case/{id}"), &form)
    };
    for reason in ["\u{200B}\u{200B}\u{200B}", "\u{FEFF}\u{2060}", " \u{3000}\u{200D}"] {
        let response = verdict(&pending[0], &[("verdict", "不属实"), ("note", reason)]);
        assert!(response.status().is_client_error(), "{reason:?}: {}", response.status());
        assert_eq!(state(&pending[0]), "已交办", "no reason, no closing");
    }
    for (field, value) in [("recovered", "9999999999999999.99"), ("people", "9223372036854775807"), ("back_paid", "100000000.01")] {
        let response = verdict(&pending[0], &[("verdict", "属实"), ("note", "属实"), (field, value)]);
        assert!(response.status().is_client_error(), "{field}={value}: {}", response.status());
        assert_eq!(state(&pending[0]), "已交办", "{field}={value}");
    }
    let long = "核".repeat(3_000);
    assert!(verdict(&pending[0], &[("verdict", "不属实"), ("note", &long)]).status().is_client_error(), "a 3,000-character reason");
    whole();

    // The 交办单 import: the form's rules exactly; one answer for "not yours" and "does not exist".
    let sheet = scratch("hostile-cases-upload").join("交办单.xlsx");
    std::fs::write(&sheet, get(&server, &unit, &format!("/cases/handover.xlsx?unit={TOWN}")).bytes().unwrap()).unwrap();
    let elsewhere = ids(&format!("NOT starts_with(village_code, '{}')", &TOWN[..9]));
    let cell = |k: &'static str, v: &str| (k, v.to_string());
    let made_up = format!("{}-{}", pending[0].rsplit_once('-').unwrap().0, "0".repeat(12));
    crate::workbench::fill_cells(
        &sheet,
        true,
        &[
            (&pending[1], vec![cell("核查结论", "属实"), cell("核查说明", "属实"), cell("是否移交线索", "是")]),
            (&pending[2], vec![cell("核查结论", "不属实"), cell("核查说明", "\u{200B}\u{200B}")]),
            (&pending[3], vec![cell("核查结论", "属实"), cell("核查说明", "属实"), cell("处理人数", "9223372036854775807")]),
            (&pending[4], vec![cell("核查结论", "属实"), cell("核查说明", "第一行")]),
            (&pending[4], vec![cell("核查结论", "不属实"), cell("核查说明", "第二行")]),
            (&elsewhere[0], vec![cell("核查结论", "属实"), cell("核查说明", "x")]),
            (&made_up, vec![cell("核查结论", "属实"), cell("核查说明", "x")]),
        ],
    );
    let (status, text) = upload(&server, &unit, "交办单.xlsx", &std::fs::read(&sheet).unwrap());
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("线索移交"), "a unit cannot hand a clue on through the sheet: {text}");
    assert!(text.contains("第一行") || text.contains("只填一行"), "a case listed twice: {text}");
    let not_yours = text.split(elsewhere[0].as_str()).nth(1).map(|t| t.chars().take(20).collect::<String>()).unwrap_or_default();
    let nowhere = text.split(made_up.as_str()).nth(1).map(|t| t.chars().take(20).collect::<String>()).unwrap_or_default();
    assert!(!not_yours.is_empty() && not_yours == nowhere, "one answer for another town's case and a made-up one: {not_yours:?} vs {nowhere:?}");
    assert!(!text.contains("未交办给"), "{text}");
    assert_eq!(state(&pending[1]), "已交办", "the row with 线索移交 changed nothing");
    assert_eq!(state(&pending[2]), "已交办", "no visible reason, no closing");
    assert_eq!(state(&pending[3]), "已交办");
    assert_eq!(state(&pending[4]), "属实", "the first of two rows for one case");
    whole();

    // Refusals are audited as refusals, and a flood of them is summarised.
    let audit_lines = || {
        String::from_utf8_lossy(&xuncha(&["--lake", server.lake.to_str().unwrap(), "--config", server.lake.parent().unwrap().join("xuncha.toml").to_str().unwrap(), "audit", "list"]).stdout)
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let before = audit_lines().len();
    for _ in 0..120 {
        assert_eq!(verdict(&elsewhere[0], &[("verdict", "不属实"), ("note", "x")]).status(), 404);
    }
    let after = audit_lines();
    let added = &after[before..];
    assert!(added.len() <= 32, "{} audit lines for 120 refusals", added.len());
    assert!(added.iter().all(|l| l.contains("case_refused")), "refusals are not recorded as verdicts: {added:?}");

    // Workbook bombs as a unit's upload: refused, the server alive and small.
    for (what, bytes, message) in workbook_bombs() {
        assert!(bytes.len() < 5 << 20, "{what}: {} bytes", bytes.len());
        let (status, text) = upload(&server, &unit, "交办单.xlsx", &bytes);
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.contains(message), "{what}: {text}");
        assert_eq!(get(&server, &unit, "/cases").status(), 200, "alive after {what}");
        assert!(server.rss_mib() < 1_500, "{what}: the server grew to {} MiB", server.rss_mib());
    }
}

#[test]
fn inbox_bombs_are_refused_under_an_address_space_limit() {
    let dir = scratch("hostile-inbox-bombs");
    let (inbox, lake) = (dir.join("inbox"), dir.join("lake"));
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let companion = "welfare_jobs/430223_公益岗位.csv";
    std::fs::create_dir_all(inbox.join("welfare_jobs")).unwrap();
    std::fs::create_dir_all(inbox.join("subsidy_payments")).unwrap();
    std::fs::copy(samples.join(companion), inbox.join(companion)).unwrap();
    let bombs = [
        ("430223101000_低保_解压炸弹.xlsx", bomb("xl/worksheets/sheet1.xml", SHEET_HEAD, " ", 1_600 << 20, "</sheetData></worksheet>"), "压缩炸弹"),
        (
            "430223101000_低保_共享字符串.xlsx",
            bomb("xl/sharedStrings.xml", "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">", "<si><t/></si>", 8_100_000, "</sst>"),
            "共享字符串",
        ),
        ("430223101000_低保_单元格.xlsx", bomb("xl/worksheets/sheet1.xml", &format!("{SHEET_HEAD}<row r=\"2\">"), "<c/>", 25_100_000, "</row></sheetData></worksheet>"), "单元格"),
    ];
    for (name, bytes, _) in &bombs {
        assert!(bytes.len() < 20 << 20, "{name}: {} bytes", bytes.len());
        std::fs::write(inbox.join("subsidy_payments").join(name), bytes).unwrap();
    }
    // 3 GiB of address space: the ingest's own needs, not a bomb's.
    let out = std::process::Command::new("bash")
        .args(["-c", "ulimit -v 3145728; exec \"$0\" --lake \"$1\" ingest \"$2\"", env!("CARGO_BIN_EXE_xuncha"), lake.to_str().unwrap(), inbox.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "rejected files, not a crash: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for (name, _, message) in &bombs {
        let line = stdout.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no line for {name}: {stdout}"));
        assert!(line.contains("拒收") && line.contains(message), "{line}");
    }
    let loaded = rows(&lake, "SELECT count(*) FROM welfare_jobs");
    assert!(loaded[0][0].parse::<u64>().unwrap() > 0, "the other file of the delivery loaded");
}

#[test]
fn logins_cannot_be_used_as_a_weapon() {
    let server = start("hostile-logins", &config_with("hostile-logins", ""));
    // 200 concurrent logins with random names: bounded hashing, the process stays small.
    let before = server.rss_mib();
    let base = server.base.as_str();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..200).map(|i| s.spawn(move || try_login(base, &format!("stranger{i}"), "guess").status().as_u16())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(statuses.contains(&429), "beyond the hashing queue: 429 before any hashing");
    assert!(server.rss_mib() < before + 400, "200 logins grew the server from {before} to {} MiB", server.rss_mib());

    // Five wrong guesses from one address do not lock the real user out from another.
    let attempt = |client: &reqwest::blocking::Client, user: &str, password: &str| login_with(client, &server.base, user, password).status().as_u16();
    let (stranger, admin_desk) = (client_from([127, 0, 0, 2]), client_from([127, 0, 0, 3]));
    let statuses: Vec<u16> = (0..8).map(|_| attempt(&stranger, "admin", "wrong")).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(attempt(&stranger, "admin", &server.passwords["admin"]), 429, "the stranger's address is locked for admin");
    assert_eq!(attempt(&admin_desk, "admin", &server.passwords["admin"]), 303, "the admin logs in from their own machine");
    // Spraying names from one address meets a per-address limit.
    let sprayer = client_from([127, 0, 0, 4]);
    let sprayed: Vec<u16> = (0..60).map(|i| attempt(&sprayer, &format!("user{}", i % 10), "guess")).collect();
    assert!(sprayed.iter().filter(|s| **s == 401).count() <= 30 && sprayed.ends_with(&[429]), "{sprayed:?}");
    // Eight parallel logins with the right password all succeed.
    let desk = client_from([127, 0, 0, 5]);
    let right: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| attempt(&desk, "analyst", &server.passwords["analyst"]))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(right, [303; 8]);
}

#[test]
fn a_body_sent_a_byte_at_a_time_is_let_go() {
    use std::io::{Read, Write};
    let server = start("hostile-slow-body", &config_with("hostile-slow-body", "body_read_secs = 3\n"));
    let who = login(&server, "analyst");
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let body = format!("csrf={}&sql=SELECT+1", who.csrf);
    write!(stream, "POST /sql HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n", who.cookie, body.len()).unwrap();
    let started = std::time::Instant::now();
    stream.set_read_timeout(Some(std::time::Duration::from_millis(100))).unwrap();
    let mut answer = Vec::new();
    for byte in body.bytes() {
        if stream.write_all(&[byte]).is_err() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        let mut buffer = [0u8; 4096];
        if let Ok(n) = stream.read(&mut buffer) {
            answer.extend_from_slice(&buffer[..n]);
            if n == 0 || !answer.is_empty() {
                break;
            }
        }
        assert!(started.elapsed().as_secs() < 15, "still open after {:?}", started.elapsed());
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed().as_secs() < 10, "let go after {:?}", started.elapsed());
    assert_eq!(get(&server, &who, "/p/overview").status(), 200);
}

#[test]
fn forged_audit_entries_and_case_history_are_found() {
    let server = start("hostile-forgery", &config_with("hostile-forgery", ""));
    let config = server.lake.parent().unwrap().join("xuncha.toml");
    let cli = |args: &[&str]| {
        let mut all = vec!["--lake", server.lake.to_str().unwrap(), "--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        xuncha(&all)
    };
    // A real change first: the case history is vouched for.
    let analyst = login(&server, "analyst");
    let pending: Vec<String> = rows(&server.lake, &format!("SELECT case_id FROM cases WHERE state = '待交办' AND starts_with(village_code, '{}') ORDER BY case_id LIMIT 2", &TOWN[..9]))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let form = [("csrf", analyst.csrf.as_str()), ("unit", TOWN), ("due", "2026-12-30"), ("ids", pending[0].as_str()), ("ids", pending[1].as_str())];
    assert_eq!(post(&server, &analyst, "/cases/assign", &form).status(), 303);
    let verified = cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));

    // An audit entry appended after the anchor with a valid chain, but unsigned.
    let log = server.lake.join("_xuncha/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let (seq, prev) = (last["seq"].as_u64().unwrap() + 1, last["hash"].as_str().unwrap().to_string());
    let at = "2026-12-07T09:00:00.000+08:00";
    let mut hash = Sha256::new();
    for part in [seq.to_string().as_str(), at, "admin", "login", "", &prev] {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    let forged = serde_json::json!({ "seq": seq, "at": at, "user": "admin", "action": "login", "detail": "", "prev_hash": prev, "hash": hex::encode(hash.finalize()) });
    std::fs::write(&log, format!("{text}{forged}\n")).unwrap();
    let out = cli(&["audit", "verify"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("不是本系统写入的"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&log, &text).unwrap();
    assert!(cli(&["audit", "verify"]).status.success());

    // A case_events commit made by whoever can write the lake's files: 已交办 → 已销号 "by" the unit.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let lake = xuncha_core::lake::Lake::open(&server.lake).unwrap();
        let ctx = xuncha_queries::session::session(&lake, &xuncha_queries::session::SessionOptions::default()).await.unwrap();
        let latest = ctx.sql(&format!("SELECT * FROM case_events WHERE case_id = '{}' ORDER BY seq DESC LIMIT 1", pending[0])).await.unwrap().collect().await.unwrap();
        let batch = &latest[0];
        let schema = xuncha_core::system::case_events_schema();
        let columns: Vec<std::sync::Arc<dyn deltalake::arrow::array::Array>> = schema
            .fields()
            .iter()
            .map(|f| {
                let forged: std::sync::Arc<dyn deltalake::arrow::array::Array> = match f.name().as_str() {
                    "seq" => std::sync::Arc::new(deltalake::arrow::array::Int64Array::from(vec![99])),
                    "state" => std::sync::Arc::new(deltalake::arrow::array::StringArray::from(vec!["已销号"])),
                    "action" => std::sync::Arc::new(deltalake::arrow::array::StringArray::from(vec!["销号"])),
                    "user" => std::sync::Arc::new(deltalake::arrow::array::StringArray::from(vec!["town_unit"])),
                    name => batch.column_by_name(name).unwrap().clone(),
                };
                deltalake::arrow::compute::cast(&forged, f.data_type()).unwrap()
            })
            .collect();
        let forged = deltalake::arrow::array::RecordBatch::try_new(schema.clone(), columns).unwrap();
        lake.append("case_events", schema, vec![forged], None).await.unwrap();
    });
    assert_eq!(rows(&server.lake, &format!("SELECT state FROM cases WHERE case_id = '{}'", pending[0]))[0][0], "已销号", "the forgery shows in the lake");
    let out = cli(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("处置记录") && said.contains(pending[0].as_str()), "{said}");
}

#[test]
fn scoped_users_see_only_their_deliveries_and_no_internal_errors() {
    let mut server = start("hostile-scope", &config_with("hostile-scope", ""));
    add_user(&mut server, "town_analyst", "analyst", &["--scope", TOWN]);
    let who = login(&server, "town_analyst");
    let files: HashSet<String> = rows(&server.lake, "SELECT file FROM ingest_batches").into_iter().map(|r| r[0].clone()).collect();
    assert!(files.len() >= 5);
    let response = post(&server, &who, "/sql", &[("csrf", &who.csrf), ("sql", "SELECT source, file, sha256, rows_read FROM ingest_batches")]);
    let body = response.text().unwrap();
    for file in &files {
        let name = file.rsplit('/').next().unwrap();
        assert!(!body.contains(name), "a town analyst sees the delivered file {name}");
    }
    // Letters for another town's unit: an empty letter or a refusal, never an internal error.
    let town_leader = login(&server, "town_leader");
    for who in [&who, &town_leader] {
        for letter in ["duban", "jiaoban"] {
            let response = get(&server, who, &format!("/cases/letter/{letter}.docx?unit=430223102000"));
            let status = response.status().as_u16();
            let body = String::from_utf8_lossy(&response.bytes().unwrap()).into_owned();
            assert_ne!(status, 500, "{letter}: {body}");
            assert!(!body.contains("Arrow") && !body.contains("DataFusion"), "{letter}: {body}");
        }
    }
}

#[test]
fn console_disguises_show_no_identity_and_bulk_counts_every_one() {
    let mut server = start("hostile-console", &config_with("hostile-console", "bulk_identity_daily_rows = 50\n"));
    add_user(&mut server, "bulk", "analyst", &["--bulk-identity"]);
    let secrets = secrets(&server);
    let analyst = login(&server, "analyst");
    let run = |who: &Login, sql: &str| {
        let response = post(&server, who, "/sql", &[("csrf", &who.csrf), ("sql", sql), ("format", "csv")]);
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    };
    for sql in [
        "SELECT name AS x FROM population LIMIT 20",
        "SELECT id_birth_date(id_number) AS d FROM population LIMIT 20",
        "SELECT birth_date FROM population LIMIT 20",
        "SELECT CAST(birth_date AS VARCHAR) AS t FROM population LIMIT 20",
        "SELECT substr(id_number, 1, 9) AS a, substr(id_number, 10) AS b FROM population LIMIT 20",
        "SELECT 'X' || id_number AS a, id_number || 'X' AS b FROM population LIMIT 20",
        "SELECT subject FROM cases LIMIT 20",
        "SELECT upper(subject) AS s FROM cases LIMIT 20",
        "SELECT string_agg(id_number, ',') AS ids FROM population",
        "SELECT string_agg(name, ',') AS names FROM population",
        "SELECT (SELECT max(id_number) FROM population) AS m",
        "SELECT v FROM (SELECT bank_account AS v FROM subsidy_payments) t LIMIT 20",
        "SELECT name FROM population UNION ALL SELECT id_number FROM population LIMIT 40",
        "SELECT first_value(id_number) OVER (ORDER BY name) AS f FROM population LIMIT 5",
        "SELECT replace(id_number, '4', 'A') AS r FROM population LIMIT 20",
    ] {
        let (status, text) = run(&analyst, sql);
        assert_eq!(status, 200, "{sql}: {text}");
        assert_masked(sql, &text, &secrets);
        // Pieces of an ID: no run of 9 or more digits that begins an ID number of the lake.
        let starts: HashSet<String> = rows(&server.lake, "SELECT DISTINCT substr(id_number, 10) FROM population").into_iter().map(|r| r[0].clone()).collect();
        assert!(!text.split(|c: char| !c.is_ascii_alphanumeric()).any(|t| t.len() >= 8 && starts.contains(t)), "{sql}: a piece of an ID number\n{text}");
    }
    // What is not identity stays readable: counts, codes, amounts.
    let (_, counts) = run(&analyst, "SELECT village_code, count(DISTINCT id_number) AS people FROM population GROUP BY village_code ORDER BY 1 LIMIT 3");
    assert!(counts.lines().nth(1).is_some_and(|l| l.starts_with("430223") && !l.contains('*')), "{counts}");

    // A bulk user: one string_agg of every ID counts every ID against the cap.
    let bulk = login(&server, "bulk");
    let (_, all) = run(&bulk, "SELECT string_agg(id_number, ',') AS ids FROM population");
    assert!(full_ids(&all).is_empty(), "past the cap in one cell: masked\n{}", &all[..all.len().min(300)]);
    let page = post(&server, &bulk, "/sql", &[("csrf", &bulk.csrf), ("sql", "SELECT string_agg(id_number, ',') AS ids FROM population")]).text().unwrap();
    assert!(page.contains("额度"), "the note says the cap was reached");
    let (_, few) = run(&bulk, "SELECT id_number FROM population WHERE id_valid(id_number) ORDER BY 1 LIMIT 10");
    assert_eq!(full_ids(&few).len(), 10, "within the cap: shown in full");
}

#[test]
fn a_cancelled_query_stops_and_frees_the_console() {
    let mut server = start("hostile-cancel", &config_with("hostile-cancel", "console_slots = 2\n[engine]\nquery_timeout_secs = 4\n"));
    add_user(&mut server, "analyst2", "analyst", &[]);
    let heavy = "SELECT count(*) FROM population a CROSS JOIN population b \
                 WHERE regexp_like(repeat(a.name || b.name || a.id_number, 60), '(\\w+\\d*\\s?)+[^\\w\\d\\s]{3}$')";
    let (one, two) = (login(&server, "analyst"), login(&server, "analyst2"));
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for who in [&one, &two] {
            let server = &server;
            s.spawn(move || {
                let response = post(server, who, "/sql", &[("csrf", &who.csrf), ("sql", heavy)]);
                let text = response.text().unwrap();
                assert!(text.contains("超时") || text.contains("取消"), "{text}");
            });
        }
    });
    assert!(started.elapsed().as_secs() < 20, "the time limit answers: {:?}", started.elapsed());
    // Both slots and the query workers are free again at once.
    let quick = std::time::Instant::now();
    let response = post(&server, &one, "/sql", &[("csrf", &one.csrf), ("sql", "SELECT 41 + 1 AS answer")]);
    let text = response.text().unwrap();
    assert!(text.contains("42"), "{text}");
    assert!(quick.elapsed().as_secs() < 5, "the next query waited {:?}", quick.elapsed());
    // The abandoned work stopped: the process is idle again within seconds.
    let cpu = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before = cpu(server.pid());
    std::thread::sleep(std::time::Duration::from_secs(3));
    let used = cpu(server.pid()) - before;
    assert!(used < 150, "the server still burns CPU after the queries were cancelled: {used} ticks in 3 s");
}
