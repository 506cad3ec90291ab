//! Department files as they really come (issue 25, header part): a
//! delivery headed with everyday spellings loads through the shipped ones,
//! a spelling xuncha does not know rejects its file with the line to add to
//! `xuncha.toml` — and after adding exactly that line, the file loads. A
//! mapping never changes how a contract header is read, and a mapping that
//! names a column the source lacks is refused by name.

use crate::common::{rows, scratch, xuncha, xuncha_ok};
use std::path::Path;

const POPULATION: &str = "证件号码,人员姓名,性别,出生日期,户号,与户主关系,村(社区)代码,人口状态\n\
430223196203150010,王秀英,女,1962-03-15,4302231012010001,户主,430223101201,正常\n\
430223199001010013,李伟,男,1990-01-01,4302231012010002,户主,430223101201,正常\n";

const PAYMENTS: &str = "发放流水号,资金名称,身份证,享受人姓名,村(社区)代码,发放年月,发放金额(元),银行卡号\n\
P1,低保,430223196203150010,王秀英,430223101201,2026-09,400.00,6217000011112222333\n\
P2,低保,430223199001010013,李伟,430223101201,2026-09,400.00,6217000011114444555\n";

fn write(inbox: &Path, source: &str, name: &str, text: &str) {
    std::fs::create_dir_all(inbox.join(source)).unwrap();
    std::fs::write(inbox.join(source).join(name), text).unwrap();
}

#[test]
fn everyday_headers_load_and_an_unknown_one_says_the_line_to_add() {
    let dir = scratch("mappings-headers");
    let (inbox, lake, config) = (dir.join("inbox"), dir.join("lake"), dir.join("xuncha.toml"));
    write(&inbox, "population", "户籍.csv", POPULATION);
    write(&inbox, "subsidy_payments", "发放.csv", PAYMENTS);
    let args = |cmd: &str| vec!["--lake".to_string(), lake.display().to_string(), "--config".into(), config.display().to_string(), cmd.into(), inbox.display().to_string()];
    let run = |cmd: &str| xuncha(&args(cmd).iter().map(String::as_str).collect::<Vec<_>>());

    // Before: the payments load through the shipped spellings (身份证, 享受人姓名,
    // 资金名称, 发放年月, 发放金额(元), 银行卡号); the population file is
    // rejected, naming its likeliest header for 姓名 and the exact line.
    std::fs::write(&config, "").unwrap();
    let out = run("ingest");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(rows(&lake, "SELECT count(*) FROM subsidy_payments")[0][0], "2", "{text}");
    let line = "\"人员姓名\" = \"name\"";
    assert!(text.contains("表头缺少必填列: 姓名") && text.contains(&format!("[sources.population.headers] 下加一行 {line}")), "{text}");
    assert!(rows(&lake, "SELECT count(*) FROM population")[0][0] == "0");
    // The 数据 page's 拒收的文件 panel reads the same reason from the lake.
    let rejected = rows(&lake, "SELECT error FROM ingest_batches WHERE status <> 'loaded'");
    assert!(rejected.iter().any(|r| r[0].contains(&format!("下加一行 {line}"))), "{rejected:?}");

    // After adding exactly that line, the file loads; nothing else changed.
    std::fs::write(&config, format!("[sources.population.headers]\n{line}\n")).unwrap();
    let out = run("ingest");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(rows(&lake, "SELECT name FROM population ORDER BY id_number"), [["王秀英"], ["李伟"]]);
    assert_eq!(rows(&lake, "SELECT count(*) FROM subsidy_payments")[0][0], "2", "the payments are not loaded twice");

    // A mapping never changes how a contract header is read.
    let shadow = dir.join("shadow.toml");
    std::fs::write(&shadow, format!("[headers]\n\"姓名\" = \"id_number\"\n[sources.population.headers]\n{line}\n")).unwrap();
    let (other, contract_inbox) = (dir.join("lake-shadow"), dir.join("inbox-contract"));
    write(&contract_inbox, "population", "户籍.csv", &POPULATION.replacen("人员姓名", "姓名", 1));
    xuncha_ok(&["--lake", other.to_str().unwrap(), "--config", shadow.to_str().unwrap(), "ingest", contract_inbox.to_str().unwrap()]);
    assert_eq!(rows(&other, "SELECT name FROM population ORDER BY id_number"), [["王秀英"], ["李伟"]], "姓名 is still the name");

    // The configuration is strict: an unknown source or column is named.
    for (bad, named) in
        [("[sources.population.headers]\n\"x\" = \"amount\"\n", "没有列「amount」"), ("[sources.nowhere.headers]\n\"x\" = \"name\"\n", "nowhere"), ("[headers]\n\"x\" = \"nothing\"\n", "nothing")]
    {
        std::fs::write(&config, bad).unwrap();
        let out = run("ingest");
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(named), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn department_value_names_load_as_the_contracts_values_once_mapped() {
    let dir = scratch("mappings-values");
    let inbox = dir.join("inbox");
    write(
        &inbox,
        "subsidy_payments",
        "发放.csv",
        "发放流水号,资金项目,公民身份号码,姓名,村(社区)代码,所属期,金额(元)\n\
         V1,农村最低生活保障金,430223196203150010,王秀英,430223101201,2026-09,400.00\n\
         V2,城乡居民养老保险,430223199001010013,李伟,430223101201,2026-09,150.00\n\
         V3,低保,430223199001010013,李伟,430223101201,2026-08,400.00\n",
    );
    let ingest = |name: &str, config: &str| {
        let (lake, path) = (dir.join(name), dir.join(format!("{name}.toml")));
        std::fs::write(&path, config).unwrap();
        let out = xuncha(&["--lake", lake.to_str().unwrap(), "--config", path.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        lake
    };
    // Before: the two department names are quarantined, each naming the closest allowed value.
    let before = ingest("before", "");
    let reasons = rows(&before, "SELECT reason FROM quarantine ORDER BY row_number");
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0][0].contains("最接近的是「低保」") && reasons[1][0].contains("最接近的是「养老金」"), "{reasons:?}");
    // After mapping them: every row loads, under the contract's names; 低保 itself is untouched.
    let after = ingest("after", "[sources.subsidy_payments.values.program]\n\"农村最低生活保障金\" = \"低保\"\n\"城乡居民养老保险\" = \"养老金\"\n");
    assert_eq!(rows(&after, "SELECT payment_id, program FROM subsidy_payments ORDER BY payment_id"), [["V1", "低保"], ["V2", "养老金"], ["V3", "低保"]]);
    assert_eq!(rows(&after, "SELECT count(*) FROM quarantine")[0][0], "0");
    // A mapping onto a value outside the list is refused by name.
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[sources.subsidy_payments.values.program]\n\"x\" = \"救济金\"\n").unwrap();
    let out = xuncha(&["--lake", dir.join("bad").to_str().unwrap(), "--config", path.to_str().unwrap(), "ingest", inbox.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("「救济金」不在允许值之内"));
}
