//! SQL sheets: a `.sql` file holding several named queries, each under a
//! header of `-- key: value` comments, as the dashboard's panels
//! (`queries/panels/<page>.sql`) and the reports (`queries/reports/*.sql`)
//! are written.
//!
//! ```sql
//! -- page: overview            (the sheet's own header, up to the first block)
//! -- title: 总览
//!
//! -- panel: kpis               (a block: its kind and name, then its fields)
//! -- title: 关键指标
//! SELECT …;
//!
//! -- cte: topic_towns          (a named sub-query the other blocks may use)
//! SELECT …;
//! ```
//! A block's SQL runs from its first line that is not a comment to the next
//! block; a trailing `;` is dropped. A block that names a `cte` of its sheet
//! gets it as a `WITH` clause. `${name}` placeholders are filled by [`fill`]
//! with SQL literals, as the rules' are.

use crate::QueryError;
use std::collections::BTreeMap;

/// The block kinds a sheet may hold.
const KINDS: &[&str] = &["panel", "query", "cte"];

/// One named query of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// `panel`, `query` or `cte`.
    pub kind: String,
    pub name: String,
    /// The header's other `-- key: value` lines (a repeated key's values
    /// are joined by a space).
    pub fields: BTreeMap<String, String>,
    /// The SQL, with the `WITH` clause of the sheet's CTEs it uses.
    pub sql: String,
}

impl Block {
    /// A header field, or an error naming the block.
    pub fn field(&self, key: &str) -> Result<&str, QueryError> {
        self.fields.get(key).map(String::as_str).ok_or_else(|| QueryError::Rule(format!("{} {}: header lacks `-- {key}:`", self.kind, self.name)))
    }
}

/// A parsed sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The header before the first block.
    pub fields: BTreeMap<String, String>,
    /// The panels and queries, in file order (CTEs are folded into them).
    pub blocks: Vec<Block>,
}

impl Sheet {
    /// Parses a sheet's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Sheet, QueryError> {
        let mut fields = BTreeMap::new();
        let mut blocks: Vec<Block> = Vec::new();
        let mut in_header = true;
        for line in text.lines() {
            let trimmed = line.trim();
            let comment = trimmed.strip_prefix("--").map(str::trim);
            let pair = comment.and_then(|c| c.split_once(':')).map(|(k, v)| (k.trim(), v.trim()));
            if let Some((kind, name)) = pair.filter(|(k, _)| KINDS.contains(k)) {
                if blocks.iter().any(|b| b.kind == kind && b.name == name) && kind != "panel" {
                    return Err(QueryError::Rule(format!("{origin}: {kind} 「{name}」 appears twice")));
                }
                blocks.push(Block { kind: kind.to_string(), name: name.to_string(), fields: BTreeMap::new(), sql: String::new() });
                in_header = true;
                continue;
            }
            let target = match blocks.last_mut() {
                Some(block) => &mut block.fields,
                None => &mut fields,
            };
            match (in_header, pair) {
                (true, Some((key, value))) if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                    target.entry(key.to_string()).and_modify(|v: &mut String| *v = format!("{v} {value}")).or_insert_with(|| value.to_string());
                }
                (true, _) if comment.is_some() || trimmed.is_empty() => {}
                _ => {
                    in_header = false;
                    match blocks.last_mut() {
                        Some(block) => {
                            block.sql.push_str(line);
                            block.sql.push('\n');
                        }
                        None => return Err(QueryError::Rule(format!("{origin}: SQL before the first `-- panel:`/`-- query:` header"))),
                    }
                }
            }
        }
        for block in &mut blocks {
            block.sql = block.sql.trim().trim_end_matches(';').trim_end().to_string();
            if block.sql.is_empty() {
                return Err(QueryError::Rule(format!("{origin}: {} 「{}」 has no SQL", block.kind, block.name)));
            }
        }
        let (ctes, mut blocks): (Vec<Block>, Vec<Block>) = blocks.into_iter().partition(|b| b.kind == "cte");
        for block in &mut blocks {
            // The CTEs it names, and those they name in turn, in file order
            // (a CTE may use the ones written above it).
            let mut wanted = vec![false; ctes.len()];
            for (i, cte) in ctes.iter().enumerate().rev() {
                wanted[i] = mentions(&block.sql, &cte.name) || ctes[i + 1..].iter().zip(&wanted[i + 1..]).any(|(later, w)| *w && mentions(&later.sql, &cte.name));
            }
            let used: Vec<String> = ctes.iter().zip(&wanted).filter(|(_, w)| **w).map(|(c, _)| format!("{} AS (\n{}\n)", c.name, c.sql)).collect();
            if !used.is_empty() {
                let rest = block.sql.strip_prefix("WITH ").map_or_else(|| block.sql.clone(), |r| format!(", {r}"));
                let joiner = if rest.starts_with(", ") { "" } else { "\n" };
                block.sql = format!("WITH {}{joiner}{rest}", used.join(",\n"));
            }
        }
        Ok(Sheet { fields, blocks })
    }

    /// A header field of the sheet, or an error.
    pub fn field(&self, key: &str, origin: &str) -> Result<&str, QueryError> {
        self.fields.get(key).map(String::as_str).ok_or_else(|| QueryError::Rule(format!("{origin}: header lacks `-- {key}:`")))
    }

    /// The block of `kind` named `name`.
    pub fn block(&self, kind: &str, name: &str) -> Result<&Block, QueryError> {
        self.blocks.iter().find(|b| b.kind == kind && b.name == name).ok_or_else(|| QueryError::Rule(format!("no {kind} 「{name}」")))
    }
}

/// Whether `sql` uses the identifier `name` (a whole word).
fn mentions(sql: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    sql.match_indices(name).any(|(i, _)| {
        let before = sql[..i].chars().next_back();
        let after = sql[i + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// `sql` with every `${name}` placeholder replaced by its SQL text;
/// `what` names the query in the error an unknown placeholder gives.
pub fn fill(sql: &str, values: &[(&str, String)], what: &str) -> Result<String, QueryError> {
    let mut sql = sql.to_string();
    for (name, value) in values {
        sql = sql.replace(&format!("${{{name}}}"), value);
    }
    if let Some(start) = sql.find("${") {
        let name: String = sql[start + 2..].chars().take_while(|c| *c != '}').collect();
        return Err(QueryError::Rule(format!("{what}: unknown parameter ${{{name}}}")));
    }
    Ok(sql)
}

/// A text as an SQL string literal, or `NULL`.
pub fn literal(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_string(), crate::table::quote)
}

/// A date as an SQL date literal, or a typed `NULL`.
pub fn date_literal(value: Option<chrono::NaiveDate>) -> String {
    value.map_or_else(|| "CAST(NULL AS DATE)".to_string(), |d| format!("DATE '{d}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "-- page: p\n-- title: 页\n-- about: 说明\n\n-- panel: a\n-- title: 甲\n-- view: bars x y\n-- view: 条\nSELECT x, y\nFROM hits;\n\n\
                        -- cte: hits\n-- about: 共用\nSELECT 1 AS x, 2 AS y\n\n-- query: b\n-- note: -- not a field once SQL began\nWITH z AS (SELECT 1) SELECT * FROM z, hits\n-- trailing comment\n";

    #[test]
    fn blocks_fields_and_ctes() {
        let sheet = Sheet::parse(TEXT, "t.sql").unwrap();
        assert_eq!(sheet.field("title", "t").unwrap(), "页");
        assert_eq!(sheet.blocks.len(), 2, "the CTE is folded in");
        let a = sheet.block("panel", "a").unwrap();
        assert_eq!(a.field("view").unwrap(), "bars x y 条");
        assert_eq!(a.sql, "WITH hits AS (\nSELECT 1 AS x, 2 AS y\n)\nSELECT x, y\nFROM hits");
        let b = sheet.block("query", "b").unwrap();
        assert_eq!(b.field("note").unwrap(), "-- not a field once SQL began");
        assert!(b.sql.starts_with("WITH hits AS (\nSELECT 1 AS x, 2 AS y\n), z AS (SELECT 1) SELECT * FROM z, hits"), "{}", b.sql);
        assert!(a.field("nothing").unwrap_err().to_string().contains("-- nothing:"));
    }

    #[test]
    fn ctes_bring_the_ctes_they_use() {
        let sheet = Sheet::parse("-- cte: a\nSELECT 1 AS x\n-- cte: b\nSELECT x FROM a\n-- cte: c\nSELECT 2\n-- query: q\nSELECT * FROM b", "t.sql").unwrap();
        assert_eq!(sheet.block("query", "q").unwrap().sql, "WITH a AS (\nSELECT 1 AS x\n),\nb AS (\nSELECT x FROM a\n)\nSELECT * FROM b");
    }

    #[test]
    fn bad_sheets_are_refused() {
        assert!(Sheet::parse("SELECT 1", "t.sql").unwrap_err().to_string().contains("before the first"));
        assert!(Sheet::parse("-- query: a\n-- title: t\n", "t.sql").unwrap_err().to_string().contains("no SQL"));
        assert!(Sheet::parse("-- query: a\nSELECT 1\n-- query: a\nSELECT 2", "t.sql").unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn placeholders_are_filled_or_named() {
        let values = [("town", literal(Some("4302'23"))), ("from", date_literal(None))];
        assert_eq!(fill("${town} ${from}", &values, "q").unwrap(), "'4302''23' CAST(NULL AS DATE)");
        assert!(fill("${nope}", &values, "q").unwrap_err().to_string().contains("${nope}"));
        assert!(mentions("FROM hits h", "hits") && !mentions("FROM hits_2", "hits") && !mentions("FROM xhits", "hits"));
    }
}
