//! The case layer through the real `xuncha` binary on lakes built from the
//! committed samples: the whole lifecycle and every refused step, the data
//! closing and reopening cases across deliveries, and two processes
//! changing one case at once.

use crate::common::{rows, scratch, xuncha, xuncha_ok};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use xuncha_queries::report::q;

/// A lake from `xuncha demo --no-serve` on the samples (cases opened by its run).
fn demo_lake(name: &str) -> PathBuf {
    let dir = scratch(name);
    let lake = dir.join("lake");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "demo", "--no-serve", "--inbox", samples.to_str().unwrap()]);
    lake
}

fn cases(lake: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--lake", lake.to_str().unwrap(), "cases"];
    all.extend_from_slice(args);
    xuncha(&all)
}

fn ok(lake: &Path, args: &[&str]) {
    let out = cases(lake, args);
    assert!(out.status.success(), "cases {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A change that must be refused, with a reason containing `why`; nothing is written.
fn refused(lake: &Path, args: &[&str], why: &str) {
    let before = rows(lake, "SELECT count(*) FROM case_events");
    let out = cases(lake, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains(why), "cases {args:?} should be refused with {why:?}: {stderr}");
    assert_eq!(rows(lake, "SELECT count(*) FROM case_events"), before, "a refused change writes nothing");
}

fn state(lake: &Path, id: &str) -> (String, String) {
    let r = rows(lake, &format!("SELECT state, coalesce(flag, '') FROM cases WHERE case_id = '{id}'"));
    (r[0][0].clone(), r[0][1].clone())
}

/// The ids of the open cases of a rule, in order.
fn case_ids(lake: &Path, rule: &str) -> Vec<String> {
    rows(lake, &format!("SELECT case_id FROM cases WHERE rule_id = '{rule}' ORDER BY case_id")).into_iter().map(|r| r[0].clone()).collect()
}

#[test]
fn a_case_goes_from_finding_to_closure_and_every_wrong_step_is_refused() {
    let lake = demo_lake("cases-lifecycle");
    // One case per subject: deceased_paid's payments to one dead person are one case.
    let per_subject = rows(&lake, "SELECT count(DISTINCT id_number), (SELECT count(*) FROM cases WHERE rule_id = 'deceased_paid') FROM latest_findings WHERE rule_id = 'deceased_paid'");
    assert_eq!(per_subject[0][0], per_subject[0][1]);
    let ids = case_ids(&lake, "deceased_paid");
    assert!(ids.len() >= 3 && ids.iter().all(|id| id.starts_with("deceased_paid-") && id.len() == "deceased_paid-".len() + 12), "{ids:?}");
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    assert_eq!(state(&lake, a), ("待交办".into(), String::new()));

    refused(&lake, &["close", a], "需要案件处于已整改");
    refused(&lake, &["verdict", a, "--result", "属实"], "需要案件处于已交办");
    refused(&lake, &["money", a, "--recovered", "100"], "核查属实之后");
    refused(&lake, &["assign", a, "--unit", "4302231", "--due", "2027-01-15"], "12 位");
    ok(&lake, &["assign", a, b, "--unit", "430223101000", "--due", "2027-01-15"]);
    assert_eq!(state(&lake, a).0, "已交办");
    refused(&lake, &["verdict", a, "--result", "大概属实"], "属实、部分属实 或 不属实");
    refused(&lake, &["verdict", b, "--result", "不属实"], "理由");
    refused(&lake, &["verdict", a, "--result", "属实", "--expect", "待交办"], "冲突");
    ok(&lake, &["verdict", a, "--result", "属实", "--note", "经核实,死亡后仍发放", "--expect", "已交办"]);
    refused(&lake, &["verdict", a, "--result", "属实"], "冲突");
    ok(&lake, &["verdict", b, "--result", "不属实", "--note", "死亡信息登记错误"]);
    assert_eq!(state(&lake, b).0, "排除");
    refused(&lake, &["rectify", b, "--measures", "x", "--due", "2027-02-01"], "需要案件处于属实");
    refused(&lake, &["done", a], "需要案件处于整改中");
    ok(&lake, &["rectify", a, "--measures", "停发并追缴", "--due", "2027-02-01"]);
    ok(&lake, &["money", a, "--recovered", "1,200.50", "--people", "1"]);
    refused(&lake, &["money", a, "--recovered", "12.345"], "金额");
    ok(&lake, &["transfer", a, "--outcome", "立案"]);
    refused(&lake, &["transfer", a, "--outcome", "判刑"], "移交结果");
    ok(&lake, &["done", a]);
    ok(&lake, &["close", a, "--expect", "已整改"]);
    assert_eq!(state(&lake, a).0, "已销号");
    refused(&lake, &["assign", a, "--unit", "430223101000", "--due", "2027-01-15"], "需要案件处于待交办");
    refused(&lake, &["close", "deceased_paid-0000000000"], "没有线索");

    // The history is the table: one event per change, seq without gaps.
    let events = rows(&lake, &format!("SELECT seq, action, state FROM case_events WHERE case_id = '{a}' ORDER BY seq"));
    let actions: Vec<&str> = events.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(actions, ["发现", "交办", "核查", "整改", "资金与处理", "线索移交", "整改完成", "销号"]);
    assert!(events.iter().enumerate().all(|(i, r)| r[0] == (i + 1).to_string()));
    let case = rows(&lake, &format!("SELECT CAST(recovered AS VARCHAR), people, transfer, verdict FROM cases WHERE case_id = '{a}'"));
    assert_eq!(case[0], ["1200.50", "1", "立案", "属实"]);
    // The funnel the dashboard shows (its one definition, `case_stages`).
    let funnel = rows(&lake, "SELECT s.stage, count(cs.case_id) FROM funnel_stages s LEFT JOIN case_stages cs ON cs.step = s.step GROUP BY s.step, s.stage ORDER BY s.step");
    let counts: Vec<(&str, &str)> = funnel[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(counts, [("交办", "2"), ("已核查", "2"), ("属实", "1"), ("整改完成", "1"), ("销号", "1"), ("线索移交", "1"), ("立案", "1")]);
    let closed_money = rows(&lake, "SELECT CAST(sum(c.recovered) AS VARCHAR) FROM case_stages s JOIN cases c ON c.case_id = s.case_id WHERE s.stage = '销号'");
    assert_eq!(closed_money[0][0], "1200.50");
    let by_rule = rows(&lake, &xuncha_queries::report::document_query(q::cases::BY_RULE, &[]).unwrap().sql);
    let dead = by_rule.iter().find(|r| r[0] == "死亡人员仍领取补贴").unwrap();
    assert_eq!(dead[2..4], ["2", "50.0"], "属实率 = 1 属实 of 2 verified");
    // `show` prints the findings with the table versions the run read, and the history.
    let shown = String::from_utf8_lossy(&cases(&lake, &["show", a]).stdout).into_owned();
    assert!(shown.contains("\"subsidy_payments\":") && shown.contains("处置经过(8 条)"), "{shown}");
    // Every change is in the audit log.
    let audit = xuncha_ok(&["--lake", lake.to_str().unwrap(), "audit", "list"]);
    assert!(audit.matches("case_change").count() >= 8, "every change, and every attempt, is audited first: {audit}");
    // A second run changes nothing it should not: no new cases, the closed one is confirmed by the data.
    let before = rows(&lake, "SELECT count(*) FROM cases");
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "run"]);
    assert_eq!(rows(&lake, "SELECT count(*) FROM cases"), before);
    assert_eq!(state(&lake, a), ("已销号".into(), "数据核验通过".into()));
    assert_eq!(state(&lake, b), ("排除".into(), String::new()), "a dismissed case stays closed without a new finding");
    assert_history_numbered(&lake);
}

/// Writes `subsidy_payments` rows for a later month into a new inbox: for
/// each (id_number, program, period) a copy of that person's latest payment
/// of the program (any person's, re-addressed, when they have none).
fn deliver(lake: &Path, inbox: &Path, payments: &[(&str, &str, &str)]) {
    let dir = inbox.join("subsidy_payments");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = String::from("payment_id,program,id_number,name,village_code,period,amount,bank_account,paid_date,department\n");
    for (i, (id, program, period)) in payments.iter().enumerate() {
        let person = rows(lake, &format!("SELECT name, village_code FROM population WHERE id_number = '{id}' LIMIT 1"));
        let template = rows(lake, &format!("SELECT amount, department FROM subsidy_payments WHERE program = '{program}' ORDER BY id_number = '{id}' DESC, period DESC LIMIT 1"));
        let (name, village) = (&person[0][0], &person[0][1]);
        out.push_str(&format!("T{period}{i:04},{program},{id},{name},{village},{period},{},62179900{i:011},{period}-20,{}\n", template[0][0], template[0][1]));
    }
    std::fs::write(dir.join(format!("{}_新增发放.csv", payments[0].2)), out).unwrap();
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
}

#[test]
fn the_data_closes_and_reopens_cases_across_deliveries() {
    let lake = demo_lake("cases-data");
    let subject = |id: &str| rows(&lake, &format!("SELECT subject FROM cases WHERE case_id = '{id}'"))[0][0].clone();
    let dead = case_ids(&lake, "deceased_paid");
    let pension = case_ids(&lake, "pension_missing");
    let family = case_ids(&lake, "cadre_family_dibao");
    let (dead_goes_on, dead_stops, pension_paid, pension_not, family_stops) = (&dead[0], &dead[1], &pension[0], &pension[1], &family[0]);
    let handled = [dead_goes_on, dead_stops, pension_paid, pension_not, family_stops];
    let ids: Vec<&str> = handled.iter().map(|s| s.as_str()).collect();
    let mut assign = vec!["assign"];
    assign.extend(&ids);
    assign.extend(["--unit", "430223000000", "--due", "2027-01-31"]);
    ok(&lake, &assign);
    for id in &ids {
        ok(&lake, &["verdict", id, "--result", "属实", "--note", "核实"]);
        ok(&lake, &["rectify", id, "--measures", "停发、补发", "--due", "2027-02-28"]);
    }
    // November: one dead person is still paid, the other is not; one
    // pensioner now gets a pension, the other still does not.
    let inbox = lake.parent().unwrap().join("inbox-11");
    let dibao = rows(&lake, &format!("SELECT program FROM subsidy_payments WHERE id_number = '{}' ORDER BY period DESC LIMIT 1", subject(dead_goes_on)))[0][0].clone();
    deliver(&lake, &inbox, &[(&subject(dead_goes_on), &dibao, "2026-11"), (&subject(pension_paid), "养老金", "2026-11")]);
    let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "run", "--as-of", "2026-11-30"]);
    assert!(out.contains("整改不实"), "{out}");
    assert_eq!(state(&lake, dead_goes_on), ("整改中".into(), "整改不实".into()), "paid again after the rectification");
    assert_eq!(state(&lake, dead_stops), ("整改中".into(), "数据核验通过".into()), "no payment after the hand-over");
    assert_eq!(state(&lake, pension_paid), ("整改中".into(), "数据核验通过".into()), "the pension is paid: no longer found");
    assert_eq!(state(&lake, pension_not), ("整改中".into(), "整改不实".into()), "still no pension in November");
    assert_eq!(state(&lake, family_stops), ("整改中".into(), "数据核验通过".into()), "no 低保 to the cadre's family after the hand-over");
    // The run read exactly the versions it recorded.
    let versions = rows(&lake, &format!("SELECT table_versions FROM case_findings WHERE case_id = '{dead_goes_on}' ORDER BY run_id DESC LIMIT 1"));
    assert!(versions[0][0].contains("\"subsidy_payments\""), "{versions:?}");

    // Close the stopped one; December pays the dead person again: 反弹, reopened.
    ok(&lake, &["done", dead_stops]);
    ok(&lake, &["close", dead_stops]);
    let inbox = lake.parent().unwrap().join("inbox-12");
    let program = rows(&lake, &format!("SELECT program FROM subsidy_payments WHERE id_number = '{}' ORDER BY period DESC LIMIT 1", subject(dead_stops)))[0][0].clone();
    deliver(&lake, &inbox, &[(&subject(dead_stops), &program, "2026-12")]);
    xuncha_ok(&["--lake", lake.to_str().unwrap(), "run", "--as-of", "2026-12-31"]);
    assert_eq!(state(&lake, dead_stops), ("整改中".into(), "反弹".into()), "closed, then paid again");
    let history = rows(&lake, &format!("SELECT action FROM case_events WHERE case_id = '{dead_stops}' ORDER BY seq"));
    assert_eq!(history.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["发现", "交办", "核查", "整改", "数据核验通过", "整改完成", "销号", "反弹"]);
    assert_history_numbered(&lake);
}

#[test]
fn two_processes_changing_one_case_one_wins_and_the_other_is_told() {
    let lake = demo_lake("cases-concurrent");
    let ids = case_ids(&lake, "identity_mismatch");
    let ids = &ids[..6.min(ids.len())];
    let mut assign = vec!["assign"];
    assign.extend(ids.iter().map(String::as_str));
    assign.extend(["--unit", "430223101000", "--due", "2027-01-31"]);
    ok(&lake, &assign);
    let binary = env!("CARGO_BIN_EXE_xuncha");
    for id in ids {
        let spawn =
            |result: &str| std::process::Command::new(binary).args(["--lake", lake.to_str().unwrap(), "cases", "verdict", id, "--result", result, "--note", "核查"]).env_remove("XUNCHA_LAKE").output();
        let (first, second) = std::thread::scope(|s| {
            let a = s.spawn(|| spawn("属实").unwrap());
            let b = s.spawn(|| spawn("不属实").unwrap());
            (a.join().unwrap(), b.join().unwrap())
        });
        let wins = [&first, &second].iter().filter(|o| o.status.success()).count();
        assert_eq!(wins, 1, "{id}: exactly one verdict lands");
        let loser = if first.status.success() { &second } else { &first };
        let told = String::from_utf8_lossy(&loser.stderr);
        assert!(told.contains("冲突") && told.contains("最近一次由"), "{told}");
    }
    assert_history_numbered(&lake);
}

#[test]
fn a_unit_fills_its_handover_sheet_and_the_good_rows_come_back_once() {
    let lake = demo_lake("cases-xlsx");
    let ids = case_ids(&lake, "deceased_paid");
    let (mine, other) = (&ids[..5], &ids[5]);
    let mut assign = vec!["assign"];
    assign.extend(mine.iter().map(String::as_str));
    assign.extend(["--unit", "430223101000", "--due", "2027-01-31"]);
    ok(&lake, &assign);
    ok(&lake, &["assign", other, "--unit", "430223102000", "--due", "2027-01-31"]);
    let sheet = lake.parent().unwrap().join("交办单.xlsx");
    ok(&lake, &["export", "--unit", "430223101000", "--out", sheet.to_str().unwrap()]);

    // The unit fills it with openpyxl (not our writer); the drop-down list is there.
    let script = r#"
import sys, openpyxl
path, ids = sys.argv[1], sys.argv[2].split(',')
wb = openpyxl.load_workbook(path)
ws = wb.active
header = [c.value for c in ws[2]]
col = {name: header.index(name) + 1 for name in header}
lists = [dv for dv in ws.data_validations.dataValidation if dv.type == 'list']
verdict_letter = openpyxl.utils.get_column_letter(col['核查结论'])
assert any(verdict_letter in str(dv.sqref) and '属实' in dv.formula1 for dv in lists), [(str(dv.sqref), dv.formula1) for dv in lists]
rows = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
assert sorted(rows) == sorted(ids[:5]), (sorted(rows), ids)
def fill(case, **values):
    r = rows.get(case) or ws.max_row + 1
    ws.cell(r, 1, case)
    for name, value in values.items():
        ws.cell(r, col[name], value)
fill(ids[0], 核查结论='属实', 核查说明='死亡后仍发放', 整改措施='停发并追缴', 整改时限='2027-02-28', **{'追缴金额(元)': 1200.5, '处理人数': 1}, 是否移交线索='是', 核查人='王五', 核查日期='2026-12-20')
fill(ids[1], 核查结论='不属实', 核查说明='死亡登记有误,已更正')
fill(ids[2], 核查结论='大概属实')
fill(ids[3], 核查结论='属实', **{'追缴金额(元)': 'abc'})
fill('deceased_paid-0000000000', 核查结论='属实')
fill(ids[5], 核查结论='属实')
wb.save(path)
"#;
    let all: Vec<&str> = ids[..6].iter().map(String::as_str).collect();
    let filled = crate::common::python3().args(["-c", script, sheet.to_str().unwrap(), &all.join(",")]).output().unwrap();
    assert!(filled.status.success(), "{}", String::from_utf8_lossy(&filled.stderr));

    let before = rows(&lake, "SELECT count(*) FROM case_events");
    let out = cases(&lake, &["import", sheet.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "bad rows make the exit status 1: {text}");
    for why in ["大概属实", "追缴金额", "没有线索「deceased_paid-0000000000」", "未交办给 430223101000"] {
        assert!(text.contains(why), "{why}: {text}");
    }
    assert!(text.contains("导入 2 行"), "{text}");
    assert_eq!(state(&lake, &ids[0]).0, "整改中");
    assert_eq!(state(&lake, &ids[1]).0, "排除");
    assert_eq!(state(&lake, &ids[2]).0, "已交办", "a bad row changes nothing");
    assert_eq!(state(&lake, &ids[3]).0, "已交办");
    assert_eq!(state(&lake, &ids[4]).0, "已交办", "a row left blank");
    let money = rows(&lake, &format!("SELECT CAST(recovered AS VARCHAR), people, transfer FROM cases WHERE case_id = '{}'", ids[0]));
    assert_eq!(money[0], ["1200.50", "1", "已移交"]);
    let commits = rows(&lake, "SELECT count(DISTINCT at) FROM case_events WHERE detail LIKE '%xuncha-cases-import%'");
    assert_eq!(commits[0][0], "1", "the good rows land in one commit");
    let after = rows(&lake, "SELECT count(*) FROM case_events");

    let again = cases(&lake, &["import", sheet.to_str().unwrap()]);
    assert!(again.status.success() && String::from_utf8_lossy(&again.stdout).contains("已导入过"));
    assert_eq!(rows(&lake, "SELECT count(*) FROM case_events"), after, "a re-import changes nothing");
    assert_ne!(before, after);
    assert_history_numbered(&lake);
}

/// No case's history repeats or skips a `seq`.
fn assert_history_numbered(lake: &Path) {
    let bad = rows(lake, "SELECT case_id, count(*), count(DISTINCT seq), max(seq) FROM case_events GROUP BY case_id HAVING count(*) <> max(seq) OR count(*) <> count(DISTINCT seq)");
    assert!(bad.is_empty(), "gaps or repeats in seq: {bad:?}");
}

/// Issue 32: the files arrive a few at a time and the rules run after each
/// delivery, as the scheduler runs them; once everything is in, the live
/// cases are exactly those one run on the complete data opens, and the
/// others are withdrawn (已撤销, with their history) and counted nowhere.
#[test]
fn runs_on_partial_deliveries_leave_exactly_the_cases_of_the_complete_data() {
    let complete = demo_lake("cases-complete");
    let as_of = rows(&complete, "SELECT CAST(max(as_of) AS VARCHAR) FROM runs WHERE kind = 'rules'")[0][0].clone();
    let pairs = |lake: &Path, sql: &str| -> BTreeSet<(String, String)> { rows(lake, sql).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect() };
    let want = pairs(&complete, "SELECT rule_id, subject FROM cases");
    assert!(want.len() > 50, "{}", want.len());

    let dir = scratch("cases-partial");
    let lake = dir.join("lake");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let files = |source: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(samples.join(source)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    };
    let payments = files("subsidy_payments");
    let (first_half, second_half) = payments.split_at(payments.len() / 2);
    let deaths = files("deaths");
    let cadres = files("cadres");
    let steps: Vec<Vec<PathBuf>> = vec![
        [files("divisions"), files("population")].concat(),
        first_half.to_vec(),
        [vec![cadres[0].clone()], files("finance_vouchers")].concat(),
        deaths[..deaths.len() / 2].to_vec(),
        [second_half.to_vec(), files("social_insurance")].concat(),
    ];
    let delivered: BTreeSet<PathBuf> = steps.iter().flatten().cloned().collect();
    let mut rest: Vec<PathBuf> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .flat_map(|d| files(d.file_name().unwrap().to_str().unwrap()))
        .filter(|f| !delivered.contains(f))
        .collect();
    rest.sort();
    let mut opened_on_the_way = 0;
    for (step, batch) in steps.into_iter().chain([rest]).enumerate() {
        let inbox = dir.join(format!("inbox-{step}"));
        for file in &batch {
            let to = inbox.join(file.parent().unwrap().file_name().unwrap()).join(file.file_name().unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(file, &to).unwrap();
        }
        xuncha(&["--lake", lake.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
        let out = xuncha_ok(&["--lake", lake.to_str().unwrap(), "run", "--as-of", &as_of]);
        if step == 0 {
            assert!(out.contains("未运行,等待数据齐全") && out.contains("尚未报送"), "rules wait for their sources and say why: {out}");
        }
        opened_on_the_way = opened_on_the_way.max(rows(&lake, "SELECT count(*) FROM cases")[0][0].parse().unwrap());
        assert_history_numbered(&lake);
    }
    let live = pairs(&lake, "SELECT rule_id, subject FROM cases WHERE state <> '已撤销'");
    assert_eq!(live.len(), want.len(), "live cases: {} more, {} fewer", live.difference(&want).count(), want.difference(&live).count());
    assert_eq!(live, want, "the live cases are those of the complete data");
    let withdrawn = rows(&lake, "SELECT count(*) FROM cases WHERE state = '已撤销'")[0][0].parse::<usize>().unwrap();
    let all = rows(&lake, "SELECT count(*) FROM cases")[0][0].parse::<usize>().unwrap();
    assert_eq!(all, want.len() + withdrawn, "every other case is withdrawn");
    assert!(withdrawn > 0 && opened_on_the_way > want.len(), "partial data opened cases the complete data does not have ({opened_on_the_way} on the way)");
    let history = rows(&lake, "SELECT min(action), max(action), count(*) FROM case_events WHERE case_id IN (SELECT case_id FROM cases WHERE state = '已撤销') GROUP BY case_id LIMIT 1");
    assert_eq!(history[0][..2], ["发现".to_string(), "撤销".to_string()], "{history:?}");
    // Lists and funnels count live cases only.
    let listed = cases(&lake, &["list", "--format", "csv"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), want.len() + 1, "the header and the live cases");
    let withdrawn_listed = cases(&lake, &["list", "--state", "已撤销", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&withdrawn_listed.stdout).lines().count(), withdrawn + 1);
}

/// Issue 32: one case named twice in one command or sheet, a 交办单 whose
/// title row was deleted, a case decided meanwhile by someone else.
#[test]
fn batches_never_repeat_a_seq_and_a_sheet_never_answers_for_another_unit() {
    let empty = scratch("cases-empty").join("lake");
    let listed = cases(&empty, &["list", "--format", "csv"]);
    assert!(
        listed.status.success() && String::from_utf8_lossy(&listed.stdout).trim_start_matches('\u{feff}').starts_with("线索编号"),
        "a lake without cases lists a header: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let lake = demo_lake("cases-batches");
    let ids = case_ids(&lake, "identity_mismatch");
    ok(&lake, &["assign", &ids[0], &ids[0], &ids[1], "--unit", "430223101000", "--due", "2027-01-31"]);
    ok(&lake, &["assign", &ids[2], &ids[3], "--unit", "430223102000", "--due", "2027-01-31"]);
    assert_history_numbered(&lake);
    let listed = rows(&lake, &format!("SELECT count(*) FROM cases WHERE case_id = '{}'", ids[0]));
    assert_eq!(listed[0][0], "1", "listed once");

    let sheet = lake.parent().unwrap().join("交办单.xlsx");
    ok(&lake, &["export", "--unit", "430223101000", "--out", sheet.to_str().unwrap()]);
    // The title row deleted, and another unit's cases added below.
    let script = r#"
import sys, openpyxl
path, own, other = sys.argv[1], sys.argv[2].split(','), sys.argv[3].split(',')
wb = openpyxl.load_workbook(path)
ws = wb.active
ws.delete_rows(1)
header = [c.value for c in ws[1]]
col = {name: header.index(name) + 1 for name in header}
rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
def fill(case, **values):
    r = rows.get(case) or ws.max_row + 1
    ws.cell(r, 1, case)
    for name, value in values.items():
        ws.cell(r, col[name], value)
for case in own:
    fill(case, 核查结论='属实', 核查说明='核实')
for case in other:
    fill(case, 核查结论='不属实', 核查说明='另一单位的线索')
wb.save(sys.argv[4])
"#;
    let fill = |own: &[&str], other: &[&str], out: &Path| {
        let done = crate::common::python3().args(["-c", script, sheet.to_str().unwrap(), &own.join(","), &other.join(","), out.to_str().unwrap()]).output().unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    };
    let mixed = lake.parent().unwrap().join("混合.xlsx");
    fill(&[&ids[0], &ids[1]], &[&ids[2], &ids[3]], &mixed);
    let before = rows(&lake, "SELECT count(*) FROM case_events");
    let out = cases(&lake, &["import", mixed.to_str().unwrap()]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && said.contains("分属 2 个承办单位"), "{said}");
    assert_eq!(rows(&lake, "SELECT count(*) FROM case_events"), before, "nothing imported");
    assert_eq!(state(&lake, &ids[2]).0, "已交办", "another unit's case untouched");

    // Its own cases only, one decided meanwhile by another person: a conflict, not a skip.
    let own = lake.parent().unwrap().join("本单位.xlsx");
    fill(&[&ids[0], &ids[1]], &[], &own);
    let meanwhile = std::process::Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["--lake", lake.to_str().unwrap(), "cases", "verdict", &ids[1], "--result", "部分属实", "--note", "乡镇核查"])
        .env_remove("XUNCHA_LAKE")
        .env("USER", "zhangsan")
        .output()
        .unwrap();
    assert!(meanwhile.status.success(), "{}", String::from_utf8_lossy(&meanwhile.stderr));
    let out = cases(&lake, &["import", own.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("导入 1 行") && said.contains("冲突") && said.contains("zhangsan"), "{said}");
    assert_eq!(state(&lake, &ids[0]).0, "属实");
    assert_eq!(state(&lake, &ids[1]).0, "部分属实", "the other person's verdict stands");
    assert_history_numbered(&lake);

    // A closed pipe ends a listing quietly.
    let piped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' --lake '{}' cases show '{}' | head -c 1", env!("CARGO_BIN_EXE_xuncha"), lake.display(), ids[0]))
        .env_remove("XUNCHA_LAKE")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&piped.stderr));
}
