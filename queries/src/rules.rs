//! The rule catalogue: one `.sql` file per rule, with a header naming its
//! id, 中文标题, severity, sector, topic and description.
//!
//! ```sql
//! -- id: deceased_paid
//! -- title: 死亡人员仍领取补贴
//! -- severity: 严重            (一般 / 较重 / 严重)
//! -- sector: 民政
//! -- topic: 低保
//! -- description: …
//! -- subject: id_number       (optional: what a case is about, an SQL expression
//! --                           over the findings' columns; default entity_key)
//! -- recheck: periods         (optional: `periods` when later payment periods
//! --                           show whether the problem stopped; default none)
//! -- sentence: {person_name}于… (optional: the case in words, see `evidence`)
//! SELECT … AS entity_key, village_code, id_number, person_name, period, amount, named_struct(…) AS evidence
//! ```
//! A rule returns those seven columns (and may add `town_code`); `evidence`
//! is a struct the runner stores as JSON. `${name}` placeholders are the
//! run's reference dates and the thresholds of `xuncha.toml`, bound as
//! values (a date is `${as_of}`, not `DATE '${as_of}'`; a span of days
//! `${rebound_span}`), never pasted into the SQL.
//!
//! The built-in rules are embedded in the binary; a folder named in
//! `xuncha.toml` adds rules (or replaces one with the same id): an analyst
//! adds a rule by dropping a file there.
//!
//! Lists in evidence are `nullif(array_to_string(array_sort(array_agg(x)), sep), '')`
//! rather than `string_agg(x, sep)`: the same order on every run (a case's
//! words and the golden files do not shuffle), without the input sort an
//! ordered `string_agg` costs (and DataFusion 55 refuses two orders in one
//! aggregate). DuckDB reads them alike.
//!
//! Join order is written, not left to the planner: DataFusion builds its
//! hash table on the first (left) input of a join and a hash join cannot
//! spill, so the smaller side comes first (`FROM death d JOIN
//! subsidy_payments p`, `population RIGHT JOIN subsidy_payments` to keep
//! every payment); the planner has no row counts for CTEs to swap them.
//!
//! Rules that look for a few repeated keys among every payment first find
//! candidates in one cheap pass keyed by `hash64(...)`, then group only the
//! candidates' rows by the real columns with the contract's `HAVING`: a
//! hash collision can add a candidate but never a finding.
//! `duplicate_payment` keys by person, programme and year and sets one bit
//! per month (a repeated month makes the sum of the bits exceed their OR);
//! `shared_bank_account` keeps the accounts with enough beneficiaries over
//! all months before counting households month by month.

use crate::QueryError;
use crate::sheet::{Bound, Param, date, days, int, text};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::Path;
use xuncha_core::config::Thresholds;
use xuncha_core::contract::RULE_IDS;
use xuncha_core::values::Month;

/// Every `queries/rules/*.sql` file, embedded by `build.rs` as (id, text).
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Severity levels, mildest first.
pub const SEVERITIES: &[&str] = &["一般", "较重", "严重"];

/// One rule of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub sector: String,
    pub topic: String,
    pub description: String,
    /// What a case of this rule is about: an SQL expression over the
    /// columns of `findings` (a person's ID number, an account, a job…).
    pub subject: String,
    /// Whether later periods tell if the problem stopped (payments do; a
    /// contract or a voucher is a one-off event).
    pub recheck: bool,
    /// What a case of this rule is about, in words: a template over its
    /// findings (see `evidence`); `None`: a plain count and sum.
    pub sentence: Option<String>,
    /// The SQL, placeholders unfilled.
    pub sql: String,
    /// Where it came from: `内置` or a file path.
    pub origin: String,
}

impl Rule {
    /// Parses a rule file's text.
    pub fn parse(text: &str, origin: &str) -> Result<Rule, QueryError> {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for line in text.lines() {
            let Some(comment) = line.trim().strip_prefix("--") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            if let Some((key, value)) = comment.split_once(':') {
                fields.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
        let get = |key: &str| fields.get(key).cloned().ok_or_else(|| QueryError::Authoring(format!("{origin}: header lacks `-- {key}:`")));
        let rule = Rule {
            id: get("id")?,
            title: get("title")?,
            severity: get("severity")?,
            sector: get("sector")?,
            topic: get("topic")?,
            description: get("description")?,
            subject: fields.get("subject").cloned().unwrap_or_else(|| "entity_key".into()),
            recheck: match fields.get("recheck").map(String::as_str) {
                None | Some("none") => false,
                Some("periods") => true,
                Some(other) => return Err(QueryError::Authoring(format!("{origin}: recheck 「{other}」 should be periods or none"))),
            },
            sentence: fields.get("sentence").cloned(),
            sql: crate::sheet::placeholders(text, origin)?,
            origin: origin.to_string(),
        };
        if let Some(template) = &rule.sentence {
            crate::evidence::check(template).map_err(|e| QueryError::Authoring(format!("{origin}: sentence {e}")))?;
        }
        if !SEVERITIES.contains(&rule.severity.as_str()) {
            return Err(QueryError::Authoring(format!("{origin}: severity 「{}」 should be one of {}", rule.severity, SEVERITIES.join(" / "))));
        }
        if !rule.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(QueryError::Authoring(format!("{origin}: rule id 「{}」 should be snake_case", rule.id)));
        }
        Ok(rule)
    }

    /// The SQL with the run's parameters bound.
    pub fn bind(&self, params: &Params) -> Result<Bound, QueryError> {
        params.bind(&self.sql, &format!("rule {}", self.id))
    }
}

/// The built-in rules plus those of `dir` (a file there replaces the
/// built-in rule with the same id).
pub fn catalogue(dir: Option<&Path>) -> Result<Vec<Rule>, QueryError> {
    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (id, text) in BUILTIN {
        let rule = Rule::parse(text, "内置")?;
        if rule.id != *id {
            return Err(QueryError::Authoring(format!("built-in {id}.sql names itself {}", rule.id)));
        }
        order.push(rule.id.clone());
        rules.insert(rule.id.clone(), rule);
    }
    if let Some(dir) = dir {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|source| QueryError::RuleFolder { dir: dir.to_path_buf(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path)?;
            let rule = Rule::parse(&text, &path.display().to_string())?;
            if !rules.contains_key(&rule.id) {
                order.push(rule.id.clone());
            }
            rules.insert(rule.id.clone(), rule);
        }
    }
    // The contract's order first (CONTRACT §3), then any others by file name.
    order.sort_by_key(|id| RULE_IDS.iter().position(|r| r == id).unwrap_or(RULE_IDS.len()));
    Ok(order.into_iter().filter_map(|id| rules.remove(&id)).collect())
}

/// The values a rule's `${…}` placeholders take in one run.
#[derive(Debug, Clone)]
pub struct Params {
    pub as_of: NaiveDate,
    pub thresholds: Thresholds,
}

impl Params {
    /// Every placeholder and its value (`…_span`: the same number of days
    /// as an interval, for `date + ${…_span}`).
    pub fn values(&self) -> Vec<Param> {
        let month = Month::of(self.as_of);
        let window_first = month.plus(-2);
        let t = &self.thresholds;
        let pattern = t.travel_keywords.iter().map(|k| regex_escape(k)).collect::<Vec<_>>().join("|");
        let whole = |n: u64| int(i64::try_from(n).unwrap_or(i64::MAX));
        vec![
            ("as_of", date(Some(self.as_of))),
            ("as_of_month", text(Some(&month.to_string()))),
            ("year_ago", date(Some(self.as_of.checked_sub_months(chrono::Months::new(12)).unwrap_or(self.as_of)))),
            ("window_first", date(Some(window_first.first_day()))),
            ("window_first_month", text(Some(&window_first.to_string()))),
            ("split_limit", whole(t.split_limit)),
            ("split_window_days", whole(t.split_window_days.into())),
            ("split_window_span", days(t.split_window_days.into())),
            ("travel_min", whole(t.travel_min)),
            ("travel_pattern", text(Some(&pattern))),
            ("rebound_days", whole(t.rebound_days.into())),
            ("rebound_span", days(t.rebound_days.into())),
            ("shared_account_households", whole(t.shared_account_households.into())),
        ]
    }

    /// `sql` (placeholders as [`crate::sheet::placeholders`] wrote them)
    /// with the run's values bound; `what` names it in errors.
    pub fn bind(&self, sql: &str, what: &str) -> Result<Bound, QueryError> {
        Bound::new(sql, &self.values(), what)
    }

    /// The thresholds as JSON, recorded with every run.
    pub fn thresholds_json(&self) -> String {
        let t = &self.thresholds;
        serde_json::json!({
            "split_limit": t.split_limit,
            "split_window_days": t.split_window_days,
            "travel_min": t.travel_min,
            "travel_keywords": t.travel_keywords,
            "rebound_days": t.rebound_days,
            "shared_account_households": t.shared_account_households,
        })
        .to_string()
    }
}

fn regex_escape(text: &str) -> String {
    text.chars().map(|c| if "\\.+*?()|[]{}^$".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_in_the_catalogue_and_parses() {
        let on_disk: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap().map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(on_disk.len(), BUILTIN.len(), "every rule file is embedded");
        let rules = catalogue(None).unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, RULE_IDS, "the rules of CONTRACT §3, in its order");
        let params = Params { as_of: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(), thresholds: Thresholds::default() };
        for rule in &rules {
            let bound = rule.bind(&params).unwrap();
            assert!(!bound.sql.contains("${"), "{}", rule.id);
        }
    }

    #[test]
    fn a_rule_folder_adds_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let text = "-- id: big_payment\n-- title: 大额发放\n-- severity: 一般\n-- sector: 民政\n-- topic: 低保\n-- description: d\nSELECT 1";
        std::fs::write(dir.path().join("big_payment.sql"), text).unwrap();
        std::fs::write(dir.path().join("deceased_paid.sql"), text.replace("big_payment", "deceased_paid")).unwrap();
        let rules = catalogue(Some(dir.path())).unwrap();
        assert_eq!(rules.len(), 18);
        assert_eq!(rules.iter().find(|r| r.id == "deceased_paid").unwrap().title, "大额发放");
        let bad = Rule::parse("-- id: x\n-- title: t\n-- severity: 很严重\n-- sector: s\n-- topic: t\n-- description: d\nSELECT 1", "f.sql");
        assert!(bad.unwrap_err().to_string().contains("很严重"));
    }

    #[test]
    fn params_fill_placeholders() {
        let params = Params { as_of: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(), thresholds: Thresholds::default() };
        let values: BTreeMap<_, _> = params.values().into_iter().map(|(k, v)| (k, v.to_string())).collect();
        assert_eq!(values["window_first_month"], "2025-11");
        assert_eq!(values["window_first"], "2025-11-01");
        assert_eq!(values["travel_pattern"], "旅游|景区|门票|度假|参观学习|考察学习");
    }
}
