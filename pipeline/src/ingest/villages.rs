//! Villages given by name (乡镇 + 村) instead of the 12-digit code (CONTRACT
//! §6): many rosters carry `XX镇 / XX村`. A file without a village-code
//! column but with a 村 name column (and, usually, a 乡镇 one) has each
//! row's code looked up in the lake's `divisions`, by name after
//! normalization: full-width forms and spaces, and the suffixes 村民委员会 /
//! 居民委员会 / 村委会 / 居委会 / 社区 / 村 (乡镇: 人民政府 / 街道办事处 /
//! 办事处 / 街道 / 镇 / 乡). One village of that name in that town: its code.
//! None, or several: the row is quarantined naming the candidates — a name
//! is never guessed. A file that has the code column is read by its codes,
//! whatever names it also carries.

use super::typing::RowProblem;
use crate::PipelineError;
use deltalake::DeltaTable;
use deltalake::arrow::array::AsArray;
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::prelude::SessionContext;
use std::collections::HashMap;
use xuncha_core::contract::{Source, header_key};

/// Headers (after [`header_key`], `(社区)`/`(居)` removed) of a village-name column.
const VILLAGE_HEADERS: &[&str] = &["村", "村名", "村名称", "村(社区)名称", "所属村", "所在村", "行政村", "村委会", "村(居)委会", "社区", "村社区", "村组"];
/// Headers of a town-name column.
const TOWN_HEADERS: &[&str] = &["乡镇", "乡镇名称", "乡镇街道", "镇", "乡", "街道", "镇街", "所属乡镇", "所在乡镇", "乡镇名"];

const VILLAGE_SUFFIXES: &[&str] = &["村民委员会", "居民委员会", "村委会", "居委会", "社区", "村"];
const TOWN_SUFFIXES: &[&str] = &["人民政府", "街道办事处", "办事处", "街道", "镇", "乡"];

/// Where a file names its villages: the source column they resolve to and
/// the file's name columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct VillageNames {
    /// The source's village-code column.
    pub(super) column: usize,
    /// The file's 乡镇 column, if it has one.
    pub(super) town: Option<usize>,
    /// The file's 村 column.
    pub(super) village: usize,
}

/// The column of `source` a village name stands for: `village_code`, or a
/// declared source's scope column.
pub(super) fn village_column(source: &Source) -> Option<usize> {
    source.column_index("village_code").or_else(|| match source.scope {
        xuncha_core::contract::Scope::Code(c) if xuncha_core::contract::source(source.name).is_none() => source.column_index(c),
        _ => None,
    })
}

/// The village names of a file whose header (`mapped`: the column each
/// header means) lacks the village-code column but has a 村 name column.
pub(super) fn names_in(source: &Source, header: &[String], mapped: &[Option<usize>]) -> Option<VillageNames> {
    let column = village_column(source)?;
    if mapped.contains(&Some(column)) {
        return None;
    }
    let key = |h: &str| header_key(h).replace("(社区)", "").replace("(居)", "");
    let find = |names: &[&str]| header.iter().zip(mapped).position(|(h, m)| m.is_none() && names.iter().any(|n| key(n) == key(h)));
    Some(VillageNames { column, town: find(TOWN_HEADERS), village: find(VILLAGE_HEADERS)? })
}

fn normalized(name: &str, suffixes: &[&str]) -> String {
    let mut key = xuncha_core::values::normalize_name(name);
    while let Some(shorter) = suffixes.iter().find_map(|s| key.strip_suffix(s).filter(|rest| !rest.is_empty())) {
        key = shorter.to_string();
    }
    key
}

/// One village of `divisions`.
#[derive(Debug, Clone)]
struct Village {
    code: String,
    name: String,
    town: String,
    town_key: String,
}

impl Village {
    fn shown(&self) -> String {
        format!("{}{}({})", self.town, self.name, self.code)
    }
}

/// The villages of the lake's `divisions`, by normalized name.
#[derive(Debug, Default)]
pub(super) struct Directory {
    villages: Vec<Village>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Directory {
    /// Reads `divisions` (its 村 rows and the names of their towns).
    pub(super) async fn load(table: Option<&DeltaTable>) -> Result<Directory, PipelineError> {
        let Some(table) = table else { return Ok(Directory::default()) };
        let ctx = SessionContext::new();
        table.update_datafusion_session(&ctx.state())?;
        ctx.register_table("divisions", table.table_provider().await?)?;
        let sql = "SELECT v.code, v.name, coalesce(t.name, '') FROM divisions v LEFT JOIN divisions t ON t.code = v.parent_code WHERE v.level = '村' ORDER BY v.code";
        let batches = ctx.sql(sql).await?.collect().await?;
        let mut directory = Directory::default();
        for batch in &batches {
            // Parquet text may come back as string views: read it as plain strings.
            let text = |i: usize| cast(batch.column(i), &DataType::Utf8).map(|a| a.as_string::<i32>().clone()).map_err(PipelineError::from);
            let (codes, names, towns) = (text(0)?, text(1)?, text(2)?);
            for row in 0..batch.num_rows() {
                let village =
                    Village { code: codes.value(row).to_string(), name: names.value(row).to_string(), town: towns.value(row).to_string(), town_key: normalized(towns.value(row), TOWN_SUFFIXES) };
                directory.by_name.entry(normalized(&village.name, VILLAGE_SUFFIXES)).or_default().push(directory.villages.len());
                directory.villages.push(village);
            }
        }
        Ok(directory)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.villages.is_empty()
    }

    /// The code of the village `village` of town `town`, or why there is
    /// not exactly one.
    pub(super) fn resolve(&self, town: &str, village: &str, column: &'static str) -> Result<&str, RowProblem> {
        let problem = |kind, reason| RowProblem { kind, column: Some(column), reason };
        let key = normalized(village, VILLAGE_SUFFIXES);
        if key.is_empty() {
            return Err(problem("missing_required", "缺少村(社区)代码,村名也为空".to_string()));
        }
        let town_key = normalized(town, TOWN_SUFFIXES);
        let named: Vec<&Village> = self.by_name.get(&key).map(|v| v.iter().map(|i| &self.villages[*i]).collect()).unwrap_or_default();
        let here: Vec<&Village> = named.iter().copied().filter(|v| town_key.is_empty() || v.town_key == town_key).collect();
        let place = if town_key.is_empty() { village.trim().to_string() } else { format!("{}{}", town.trim(), village.trim()) };
        let list = |villages: &[&Village]| villages.iter().take(10).map(|v| v.shown()).collect::<Vec<_>>().join("、");
        match here.as_slice() {
            [one] => Ok(&one.code),
            [] if !named.is_empty() => Err(problem("unknown_village", format!("行政区划中没有「{place}」;同名的村有: {}。请核对乡镇名称,或改填 12 位村(社区)代码", list(&named)))),
            [] => {
                let near = self.nearest(&town_key, &key);
                let hint = if near.is_empty() {
                    "。请核对村名,或改填 12 位村(社区)代码".to_string()
                } else {
                    format!(";相近的有: {}。请核对村名,或改填 12 位村(社区)代码", list(&near))
                };
                Err(problem("unknown_village", format!("行政区划中没有「{place}」{hint}")))
            }
            many => Err(problem("ambiguous_village", format!("「{place}」不止一个: {}。不作猜测,请写明所属乡镇,或改填 12 位村(社区)代码", list(many)))),
        }
    }

    /// The villages (of the town, if it is known) whose names are most like `key`.
    fn nearest(&self, town_key: &str, key: &str) -> Vec<&Village> {
        let pool: Vec<&Village> = self.villages.iter().filter(|v| town_key.is_empty() || v.town_key == town_key).collect();
        let pool = if pool.is_empty() { self.villages.iter().collect() } else { pool };
        let names: Vec<&str> = pool.iter().map(|v| v.name.as_str()).collect();
        let best = xuncha_core::mapping::closest(key, &names);
        pool.into_iter().filter(|v| best.contains(&v.name.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let mut d = Directory::default();
        for (code, name, town) in [("430223101201", "石桥村", "城关镇"), ("430223102201", "石桥村", "东山乡"), ("430223101202", "幸福社区", "城关镇"), ("430223102202", "柳树湾村", "东山乡")]
        {
            d.by_name.entry(normalized(name, VILLAGE_SUFFIXES)).or_default().push(d.villages.len());
            d.villages.push(Village { code: code.into(), name: name.into(), town: town.into(), town_key: normalized(town, TOWN_SUFFIXES) });
        }
        d
    }

    #[test]
    fn names_resolve_after_normalization_and_never_by_guess() {
        let d = directory();
        assert_eq!(d.resolve("城关镇", "石桥村", "village_code"), Ok("430223101201"));
        assert_eq!(d.resolve("东山乡人民政府", "石桥村民委员会", "village_code"), Ok("430223102201"));
        assert_eq!(d.resolve("城关", "幸福社区居委会", "village_code"), Ok("430223101202"));
        assert_eq!(d.resolve("", "柳树湾", "village_code"), Ok("430223102202"), "one of that name in the county");
        assert_eq!(d.resolve("东山乡", "柳树湾　村委会", "village_code"), Ok("430223102202"), "a full-width space");
        let ambiguous = d.resolve("", "石桥村", "village_code").unwrap_err();
        assert_eq!(ambiguous.kind, "ambiguous_village");
        assert!(ambiguous.reason.contains("城关镇石桥村(430223101201)") && ambiguous.reason.contains("东山乡石桥村(430223102201)"), "{}", ambiguous.reason);
        let elsewhere = d.resolve("东山乡", "幸福村", "village_code").unwrap_err();
        assert!(elsewhere.kind == "unknown_village" && elsewhere.reason.contains("同名的村有: 城关镇幸福社区(430223101202)"), "{}", elsewhere.reason);
        let unknown = d.resolve("东山乡", "柳树村", "village_code").unwrap_err();
        assert!(unknown.kind == "unknown_village" && unknown.reason.contains("相近的有: 东山乡柳树湾村(430223102202)"), "{}", unknown.reason);
        assert_eq!(d.resolve("城关镇", " ", "village_code").unwrap_err().kind, "missing_required");
    }
}
