//! A department's own header spellings, mapped onto the contract's columns
//! (CONTRACT §6): `[headers]` of `xuncha.toml` for every source,
//! `[sources.NAME.headers]` for one, and the spellings xuncha ships
//! ([`SHIPPED_HEADERS`]), each compared after the contract's header
//! normalization ([`header_key`]: full-width forms, spaces, a unit suffix
//! such as `(元)`).
//!
//! A mapping never changes how a contract header is read: a header the
//! contract (or its aliases) knows means that column whatever is configured;
//! only a header the contract does not know is looked up here — the
//! source's own mappings first, then the ones for all sources, then the
//! shipped ones. A rejected file names, for each required column it lacks,
//! the file's header that most resembles it and the line to add
//! ([`suggestion`]).

use crate::contract::{Source, header_key};
use crate::declared::Catalog;
use std::collections::BTreeMap;

/// Spellings departments use every day, shipped: (source, header, column).
/// Collected from the glossary, the seed reports and public rosters; a
/// spelling that could mean two columns of a source is left out.
pub const SHIPPED_HEADERS: &[(&str, &str, &str)] = &[
    ("population", "证件号码", "id_number"),
    ("population", "身份证", "id_number"),
    ("population", "公民身份证号", "id_number"),
    ("subsidy_payments", "证件号码", "id_number"),
    ("subsidy_payments", "身份证", "id_number"),
    ("subsidy_payments", "户主身份证号", "id_number"),
    ("subsidy_payments", "享受人姓名", "name"),
    ("subsidy_payments", "享受对象", "name"),
    ("subsidy_payments", "领取人姓名", "name"),
    ("subsidy_payments", "发放金额", "amount"),
    ("subsidy_payments", "补贴金额", "amount"),
    ("subsidy_payments", "资金名称", "program"),
    ("subsidy_payments", "补贴项目", "program"),
    ("subsidy_payments", "发放年月", "period"),
    ("subsidy_payments", "银行卡号", "bank_account"),
    ("subsidy_payments", "社保卡号", "bank_account"),
    ("deaths", "证件号码", "id_number"),
    ("deaths", "身份证", "id_number"),
    ("cadres", "证件号码", "id_number"),
    ("cadres", "身份证", "id_number"),
    ("welfare_jobs", "证件号码", "id_number"),
    ("welfare_jobs", "身份证", "id_number"),
    ("social_insurance", "证件号码", "id_number"),
    ("social_insurance", "身份证", "id_number"),
    ("vehicles", "证件号码", "id_number"),
    ("business_people", "证件号码", "id_number"),
];

/// Where a column's header was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The contract's header or one of its aliases (for a declared source:
    /// its declared header).
    Contract,
    /// An alias a declared source lists for a column.
    Alias,
    /// A mapping of `xuncha.toml`.
    Configured,
    /// A spelling xuncha ships.
    Shipped,
}

impl Via {
    pub fn label(self) -> &'static str {
        match self {
            Via::Contract => "合同表头",
            Via::Alias => "声明的别名",
            Via::Configured => "xuncha.toml 映射",
            Via::Shipped => "内置常见写法",
        }
    }
}

/// The header mappings in force: (source or `None` for all, header key, column name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderMappings {
    configured: Vec<(Option<String>, String, String)>,
    /// A declared source's aliases: (source, header key, column).
    aliases: Vec<(String, String, String)>,
}

impl HeaderMappings {
    /// From `[headers]` (all sources) and `[sources.NAME.headers]`, each
    /// checked: the source exists, the column is one of its columns (for
    /// `[headers]`: of some source's).
    pub fn new(all: &BTreeMap<String, String>, per_source: &BTreeMap<String, BTreeMap<String, String>>, sources: &Catalog) -> Result<HeaderMappings, String> {
        let mut configured = Vec::new();
        for (header, column) in all {
            if !sources.all().any(|s| s.column_index(column).is_some()) {
                return Err(format!("[headers] \"{header}\" = \"{column}\":没有哪个数据来源有列「{column}」"));
            }
            configured.push((None, header_key(header), column.clone()));
        }
        for (name, headers) in per_source {
            let Some(s) = sources.get(name) else { return Err(format!("[sources.{name}]:没有数据来源「{name}」")) };
            for (header, column) in headers {
                if s.column_index(column).is_none() {
                    let columns: Vec<&str> = s.columns.iter().map(|c| c.name).collect();
                    return Err(format!("[sources.{name}.headers] \"{header}\" = \"{column}\":{name} 没有列「{column}」(有: {})", columns.join(", ")));
                }
                configured.push((Some(name.clone()), header_key(header), column.clone()));
            }
        }
        let aliases = sources.aliases().map(|(s, h, c)| (s.to_string(), h.to_string(), c.to_string())).collect();
        Ok(HeaderMappings { configured, aliases })
    }

    /// The column of `source` a delivered header means, and how it was
    /// recognised: the contract first, then the source's mappings, the
    /// mappings for all sources, the shipped spellings.
    pub fn column(&self, source: &Source, header: &str) -> Option<(usize, Via)> {
        if let Some(i) = source.match_header(header) {
            return Some((i, Via::Contract));
        }
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        if let Some(i) = self.aliases.iter().filter(|(s, k, _)| *s == source.name && *k == key).find_map(|(_, _, column)| source.column_index(column)) {
            return Some((i, Via::Alias));
        }
        let configured = |for_source: bool| {
            self.configured
                .iter()
                .filter(|(s, k, _)| *k == key && s.as_deref().is_some_and(|s| s == source.name) == for_source && (for_source || s.is_none()))
                .find_map(|(_, _, column)| source.column_index(column))
        };
        if let Some(i) = configured(true).or_else(|| configured(false)) {
            return Some((i, Via::Configured));
        }
        SHIPPED_HEADERS.iter().filter(|(s, h, _)| *s == source.name && header_key(h) == key).find_map(|(_, _, c)| source.column_index(c)).map(|i| (i, Via::Shipped))
    }
}

/// A department's own names for a column's allowed values (`[sources.NAME.
/// values.COLUMN]`: `"农村最低生活保障金" = "低保"`), by (source, column).
/// Only a value outside the allowed list is looked up: an allowed value is
/// never mapped to another.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueMappings {
    by_column: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl ValueMappings {
    /// From `[sources.NAME.values.COLUMN]`, checked: the column is one with
    /// an allowed list, and each value maps to one of its allowed values.
    pub fn new(per_source: &BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>, sources: &Catalog) -> Result<ValueMappings, String> {
        let mut by_column = BTreeMap::new();
        for (name, columns) in per_source {
            let Some(s) = sources.get(name) else { return Err(format!("[sources.{name}]:没有数据来源「{name}」")) };
            for (column, values) in columns {
                let Some(c) = s.column_index(column).map(|i| &s.columns[i]) else { return Err(format!("[sources.{name}.values.{column}]:{name} 没有列「{column}」")) };
                let crate::contract::ColumnType::Enum(allowed) = c.ty else { return Err(format!("[sources.{name}.values.{column}]:列「{column}」没有允许值列表,不需要值映射")) };
                if let Some((from, to)) = values.iter().find(|(_, to)| !allowed.contains(&to.as_str())) {
                    return Err(format!("[sources.{name}.values.{column}] \"{from}\" = \"{to}\":「{to}」不在允许值之内(应为 {})", allowed.join(" / ")));
                }
                // An allowed value always means itself: a mapping cannot change it.
                if let Some((from, to)) = values.iter().find(|(from, _)| allowed.contains(&crate::values::clean(from).as_ref())) {
                    return Err(format!("[sources.{name}.values.{column}] \"{from}\" = \"{to}\":「{from}」本身就是允许值,映射不能改变它"));
                }
                by_column.insert((name.clone(), column.clone()), values.iter().map(|(k, v)| (crate::values::clean(k).into_owned(), v.clone())).collect());
            }
        }
        Ok(ValueMappings { by_column })
    }

    /// The value mappings of one column, if any.
    pub fn of(&self, source: &str, column: &str) -> Option<&BTreeMap<String, String>> {
        self.by_column.get(&(source.to_string(), column.to_string()))
    }
}

/// The allowed values most like `value` (for a reason that names them).
pub fn closest<'a>(value: &str, allowed: &[&'a str]) -> Vec<&'a str> {
    let scored: Vec<(f64, &str)> = allowed.iter().map(|a| (likeness(value, a), *a)).filter(|(s, _)| *s > 0.0).collect();
    let best = scored.iter().map(|(s, _)| *s).fold(0.0, f64::max);
    scored.into_iter().filter(|(s, _)| best > 0.0 && *s >= best).map(|(_, a)| a).collect()
}

/// How alike two headers are: the characters they share (each counted once)
/// over the longer one's, after normalization.
fn likeness(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (header_key(a).chars().collect(), header_key(b).chars().collect());
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut rest = b.clone();
    let shared = a.iter().filter(|c| rest.iter().position(|r| r == *c).map(|i| rest.remove(i)).is_some()).count();
    shared as f64 / a.len().max(b.len()) as f64
}

/// For a required `column` of `source` a file lacks: the file's header that
/// most resembles the column's header (an unmapped one), and the lines to
/// add to `xuncha.toml`; `None` when no header shares anything with it.
pub fn suggestion(source: &Source, column: usize, unmapped: &[&str]) -> Option<String> {
    let wanted = &source.columns[column];
    let (best, score) = unmapped.iter().map(|h| (*h, likeness(h, wanted.header).max(likeness(h, wanted.name)))).max_by(|a, b| a.1.total_cmp(&b.1))?;
    (score > 0.0).then(|| format!("「{best}」最像「{}」:如果是,请在 xuncha.toml 的 [sources.{}.headers] 下加一行 \"{best}\" = \"{}\"", wanted.header, source.name, wanted.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::source;

    #[test]
    fn the_contract_first_then_the_source_then_all_then_shipped() {
        let population = source("population").unwrap();
        let payments = source("subsidy_payments").unwrap();
        let none = HeaderMappings::default();
        let id = population.column_index("id_number").unwrap();
        assert_eq!(none.column(population, "公民身份号码"), Some((id, Via::Contract)));
        assert_eq!(none.column(population, " 证件号码 "), Some((id, Via::Shipped)));
        assert_eq!(none.column(population, "人员编码"), None);
        let all = BTreeMap::from([("人员编码".to_string(), "id_number".to_string()), ("姓名".to_string(), "id_number".to_string())]);
        let mine = BTreeMap::from([("population".to_string(), BTreeMap::from([("人员编码".to_string(), "name".to_string())]))]);
        let mappings = HeaderMappings::new(&all, &mine, &Catalog::default()).unwrap();
        assert_eq!(mappings.column(population, "人员编码"), Some((population.column_index("name").unwrap(), Via::Configured)), "the source's own first");
        assert_eq!(mappings.column(payments, "人员编码"), Some((payments.column_index("id_number").unwrap(), Via::Configured)));
        assert_eq!(mappings.column(population, "姓名"), Some((population.column_index("name").unwrap(), Via::Contract)), "a mapping never changes a contract header");
        assert!(HeaderMappings::new(&BTreeMap::new(), &BTreeMap::from([("nowhere".to_string(), BTreeMap::new())]), &Catalog::default()).unwrap_err().contains("nowhere"));
        let bad = BTreeMap::from([("population".to_string(), BTreeMap::from([("x".to_string(), "amount".to_string())]))]);
        assert!(HeaderMappings::new(&BTreeMap::new(), &bad, &Catalog::default()).unwrap_err().contains("没有列「amount」"));
    }

    #[test]
    fn values_map_only_onto_allowed_values_and_bad_ones_name_the_closest() {
        let map = |col: &str, from: &str, to: &str| BTreeMap::from([("subsidy_payments".to_string(), BTreeMap::from([(col.to_string(), BTreeMap::from([(from.to_string(), to.to_string())]))]))]);
        let ok = ValueMappings::new(&map("program", "农村最低生活保障金", "低保"), &Catalog::default()).unwrap();
        assert_eq!(ok.of("subsidy_payments", "program").unwrap()["农村最低生活保障金"], "低保");
        assert!(ValueMappings::new(&map("program", "x", "救济"), &Catalog::default()).unwrap_err().contains("「救济」不在允许值之内"));
        assert!(ValueMappings::new(&map("name", "x", "y"), &Catalog::default()).unwrap_err().contains("没有允许值列表"));
        assert!(ValueMappings::new(&map("program", "低保 ", "养老金"), &Catalog::default()).unwrap_err().contains("「低保 」本身就是允许值"), "a contract value is never remapped");
        assert_eq!(closest("城乡居民养老保险", crate::contract::PROGRAMS), ["养老金"]);
        assert!(closest("xyz", crate::contract::PROGRAMS).is_empty());
    }

    #[test]
    fn a_missing_column_names_its_likeliest_header_and_the_line_to_add() {
        let population = source("population").unwrap();
        let id = population.column_index("id_number").unwrap();
        let hint = suggestion(population, id, &["人员姓名", "证件号", "备注"]).unwrap();
        assert!(hint.contains("「证件号」最像「公民身份号码」") && hint.contains("[sources.population.headers] 下加一行 \"证件号\" = \"id_number\""), "{hint}");
        assert_eq!(suggestion(population, id, &["甲", "乙"]), None);
    }
}
