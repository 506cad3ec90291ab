//! How the report writes its figures, for every format: money in 万元,
//! rates, section numbers in Chinese, the headline figures, and the typical
//! cases with their people masked.

use crate::mask;
use rust_decimal::Decimal;
use xuncha_queries::report::{Case, CommonIssueReport, TopicSummary};

/// Yuan as 万元 with two decimals (Chinese convention for large sums).
pub(crate) fn wan(yuan: Decimal) -> String {
    format!("{} 万元", two_places(yuan / Decimal::from(10_000)))
}

/// Exact money rounded half away from zero (四舍五入) to two places.
pub(crate) fn two_places(value: Decimal) -> String {
    format!("{:.2}", value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// Yuan as 万元 from 10,000 up, else as 元.
fn yuan(value: Decimal) -> String {
    if value >= Decimal::from(10_000) { wan(value) } else { format!("{} 元", two_places(value)) }
}

/// The ranking of common topics: its header and topic `i`'s row.
pub(super) const RANKING: [&str; 9] = ["序号", "问题类别", "涉及乡镇", "问题数", "比对发现", "涉及金额", "挽回(追回)", "整改率", "逾期"];

pub(super) fn ranking_row(i: usize, t: &TopicSummary) -> [String; 9] {
    [
        (i + 1).to_string(),
        t.topic.clone(),
        t.towns.len().to_string(),
        t.problems.to_string(),
        t.findings.to_string(),
        wan(t.money_involved),
        wan(t.money_recovered),
        percent(t.rectification_rate),
        t.overdue.to_string(),
    ]
}

/// The data appendix: its header and a topic's row (money in yuan).
pub(super) const APPENDIX: [&str; 9] = ["问题类别", "是否共性", "涉及乡镇数", "问题数", "比对发现", "涉及金额(元)", "挽回(元)", "整改率", "逾期"];

pub(super) fn appendix_row(t: &TopicSummary) -> [String; 9] {
    let common = if t.common { "是" } else { "否" };
    [
        t.topic.clone(),
        common.into(),
        t.towns.len().to_string(),
        t.problems.to_string(),
        t.findings.to_string(),
        two_places(t.money_involved),
        two_places(t.money_recovered),
        percent(t.rectification_rate),
        t.overdue.to_string(),
    ]
}

/// A common topic's figures in one sentence.
pub(super) fn topic_figures(t: &TopicSummary) -> String {
    format!(
        "问题 {} 个、大数据比对发现 {} 条,涉及金额 {},已挽回(追回){};整改率 {},逾期 {} 个。",
        t.problems,
        t.findings,
        wan(t.money_involved),
        wan(t.money_recovered),
        percent(t.rectification_rate),
        t.overdue
    )
}

/// A percentage with one decimal.
pub(super) fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.1}%"))
}

/// 1 → 一, 12 → 十二, for section numbers.
pub(super) fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => DIGITS[n].to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", DIGITS[n - 10]),
        20..=99 => format!("{}十{}", DIGITS[n / 10], DIGITS[n % 10]),
        _ => n.to_string(),
    }
}

/// The headline figures of the common topics: (label, value).
pub(super) fn headline(report: &CommonIssueReport) -> Vec<(String, String)> {
    let common: Vec<&TopicSummary> = report.common().collect();
    vec![
        ("乡镇(街道)".to_string(), report.towns_total.to_string()),
        ("共性问题类别".to_string(), common.len().to_string()),
        ("涉及问题".to_string(), common.iter().map(|t| t.problems).sum::<u64>().to_string()),
        ("比对发现".to_string(), common.iter().map(|t| t.findings).sum::<u64>().to_string()),
        ("涉及金额".to_string(), wan(common.iter().map(|t| t.money_involved).sum())),
        ("挽回(追回)金额".to_string(), wan(common.iter().map(|t| t.money_recovered).sum())),
        ("逾期未整改".to_string(), common.iter().map(|t| t.overdue).sum::<u64>().to_string()),
    ]
}

/// A typical case in one sentence, its description and person masked.
pub(super) fn case(case: &Case) -> String {
    match case {
        Case::Problem { place, description, amount, status } => format!("{place}:{}(涉及金额 {},{status})", mask::cell("description", description), yuan(*amount)),
        Case::Finding { place, rule, person_name, amount, period } => {
            format!("{place}:大数据比对发现「{rule}」,对象 {},所属期 {period},涉及金额 {}", mask::cell("person_name", person_name), yuan(*amount))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_money_and_cases() {
        assert_eq!(chinese_number(3), "三");
        assert_eq!(chinese_number(12), "十二");
        assert_eq!(chinese_number(21), "二十一");
        assert_eq!(yuan("12345".parse().unwrap()), "1.23 万元");
        assert_eq!(yuan("12350".parse().unwrap()), "1.24 万元", "half away from zero");
        assert_eq!(yuan("99.5".parse().unwrap()), "99.50 元");
        assert_eq!(yuan("0.125".parse().unwrap()), "0.13 元");
        let finding =
            Case::Finding { place: "严仙镇长园村".into(), rule: "死亡人员仍领取补贴".into(), person_name: "张三丰".into(), amount: Decimal::from(1200), period: "2026-05".into() };
        let text = case(&finding);
        assert!(text.contains("严仙镇长园村") && text.contains("1200.00 元") && !text.contains("张三丰"), "{text}");
    }
}
