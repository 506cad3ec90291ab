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
/// error rather than a failure at run time.
fn query_names(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("queries/reports").map(|e| e.expect("readable entry").path()).filter(|p| p.extension().is_some_and(|e| e == "sql")).collect();
    files.sort();
    let (mut out, mut all) = (String::new(), String::new());
    for file in files {
        let sheet = file.file_stem().expect("a file name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("a readable sheet");
        out.push_str(&format!("/// `queries/reports/{sheet}.sql`.\npub mod {sheet} {{\n"));
        for line in text.lines() {
            let Some(name) = line.trim().strip_prefix("--").and_then(|c| c.trim().strip_prefix("query:")).map(str::trim) else { continue };
            assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{sheet}.sql: query name 「{name}」 should be snake_case");
            out.push_str(&format!("    /// Query `{name}`.\n    pub const {}: super::QueryName = super::QueryName {{ sheet: {sheet:?}, query: {name:?} }};\n", name.to_uppercase()));
            all.push_str(&format!("{sheet}::{}, ", name.to_uppercase()));
        }
        out.push_str("}\n");
    }
    out.push_str(&format!("/// Every query of every sheet.\npub const ALL: &[QueryName] = &[{all}];\n"));
    out
}
