//! What a case was found for, in words: each rule's `-- sentence:` template
//! filled from the findings its case carries ("王*于2025年3月2日死亡…,此后
//! 2025年4月至2026年10月仍领取低保19笔,合计6,840元"), and the findings as a
//! small table with Chinese column names. The dashboard's case page, the
//! 交办单 (XLSX and DOCX) and the letters all say it with these words.
//!
//! A template is text with placeholders in braces, each naming a field —
//! a column of `findings` (`person_name`, `id_number`, `period`, `amount`,
//! `entity_key`), `village` (town and village names), or a key of the
//! rule's evidence — with an optional aggregate over the case's findings
//! and an optional format:
//!
//! | placeholder | says |
//! |---|---|
//! | `{field}` | the first finding's value |
//! | `{min f}` `{max f}` | the smallest / largest (numbers as numbers) |
//! | `{sum f}` | the exact decimal sum (money in yuan, `6,840` or `6,840.50`) |
//! | `{count}` | how many findings |
//! | `{list f}` | the distinct values (lists split on `, ` and `; `), joined by 、 |
//! | `{span f}` `{span f g}` | min of f to max of g (or f), as months: `2025年4月至2026年10月` |
//! | `…\|date` `…\|month` | `2025年3月2日`, `2025年3月` |
//! | `…\|yuan` | a money value as `6,840` |
//! | `…\|是/否` | a true/false value as the first or the second word |
//!
//! Each value passes through the caller's `shown(key, value)` first, so the
//! same template gives the masked sentence on a leader's page and the full
//! one on the unit's 交办单. A missing value reads 无; a sum of none, 0.

use crate::QueryError;
use crate::report::q;
use crate::rules::Rule;
use datafusion::prelude::SessionContext;
use serde_json::Value;
use std::collections::BTreeMap;

/// One finding of a case: its columns and its evidence's keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(pub BTreeMap<String, Value>);

/// A case in words: the sentence and the findings as a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Described {
    pub sentence: String,
    /// Chinese column names of `rows`.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Each finding's evidence as stored (JSON), for the 原始数据 fold.
    pub raw: Vec<String>,
}

/// How a value is shown (masked or in full): `(key, value) → text`.
pub type Shown<'a> = &'a (dyn Fn(&str, &str) -> String + Sync);

/// Shows every value as it is (the unit's own 交办单, audited).
pub fn in_full(_key: &str, value: &str) -> String {
    value.to_string()
}

/// The Chinese name of a finding column or evidence key.
pub fn label(key: &str) -> Option<&'static str> {
    LABELS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Finding columns and the evidence keys of the built-in rules.
const LABELS: &[(&str, &str)] = &[
    ("entity_key", "发现对象"),
    ("person_name", "姓名/名称"),
    ("id_number", "身份证号"),
    ("period", "所属期"),
    ("amount", "涉及金额(元)"),
    ("village", "村(社区)"),
    ("payment_id", "发放编号"),
    ("payment_ids", "发放编号"),
    ("program", "资金项目"),
    ("programs", "资金项目"),
    ("paid_date", "发放日期"),
    ("bank_account", "银行账号"),
    ("department", "发放部门"),
    ("departments", "发放部门"),
    ("death_date", "死亡日期"),
    ("death_records", "死亡登记"),
    ("source_file", "来源文件"),
    ("source_row", "来源行号"),
    ("payments", "发放笔数"),
    ("first_period", "最早所属期"),
    ("last_period", "最近所属期"),
    ("cadres", "关联干部"),
    ("kind", "交易类型"),
    ("date", "日期"),
    ("counterparty_name", "交易对方"),
    ("counterparty_code", "对方证件/代码"),
    ("detail", "明细"),
    ("summary", "摘要"),
    ("links", "关联关系"),
    ("signed_date", "签订日期"),
    ("procurement", "采购方式"),
    ("contracts_in_window", "窗口期内合同数"),
    ("window_total", "窗口期内合同总额(元)"),
    ("window_contracts", "窗口期内合同"),
    ("window", "统计期间"),
    ("threshold_amount", "金额标准(元)"),
    ("threshold_days", "窗口天数"),
    ("assets", "名下资产"),
    ("total", "发放合计(元)"),
    ("id_valid", "身份证号校验通过"),
    ("in_population", "户籍库中有此号"),
    ("payment_name", "名册姓名"),
    ("population_name", "户籍姓名"),
    ("name_matches", "姓名一致"),
    ("birth_date", "出生日期"),
    ("age_on_as_of", "周岁"),
    ("status", "状态"),
    ("last_pension_period", "最近领取养老金所属期"),
    ("household_id", "户编号"),
    ("voucher_date", "凭证日期"),
    ("account", "会计科目"),
    ("approver", "审批人"),
    ("keyword", "关键词"),
    ("posts", "财政供养岗位"),
    ("round_id", "巡察轮次"),
    ("target_code", "被巡察对象"),
    ("topic", "问题类别"),
    ("description", "问题描述"),
    ("deadline", "整改时限"),
    ("rectified_date", "整改完成日期"),
    ("days_late", "逾期天数"),
    ("petitions", "信访件数"),
    ("petition_ids", "信访件"),
    ("window_days", "观察天数"),
    ("households", "户数"),
    ("beneficiaries", "领取人数"),
    ("threshold_households", "户数标准"),
    ("job_id", "岗位编号"),
    ("post", "岗位"),
    ("days_required", "应出勤天数"),
    ("days_present", "实际出勤天数"),
    ("employers", "全职工作单位"),
    ("start_date", "上岗日期"),
    ("end_date", "离岗日期"),
    ("monthly_wage", "月工资(元)"),
    ("terms_in_this_village", "本村任职记录"),
];

/// One placeholder of a template.
#[derive(Debug, Clone, PartialEq)]
struct Placeholder {
    aggregate: Aggregate,
    fields: Vec<String>,
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Aggregate {
    First,
    Min,
    Max,
    Sum,
    Count,
    List,
    Span,
}

#[derive(Debug, Clone, PartialEq)]
enum Format {
    AsIs,
    Date,
    Month,
    Yuan,
    YesNo(String, String),
}

/// A template as literal text and placeholders.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Value(Placeholder),
}

fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pieces.push(Piece::Text(rest[..open].to_string()));
        let close = rest[open..].find('}').ok_or_else(|| format!("「{}」缺少右括号", &rest[open..]))? + open;
        pieces.push(Piece::Value(placeholder(&rest[open + 1..close])?));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("「{rest}」多了右括号"));
    }
    pieces.push(Piece::Text(rest.to_string()));
    Ok(pieces)
}

fn placeholder(inner: &str) -> Result<Placeholder, String> {
    let (body, format) = match inner.split_once('|') {
        None => (inner, Format::AsIs),
        Some((body, "date")) => (body, Format::Date),
        Some((body, "month")) => (body, Format::Month),
        Some((body, "yuan")) => (body, Format::Yuan),
        Some((body, words)) => match words.split_once('/') {
            Some((yes, no)) => (body, Format::YesNo(yes.to_string(), no.to_string())),
            None => return Err(format!("{{{inner}}}:格式「{words}」应为 date、month、yuan 或 是/否")),
        },
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    let (aggregate, fields) = match words.as_slice() {
        ["count"] => (Aggregate::Count, vec![]),
        [field] if !["min", "max", "sum", "list", "span"].contains(field) => (Aggregate::First, vec![*field]),
        ["min", f] => (Aggregate::Min, vec![*f]),
        ["max", f] => (Aggregate::Max, vec![*f]),
        ["sum", f] => (Aggregate::Sum, vec![*f]),
        ["list", f] => (Aggregate::List, vec![*f]),
        ["span", f] => (Aggregate::Span, vec![*f]),
        ["span", f, g] => (Aggregate::Span, vec![*f, *g]),
        _ => return Err(format!("{{{inner}}} 应为 {{字段}}、{{min|max|sum|list|span 字段}} 或 {{count}}")),
    };
    if let Some(bad) = fields.iter().find(|f| !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || f.is_empty()) {
        return Err(format!("{{{inner}}}:字段名「{bad}」无效"));
    }
    Ok(Placeholder { aggregate, fields: fields.into_iter().map(String::from).collect(), format })
}

/// Checks a template (what `Rule::parse` does with `-- sentence:`).
pub fn check(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

/// A JSON value as text (`None` for null or missing).
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(items.iter().filter_map(|v| text_of(Some(v))).collect::<Vec<_>>().join("; ")),
        Value::Object(_) => Some(value?.to_string()),
    }
}

/// `2025-03-02` → `2025年3月2日`; `2025-03` → `2025年3月`.
fn chinese_date(text: &str, with_day: bool) -> String {
    let parts: Vec<&str> = text.get(..10.min(text.len())).unwrap_or(text).split('-').collect();
    let number = |s: &str| s.parse::<u32>().ok();
    match (parts.first().and_then(|y| y.parse::<i32>().ok()), parts.get(1).and_then(|m| number(m)), parts.get(2).and_then(|d| number(d))) {
        (Some(y), Some(m), Some(d)) if with_day => format!("{y}年{m}月{d}日"),
        (Some(y), Some(m), _) => format!("{y}年{m}月"),
        _ => text.to_string(),
    }
}

/// Cents as yuan: `684000` → `6,840`, `684050` → `6,840.50`.
pub fn yuan(cents: i128) -> String {
    let (sign, cents) = if cents < 0 { ("-", -cents) } else { ("", cents) };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match cents % 100 {
        0 => format!("{sign}{grouped}"),
        fraction => format!("{sign}{grouped}.{fraction:02}"),
    }
}

/// A decimal text as cents (exact: JSON numbers keep their shortest
/// decimal form).
fn cents(text: &str) -> Option<i128> {
    xuncha_core::values::money_cents(text).ok()
}

fn formatted(value: &str, format: &Format) -> String {
    match format {
        Format::AsIs => value.to_string(),
        Format::Date => chinese_date(value, true),
        Format::Month => chinese_date(value, false),
        Format::Yuan => cents(value).map_or_else(|| value.to_string(), yuan),
        Format::YesNo(yes, no) => match value {
            "true" => yes.clone(),
            "false" => no.clone(),
            other => other.to_string(),
        },
    }
}

/// The values of `field` over the findings, shown (nulls left out).
fn values(findings: &[Facts], field: &str, shown: Shown) -> Vec<String> {
    findings.iter().filter_map(|f| text_of(f.0.get(field))).map(|v| shown(field, &v)).collect()
}

/// Orders numbers as numbers and anything else as text.
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (cents(a), cents(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn fill(p: &Placeholder, findings: &[Facts], shown: Shown) -> String {
    const MISSING: &str = "无";
    let field = p.fields.first().map_or("", String::as_str);
    let value = match p.aggregate {
        Aggregate::Count => Some(findings.len().to_string()),
        Aggregate::First => values(findings, field, shown).into_iter().next(),
        Aggregate::Min => values(findings, field, shown).into_iter().min_by(|a, b| compare(a, b)),
        Aggregate::Max => values(findings, field, shown).into_iter().max_by(|a, b| compare(a, b)),
        Aggregate::Sum => {
            let all = values(findings, field, shown);
            let total: Option<i128> = all.iter().map(|v| cents(v)).sum();
            // A sum over no values is 0 (nothing paid yet), not 无.
            return total.map_or_else(|| MISSING.into(), yuan);
        }
        Aggregate::List => {
            let mut seen: Vec<String> = Vec::new();
            for v in values(findings, field, shown) {
                for item in v.split([',', ';']).map(str::trim).filter(|s| !s.is_empty()) {
                    if !seen.iter().any(|s| s == item) {
                        seen.push(item.to_string());
                    }
                }
            }
            (!seen.is_empty()).then(|| seen.iter().map(|v| formatted(v, &p.format)).collect::<Vec<_>>().join("、"))
        }
        Aggregate::Span => {
            let first = values(findings, field, shown).into_iter().min_by(|a, b| compare(a, b));
            let last = values(findings, p.fields.last().map_or(field, String::as_str), shown).into_iter().max_by(|a, b| compare(a, b));
            let month = |v: &str| if p.format == Format::Date { chinese_date(v, true) } else { chinese_date(v, false) };
            return match (first, last) {
                (Some(a), Some(b)) if a == b => month(&a),
                (Some(a), Some(b)) => format!("{}至{}", month(&a), month(&b)),
                (Some(a), None) | (None, Some(a)) => month(&a),
                (None, None) => MISSING.into(),
            };
        }
    };
    match value {
        None => MISSING.into(),
        Some(v) if p.aggregate == Aggregate::List => v,
        Some(v) => formatted(&v, &p.format),
    }
}

/// The sentence of a template over a case's findings.
pub fn sentence(template: &str, findings: &[Facts], shown: Shown) -> Result<String, QueryError> {
    let pieces = parse(template).map_err(QueryError::Authoring)?;
    Ok(pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Value(v) => fill(v, findings, shown),
        })
        .collect())
}

/// The sentence for a rule without a template: its title, how many
/// findings and the sum at stake.
const FALLBACK: &str = "共{count}条发现,涉及金额合计{sum amount}元。";

/// The findings as a table: the columns every finding has a value for,
/// named in Chinese (a key without a Chinese name keeps its own).
fn table(findings: &[Facts], shown: Shown) -> (Vec<String>, Vec<Vec<String>>) {
    let skip = ["entity_key", "source_file", "source_row", "id_number", "village"];
    let mut keys: Vec<&str> = Vec::new();
    for f in findings {
        for (k, v) in &f.0 {
            if !v.is_null() && !skip.contains(&k.as_str()) && !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    keys.sort_by_key(|k| LABELS.iter().position(|(l, _)| l == k).unwrap_or(usize::MAX));
    let columns = keys.iter().map(|k| label(k).unwrap_or(k).to_string()).collect();
    let rows = findings
        .iter()
        .map(|f| {
            keys.iter()
                .map(|k| match f.0.get(*k) {
                    Some(Value::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
                    other => text_of(other).map(|v| shown(k, &v)).unwrap_or_default(),
                })
                .collect()
        })
        .collect();
    (columns, rows)
}

/// Describes the cases of a unit (`unit`) or one case (`case_id`), or all
/// cases: each case's sentence and table, by case id.
pub async fn describe(ctx: &SessionContext, rules: &[Rule], case_id: Option<&str>, unit: Option<&str>, shown: Shown<'_>) -> Result<BTreeMap<String, Described>, QueryError> {
    let values = [("case_id", crate::sheet::text(case_id)), ("unit", crate::sheet::text(unit))];
    let found = crate::report::document(ctx, q::cases::EVIDENCE, &values).await?;
    let mut by_case: BTreeMap<String, (String, Vec<Facts>, Vec<String>)> = BTreeMap::new();
    let at = |name: &str| found.index(name).ok_or_else(|| QueryError::Authoring(format!("cases.sql evidence lacks {name}")));
    let (case_at, rule_at, evidence_at) = (at("case_id")?, at("rule_id")?, at("evidence")?);
    for row in &found.rows {
        // The evidence's keys, then the finding's columns over them (its
        // amount is the exact decimal; the JSON's a number).
        let mut facts: BTreeMap<String, Value> = match serde_json::from_str::<Value>(&row[evidence_at]) {
            Ok(Value::Object(evidence)) => evidence.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        for (name, value) in found.columns.iter().zip(row) {
            if ![case_at, rule_at, evidence_at].contains(&found.index(name).unwrap_or(usize::MAX)) && !value.is_empty() {
                facts.insert(name.clone(), Value::String(value.clone()));
            }
        }
        let entry = by_case.entry(row[case_at].clone()).or_insert_with(|| (row[rule_at].clone(), Vec::new(), Vec::new()));
        entry.1.push(Facts(facts));
        entry.2.push(row[evidence_at].clone());
    }
    by_case
        .into_iter()
        .map(|(id, (rule_id, findings, raw))| {
            let template = rules.iter().find(|r| r.id == rule_id).and_then(|r| r.sentence.as_deref()).unwrap_or(FALLBACK);
            let (columns, rows) = table(&findings, shown);
            Ok((id, Described { sentence: sentence(template, &findings, shown)?, columns, rows, raw }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, Value)]) -> Facts {
        Facts(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn a_template_over_a_cases_findings() {
        let findings = [
            facts(&[("person_name", "王秀英".into()), ("period", "2025-04".into()), ("amount", "360.00".into()), ("program", "低保".into()), ("death_date", "2025-03-02".into())]),
            facts(&[("person_name", "王秀英".into()), ("period", "2026-10".into()), ("amount", "6480.5".into()), ("program", "低保, 特困".into()), ("death_date", "2025-03-02".into())]),
        ];
        let masked = |key: &str, value: &str| if key == "person_name" { crate::udf::mask_name(value) } else { value.to_string() };
        let template = "{person_name}于{death_date|date}死亡,{span period}仍领取{list program}{count}笔,合计{sum amount}元。";
        assert_eq!(sentence(template, &findings, &masked).unwrap(), "王*于2025年3月2日死亡,2025年4月至2026年10月仍领取低保、特困2笔,合计6,840.50元。");
        assert_eq!(sentence(template, &findings, &in_full).unwrap().chars().take(3).collect::<String>(), "王秀英");
        assert_eq!(
            sentence("{max amount|yuan}/{min amount}/{missing}/{flag|有/无}", &[facts(&[("amount", "1234567.00".into()), ("flag", false.into())])], &in_full).unwrap(),
            "1,234,567/1234567.00/无/无"
        );
        for bad in ["{sum}", "{span a b c}", "{x|weird}", "{open", "close}", "{a b}", "{min a-b}"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn money_reads_as_yuan() {
        assert_eq!(yuan(684000), "6,840");
        assert_eq!(yuan(100), "1");
        assert_eq!(yuan(-123456789), "-1,234,567.89");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn the_table_names_its_columns_in_chinese() {
        let findings = [facts(&[("period", "2025-04".into()), ("id_valid", true.into()), ("entity_key", "P1".into()), ("odd_key", "x".into())])];
        let (columns, rows) = table(&findings, &in_full);
        assert_eq!(columns, ["所属期", "身份证号校验通过", "odd_key"]);
        assert_eq!(rows, [["2025-04", "是", "x"]]);
    }
}
