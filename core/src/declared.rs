//! Sources a county declares in `xuncha.toml` beside the contract's
//! (CONTRACT §6): a 残疾人名册, a 危房改造名单, a 处分台账 — each a table
//! with columns of the contract's types, required flags, a key, Chinese
//! headers and aliases, and the column that places a row in a village.
//!
//! ```toml
//! [sources.disabled_persons]
//! title = "残疾人名册"
//! key = ["id_number"]
//! scope = "village_code"          # a 12-digit village code: scoped users see their rows
//! [[sources.disabled_persons.columns]]
//! name = "id_number"
//! header = "公民身份号码"
//! type = "id"                     # str / int / date / month / money / bool / id
//! required = true
//! aliases = ["残疾人身份证号"]
//! [[sources.disabled_persons.columns]]
//! name = "level"
//! header = "残疾等级"
//! type = "str"
//! values = ["一级", "二级", "三级", "四级"]   # an allowed list, like the contract's
//! ```
//!
//! A declaration is checked strictly (an unknown key, a type outside the
//! contract's, a key or scope column not declared, a name the contract or
//! the lake already uses, an ID-number or 姓名 column not named so that the
//! dashboard masks it → an error naming it), then becomes a [`Source`]
//! like the contract's, so ingest, the lake and the queries treat it the
//! same. A declared source without `scope` holds rows no scoped user sees.
//!
//! Declared sources live as long as the process (they are read once, at
//! start): each [`Source`] is leaked, as the contract's are static.

use crate::contract::{Column, ColumnType, SOURCES, Scope, Source, header_key};
use serde::Deserialize;

/// One declared column (`[[sources.NAME.columns]]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnDeclaration {
    /// snake_case, the lake column's name.
    pub name: String,
    /// The Chinese header departments use.
    pub header: String,
    /// One of the contract's types (see [`TYPES`]).
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    /// Other headers meaning this column.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The allowed values (only for `str`): a value outside them is quarantined.
    #[serde(default)]
    pub values: Vec<String>,
}

/// The contract's type names (CONTRACT §1 "Types"), as a declaration writes them.
pub const TYPES: &[(&str, ColumnType)] =
    &[("str", ColumnType::Str), ("int", ColumnType::Int), ("date", ColumnType::Date), ("month", ColumnType::Month), ("money", ColumnType::Money), ("bool", ColumnType::Bool), ("id", ColumnType::Id)];

/// Names a declared source cannot take: the lake's own tables, the views
/// of every session and the inbox's folders that are not sources.
pub const RESERVED_NAMES: &[&str] =
    &["latest_findings", "latest_risk_scores", "cases", "funnel_stages", "case_stages", "rule_catalogue", "labels", "villages", "towns", "rounds", "death_dates", "archive", "rejected"];

/// Columns every source table has after its own (see `contract::schema`).
const LINEAGE_COLUMNS: &[&str] = &["extra", "batch_id", "source_file", "source_row"];

/// The sources in force: the contract's, then the declared ones.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    declared: Vec<&'static Source>,
    /// (source, header, column) of each declared alias.
    aliases: Vec<(&'static str, String, &'static str)>,
}

impl PartialEq for Catalog {
    fn eq(&self, other: &Catalog) -> bool {
        self.declared.len() == other.declared.len() && self.declared.iter().zip(&other.declared).all(|(a, b)| format!("{a:?}") == format!("{b:?}")) && self.aliases == other.aliases
    }
}

impl Catalog {
    /// Every source: the contract's in contract order, then the declared ones.
    pub fn all(&self) -> impl Iterator<Item = &'static Source> + '_ {
        SOURCES.iter().chain(self.declared.iter().copied())
    }

    /// The source named `name`, contract or declared.
    pub fn get(&self, name: &str) -> Option<&'static Source> {
        self.all().find(|s| s.name == name)
    }

    /// The declared aliases: (source, header key, column).
    pub fn aliases(&self) -> impl Iterator<Item = (&'static str, &str, &'static str)> + '_ {
        self.aliases.iter().map(|(s, h, c)| (*s, h.as_str(), *c))
    }

    /// The folder names an inbox may hold, for a message.
    pub fn names(&self) -> String {
        self.all().map(|s| s.name).collect::<Vec<_>>().join("、")
    }

    /// Declares the source `name` of `xuncha.toml`, checked.
    pub fn declare(&mut self, name: &str, declaration: &SourceDeclaration) -> Result<(), String> {
        let here = format!("[sources.{name}]");
        if !is_snake_case(name) {
            return Err(format!("{here}:数据来源名应为小写英文字母、数字和下划线(如 disabled_persons)"));
        }
        if RESERVED_NAMES.contains(&name) || crate::system::SYSTEM_TABLES.iter().any(|(n, _)| *n == name) {
            return Err(format!("{here}:「{name}」是湖中已有的表或视图名,请换一个名字"));
        }
        if declaration.columns.is_empty() {
            return Err(format!("{here}:不是合同规定的数据来源;要新增数据来源,请用 [[sources.{name}.columns]] 声明它的列(以及 key)"));
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut aliases = Vec::new();
        let mut headers: Vec<(String, String)> = Vec::new();
        for c in &declaration.columns {
            let at = format!("{here} 的列「{}」", c.name);
            if !is_snake_case(&c.name) || LINEAGE_COLUMNS.contains(&c.name.as_str()) {
                return Err(format!("{at}:列名应为小写英文字母、数字和下划线,且不能是 {}", LINEAGE_COLUMNS.join("、")));
            }
            if columns.iter().any(|d| d.name == c.name) {
                return Err(format!("{at}:列名重复"));
            }
            let Some((_, ty)) = TYPES.iter().find(|(t, _)| *t == c.ty) else {
                return Err(format!("{at}:类型「{}」不是合同的类型(应为 {} 之一)", c.ty, TYPES.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" / ")));
            };
            // The dashboard and every export mask a column by its name
            // (`…id_number`, `…name`): a declared identity must be named so.
            if *ty == ColumnType::Id && !c.name.contains("id_number") {
                return Err(format!("{at}:身份号码列(type = \"id\")的列名须含 id_number(如 id_number、holder_id_number),看板和导出据此脱敏"));
            }
            if header_key(&c.header).ends_with("姓名") && !c.name.ends_with("name") {
                return Err(format!("{at}:姓名列的列名须以 name 结尾(如 name、holder_name),看板和导出据此脱敏"));
            }
            let ty = if !c.values.is_empty() {
                if *ty != ColumnType::Str {
                    return Err(format!("{at}:只有 str 类型的列可以列出允许值(values)"));
                }
                ColumnType::Enum(Box::leak(c.values.iter().map(|v| leak(v)).collect::<Vec<_>>().into_boxed_slice()))
            } else if *ty == ColumnType::Str && declaration.scope.as_deref() == Some(c.name.as_str()) {
                // A division code: spaces removed, as the contract's codes.
                ColumnType::Code
            } else {
                *ty
            };
            for header in std::iter::once(&c.header).chain(&c.aliases) {
                let key = header_key(header);
                if key.is_empty() {
                    return Err(format!("{at}:表头或别名不能为空"));
                }
                if let Some((_, other)) = headers.iter().find(|(k, _)| *k == key) {
                    return Err(format!("{at}:表头「{header}」与列「{other}」的表头或别名相同"));
                }
                headers.push((key, c.name.clone()));
            }
            let column = Column { name: leak(&c.name), header: leak(&c.header), ty, required: c.required };
            aliases.extend(c.aliases.iter().map(|a| (header_key(a), column.name)));
            columns.push(column);
        }
        if declaration.key.is_empty() {
            return Err(format!("{here}:缺少 key(用来识别同一行的列,如 key = [\"id_number\"])"));
        }
        for k in &declaration.key {
            match columns.iter().find(|c| c.name == *k) {
                None => return Err(format!("{here}:key 中的「{k}」不是已声明的列")),
                Some(c) if !c.required => return Err(format!("{here}:key 中的列「{k}」必须是必填列(required = true)")),
                Some(_) => {}
            }
        }
        let scope = match &declaration.scope {
            None => None,
            Some(column) if columns.iter().any(|c| c.name == *column && c.ty == ColumnType::Code) => Some(Scope::Code(leak(column))),
            Some(column) if columns.iter().any(|c| c.name == *column) => return Err(format!("{here}:scope 列「{column}」应为 str 类型的 12 位村(社区)代码")),
            Some(column) => return Err(format!("{here}:scope 中的「{column}」不是已声明的列")),
        };
        let key: Vec<&'static str> = declaration.key.iter().map(|k| columns.iter().find(|c| c.name == *k).expect("checked above").name).collect();
        let source: &'static Source = Box::leak(Box::new(Source {
            name: leak(name),
            title: leak(declaration.title.as_deref().unwrap_or(name)),
            key: Box::leak(key.into_boxed_slice()),
            columns: Box::leak(columns.into_boxed_slice()),
            sort: &[],
            scope: scope.unwrap_or(Scope::Unscoped),
        }));
        self.aliases.extend(aliases.into_iter().map(|(header, column)| (source.name, header, column)));
        self.declared.push(source);
        Ok(())
    }
}

/// What `[sources.NAME]` declares beyond header and value mappings (only
/// for a name the contract does not have).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceDeclaration {
    pub title: Option<String>,
    pub key: Vec<String>,
    pub scope: Option<String>,
    pub columns: Vec<ColumnDeclaration>,
}

impl SourceDeclaration {
    /// Whether it declares anything.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.key.is_empty() && self.scope.is_none() && self.columns.is_empty()
    }
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn is_snake_case(name: &str) -> bool {
    name.len() <= 63 && name.starts_with(|c: char| c.is_ascii_lowercase()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
