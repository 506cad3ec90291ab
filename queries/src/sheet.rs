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
//! gets it as a `WITH` clause. `${name}` placeholders become DataFusion's
//! `$name` and their values are bound ([`Bound`]), never pasted into the
//! text, as the rules' are.

use crate::QueryError;
use chrono::NaiveDate;
use datafusion::arrow::datatypes::{Date32Type, IntervalMonthDayNano};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::prelude::{DataFrame, SessionContext};
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
        self.fields.get(key).map(String::as_str).ok_or_else(|| QueryError::Authoring(format!("{} {}: header lacks `-- {key}:`", self.kind, self.name)))
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
                    return Err(QueryError::Authoring(format!("{origin}: {kind} 「{name}」 appears twice")));
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
                        None => return Err(QueryError::Authoring(format!("{origin}: SQL before the first `-- panel:`/`-- query:` header"))),
                    }
                }
            }
        }
        for block in &mut blocks {
            block.sql = placeholders(block.sql.trim().trim_end_matches(';').trim_end(), &format!("{origin} {} {}", block.kind, block.name))?;
            if block.sql.is_empty() {
                return Err(QueryError::Authoring(format!("{origin}: {} 「{}」 has no SQL", block.kind, block.name)));
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
        self.fields.get(key).map(String::as_str).ok_or_else(|| QueryError::Authoring(format!("{origin}: header lacks `-- {key}:`")))
    }

    /// The block of `kind` named `name`.
    pub fn block(&self, kind: &str, name: &str) -> Result<&Block, QueryError> {
        self.blocks.iter().find(|b| b.kind == kind && b.name == name).ok_or_else(|| QueryError::UnknownQuery {
            sheet: self.fields.get("title").cloned().unwrap_or_default(),
            kind: kind.into(),
            name: name.into(),
        })
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

/// A value bound to a `$name` placeholder: never pasted into SQL text,
/// DataFusion replaces the placeholder in the plan.
pub type Param = (&'static str, ScalarValue);

/// A text parameter (`NULL` when unset).
pub fn text(value: Option<&str>) -> ScalarValue {
    ScalarValue::Utf8(value.map(String::from))
}

/// A list of texts parameter (for `array_has(${ids}, column)`).
pub fn texts(values: &[String]) -> ScalarValue {
    let items: Vec<ScalarValue> = values.iter().map(|v| text(Some(v))).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&items, &datafusion::arrow::datatypes::DataType::Utf8))
}

/// A date parameter (`NULL` when unset).
pub fn date(value: Option<NaiveDate>) -> ScalarValue {
    ScalarValue::Date32(value.map(Date32Type::from_naive_date))
}

/// A whole number parameter.
pub fn int(value: i64) -> ScalarValue {
    ScalarValue::Int64(Some(value))
}

/// A span of whole days, for `date + $span`.
pub fn days(value: i64) -> ScalarValue {
    ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, i32::try_from(value).unwrap_or(i32::MAX), 0)))
}

/// SQL text written by xuncha (a sheet, a rule) with its `$name`
/// placeholders and the values they take. The only way xuncha runs its own
/// parameterized SQL: values never become SQL text.
#[derive(Debug, Clone)]
pub struct Bound {
    pub sql: String,
    pub params: Vec<(String, ScalarValue)>,
}

impl Bound {
    /// Binds `values` to the placeholders of `sql` (as [`placeholders`]
    /// made them); a placeholder without a value is an error naming it and
    /// `what`; values the SQL does not use are ignored.
    pub fn new(sql: &str, values: &[Param], what: &str) -> Result<Bound, QueryError> {
        let mut params = Vec::new();
        for name in used_placeholders(sql) {
            let value = values.iter().find(|(n, _)| *n == name).ok_or_else(|| QueryError::UnknownParameter { what: what.into(), name: name.clone() })?;
            params.push((name, value.1.clone()));
        }
        Ok(Bound { sql: sql.to_string(), params })
    }

    /// The query as a DataFrame, its placeholders replaced by the values.
    pub async fn frame(&self, ctx: &SessionContext) -> Result<DataFrame, QueryError> {
        let frame = ctx.sql(&self.sql).await?;
        if self.params.is_empty() {
            return Ok(frame);
        }
        Ok(frame.with_param_values(ParamValues::from(self.params.clone()))?)
    }

    /// The tables the query reads that `ctx` does not have (a scoped
    /// session leaves out what it cannot scope, such as the quarantine's
    /// raw rows): a page leaves such a panel out rather than fail.
    pub fn tables_missing(&self, ctx: &SessionContext) -> Result<Vec<String>, QueryError> {
        let state = ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(&self.sql, &dialect)?;
        let mut missing = Vec::new();
        for table in state.resolve_table_references(&statement)? {
            if !ctx.table_exist(table.clone())? {
                missing.push(table.to_string());
            }
        }
        Ok(missing)
    }

    /// The SQL for a person to read, with the values listed above it as
    /// comments (`xuncha rules --show`).
    pub fn display(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.params {
            out.push_str(&format!("-- ${name} = {value}\n"));
        }
        out.push_str(&self.sql);
        out
    }
}

/// Where a scan of SQL text is.
#[derive(Clone, Copy, PartialEq)]
enum Lexed {
    Code,
    Quoted,
    Identifier,
    Comment,
}

/// Walks SQL text, telling for each byte offset whether it is code, inside
/// a string literal, a quoted identifier or a `--` comment.
fn lex(sql: &str) -> Vec<(usize, char, Lexed)> {
    let mut out = Vec::with_capacity(sql.len());
    let mut state = Lexed::Code;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let here = match (state, c) {
            (Lexed::Code, '\'') => {
                state = Lexed::Quoted;
                Lexed::Quoted
            }
            (Lexed::Code, '"') => {
                state = Lexed::Identifier;
                Lexed::Identifier
            }
            (Lexed::Code, '-') if chars.peek().is_some_and(|(_, n)| *n == '-') => {
                state = Lexed::Comment;
                Lexed::Comment
            }
            (Lexed::Quoted, '\'') => {
                // `''` inside a string is a quote, not its end.
                if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                    out.push((i, c, Lexed::Quoted));
                    let (j, d) = chars.next().expect("peeked");
                    out.push((j, d, Lexed::Quoted));
                    continue;
                }
                state = Lexed::Code;
                Lexed::Quoted
            }
            (Lexed::Identifier, '"') => {
                state = Lexed::Code;
                Lexed::Identifier
            }
            (Lexed::Comment, '\n') => {
                state = Lexed::Code;
                Lexed::Code
            }
            (s, _) => s,
        };
        out.push((i, c, here));
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A sheet's or rule's SQL with its `${name}` placeholders written as
/// DataFusion's `$name`. Values are bound, never pasted, so a placeholder
/// stands where an expression may: a whole quoted literal `'${x}'` or
/// `DATE '${x}'` becomes `CAST($x AS VARCHAR)` / `CAST($x AS DATE)` (the
/// same value the pasted text was); a placeholder inside a longer text
/// (`'${x}-01'`) or glued to a following word is refused.
pub fn placeholders(sql: &str, what: &str) -> Result<String, QueryError> {
    let lexed = lex(sql);
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < lexed.len() {
        let (at, c, state) = lexed[i];
        if c == '$' && sql[at..].starts_with("${") && state != Lexed::Comment {
            let name: String = sql[at + 2..].chars().take_while(|c| is_word(*c)).collect();
            let end = at + 2 + name.len();
            if name.is_empty() || !sql[end..].starts_with('}') {
                return Err(QueryError::Authoring(format!("{what}:「{}」不是占位符,占位符写作 `${{名称}}`", &sql[at..sql.len().min(end + 1)])));
            }
            if state != Lexed::Code {
                // A whole literal `'${name}'` or `DATE '${name}'` (rule files written
                // for text substitution) is the bound value cast as that literal was.
                let opens = i >= 1 && lexed[i - 1].1 == '\'' && (i < 2 || lexed[i - 2].2 != Lexed::Quoted);
                let closes = sql[end + 1..].starts_with('\'') && !sql[end + 2..].starts_with('\'');
                if state != Lexed::Quoted || !opens || !closes {
                    return Err(QueryError::Authoring(format!("{what}:占位符 ${{{name}}} 写在了文字中间。值只绑定、从不拼进 SQL:请把 `${{{name}}}` 单独写在值的位置,不要写成 `'…${{{name}}}…'`")));
                }
                out.pop();
                let code = out.trim_end();
                let dated = code.len() >= 4 && code[code.len() - 4..].eq_ignore_ascii_case("date") && !code[..code.len() - 4].ends_with(is_word);
                let cast = if dated {
                    out.truncate(code.len() - 4);
                    "DATE"
                } else {
                    "VARCHAR"
                };
                out.push_str(&format!("CAST(${name} AS {cast})"));
                while i < lexed.len() && lexed[i].0 <= end + 1 {
                    i += 1;
                }
                continue;
            }
            if sql[end + 1..].chars().next().is_some_and(is_word) {
                return Err(QueryError::Authoring(format!("{what}: placeholder ${{{name}}} is glued to the word after it")));
            }
            out.push('$');
            out.push_str(&name);
            while i < lexed.len() && lexed[i].0 <= end {
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// The `$name` placeholders used in SQL code (not in strings or comments), each once.
fn used_placeholders(sql: &str) -> Vec<String> {
    let lexed = lex(sql);
    let mut names: Vec<String> = Vec::new();
    for (at, c, state) in &lexed {
        if *c == '$' && *state == Lexed::Code {
            let name: String = sql[at + 1..].chars().take_while(|c| is_word(*c)).collect();
            if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
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
    fn placeholders_are_bound_or_named() {
        for glued in ["SELECT '${x}-01' AS q", "SELECT 'a${x}' AS q", "SELECT 'it''${x}' AS q", "SELECT '${x}''' AS q", "SELECT \"${x}\" AS q"] {
            let refused = placeholders(glued, "q").unwrap_err().to_string();
            assert!(refused.contains("写在了文字中间"), "{glued}: {refused}");
        }
        // Whole literals written for text substitution are the bound value, cast alike.
        assert_eq!(
            placeholders("SELECT '${m}' AS p, DATE '${d}' AS d, date '${d}' - 1, update_date '${m}'", "q").unwrap(),
            "SELECT CAST($m AS VARCHAR) AS p, CAST($d AS DATE) AS d, CAST($d AS DATE) - 1, update_date CAST($m AS VARCHAR)"
        );
        let sql = placeholders("SELECT ${town} AS t, 'it''s $x' AS q FROM v -- ${comment}\nWHERE d >= ${from}", "q").unwrap();
        assert_eq!(sql, "SELECT $town AS t, 'it''s $x' AS q FROM v -- ${comment}\nWHERE d >= $from");
        assert_eq!(used_placeholders(&sql), ["town", "from"]);
        assert!(placeholders("SELECT ${a}b", "q").unwrap_err().to_string().contains("glued"));
        assert!(placeholders("SELECT ${a", "q").unwrap_err().to_string().contains("不是占位符"));
        let values = [("town", text(Some("4302'23"))), ("from", date(None))];
        let bound = Bound::new(&sql, &values, "q").unwrap();
        assert_eq!(bound.params.len(), 2);
        assert!(Bound::new("SELECT $nope", &values, "q").unwrap_err().to_string().contains("$nope"));
        assert!(mentions("FROM hits h", "hits") && !mentions("FROM hits_2", "hits") && !mentions("FROM xhits", "hits"));
    }

    /// A value holding a placeholder, a quote or SQL stays one value.
    #[tokio::test]
    async fn a_value_is_never_sql() {
        let ctx = SessionContext::new();
        let sql = placeholders("SELECT ${a} AS a, ${b} AS b, length(${a}) AS n", "q").unwrap();
        let evil = "${b}' UNION SELECT 'x";
        let bound = Bound::new(&sql, &[("a", text(Some(evil))), ("b", text(Some("$a")))], "q").unwrap();
        let rows = crate::table::TextTable::run(&ctx, &bound).await.unwrap().rows;
        assert_eq!(rows, [[evil.to_string(), "$a".to_string(), evil.chars().count().to_string()]]);
    }
}
