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
}
