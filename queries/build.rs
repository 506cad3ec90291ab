//! Embeds the built-in SQL files: `rules/*.sql` (the rule catalogue),
//! `panels/*.sql` (the dashboard's pages) and `reports/*.sql`, so adding a
//! built-in rule, page or report query is adding a file.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for folder in ["rules", "panels", "reports"] {
        let dir = Path::new(&manifest).join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("queries/{folder}: {e}")).map(|e| e.expect("readable entry").path()).filter(|p| p.extension().is_some_and(|e| e == "sql")).collect();
        files.sort();
        let mut out = String::from("&[\n");
        for file in files {
            let name = file.file_stem().expect("a file name").to_string_lossy().into_owned();
            out.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
        }
        out.push(']');
        std::fs::write(Path::new(&out_dir).join(format!("builtin_{folder}.rs")), out).expect("OUT_DIR is writable");
    }
    std::fs::write(Path::new(&out_dir).join("report_queries.rs"), query_names(&Path::new(&manifest).join("reports"))).expect("OUT_DIR is writable");
}

/// A module per report sheet with a constant per `-- query:` block
/// (`q::cases::QUEUE`), so a misspelled sheet or query name is a compile
/// error rather than a failure at run time; and, for a query whose header
/// declares its row (`-- row: rule_id title`, `-- row: stage=环节`,
/// `amount:decimal=涉及金额元`), a struct of those fields read by column
/// name (`q::cases::RulesRow`), so code never reads a column by position.
fn query_names(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("queries/reports").map(|e| e.expect("readable entry").path()).filter(|p| p.extension().is_some_and(|e| e == "sql")).collect();
    files.sort();
    let (mut out, mut all) = (String::new(), String::new());
    for file in files {
        let sheet = file.file_stem().expect("a file name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("a readable sheet");
        out.push_str(&format!("/// `queries/reports/{sheet}.sql`.\npub mod {sheet} {{\n"));
        let mut query: Option<String> = None;
        for line in text.lines() {
            let comment = line.trim().strip_prefix("--").map(str::trim);
            if let Some(name) = comment.and_then(|c| c.strip_prefix("query:")).map(str::trim) {
                assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{sheet}.sql: query name 「{name}」 should be snake_case");
                out.push_str(&format!("    /// Query `{name}`.\n    pub const {}: super::QueryName = super::QueryName {{ sheet: {sheet:?}, query: {name:?} }};\n", name.to_uppercase()));
                all.push_str(&format!("{sheet}::{}, ", name.to_uppercase()));
                query = Some(name.to_string());
            } else if let (Some(fields), Some(name)) = (comment.and_then(|c| c.strip_prefix("row:")), &query) {
                out.push_str(&row_struct(&sheet, name, fields));
            } else if comment.is_none() && !line.trim().is_empty() {
                query = None;
            }
        }
        out.push_str("}\n");
    }
    out.push_str(&format!("/// Every query of every sheet.\npub const ALL: &[QueryName] = &[{all}];\n"));
    out
}

/// The row struct of query `name` from its `-- row:` fields.
fn row_struct(sheet: &str, name: &str, fields: &str) -> String {
    let camel: String = name.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect();
    let (mut decl, mut read, mut columns) = (String::new(), String::new(), String::new());
    for spec in fields.split_whitespace() {
        let (typed, column) = spec.split_once('=').unwrap_or((spec, ""));
        let (field, ty) = typed.split_once(':').unwrap_or((typed, "text"));
        let column = if column.is_empty() { field } else { column };
        assert!(field.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{sheet}.sql {name}: row field 「{field}」 should be snake_case");
        let (rust, reader) = match ty {
            "text" => ("String", "super::cell_text"),
            "decimal" => ("Option<rust_decimal::Decimal>", "super::cell_decimal"),
            "int" => ("Option<i64>", "super::cell_int"),
            other => panic!("{sheet}.sql {name}: row type 「{other}」 should be text, decimal or int"),
        };
        decl.push_str(&format!("        pub {field}: {rust},\n"));
        read.push_str(&format!("            {field}: {reader}(cells.next(), {column:?})?,\n"));
        columns.push_str(&format!("{column:?}, "));
    }
    format!(
        "    /// A row of query `{name}`.\n    #[derive(Debug, Clone, Default, PartialEq)]\n    pub struct {camel}Row {{\n{decl}    }}\n    impl super::QueryRow for {camel}Row {{\n        const QUERY: super::QueryName = {};\n        const COLUMNS: &'static [&'static str] = &[{columns}];\n        fn from_cells(cells: Vec<String>) -> Result<Self, crate::QueryError> {{\n            let mut cells = cells.into_iter();\n            Ok({camel}Row {{\n{read}            }})\n        }}\n    }}\n",
        name.to_uppercase()
    )
}
