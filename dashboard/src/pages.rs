//! The leadership pages. Each page is a list of panels; a panel is one SQL
//! query over the user's scoped session, shown as key figures, a chart
//! and/or a table, with a CSV export of exactly what it shows (masked as
//! shown, and audited). Filters (town, term, date range) narrow every panel.

use crate::auth::{Auth, urlencode};
use crate::charts;
use crate::layout::{self, error_page};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::sync::Arc;
use xuncha_queries::table::{TextTable, quote};

/// The filters a page takes from its query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Filters {
    town: Option<String>,
    term: Option<String>,
    from: Option<String>,
    to: Option<String>,
    village: Option<String>,
    rule: Option<String>,
}

impl Filters {
    fn get(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// A 12-digit code filter, or an error message.
    fn code(value: &Option<String>, what: &str) -> Result<Option<String>, String> {
        match Self::get(value) {
            None => Ok(None),
            Some(v) if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(v.to_string())),
            Some(v) => Err(format!("{what}「{v}」应为 12 位区划代码")),
        }
    }

    fn date(value: &Option<String>, what: &str) -> Result<Option<NaiveDate>, String> {
        Self::get(value).map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| format!("{what}「{v}」应为 YYYY-MM-DD"))).transpose()
    }

    /// Checks every filter; the message names the bad one.
    fn validate(&self) -> Result<(), String> {
        Self::code(&self.town, "乡镇")?;
        Self::code(&self.village, "村")?;
        Self::date(&self.from, "开始日期")?;
        Self::date(&self.to, "结束日期")?;
        if let Some(rule) = Self::get(&self.rule)
            && !rule.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!("规则「{rule}」不存在"));
        }
        Ok(())
    }

    /// Refuses a town or village filter outside the user's scope (rather
    /// than running queries that can only come back empty or fail).
    fn within(&self, scope: Option<&str>) -> Result<(), String> {
        let Some(scope) = scope.and_then(|s| xuncha_queries::scope::scope_prefix(s).ok()) else { return Ok(()) };
        for (value, what) in [(&self.town, "乡镇"), (&self.village, "村")] {
            if let Ok(Some(code)) = Self::code(value, what)
                && let Ok(prefix) = xuncha_queries::scope::scope_prefix(&code)
                && !prefix.starts_with(&scope)
                && !scope.starts_with(&prefix)
            {
                return Err(format!("{what}「{code}」不在您的范围内。"));
            }
        }
        Ok(())
    }

    /// `AND column LIKE 'town%'` for the town filter.
    fn place(&self, column: &str) -> String {
        match Self::code(&self.town, "").ok().flatten() {
            Some(town) => format!(" AND {column} LIKE '{}%'", &town[..9]),
            None => String::new(),
        }
    }

    /// `AND column BETWEEN from AND to` for the date range.
    fn dates(&self, column: &str) -> String {
        let mut sql = String::new();
        if let Ok(Some(from)) = Self::date(&self.from, "") {
            sql.push_str(&format!(" AND {column} >= DATE '{from}'"));
        }
        if let Ok(Some(to)) = Self::date(&self.to, "") {
            sql.push_str(&format!(" AND {column} <= DATE '{to}'"));
        }
        sql
    }

    /// `AND column IN (rounds of the term)` for the term filter.
    fn term(&self, round_column: &str) -> String {
        Self::get(&self.term).map_or_else(String::new, |t| format!(" AND {round_column} IN (SELECT round_id FROM inspections WHERE term = {})", quote(t)))
    }

    fn query_string(&self) -> String {
        let pairs = [("town", &self.town), ("term", &self.term), ("from", &self.from), ("to", &self.to), ("village", &self.village), ("rule", &self.rule)];
        pairs.iter().filter_map(|(k, v)| Self::get(v).map(|v| format!("{k}={}", urlencode(v)))).collect::<Vec<_>>().join("&")
    }
}

/// How a panel shows its rows.
enum View {
    /// The first row's columns as key figures.
    Tiles,
    Table,
    /// Bars of `value` per `label`, and the table.
    Bars { label: &'static str, value: &'static str, unit: &'static str },
    /// Lines of `values` over `x`, and the table.
    Lines { x: &'static str, values: &'static [&'static str] },
    /// A heat map of `value` by `row` × `column`, without the table.
    Heat { row: &'static str, column: &'static str, value: &'static str },
}

/// One query on a page.
struct Panel {
    id: &'static str,
    title: &'static str,
    sql: String,
    view: View,
    /// Rows link to a finding's evidence page (columns run_id, rule_id, entity_key).
    links_findings: bool,
}

fn panel(id: &'static str, title: &'static str, view: View, sql: String) -> Panel {
    Panel { id, title, sql, view, links_findings: false }
}

/// Rectified: 已整改 or 已销号 (1, else 0), for sums over `problems`.
pub(crate) const DONE: &str = "CASE WHEN status IN ('已整改', '已销号') THEN 1 ELSE 0 END";

/// The panels of a page, or `None` if there is no such page.
fn panels(page: &str, f: &Filters) -> Option<Vec<Panel>> {
    let place = |c: &str| f.place(c);
    Some(match page {
        "overview" => vec![
            panel(
                "kpis",
                "关键指标",
                View::Tiles,
                format!(
                    "SELECT \
                       (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code WHERE true {term_i}{place_i}) AS 已巡察村社区, \
                       (SELECT count(*) FROM villages WHERE true {place_v}) AS 村社区总数, \
                       round(100.0 * (SELECT count(DISTINCT i.target_code) FROM inspections i JOIN villages v ON v.village_code = i.target_code WHERE true {term_i}{place_i}) \
                             / nullif((SELECT count(*) FROM villages WHERE true {place_v}), 0), 1) AS 村社区覆盖率百分比, \
                       (SELECT count(DISTINCT target_code) FROM inspections WHERE target_type NOT IN ('村', '社区') {term}) AS 已巡察单位, \
                       count(*) AS 发现问题, sum(CASE WHEN clue_transferred THEN 1 ELSE 0 END) AS 移交线索, \
                       round(100.0 * sum({DONE}) / nullif(count(*), 0), 1) AS 整改率百分比, \
                       sum(CASE WHEN immediate THEN 1 ELSE 0 END) AS 立行立改, \
                       sum(funds_involved) AS 涉及金额元, sum(funds_recovered) AS 挽回追回金额元, sum(systems_established) AS 建章立制, \
                       (SELECT count(*) FROM latest_findings WHERE true {place_f}) AS 比对发现, \
                       (SELECT sum(amount) FROM latest_findings WHERE true {place_f}) AS 比对涉及金额元 \
                     FROM problems WHERE true {term}{place_p}{dates}",
                    term_i = f.term("i.round_id"),
                    place_i = place("i.target_code"),
                    place_v = place("village_code"),
                    term = f.term("round_id"),
                    place_p = place("target_code"),
                    place_f = place("village_code"),
                    dates = f.dates("found_date"),
                ),
            ),
            panel(
                "findings_by_rule",
                "比对发现(按规则)",
                View::Bars { label: "规则", value: "条数", unit: "条" },
                format!(
                    "SELECT r.title AS 规则, count(*) AS 条数, sum(f.amount) AS 涉及金额元 FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id \
                     WHERE true {} GROUP BY r.title ORDER BY 条数 DESC",
                    place("f.village_code")
                ),
            ),
            panel(
                "problems_by_round",
                "问题与整改趋势(按轮次)",
                View::Lines { x: "轮次", values: &["问题数", "已整改"] },
                format!(
                    "SELECT i.term || '第' || CAST(i.round_no AS VARCHAR) || '轮' AS 轮次, count(*) AS 问题数, sum({DONE}) AS 已整改, \
                            sum(p.funds_recovered) AS 挽回追回金额元 \
                     FROM problems p JOIN (SELECT DISTINCT round_id, term, round_no FROM inspections) i ON i.round_id = p.round_id \
                     WHERE true {}{}{} GROUP BY i.term, i.round_no ORDER BY i.term, i.round_no",
                    f.term("p.round_id"),
                    place("p.target_code"),
                    f.dates("p.found_date")
                ),
            ),
            panel(
                "findings_by_month",
                "比对发现(按所属期)",
                View::Lines { x: "月份", values: &["条数"] },
                format!("SELECT period AS 月份, count(*) AS 条数 FROM latest_findings WHERE period IS NOT NULL {} GROUP BY period ORDER BY period", place("village_code")),
            ),
        ],
        "rectification" => vec![
            panel(
                "by_town",
                "各乡镇整改率",
                View::Bars { label: "乡镇", value: "整改率百分比", unit: "%" },
                format!(
                    "SELECT v.town_name AS 乡镇, count(*) AS 问题数, sum({DONE}) AS 已整改, round(100.0 * sum({DONE}) / count(*), 1) AS 整改率百分比, \
                            sum(CASE WHEN status = '已销号' THEN 1 ELSE 0 END) AS 已销号 \
                     FROM problems p JOIN villages v ON v.village_code = p.target_code WHERE true {}{}{} GROUP BY v.town_name ORDER BY 整改率百分比",
                    f.term("p.round_id"),
                    place("p.target_code"),
                    f.dates("p.found_date")
                ),
            ),
            panel(
                "by_topic",
                "各类问题整改率",
                View::Bars { label: "问题类别", value: "问题数", unit: "个" },
                format!(
                    "SELECT topic AS 问题类别, count(*) AS 问题数, sum({DONE}) AS 已整改, round(100.0 * sum({DONE}) / count(*), 1) AS 整改率百分比 \
                     FROM problems WHERE true {}{}{} GROUP BY topic ORDER BY 问题数 DESC",
                    f.term("round_id"),
                    place("target_code"),
                    f.dates("found_date")
                ),
            ),
            panel(
                "status",
                "销号进度",
                View::Bars { label: "整改状态", value: "问题数", unit: "个" },
                format!("SELECT status AS 整改状态, count(*) AS 问题数 FROM problems WHERE true {}{} GROUP BY status ORDER BY 问题数 DESC", f.term("round_id"), place("target_code")),
            ),
            Panel { links_findings: true, ..panel("overdue", "整改逾期清单", View::Table, rule_list("rectification_overdue", f)) },
            Panel { links_findings: true, ..panel("rebound", "整改后反弹", View::Table, rule_list("rectification_rebound", f)) },
        ],
        "findings" => vec![
            panel(
                "by_rule",
                "比对发现(按规则)",
                View::Bars { label: "规则", value: "条数", unit: "条" },
                format!(
                    "SELECT r.title AS 规则, r.severity AS 严重程度, count(f.rule_id) AS 条数, sum(f.amount) AS 涉及金额元 \
                     FROM rule_catalogue r LEFT JOIN (SELECT * FROM latest_findings WHERE true {}) f ON f.rule_id = r.rule_id \
                     GROUP BY r.title, r.severity ORDER BY 条数 DESC",
                    place("village_code")
                ),
            ),
            panel(
                "by_town",
                "比对发现(按乡镇)",
                View::Bars { label: "乡镇", value: "条数", unit: "条" },
                format!(
                    "SELECT coalesce(v.town_name, f.town_code) AS 乡镇, count(*) AS 条数, sum(f.amount) AS 涉及金额元 \
                     FROM latest_findings f LEFT JOIN (SELECT DISTINCT town_code, town_name FROM villages) v ON v.town_code = f.town_code \
                     WHERE true {} GROUP BY 1 ORDER BY 条数 DESC",
                    place("f.village_code")
                ),
            ),
            Panel {
                links_findings: true,
                ..panel(
                    "list",
                    "比对发现清单(最多 500 条)",
                    View::Table,
                    match Filters::get(&f.rule) {
                        Some(rule) => rule_list(rule, f),
                        None => format!(
                            "SELECT f.run_id, f.rule_id, f.entity_key, r.title AS 规则, v.village_name AS 村, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元 \
                             FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id LEFT JOIN villages v ON v.village_code = f.village_code \
                             WHERE true {} ORDER BY f.amount DESC NULLS LAST LIMIT 500",
                            place("f.village_code")
                        ),
                    },
                )
            },
            panel(
                "catalogue",
                "规则目录",
                View::Table,
                "SELECT rule_id AS 规则编号, title AS 规则, severity AS 严重程度, sector AS 行业领域, topic AS 问题类别, description AS 含义, \
                        (SELECT thresholds FROM runs WHERE kind = 'rules' AND status = 'ok' ORDER BY run_id DESC LIMIT 1) AS 阈值 \
                 FROM rule_catalogue"
                    .into(),
            ),
        ],
        "risk" => vec![
            panel(
                "top",
                "风险最高的村(前 15)",
                View::Bars { label: "村", value: "风险分", unit: "分" },
                format!(
                    "SELECT town_name || village_name AS 村, round(score, 1) AS 风险分, tier AS 等级 FROM latest_risk_scores WHERE true {} ORDER BY score DESC LIMIT 15",
                    place("village_code")
                ),
            ),
            panel(
                "ranking",
                "村级风险排名",
                View::Table,
                format!(
                    "SELECT village_code AS 村代码, town_name AS 乡镇, village_name AS 村, rank_in_county AS 县内排名, round(score, 1) AS 风险分, tier AS 等级, \
                            round(petitions_per_1000_pts, 1) AS 信访, round(findings_weighted_pts + livelihood_amount_pts + collective_amount_pts, 1) AS 比对发现, \
                            round(sanzi_volume_pts + project_contracts_pts + untendered_share_pts, 1) AS 三资工程, \
                            round(open_problems_pts + overdue_problems_pts + unrectified_share_pts, 1) AS 整改, round(months_since_inspection_pts, 1) AS 巡察间隔 \
                     FROM latest_risk_scores WHERE true {} ORDER BY score DESC",
                    place("village_code")
                ),
            ),
            panel(
                "tiers",
                "风险等级分布",
                View::Bars { label: "等级", value: "村数", unit: "个" },
                format!("SELECT tier AS 等级, count(*) AS 村数, round(avg(score), 1) AS 平均分 FROM latest_risk_scores WHERE true {} GROUP BY tier ORDER BY 平均分 DESC", place("village_code")),
            ),
        ],
        "petitions" => vec![
            panel(
                "by_month",
                "信访量(按月)",
                View::Lines { x: "月份", values: &["信访件", "重复件"] },
                format!(
                    "SELECT to_char(received_date, '%Y-%m') AS 月份, count(*) AS 信访件, sum(CASE WHEN is_repeat THEN 1 ELSE 0 END) AS 重复件 \
                     FROM petitions WHERE true {}{} GROUP BY 1 ORDER BY 1",
                    place("village_code"),
                    f.dates("received_date")
                ),
            ),
            panel(
                "by_topic",
                "信访问题类别",
                View::Bars { label: "问题类别", value: "信访件", unit: "件" },
                format!(
                    "SELECT topic AS 问题类别, count(*) AS 信访件, round(100.0 * sum(CASE WHEN is_repeat THEN 1 ELSE 0 END) / count(*), 1) AS 重复件占比百分比, \
                            round(100.0 * sum(CASE WHEN satisfaction = '不满意' THEN 1 ELSE 0 END) / nullif(sum(CASE WHEN satisfaction IN ('满意', '基本满意', '不满意') THEN 1 ELSE 0 END), 0), 1) AS 不满意占比百分比 \
                     FROM petitions WHERE true {}{} GROUP BY topic ORDER BY 信访件 DESC",
                    place("village_code"),
                    f.dates("received_date")
                ),
            ),
            panel(
                "hotspots",
                "信访热点村(前 20)",
                View::Table,
                format!(
                    "SELECT v.town_name AS 乡镇, v.village_name AS 村, count(*) AS 信访件, sum(CASE WHEN p.is_repeat THEN 1 ELSE 0 END) AS 重复件, \
                            round(1000.0 * count(*) / nullif(v.population, 0), 2) AS 每千人 \
                     FROM petitions p JOIN villages v ON v.village_code = p.village_code WHERE true {}{} \
                     GROUP BY v.town_name, v.village_name, v.population ORDER BY 信访件 DESC LIMIT 20",
                    place("p.village_code"),
                    f.dates("p.received_date")
                ),
            ),
        ],
        "common" => vec![
            panel(
                "topics",
                "共性问题(问题或比对发现涉及的乡镇数)",
                View::Bars { label: "问题类别", value: "涉及乡镇", unit: "个" },
                format!("SELECT topic AS 问题类别, count(DISTINCT town_code) AS 涉及乡镇, sum(problems) AS 问题数, sum(findings) AS 比对发现 FROM ({}) GROUP BY topic ORDER BY 涉及乡镇 DESC, 问题数 DESC", topic_towns(f)),
            ),
            panel(
                "heat",
                "乡镇 × 问题类别(问题数 + 比对发现数)",
                View::Heat { row: "乡镇", column: "问题类别", value: "数量" },
                format!(
                    "SELECT coalesce(v.town_name, t.town_code) AS 乡镇, t.topic AS 问题类别, sum(t.problems + t.findings) AS 数量 FROM ({}) t \
                     LEFT JOIN (SELECT DISTINCT town_code, town_name FROM villages) v ON v.town_code = t.town_code GROUP BY 1, 2 ORDER BY 1, 2",
                    topic_towns(f)
                ),
            ),
        ],
        "village" => village_panels(f)?,
        "data" => vec![
            panel(
                "loads",
                "各数据源最近入库",
                View::Table,
                "SELECT source AS 数据源, max(finished_at) AS 最近入库, CAST(date_part('day', now() - max(finished_at)) AS BIGINT) AS 距今天数, \
                        count(*) AS 批次, sum(rows_loaded) AS 入库行, sum(rows_quarantined) AS 隔离行, \
                        sum(CASE WHEN status <> 'loaded' THEN 1 ELSE 0 END) AS 拒收或失败 \
                 FROM ingest_batches GROUP BY source ORDER BY 距今天数 DESC, source"
                    .into(),
            ),
            panel(
                "jobs",
                "定时任务运行情况",
                View::Table,
                "SELECT substr(kind, 5) AS 任务, max(finished_at) AS 最近运行, sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS 成功次数, \
                        sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END) AS 失败次数, max(CASE WHEN status <> 'ok' THEN finished_at END) AS 最近失败 \
                 FROM runs WHERE kind LIKE 'job:%' GROUP BY kind ORDER BY 任务"
                    .into(),
            ),
            panel(
                "quarantine",
                "隔离原因",
                View::Bars { label: "原因", value: "行数", unit: "行" },
                "SELECT source || ':' || reason_kind AS 原因, count(*) AS 行数 FROM quarantine GROUP BY 1 ORDER BY 行数 DESC LIMIT 30".into(),
            ),
            panel(
                "runs",
                "运行记录",
                View::Table,
                "SELECT run_id AS 运行编号, kind AS 类型, started_at AS 开始, finished_at AS 结束, status AS 状态, as_of AS 参考日, \
                        findings_rows AS 比对发现, risk_score_rows AS 风险评分, error AS 错误 FROM runs ORDER BY run_id DESC LIMIT 20"
                    .into(),
            ),
        ],
        _ => return None,
    })
}

/// One rule's latest findings, listed with their village.
fn rule_list(rule: &str, f: &Filters) -> String {
    format!(
        "SELECT f.run_id, f.rule_id, f.entity_key, v.village_name AS 村, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元 \
         FROM latest_findings f LEFT JOIN villages v ON v.village_code = f.village_code WHERE f.rule_id = {} {} ORDER BY f.entity_key LIMIT 500",
        quote(rule),
        f.place("f.village_code")
    )
}

/// (town_code, topic, problems, findings): where each topic was found.
fn topic_towns(f: &Filters) -> String {
    format!(
        "SELECT substr(target_code, 1, 9) || '000' AS town_code, topic, count(*) AS problems, 0 AS findings FROM problems \
           WHERE length(target_code) = 12 AND substr(target_code, 10, 3) <> '000' {}{}{} GROUP BY 1, 2 \
         UNION ALL \
         SELECT f.town_code, r.topic, 0, count(*) FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id WHERE f.town_code IS NOT NULL {} GROUP BY 1, 2",
        f.term("round_id"),
        f.place("target_code"),
        f.dates("found_date"),
        f.place("f.village_code")
    )
}

/// 村情档案: one village's file (the village picked in the filter).
fn village_panels(f: &Filters) -> Option<Vec<Panel>> {
    let picker = panel(
        "villages",
        "选择村(社区)",
        View::Table,
        format!(
            "SELECT village_code AS 村代码, town_name AS 乡镇, village_name AS 村, population AS 户籍人口, households AS 户数 FROM villages WHERE true {} ORDER BY village_code",
            f.place("village_code")
        ),
    );
    let Ok(Some(code)) = Filters::code(&f.village, "村") else { return Some(vec![picker]) };
    let v = quote(&code);
    Some(vec![
        panel(
            "profile",
            "基本情况",
            View::Tiles,
            format!(
                "SELECT (SELECT town_name || village_name FROM villages WHERE village_code = {v}) AS 村, \
                        (SELECT count(*) FROM population WHERE village_code = {v} AND status = '正常') AS 在册人口, \
                        (SELECT count(DISTINCT household_id) FROM population WHERE village_code = {v}) AS 户数, \
                        (SELECT round(score, 1) FROM latest_risk_scores WHERE village_code = {v}) AS 风险分, \
                        (SELECT tier FROM latest_risk_scores WHERE village_code = {v}) AS 风险等级, \
                        (SELECT count(*) FROM latest_findings WHERE village_code = {v}) AS 比对发现, \
                        (SELECT count(*) FROM petitions WHERE village_code = {v}) AS 信访件, \
                        (SELECT max(start_date) FROM inspections WHERE target_code = {v}) AS 最近巡察"
            ),
        ),
        panel(
            "risk",
            "风险构成(各指标得分)",
            View::Bars { label: "指标", value: "得分", unit: "分" },
            risk_components_sql(&v),
        ),
        panel(
            "programs",
            "民生资金发放(按项目)",
            View::Bars { label: "资金项目", value: "金额元", unit: "元" },
            format!("SELECT program AS 资金项目, count(DISTINCT id_number) AS 人数, count(*) AS 笔数, sum(amount) AS 金额元 FROM subsidy_payments WHERE village_code = {v} GROUP BY program ORDER BY 金额元 DESC"),
        ),
        Panel {
            links_findings: true,
            ..panel(
                "findings",
                "比对发现",
                View::Table,
                format!(
                    "SELECT f.run_id, f.rule_id, f.entity_key, r.title AS 规则, f.person_name, f.id_number, f.period AS 所属期, f.amount AS 金额元 \
                     FROM latest_findings f JOIN rule_catalogue r ON r.rule_id = f.rule_id WHERE f.village_code = {v} ORDER BY r.title, f.entity_key"
                ),
            )
        },
        panel(
            "finance",
            "三资收支(按科目)",
            View::Table,
            format!("SELECT direction AS 收支, account AS 科目, count(*) AS 笔数, sum(amount) AS 金额元 FROM finance_vouchers WHERE village_code = {v} GROUP BY direction, account ORDER BY direction, 金额元 DESC"),
        ),
        panel(
            "contracts",
            "村级合同",
            View::Table,
            format!("SELECT contract_id AS 合同编号, kind AS 类型, title AS 合同名称, counterparty_name AS 相对方, amount AS 金额元, signed_date AS 签订日期, procurement AS 采购方式 FROM contracts WHERE village_code = {v} ORDER BY signed_date DESC"),
        ),
        panel(
            "petitions",
            "信访件",
            View::Table,
            format!("SELECT petition_id AS 信访件编号, received_date AS 登记日期, topic AS 问题类别, summary AS 内容摘要, status AS 办理状态, satisfaction AS 群众评价 FROM petitions WHERE village_code = {v} ORDER BY received_date DESC"),
        ),
        panel(
            "inspections",
            "巡察与问题整改",
            View::Table,
            format!(
                "SELECT p.problem_id AS 问题编号, i.term || '第' || CAST(i.round_no AS VARCHAR) || '轮' AS 轮次, p.topic AS 问题类别, p.description AS 问题描述, p.deadline AS 整改时限, p.status AS 整改状态, p.rectified_date AS 完成日期 \
                 FROM problems p LEFT JOIN (SELECT DISTINCT round_id, term, round_no FROM inspections) i ON i.round_id = p.round_id WHERE p.target_code = {v} ORDER BY p.found_date DESC"
            ),
        ),
    ])
}

/// One village's score components as (指标, 得分) rows.
fn risk_components_sql(village: &str) -> String {
    xuncha_queries::scores::COMPONENTS
        .iter()
        .map(|c| format!("SELECT {} AS 指标, round({}_pts, 2) AS 得分, {} AS 原始值 FROM latest_risk_scores WHERE village_code = {village}", quote(c.label), c.name, c.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
        + " ORDER BY 得分 DESC"
}

fn title_of(page: &str) -> &'static str {
    layout::NAV.iter().find(|(p, _, _)| p.strip_prefix("/p/") == Some(page)).map_or("", |(_, t, _)| t)
}

/// `/`: the overview.
pub(crate) async fn home() -> Redirect {
    Redirect::to("/p/overview")
}

/// Unknown paths.
pub(crate) async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "页面不存在", "请从导航栏进入各页面。")
}

/// A page with its filters and panels.
pub(crate) async fn page(State(state): State<Arc<AppState>>, auth: Auth, Path(name): Path<String>, Query(filters): Query<Filters>) -> Response {
    let session = &auth.0;
    let Some(panels) = panels(&name, &filters) else { return not_found().await };
    if let Err(message) = filters.validate() {
        return error_page(StatusCode::BAD_REQUEST, "筛选条件有误", &message);
    }
    if let Err(message) = filters.within(session.user.scope.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "不在您的范围内", &message);
    }
    let qs = filters.query_string();
    let scope = session.user.scope.as_deref();
    let key = format!("{name}?{qs}");
    let fingerprint = match state.fingerprint() {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "无法读取数据湖", &e.to_string()),
    };
    let body = match state.cached_page(scope, &key, &fingerprint) {
        Some(body) => body,
        None => match page_body(&state, scope, &name, &filters, &panels).await {
            Ok(body) => state.cache_page(scope, &key, fingerprint, body),
            Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "无法读取数据湖", &e.to_string()),
        },
    };
    layout::page(session, &format!("/p/{name}"), title_of(&name), PreEscaped(body.to_string()))
}

/// A page's content below the frame: the same for every user of a scope
/// until the lake changes, so it is cached (see `AppState::cached_page`).
async fn page_body(state: &AppState, scope: Option<&str>, name: &str, filters: &Filters, panels: &[Panel]) -> Result<String, crate::DashboardError> {
    let ctx = state.context(scope).await?;
    let qs = filters.query_string();
    let mut body = vec![filter_form(name, filters, &ctx).await];
    if name == "risk" {
        body.push(plan_section(state, &ctx).await);
    }
    if name == "common" {
        body.push(html! { p { "专题报告:" a href="/report/common-issues.html" download { "下载 HTML" } " · " a href="/report/common-issues.docx" download { "下载 Word" } } });
    }
    for p in panels {
        let table = match TextTable::query(&ctx, &p.sql).await {
            Ok(t) => t,
            Err(e) => {
                body.push(html! { h2 { (p.title) } p.error { "查询出错:" (e.to_string()) } });
                continue;
            }
        };
        let export = format!("/export/{name}/{}?{qs}", p.id);
        body.push(render_panel(p, &table, &export, name));
    }
    Ok(html! { @for b in &body { (b) } }.into_string())
}

/// A panel: its chart, key figures or table (always masked: analysts
/// reveal one finding at a time on its evidence page).
fn render_panel(p: &Panel, table: &TextTable, export: &str, page: &str) -> Markup {
    let number = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    let chart = match &p.view {
        View::Bars { label, value, unit } => Some(charts::bars(
            &table.column(label).into_iter().map(String::from).collect::<Vec<_>>(),
            &table.column(value).into_iter().map(number).collect::<Vec<_>>(),
            unit,
        )),
        View::Lines { x, values } => Some(charts::lines(
            &table.column(x).into_iter().map(String::from).collect::<Vec<_>>(),
            &values.iter().map(|v| ((*v).to_string(), table.column(v).into_iter().map(number).collect())).collect::<Vec<_>>(),
        )),
        View::Heat { row, column, value } => Some(charts::Grid::from_table(table, row, column, value, None).heat_map()),
        View::Tiles | View::Table => None,
    };
    let hidden = ["run_id", "rule_id", "entity_key"];
    let shown = if p.links_findings {
        TextTable {
            columns: table.columns.iter().filter(|c| !hidden.contains(&c.as_str())).cloned().collect(),
            rows: table.rows.iter().map(|r| r.iter().zip(&table.columns).filter(|(_, c)| !hidden.contains(&c.as_str())).map(|(v, _)| v.clone()).collect()).collect(),
        }
    } else {
        table.clone()
    };
    let finding_links: Vec<Option<String>> = if p.links_findings {
        let (run, rule, key) = (table.column("run_id"), table.column("rule_id"), table.column("entity_key"));
        (0..table.rows.len()).map(|i| Some(format!("/finding/{}/{}/{}", urlencode(run[i]), urlencode(rule[i]), crate::finding::key_digest(key[i])))).collect()
    } else {
        Vec::new()
    };
    let village_link = |row: &[String]| -> Option<String> { row.first().filter(|_| page == "village").map(|code| format!("/p/village?village={code}")) };
    let by_index = |row: &[String]| -> Option<String> { shown.rows.iter().position(|r| r.as_slice() == row).and_then(|i| finding_links.get(i).cloned().flatten()) };
    let link: layout::RowLink<'_> = if p.links_findings {
        Some(&by_index)
    } else if p.id == "villages" {
        Some(&village_link)
    } else {
        None
    };
    html! {
        section id=(p.id) {
            h2 { (p.title) }
            @match &p.view {
                View::Tiles => {
                    @let row = table.rows.first().cloned().unwrap_or_default();
                    (layout::tiles(&table.columns.iter().zip(row.iter()).map(|(c, v)| (label_of(c), figure(c, v))).collect::<Vec<_>>()))
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                View::Heat { .. } => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    p { a.export href=(export) download { "导出 CSV" } }
                }
                _ => {
                    @if let Some(svg) = chart { (layout::svg(svg)) }
                    (layout::table(&shown, &[("person_name", "姓名"), ("id_number", "身份证号")], true, Some(export), link))
                }
            }
        }
    }
}

/// A key figure's label without its unit suffix.
fn label_of(column: &str) -> String {
    column.trim_end_matches("元").trim_end_matches("百分比").to_string()
}

/// A key figure: money in 万元, rates with %, counts as they are.
fn figure(column: &str, value: &str) -> String {
    if value.is_empty() {
        return "—".into();
    }
    if column.ends_with("金额元") {
        return value.parse::<f64>().map_or(value.to_string(), |v| format!("{:.2} 万元", v / 10_000.0));
    }
    if column.ends_with("百分比") {
        return format!("{value}%");
    }
    value.to_string()
}

/// The filter bar: town, term, date range (and village on the village page).
async fn filter_form(page: &str, f: &Filters, ctx: &datafusion::prelude::SessionContext) -> Markup {
    let towns = TextTable::query(ctx, "SELECT DISTINCT town_code, town_name FROM villages ORDER BY town_code").await.unwrap_or_default();
    let terms = TextTable::query(ctx, "SELECT DISTINCT term FROM inspections ORDER BY term").await.unwrap_or_default();
    let current = |v: &Option<String>| Filters::get(v).unwrap_or("").to_string();
    html! {
        form.filters method="get" action=(format!("/p/{page}")) {
            label { "乡镇"
                select name="town" {
                    option value="" { "全部" }
                    @for row in &towns.rows { option value=(row[0]) selected[current(&f.town) == row[0]] { (row[1]) } }
                }
            }
            label { "届次"
                select name="term" {
                    option value="" { "全部" }
                    @for row in &terms.rows { option value=(row[0]) selected[current(&f.term) == row[0]] { (row[0]) } }
                }
            }
            label { "开始日期" input type="date" name="from" value=(current(&f.from)); }
            label { "结束日期" input type="date" name="to" value=(current(&f.to)); }
            @if page == "village" { label { "村代码" input name="village" value=(current(&f.village)) placeholder="12 位代码"; } }
            @if page == "findings" { input type="hidden" name="rule" value=(current(&f.rule)); }
            button type="submit" { "筛选" }
        }
    }
}

/// The inspection plan on the risk page.
async fn plan_section(state: &AppState, ctx: &datafusion::prelude::SessionContext) -> Markup {
    match xuncha_queries::plan::plan(ctx, None, None, state.report.rounds_per_term).await {
        Ok(plan) => {
            let table = TextTable {
                columns: ["建议轮次", "乡镇", "村", "风险分", "等级"].map(String::from).to_vec(),
                rows: plan
                    .villages
                    .iter()
                    .take(60)
                    .map(|v| vec![format!("第{}轮", v.round_no), v.town_name.clone(), v.village_name.clone(), v.score.map_or("—".into(), |s| format!("{s:.1}")), v.tier.clone()])
                    .collect(),
            };
            html! {
                section id="plan" {
                    h2 { "巡察计划建议(" (plan.term) ")" }
                    p {
                        "共 " (plan.villages_total) " 个村(社区),已巡察 " (plan.inspected) ",未巡察 " (plan.villages.len())
                        ";已开展 " (plan.rounds_done) " 轮,剩余 " (plan.rounds_left) " 轮。"
                        @if plan.on_track { span.ok { "届内全覆盖可按期完成" } } @else { span.error { "届内全覆盖有风险:按每轮 " (format!("{:.1}", plan.capacity)) " 个的进度无法覆盖" } }
                    }
                    (layout::table(&table, &[], false, None, None))
                }
            }
        }
        Err(e) => html! { h2 { "巡察计划建议" } p.note { (e.to_string()) } },
    }
}

/// `/export/{page}/{panel}`: a panel's rows as CSV, masked as on screen; audited.
pub(crate) async fn export(State(state): State<Arc<AppState>>, auth: Auth, Path((page, id)): Path<(String, String)>, Query(filters): Query<Filters>) -> Response {
    let session = &auth.0;
    if let Err(message) = filters.validate() {
        return error_page(StatusCode::BAD_REQUEST, "筛选条件有误", &message);
    }
    if let Err(message) = filters.within(session.user.scope.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "不在您的范围内", &message);
    }
    let Some(p) = panels(&page, &filters).and_then(|ps| ps.into_iter().find(|p| p.id == id)) else { return not_found().await };
    let ctx = match state.context(session.user.scope.as_deref()).await {
        Ok(ctx) => ctx,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "无法读取数据湖", &e.to_string()),
    };
    let table = match TextTable::query(&ctx, &p.sql).await {
        Ok(t) => t,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, "导出失败", &e.to_string()),
    };
    if let Err(e) = state.audit.record(&session.user.name, "export", &format!("{page}/{id}?{} ({} 行)", filters.query_string(), table.rows.len())) {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志写入失败,未导出", &e.to_string());
    }
    let file = format!("attachment; filename=\"xuncha-{page}-{id}.csv\"");
    match layout::masked_csv(&table) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file)], bytes).into_response(),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "导出失败", &e.to_string()),
    }
}

/// `/report/common-issues.{html,docx}`: the thematic report of the user's
/// scope, built now; audited.
pub(crate) async fn report_download(State(state): State<Arc<AppState>>, auth: Auth, Path(ext): Path<String>) -> Response {
    let session = &auth.0;
    let (format, mime) = match ext.as_str() {
        "html" => (crate::report::Format::Html, "text/html; charset=utf-8"),
        "docx" => (crate::report::Format::Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        _ => return not_found().await,
    };
    let built = async {
        let ctx = state.context(session.user.scope.as_deref()).await?;
        let report = crate::report::build(&ctx, &crate::report::ReportOptions::default(), &state.report).await?;
        crate::report::render::bytes(&report, format)
    }
    .await;
    match built {
        Ok(bytes) => {
            if let Err(e) = state.audit.record(&session.user.name, "report", &format!("common-issues.{ext}")) {
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, "审计日志写入失败,未下载", &e.to_string());
            }
            let file = format!("attachment; filename=\"common-issues.{ext}\"");
            ([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, file)], bytes).into_response()
        }
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "报告生成失败", &e.to_string()),
    }
}
