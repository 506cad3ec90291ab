//! The case workbench on the real server (issue 24): every new route by
//! role and scope, a unit trying every case id it was not given, uploads
//! with bad rows, the wrong type and 20 MB, conflicts between two people,
//! the letters through LibreOffice to PDF and pictures, and the whole
//! workflow in headless Chromium. The server's clock is fixed by
//! `[cases] today`, so hand-overs due before it are late.

use crate::common::{rows, scratch, xuncha_ok};
use crate::dashboard::{Login, Server, client, get, login, post, start};
use crate::security::{add_user, assert_masked, config_with, docx_text, secrets};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use std::path::Path;
use std::process::Command;

/// The demo's unit (`town_unit`) and its town.
const TOWN: &str = "430223101000";
/// The server's today: hand-overs due before it are 逾期.
const TODAY: &str = "2026-12-06";

fn server(name: &str) -> Server {
    start(name, &config_with(name, &format!("[cases]\ntoday = \"{TODAY}\"\n")))
}

/// The ids of cases matching `filter` (SQL over the `cases` view).
fn case_ids(server: &Server, filter: &str) -> Vec<String> {
    rows(&server.lake, &format!("SELECT case_id FROM cases WHERE {filter} ORDER BY case_id")).into_iter().map(|r| r[0].clone()).collect()
}

/// Posts a multipart upload (the browser's form: `csrf`, then `file`).
pub(crate) fn upload(server: &Server, who: &Login, name: &str, bytes: &[u8]) -> reqwest::blocking::Response {
    let boundary = "xunchaBoundary7MA4YWxkTrZu0gW";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n", who.csrf).into_bytes();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    client().post(format!("{}/cases/upload", server.base)).header(COOKIE, &who.cookie).header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}")).body(body).send().unwrap()
}

/// Fills a downloaded 交办单 with openpyxl: `rows` of (case id, verdict, 追缴金额).
fn fill(path: &Path, filled: &[(&str, &str, &str)]) {
    let rows: Vec<(&str, Vec<(&str, String)>)> = filled
        .iter()
        .map(|(case, verdict, money)| {
            let mut cells = vec![("核查结论", verdict.to_string()), ("核查说明", "已入户核实".to_string())];
            if !money.is_empty() {
                cells.push(("追缴金额(元)", money.to_string()));
            }
            (*case, cells)
        })
        .collect();
    fill_cells(path, false, &rows);
}

/// Fills a downloaded 交办单 with openpyxl: for each case id, (column, value)
/// cells, in its row (or, with `new_rows` or when the sheet lacks it, a new row).
pub(crate) fn fill_cells(path: &Path, new_rows: bool, rows: &[(&str, Vec<(&str, String)>)]) {
    let script = r#"
import sys, json, openpyxl
path, new_rows, rows = sys.argv[1], sys.argv[2] == "new", json.loads(sys.argv[3])
wb = openpyxl.load_workbook(path)
ws = wb.active
header = [c.value for c in ws[2]]
col = {name: header.index(name) + 1 for name in header}
found = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
for case, cells in rows:
    r = (None if new_rows else found.get(case)) or ws.max_row + 1
    ws.cell(r, 1, case)
    for name, value in cells:
        ws.cell(r, col[name], value)
wb.save(path)
"#;
    let json = serde_json::to_string(rows).unwrap();
    let out = crate::common::python3().args(["-c", script, path.to_str().unwrap(), if new_rows { "new" } else { "in place" }, &json]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// (线索编号, 问题情况) of each row of a 交办单, read by openpyxl.
fn sheet_words(path: &Path) -> Vec<(String, String)> {
    let script = "import sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).active\nh = [c.value for c in ws[2]]\ni = h.index('问题情况') + 1\nprint('\\n'.join(str(ws.cell(r, 1).value) + '\\t' + str(ws.cell(r, i).value) for r in range(3, ws.max_row + 1)))";
    let out = crate::common::python3().args(["-c", script, path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter_map(|l| l.split_once('\t')).map(|(id, w)| (id.to_string(), w.to_string())).collect()
}

/// The status of an upload too large to send whole: the server answers
/// before the body is read, so the body is written until it refuses more.
fn oversized_upload_status(server: &Server, who: &Login, bytes: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let boundary = "xunchaBoundary7MA4YWxkTrZu0gW";
    let head =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n\r\n", who.csrf);
    let request = format!(
        "POST /cases/upload HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        who.cookie,
        head.len() + bytes
    );
    stream.write_all(request.as_bytes()).unwrap();
    let chunk = vec![b'P'; 64 * 1024];
    let mut sent = 0;
    while sent < bytes && stream.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn the_workbench_by_role_scope_csrf_and_attack() {
    let mut server = server("workbench-http");
    add_user(&mut server, "other_analyst", "analyst", &["--scope", "430223102000"]);
    let (analyst, admin, leader, unit) = (login(&server, "analyst"), login(&server, "admin"), login(&server, "leader"), login(&server, "town_unit"));
    let pending = case_ids(&server, &format!("state = '待交办' AND starts_with(village_code, '{}')", &TOWN[..9]));
    assert!(pending.len() >= 6, "the sample has cases in the first town: {pending:?}");

    // Analysts hand over in bulk: three late, one due soon; units and leaders may not.
    let assign = |who: &Login, ids: &[String], due: &str| {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &who.csrf), ("unit", TOWN), ("due", due)];
        form.extend(ids.iter().map(|id| ("ids", id.as_str())));
        post(&server, who, "/cases/assign", &form).status().as_u16()
    };
    assert_eq!(assign(&unit, &pending[..2], "2026-12-01"), 403);
    assert_eq!(assign(&leader, &pending[..2], "2026-12-01"), 403);
    assert_eq!(post(&server, &analyst, "/cases/assign", &[("unit", TOWN), ("due", "2026-12-01"), ("ids", &pending[0])]).status(), 403, "no CSRF token");
    assert_eq!(assign(&analyst, &pending[..3], "2026-12-01"), 400, "a time limit already past is refused on a page");
    let refused = post(&server, &analyst, "/cases/assign", &[("csrf", &analyst.csrf), ("unit", TOWN), ("due", "2026-12-01"), ("ids", &pending[0])]).text().unwrap();
    assert!(refused.contains("早于今天") && refused.contains("2026年12月6日"), "{refused}");
    // Hand-overs made on paper before are recorded from the command line, past limits and all: three late.
    let lake = server.lake.to_str().unwrap().to_string();
    xuncha_ok(&["--lake", &lake, "cases", "assign", &pending[0], &pending[1], &pending[2], "--unit", TOWN, "--due", "2026-12-01"]);
    assert_eq!(assign(&analyst, &pending[3..4], "2026-12-10"), 303);
    let queue = get(&server, &analyst, "/cases?state=%E5%B7%B2%E4%BA%A4%E5%8A%9E").text().unwrap();
    assert!(!queue.contains("已将"), "no notice without a hand-over");
    let handed = post(&server, &analyst, "/cases/assign", &[("csrf", &analyst.csrf), ("unit", TOWN), ("due", "2026-12-10"), ("ids", &pending[5])]);
    assert_eq!(handed.status(), 303);
    let notice = get(&server, &analyst, handed.headers()[reqwest::header::LOCATION].to_str().unwrap()).text().unwrap();
    assert!(notice.contains("已将 <strong>1</strong> 条线索交办给"), "the hand-over is confirmed in words: {notice}");
    let deadlines = rows(&server.lake, &format!("SELECT case_id, state, unit_code FROM cases WHERE case_id IN ('{}') ORDER BY case_id", pending[..4].join("','")));
    assert!(deadlines.iter().all(|r| r[1] == "已交办" && r[2] == TOWN), "{deadlines:?}");

    // The unit: only its own cases, in full; everything else refused.
    let queue = get(&server, &unit, "/cases").text().unwrap();
    for id in &pending[..4] {
        assert!(queue.contains(id.as_str()), "the unit's queue lists {id}");
    }
    let others = case_ids(&server, &format!("unit_code IS NULL OR unit_code <> '{TOWN}'"));
    assert!(others.len() > 20, "{} other cases", others.len());
    assert!(others.iter().all(|id| !queue.contains(id.as_str())), "the unit's queue lists no other case");
    let own = get(&server, &unit, &format!("/case/{}", pending[0]));
    assert_eq!(own.status(), 200);
    let own = own.text().unwrap();
    assert!(own.contains("class=\"sentence\"") && own.contains("原始数据") && own.contains("提交核查结论"), "the case page in words, with the unit's form");
    for id in &others {
        assert_eq!(get(&server, &unit, &format!("/case/{id}")).status(), 404, "a unit reads {id}, not handed to it");
        let response = post(&server, &unit, &format!("/case/{id}"), &[("csrf", &unit.csrf), ("action", "verdict"), ("expect", "已交办"), ("verdict", "不属实"), ("note", "x")]);
        assert_eq!(response.status(), 404, "a unit answers {id}, not handed to it");
    }
    for path in [
        "/p/overview",
        "/p/findings",
        "/sql",
        "/admin/users",
        "/export/findings/list",
        "/report/common-issues.html",
        "/cases/letter/report.docx",
        &format!("/finding/r/deceased_paid/{}", "0".repeat(20)),
    ] {
        assert_eq!(get(&server, &unit, path).status(), 403, "a unit opens {path}");
    }
    assert_eq!(get(&server, &unit, "/cases/handover.xlsx?unit=430223102000").status(), 404, "another unit's 交办单");
    assert_eq!(get(&server, &unit, "/").headers()["location"], "/cases", "a unit starts at its queue");

    // The unit answers one case; the same answer again is a conflict, not a lost update.
    let answer = |who: &Login, id: &str| {
        post(
            &server,
            who,
            &format!("/case/{id}"),
            &[("csrf", &who.csrf), ("action", "verdict"), ("expect", "已交办"), ("verdict", "属实"), ("note", "属实"), ("measures", "停发追缴"), ("due", "2027-01-31"), ("recovered", "300.5")],
        )
    };
    assert_eq!(post(&server, &unit, &format!("/case/{}", pending[0]), &[("action", "verdict"), ("expect", "已交办"), ("verdict", "属实")]).status(), 403, "no CSRF token");
    assert_eq!(answer(&leader, &pending[0]).status(), 403, "leaders do not answer");
    // A leader's 批示 and 督办: recorded as events, shown to the unit; a unit may not.
    let lead = |who: &Login, action: &str, id: &str, note: &str| {
        post(&server, who, &format!("/case/{id}"), &[("csrf", &who.csrf), ("action", action), ("expect", "已交办"), ("note", note)]).status().as_u16()
    };
    assert_eq!(lead(&unit, "instruct", &pending[0], "x"), 403, "a unit does not instruct");
    assert_eq!(lead(&analyst, "instruct", &pending[0], "x"), 403, "批示 is a leader's");
    assert_eq!(lead(&leader, "instruct", &pending[0], " "), 400, "an empty 批示 is refused");
    assert_eq!(lead(&leader, "instruct", &pending[0], "请月底前核清并报结果"), 303);
    assert_eq!(lead(&leader, "supervise", &pending[0], "已逾期,请三日内答复"), 303);
    let seen = get(&server, &unit, &format!("/case/{}", pending[0])).text().unwrap();
    assert!(seen.contains("请月底前核清并报结果") && seen.contains("已逾期,请三日内答复") && seen.contains("ol class=\"timeline\""), "the unit sees the leader's words in the timeline");
    assert_eq!(answer(&unit, &pending[0]).status(), 303);
    let case = get(&server, &unit, &format!("/case/{}", pending[0])).text().unwrap();
    assert!(!case.contains("class=\"warning\""), "300.50 recovered within the amount found raises no warning");
    // 销号 in bulk: only cases the data confirmed; the route checks role, CSRF and the cases.
    let close = |who: &Login, ids: &[&str], csrf: bool| {
        let mut form: Vec<(&str, &str)> = if csrf { vec![("csrf", &who.csrf)] } else { vec![] };
        form.extend(ids.iter().map(|id| ("ids", *id)));
        post(&server, who, "/cases/close", &form)
    };
    assert_eq!(close(&unit, &[&pending[0]], true).status(), 403);
    assert_eq!(close(&leader, &[&pending[0]], true).status(), 403);
    assert_eq!(close(&analyst, &[&pending[0]], false).status(), 403, "no CSRF token");
    let refused = close(&analyst, &[&pending[0]], true);
    assert_eq!(refused.status(), 400);
    assert!(refused.text().unwrap().contains("逐条"), "a case the data has not confirmed is closed one by one");
    assert_eq!(rows(&server.lake, &format!("SELECT state FROM cases WHERE case_id = '{}'", pending[0]))[0][0], "整改中");
    let again = answer(&analyst, &pending[0]);
    assert_eq!(again.status(), 409);
    assert!(again.text().unwrap().contains("town_unit"), "the conflict names who changed it first");
    let money = rows(&server.lake, &format!("SELECT state, CAST(recovered AS VARCHAR) FROM cases WHERE case_id = '{}'", pending[0]));
    assert_eq!(money[0], ["整改中", "300.50"]);
    // Two people hand over the same case: the second is refused by name.
    let first = post(&server, &analyst, &format!("/case/{}", pending[4]), &[("csrf", &analyst.csrf), ("action", "assign"), ("expect", "待交办"), ("unit", TOWN), ("due", "2026-12-30")]);
    assert_eq!(first.status(), 303);
    let second = post(&server, &admin, &format!("/case/{}", pending[4]), &[("csrf", &admin.csrf), ("action", "assign"), ("expect", "待交办"), ("unit", "430223102000"), ("due", "2026-12-30")]);
    assert_eq!(second.status(), 409);
    assert!(second.text().unwrap().contains("analyst"));

    // Uploads: the filled 交办单 with bad rows, the wrong type, 20 MB.
    let xlsx = get(&server, &unit, &format!("/cases/handover.xlsx?unit={TOWN}"));
    assert_eq!(xlsx.status(), 200);
    let sheet = scratch("workbench-upload").join("交办单.xlsx");
    std::fs::write(&sheet, xlsx.bytes().unwrap()).unwrap();
    // An analyst of another town downloads this unit's 交办单: none of its cases, no identities.
    let other = login(&server, "other_analyst");
    let foreign = sheet.with_file_name("foreign.xlsx");
    std::fs::write(&foreign, get(&server, &other, &format!("/cases/handover.xlsx?unit={TOWN}")).bytes().unwrap()).unwrap();
    assert!(sheet_words(&foreign).is_empty(), "a scoped analyst's 交办单 lists only its scope");
    let words = sheet_words(&sheet);
    assert!(words.len() >= 3 && words.iter().all(|(_, w)| w.len() > 20 && !w.contains('{')), "each case in words: {words:?}");
    fill(&sheet, &[(&pending[1], "部分属实", "120"), (&pending[2], "大概属实", ""), (&pending[3], "属实", "abc"), (&others[0], "属实", "")]);
    let bytes = std::fs::read(&sheet).unwrap();
    assert_eq!(upload(&server, &leader, "交办单.xlsx", &bytes).status(), 403, "leaders do not upload");
    let imported = upload(&server, &unit, "交办单.xlsx", &bytes);
    assert_eq!(imported.status(), 200);
    let text = imported.text().unwrap();
    for why in ["大概属实", "追缴金额", "或不在您的范围内", "已导入 <strong>1</strong> 行"] {
        assert!(text.contains(why), "{why}: {text}");
    }
    assert_eq!(rows(&server.lake, &format!("SELECT state FROM cases WHERE case_id = '{}'", pending[1]))[0][0], "部分属实");
    assert_eq!(rows(&server.lake, &format!("SELECT state FROM cases WHERE case_id = '{}'", pending[2]))[0][0], "已交办", "a bad row changes nothing");
    let wrong = upload(&server, &unit, "交办单.xlsx", b"%PDF-1.4 not a workbook");
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().unwrap().contains("不是 XLSX"));
    let renamed = upload(&server, &unit, "交办单.pdf", &bytes);
    assert_eq!(renamed.status(), 400);
    let (status, huge) = oversized_upload_status(&server, &unit, 20 << 20);
    assert_eq!(status, 413, "a 20 MB upload is refused: {huge}");
    assert!(huge.contains("5 MB"), "{huge}");

    // Leaders: the funnel, the red card, the scorecard and the drill-down, masked.
    let secrets = secrets(&server);
    let overview = get(&server, &leader, "/p/overview").text().unwrap();
    for part in ["id=\"case_funnel\"", "<polygon", "card red", "id=\"risk_map\"", "/cases?stage="] {
        assert!(overview.contains(part), "the overview has {part}");
    }
    let rectification = get(&server, &leader, "/p/rectification").text().unwrap();
    for part in ["id=\"case_scorecard_unit\"", "id=\"case_scorecard_town\"", "id=\"case_flagged\""] {
        assert!(rectification.contains(part), "the rectification page has {part}");
    }
    assert!(get(&server, &leader, "/p/findings").text().unwrap().contains("属实率"), "the rule catalogue shows each rule's 属实率");
    let late = get(&server, &leader, &format!("/cases?unit={TOWN}&deadline=%E9%80%BE%E6%9C%9F")).text().unwrap();
    assert!(late.contains(pending[2].as_str()) && !late.contains(pending[3].as_str()), "the red card's cases: the late one, not the one due soon");
    for page in ["/cases".to_string(), format!("/case/{}", pending[0]), format!("/case/{}", pending[1])] {
        let response = get(&server, &leader, &page);
        assert_eq!(response.status(), 200, "{page}");
        assert_masked(&page, &response.text().unwrap(), &secrets);
    }
    assert_eq!(get(&server, &leader, &format!("/cases/handover.xlsx?unit={TOWN}")).status(), 403, "full identities are not for leaders");
    assert_eq!(get(&server, &leader, &format!("/cases/letter/jiaoban.docx?unit={TOWN}")).status(), 403);
    for letter in [format!("/cases/letter/duban.docx?unit={TOWN}"), "/cases/letter/report.docx".to_string()] {
        let response = get(&server, &leader, &letter);
        assert_eq!(response.status(), 200, "{letter}");
        assert_masked(&letter, &docx_text(&response.bytes().unwrap()), &secrets);
    }

    // Every action is in the audit log.
    let audit = get(&server, &admin, "/admin/audit").text().unwrap();
    for action in ["交办线索", "提交核查结论", "查看线索", "下载交办单", "导入交办单", "下载文书", "批示", "督办", "销号"] {
        assert!(audit.contains(&format!("<td>{action}</td>")), "audit has {action}, in words");
    }
}

/// Converts a DOCX to PDF with LibreOffice; returns the PDF's text (callers
/// drop whitespace and hyphens: pdftotext breaks long ids at them) and keeps
/// a picture of its first page.
fn to_pdf(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let docx = dir.join(format!("{name}.docx"));
    std::fs::write(&docx, bytes).unwrap();
    let convert = Command::new("soffice")
        .args(["--headless", &format!("-env:UserInstallation=file://{}", dir.join("lo-profile").display()), "--convert-to", "pdf", "--outdir", dir.to_str().unwrap(), docx.to_str().unwrap()])
        .output()
        .expect("LibreOffice (soffice) is installed by scripts/setup");
    assert!(convert.status.success(), "{}", String::from_utf8_lossy(&convert.stderr));
    let pdf = dir.join(format!("{name}.pdf"));
    let picture =
        Command::new("pdftoppm").args(["-png", "-r", "60", "-f", "1", "-l", "1", pdf.to_str().unwrap(), dir.join(name).to_str().unwrap()]).output().expect("pdftoppm is installed by scripts/setup");
    assert!(picture.status.success());
    let text = Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().expect("pdftotext is installed by scripts/setup");
    String::from_utf8_lossy(&text.stdout).into_owned()
}

#[test]
fn the_case_workflow_in_chromium_and_the_letters_through_libreoffice() {
    let server = server("workbench-browser");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(dir.join("node_modules/playwright-core").is_dir(), "playwright-core is not installed: run scripts/setup (bash scripts/test does)");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("it/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let work = scratch("workbench-files");
    let step = |user: &str, step: &str, args: &[&str]| -> String {
        let mut all = vec!["workbench.mjs", &server.base, step, user, &server.passwords[user]];
        all.extend_from_slice(args);
        let out = Command::new("node").args(&all).current_dir(&dir).env("SCREENSHOTS", &shots).output().expect("node runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && stdout.contains(&format!("ok {step}")), "step {step} as {user} failed:\n{stdout}\n{stderr}");
        stdout.into_owned()
    };
    // Two cases handed over on paper earlier, recorded from the command line
    // with their time limit, already past (a page refuses a past limit): late.
    let pending = case_ids(&server, &format!("state = '待交办' AND starts_with(village_code, '{}')", &TOWN[..9]));
    let late: Vec<String> = pending[pending.len() - 2..].to_vec();
    xuncha_ok(&["--lake", server.lake.to_str().unwrap(), "cases", "assign", &late[0], &late[1], "--unit", TOWN, "--due", "2026-12-01"]);
    // An analyst hands six cases over in the browser, in six actions at most.
    let out = step("analyst", "assign", &[TOWN, "2026-12-31"]);
    let picked: Vec<String> = out.lines().find_map(|l| l.strip_prefix("ok assign ")).expect("the picked cases").split(',').map(String::from).collect();
    assert_eq!(picked.len(), 6, "{out}");
    let actions: usize = out.lines().find_map(|l| l.strip_prefix("actions ")).and_then(|n| n.parse().ok()).expect("the actions counted");
    assert!(actions <= 6, "handing over 6 cases took {actions} actions");
    let handed: Vec<String> = picked.iter().chain(&late).cloned().collect();
    // The unit answers one in the form and takes the 交办单 for the rest.
    let sheet = work.join("交办单.xlsx");
    let answered = step("town_unit", "answer", &[sheet.to_str().unwrap()]);
    let answered = answered.trim().trim_start_matches("ok answer ").to_string();
    assert!(handed.contains(&answered), "{answered} not among {handed:?}");
    let late_left = late.iter().find(|id| **id != answered).expect("a late case left");
    let other = handed.iter().find(|id| **id != answered && *id != late_left).expect("another case");
    fill(&sheet, &[(other, "属实", "88.8")]);
    step("town_unit", "upload", &[sheet.to_str().unwrap()]);
    let states = rows(&server.lake, &format!("SELECT case_id, state FROM cases WHERE case_id IN ('{}') ORDER BY case_id", handed.join("','")));
    assert!(states.iter().any(|r| r[0] == answered && r[1] == "整改中"), "{states:?}");
    assert!(states.iter().any(|r| r[0] == *other && r[1] == "属实"), "{states:?}");
    assert!(states.iter().any(|r| r[0] == *late_left && r[1] == "已交办"), "one left unanswered, late: {states:?}");
    // The leader sees the funnel and the red card, and drills down.
    step("leader", "overview", &[]);
    assert!(shots.join("workbench-6-leader-overview.png").is_file());

    // The three letters open in LibreOffice with their headings and a case code.
    let analyst = login(&server, "analyst");
    let letters = scratch("workbench-letters");
    let fetch = |path: &str| {
        let response = get(&server, &analyst, path);
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().unwrap().to_vec()
    };
    let handover: String = to_pdf(&letters, "交办单", &fetch(&format!("/cases/letter/jiaoban.docx?unit={TOWN}"))).chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    assert!(handover.contains("问题线索交办单") && handover.contains(&late_left.replace('-', "")), "{handover}");
    let words = sheet_words(&sheet);
    let (_, late_words) = words.iter().find(|(id, _)| id == late_left).expect("the late case was in the 交办单");
    let first_words: String = late_words.chars().filter(|c| !c.is_whitespace() && *c != '-').take(16).collect();
    assert!(handover.contains(&first_words), "the Word 交办单 says what the XLSX says: {first_words}\n{handover}");
    let reminder: String = to_pdf(&letters, "督办函", &fetch(&format!("/cases/letter/duban.docx?unit={TOWN}"))).chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    assert!(reminder.contains("督办函") && reminder.contains(&late_left.replace('-', "")) && reminder.contains("逾期"), "{reminder}");
    let report: String = to_pdf(&letters, "线索处置情况报告", &fetch("/cases/letter/report.docx")).chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    for heading in ["线索处置情况报告", "一、总体情况", "二、逾期督办", "三、承办单位考核", "五、各规则核查属实率"] {
        assert!(report.contains(heading), "the report lacks {heading}:\n{report}");
    }
    for picture in ["交办单-1.png", "督办函-1.png", "线索处置情况报告-1.png"] {
        assert!(letters.join(picture).is_file() || letters.join(picture.replace("-1", "-01")).is_file(), "{picture} kept for a person to look at");
    }
}
