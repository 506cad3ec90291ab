//! A county's own department files, end to end (issue 25): a delivery in
//! department spellings across four sources is rejected with the exact
//! lines to add, `xuncha check` shows how each header is read, and after
//! adding those lines (and the value mappings `check` asks for) everything
//! loads; a roster with village names resolves through `divisions`; a
//! source declared in `xuncha.toml` loads, scopes, shows in `\d`, and a rule
//! on it produces findings that become cases.

use crate::common::{rows, scratch, xuncha};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn write(inbox: &Path, source: &str, name: &str, text: &str) {
    std::fs::create_dir_all(inbox.join(source)).unwrap();
    std::fs::write(inbox.join(source).join(name), text).unwrap();
}

/// Runs xuncha with a lake and a configuration; (success, stdout + stderr).
fn run(lake: &Path, config: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["--lake", lake.to_str().unwrap(), "--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = xuncha(&all);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The `[sources.S.headers] 下加一行 "A" = "b"` suggestions of a text: (S, line).
fn suggested_lines(text: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for piece in text.split("xuncha.toml 的 [sources.").skip(1) {
        let Some((section, rest)) = piece.split_once("] 下加一行 ") else { continue };
        let line: String = rest.chars().take_while(|c| !matches!(c, ';' | '\n' | '。')).collect();
        out.insert((section.to_string(), line.trim_end().to_string()));
    }
    out
}

#[test]
fn a_delivery_in_department_spellings_loads_once_the_suggested_lines_are_added() {
    let dir = scratch("departments-spellings");
    let (inbox, lake, config) = (dir.join("inbox"), dir.join("lake"), dir.join("xuncha.toml"));
    // Four sources, eighteen headers in department spellings xuncha does
    // not ship, five programme / data-source names of the departments' own.
    write(
        &inbox,
        "population",
        "户籍.csv",
        "居民身份证号,人员姓名,性别,出生年月日,户编号,与户主关系,村(社区)代码,户口状态\n\
        430223196203150010,王秀英,女,1962-03-15,H0001,户主,430223101201,正常\n\
        430223199001010013,李伟,男,1990-01-01,H0002,户主,430223101201,死亡\n",
    );
    write(
        &inbox,
        "subsidy_payments",
        "发放.csv",
        "业务流水号,项目名称,享受人身份证号,户主姓名,村(社区)代码,所属月份,实发金额\n\
        P1,农村最低生活保障金,430223196203150010,王秀英,430223101201,2026-09,400.00\n\
        P2,城乡居民基本养老保险,430223196203150010,王秀英,430223101201,2026-09,150.00\n\
        P3,特困人员救助供养金,430223199001010013,李伟,430223101201,2026-09,600.00\n\
        P4,低保,430223199001010013,李伟,430223101201,2026-08,400.00\n",
    );
    write(&inbox, "deaths", "死亡.csv", "死者身份证号,死者姓名,死亡时间,信息来源\n430223199001010013,李伟,2026-07-02,公安局\n430223199001010013,李伟,2026-07-03,殡仪馆\n");
    write(&inbox, "welfare_jobs", "公益岗.csv", "岗位编码,公民身份号码,姓名,村(社区)代码,岗位名称,上岗时间,补贴标准\nJ1,430223196203150010,王秀英,430223101201,保洁员,2026-01-01,800\n");
    std::fs::write(&config, "").unwrap();

    // Before: every file is rejected, each missing column with the exact line.
    let (ok, text) = run(&lake, &config, &["ingest", inbox.to_str().unwrap()]);
    assert!(!ok, "{text}");
    let expected: BTreeSet<(String, String)> = [
        ("population.headers", "\"居民身份证号\" = \"id_number\""),
        ("population.headers", "\"人员姓名\" = \"name\""),
        ("population.headers", "\"出生年月日\" = \"birth_date\""),
        ("population.headers", "\"户编号\" = \"household_id\""),
        ("population.headers", "\"户口状态\" = \"status\""),
        ("subsidy_payments.headers", "\"业务流水号\" = \"payment_id\""),
        ("subsidy_payments.headers", "\"项目名称\" = \"program\""),
        ("subsidy_payments.headers", "\"享受人身份证号\" = \"id_number\""),
        ("subsidy_payments.headers", "\"户主姓名\" = \"name\""),
        ("subsidy_payments.headers", "\"所属月份\" = \"period\""),
        ("subsidy_payments.headers", "\"实发金额\" = \"amount\""),
        ("deaths.headers", "\"死者身份证号\" = \"id_number\""),
        ("deaths.headers", "\"死亡时间\" = \"death_date\""),
        ("deaths.headers", "\"信息来源\" = \"source\""),
        ("welfare_jobs.headers", "\"岗位编码\" = \"job_id\""),
        ("welfare_jobs.headers", "\"上岗时间\" = \"start_date\""),
    ]
    .into_iter()
    .map(|(s, l)| (s.to_string(), l.to_string()))
    .collect();
    assert_eq!(suggested_lines(&text), expected, "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("拒收 ")).count(), 4, "{text}");
    assert_eq!(rows(&lake, "SELECT count(*) FROM ingest_batches WHERE status = 'loaded'")[0][0], "0");

    // The lines as suggested, plus two optional columns the files carry.
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (section, line) in &expected {
        sections.entry(section.clone()).or_default().push(line.clone());
    }
    sections.entry("deaths.headers".into()).or_default().push("\"死者姓名\" = \"name\"".into());
    sections.entry("welfare_jobs.headers".into()).or_default().push("\"补贴标准\" = \"monthly_wage\"".into());
    std::fs::write(&config, toml_of(&sections)).unwrap();

    // `check` now reads every header, says by which rule, and shows the
    // value names still outside the lists, with the line to add for each.
    let (ok, text) = run(&lake, &config, &["check", inbox.to_str().unwrap()]);
    assert!(ok, "{text}");
    for shown in
        ["表头「居民身份证号」→ id_number(xuncha.toml 映射)", "表头「村(社区)代码」→ village_code(合同表头)", "表头「补贴标准」→ monthly_wage(xuncha.toml 映射)", "表头「岗位名称」→ post(合同表头)"]
    {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    let values: BTreeSet<(String, String)> = suggested_lines(&text).into_iter().filter(|(s, _)| s.contains(".values.")).collect();
    let wanted: BTreeSet<(String, String)> = [
        ("subsidy_payments.values.program", "\"农村最低生活保障金\" = \"低保\""),
        ("subsidy_payments.values.program", "\"城乡居民基本养老保险\" = \"养老金\""),
        ("subsidy_payments.values.program", "\"特困人员救助供养金\" = \"特困供养\""),
        ("deaths.values.source", "\"公安局\" = \"公安\""),
        ("deaths.values.source", "\"殡仪馆\" = \"殡葬\""),
    ]
    .into_iter()
    .map(|(s, l)| (s.to_string(), l.to_string()))
    .collect();
    assert_eq!(values, wanted, "{text}");
    assert!(text.contains("[检查,未写入] 4 个文件: 可入库 4 行, 将隔离 5 行, 将拒收 0 个文件"), "{text}");
    assert_eq!(rows(&lake, "SELECT count(*) FROM ingest_batches WHERE status = 'loaded'")[0][0], "0", "check writes nothing");

    // With the value lines too, every row loads under the contract's values.
    for (section, line) in &wanted {
        sections.entry(section.clone()).or_default().push(line.clone());
    }
    std::fs::write(&config, toml_of(&sections)).unwrap();
    let (ok, text) = run(&lake, &config, &["ingest", inbox.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(rows(&lake, "SELECT count(*) FROM quarantine")[0][0], "0", "{text}");
    assert_eq!(
        rows(&lake, "SELECT payment_id, program, name, period, CAST(amount AS VARCHAR) FROM subsidy_payments ORDER BY payment_id"),
        [["P1", "低保", "王秀英", "2026-09", "400.00"], ["P2", "养老金", "王秀英", "2026-09", "150.00"], ["P3", "特困供养", "李伟", "2026-09", "600.00"], ["P4", "低保", "李伟", "2026-08", "400.00"],]
    );
    assert_eq!(rows(&lake, "SELECT source, CAST(death_date AS VARCHAR), name FROM deaths ORDER BY source"), [["公安", "2026-07-02", "李伟"], ["殡葬", "2026-07-03", "李伟"]]);
    assert_eq!(
        rows(&lake, "SELECT id_number, household_id, status, CAST(birth_date AS VARCHAR) FROM population ORDER BY id_number"),
        [["430223196203150010", "H0001", "正常", "1962-03-15"], ["430223199001010013", "H0002", "死亡", "1990-01-01"],]
    );
    assert_eq!(rows(&lake, "SELECT job_id, CAST(start_date AS VARCHAR), CAST(monthly_wage AS VARCHAR) FROM welfare_jobs"), [["J1", "2026-01-01", "800.00"]]);
}

/// `xuncha.toml` text of `[sources.SECTION]` sections and their lines.
fn toml_of(sections: &BTreeMap<String, Vec<String>>) -> String {
    sections.iter().map(|(section, lines)| format!("[sources.{section}]\n{}\n", lines.join("\n"))).collect()
}

const DIVISIONS: &str = "区划代码,名称,级别,上级代码\n\
    430223000000,攸县,县,\n\
    430223101000,城关镇,乡镇,430223000000\n\
    430223102000,东山乡,乡镇,430223000000\n\
    430223101201,石桥村,村,430223101000\n\
    430223101202,幸福社区,村,430223101000\n\
    430223102201,石桥村,村,430223102000\n\
    430223102202,柳树湾村,村,430223102000\n";

#[test]
fn a_roster_with_village_names_loads_the_known_ones_and_quarantines_the_rest_naming_candidates() {
    let dir = scratch("departments-villages");
    let (inbox, lake, config) = (dir.join("inbox"), dir.join("lake"), dir.join("xuncha.toml"));
    std::fs::write(&config, "").unwrap();
    write(&inbox, "divisions", "区划.csv", DIVISIONS);
    // One delivery: the divisions load first, then the roster reads them.
    write(
        &inbox,
        "welfare_jobs",
        "公益岗.csv",
        "岗位编号,公民身份号码,姓名,乡镇,村,上岗日期\n\
        J1,430223196203150010,王秀英,城关镇,石桥村委会,2026-01-01\n\
        J2,430223199001010013,李伟,东山乡,柳树湾村,2026-01-01\n\
        J3,430223198505050012,张敏,城关镇人民政府,幸福社区居委会,2026-02-01\n\
        J4,430223197708080017,赵强,东山乡,石桥　村,2026-02-01\n\
        J5,430223196612120019,刘芳,城关镇,红星村,2026-03-01\n\
        J6,430223195511110016,陈刚,,石桥村,2026-03-01\n",
    );
    let (ok, text) = run(&lake, &config, &["ingest", inbox.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(rows(&lake, "SELECT job_id, village_code FROM welfare_jobs ORDER BY job_id"), [["J1", "430223101201"], ["J2", "430223102202"], ["J3", "430223101202"], ["J4", "430223102201"]]);
    let quarantined = rows(&lake, "SELECT row_number, reason_kind, column_name, reason FROM quarantine ORDER BY row_number");
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert_eq!(quarantined[0][..3], ["6".to_string(), "unknown_village".into(), "village_code".into()]);
    assert!(quarantined[0][3].contains("行政区划中没有「城关镇红星村」") && quarantined[0][3].contains("城关镇"), "{quarantined:?}");
    assert_eq!(quarantined[1][..3], ["7".to_string(), "ambiguous_village".into(), "village_code".into()]);
    assert!(quarantined[1][3].contains("城关镇石桥村(430223101201)") && quarantined[1][3].contains("东山乡石桥村(430223102201)"), "{quarantined:?}");
    // The names stay with the loaded rows, as the file gave them.
    assert!(rows(&lake, "SELECT extra FROM welfare_jobs WHERE job_id = 'J1'")[0][0].contains("石桥村委会"));
    // A file that gives the code is read by its code, names or not.
    let again = dir.join("inbox2");
    write(&again, "welfare_jobs", "公益岗.csv", "岗位编号,公民身份号码,姓名,乡镇,村,村(社区)代码,上岗日期\nJ7,430223196203150010,王秀英,东山乡,柳树湾村,430223101201,2026-04-01\n");
    let (ok, text) = run(&lake, &config, &["ingest", again.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(rows(&lake, "SELECT village_code FROM welfare_jobs WHERE job_id = 'J7'"), [["430223101201"]]);
    // Names before any divisions: the file is rejected, saying what to deliver first.
    let (fresh, names) = (dir.join("lake-empty"), dir.join("inbox3"));
    write(&names, "welfare_jobs", "公益岗.csv", "岗位编号,公民身份号码,姓名,乡镇,村,上岗日期\nJ1,430223196203150010,王秀英,城关镇,石桥村,2026-01-01\n");
    let (ok, text) = run(&fresh, &config, &["ingest", names.to_str().unwrap()]);
    assert!(!ok && text.contains("请先报送 divisions"), "{text}");
}

/// The sample declaration (`tests/fixtures/declared-source.toml`), a rules
/// folder, and a second declared source about no place.
const DISABLED: &str = concat!(
    include_str!("../fixtures/declared-source.toml"),
    r#"
[rules]
dir = "RULES"
[sources.audit_issues]
title = "审计发现问题清单"
key = ["issue_id"]
[[sources.audit_issues.columns]]
name = "issue_id"
header = "问题编号"
type = "str"
required = true
[[sources.audit_issues.columns]]
name = "amount"
header = "涉及金额(元)"
type = "money"
"#
);

const RULE: &str = "-- id: disabled_without_subsidy
-- title: 重度残疾人未领残疾人补贴
-- severity: 较重
-- sector: 民政
-- topic: 惠农补贴
-- description: 残疾人名册中的一级、二级残疾人,参考日前一年内没有任何残疾人补贴发放(应保未保)。每人一条线索。
-- subject: id_number
-- sentence: {person_name}为{level}残疾人(发证日期 {certified_date|date}),参考日前一年内未领取残疾人补贴。
SELECT d.id_number AS entity_key, d.village_code, d.id_number, d.name AS person_name,
       '${as_of_month}' AS period, CAST(NULL AS DECIMAL(18, 2)) AS amount,
       named_struct('level', d.level, 'certified_date', d.certified_date, 'source_file', d.source_file, 'source_row', d.source_row) AS evidence
FROM disabled_persons d
WHERE d.level IN ('一级', '二级')
  AND NOT EXISTS (SELECT 1 FROM subsidy_payments p
                  WHERE p.id_number = d.id_number AND p.program = '残疾人补贴' AND p.period > substr('${year_ago}', 1, 7))
";

#[test]
fn a_declared_source_loads_scopes_and_feeds_a_rule_whose_findings_become_cases() {
    let dir = scratch("departments-declared");
    let (inbox, lake, config, rules_dir) = (dir.join("inbox"), dir.join("lake"), dir.join("xuncha.toml"), dir.join("rules"));
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("disabled_without_subsidy.sql"), RULE).unwrap();
    std::fs::write(&config, DISABLED.replace("RULES", rules_dir.to_str().unwrap())).unwrap();
    write(
        &inbox,
        "subsidy_payments",
        "发放.csv",
        "发放流水号,资金项目,公民身份号码,姓名,村(社区)代码,所属期,金额(元)\n\
        P1,残疾人补贴,430223196203150010,王秀英,430223101201,2026-09,80.00\n\
        P2,低保,430223199001010013,李伟,430223101201,2026-09,400.00\n",
    );
    write(
        &inbox,
        "disabled_persons",
        "残疾人名册.csv",
        "残疾人身份证号,姓名,村(社区)代码,残疾等级,发证日期\n\
        430223196203150010,王秀英,430223101201,一级,2015-03-01\n\
        430223199001010013,李伟,430223101201,二级,2018-06-01\n\
        430223198505050012,张敏,4302231022 01,一级残疾,2020-01-09\n\
        430223197708080017,赵强,430223102201,四级,2021-05-05\n\
        430223196612120019,刘芳,430223102201,五级,2021-05-05\n\
        430223196612120019,刘芳,430223102201,一级,2021-05-05\n",
    );
    write(&inbox, "audit_issues", "审计.csv", "问题编号,涉及金额(元)\nA1,\"1,234,567.80\"\n");
    let (ok, text) = run(&lake, &config, &["ingest", inbox.to_str().unwrap()]);
    assert!(ok, "{text}");
    // Typed as declared: the alias header, the code without its space, the
    // mapped level; a level outside the list and a repeated key quarantined.
    assert_eq!(
        rows(&lake, "SELECT id_number, village_code, level, CAST(certified_date AS VARCHAR) FROM disabled_persons ORDER BY id_number"),
        [
            ["430223196203150010", "430223101201", "一级", "2015-03-01"],
            ["430223196612120019", "430223102201", "一级", "2021-05-05"],
            ["430223197708080017", "430223102201", "四级", "2021-05-05"],
            ["430223198505050012", "430223102201", "一级", "2020-01-09"],
            ["430223199001010013", "430223101201", "二级", "2018-06-01"],
        ]
    );
    let quarantined = rows(&lake, "SELECT source, row_number, reason_kind FROM quarantine ORDER BY row_number");
    assert_eq!(quarantined, [["disabled_persons", "6", "bad_enum"]], "{text}");
    // Delivered again: nothing changes (exactly once).
    let before = rows(&lake, "SELECT count(*) FROM ingest_batches")[0][0].clone();
    let (ok, text) = run(&lake, &config, &["ingest", inbox.to_str().unwrap()]);
    assert!(ok && text.contains("已入库"), "{text}");
    assert_eq!(rows(&lake, "SELECT count(*) FROM ingest_batches")[0][0], before);

    // The rule on it runs like any other; its findings become cases.
    let (ok, text) = run(&lake, &config, &["run", "--rules", "disabled_without_subsidy"]);
    assert!(ok, "{text}");
    assert_eq!(
        rows(&lake, "SELECT id_number FROM latest_findings WHERE rule_id = 'disabled_without_subsidy' ORDER BY id_number"),
        [["430223196612120019"], ["430223198505050012"], ["430223199001010013"]]
    );
    assert_eq!(rows(&lake, "SELECT count(*) FROM cases WHERE rule_id = 'disabled_without_subsidy'")[0][0], "3");
    let (ok, text) = run(&lake, &config, &["cases", "list", "--rule", "disabled_without_subsidy"]);
    assert!(ok && text.matches("disabled_without_subsidy").count() >= 3, "{text}");

    // Scoped: a town's user sees its own rows of the declared table only.
    let scoped = scoped_rows(&lake, &config, "430223102000", "SELECT id_number FROM disabled_persons ORDER BY id_number").unwrap();
    assert_eq!(scoped, ["430223196612120019", "430223197708080017", "430223198505050012"]);
    // A declared source about no place (no scope column) is not in a scoped session at all.
    assert_eq!(rows(&lake, "SELECT issue_id, CAST(amount AS VARCHAR) FROM audit_issues"), [["A1", "1234567.80"]]);
    let hidden = scoped_rows(&lake, &config, "430223102000", "SELECT count(*) FROM audit_issues").unwrap_err();
    assert!(hidden.contains("audit_issues") && hidden.contains("not found"), "{hidden}");

    // `\d` in the SQL shell shows it with its Chinese title and headers.
    let shell = crate::common::xuncha_with_stdin(&["--lake", lake.to_str().unwrap(), "--config", config.to_str().unwrap(), "sql"], "\\d\n\\d disabled_persons\n\\q\n");
    assert!(shell.contains("disabled_persons") && shell.contains("残疾人名册") && shell.contains("残疾等级") && shell.contains("发证日期"), "{shell}");
}

/// The first column of what a user scoped to `scope` sees, through the
/// session the configuration's sources build; or the query's error.
fn scoped_rows(lake: &Path, config: &Path, scope: &str, sql: &str) -> Result<Vec<String>, String> {
    let config = xuncha_core::config::Config::load(config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let lake = xuncha_core::lake::Lake::open(lake).unwrap();
        let options = xuncha_queries::session::SessionOptions { scope: Some(scope.to_string()), sources: config.ingest.sources.clone(), ..Default::default() };
        let ctx = xuncha_queries::session::session(&lake, &options).await.unwrap();
        let batches = ctx.sql(sql).await.map_err(|e| e.to_string())?.collect().await.map_err(|e| e.to_string())?;
        Ok(batches.iter().flat_map(|b| (0..b.num_rows()).map(|r| deltalake::arrow::util::display::array_value_to_string(b.column(0), r).unwrap()).collect::<Vec<_>>()).collect())
    })
}
