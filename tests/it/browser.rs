//! The dashboard in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/check.mjs`, installed by `scripts/setup`),
//! logs in and opens every page; any console error, failed or external
//! request, missing heading or empty chart fails the test.

use crate::dashboard::start;
use std::path::Path;
use std::process::Command;

#[test]
fn every_page_renders_in_headless_chromium_without_errors() {
    let server = start("dashboard-browser", "");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(dir.join("node_modules/playwright-core").is_dir(), "playwright-core is not installed: run scripts/setup (bash scripts/test does)");
    let mut args = vec!["check.mjs".to_string(), server.base.clone(), "admin".into(), server.passwords["admin"].clone()];
    args.extend(crate::dashboard::PAGES.iter().map(|p| (*p).to_string()));
    args.extend(["/sql", "/admin/users", "/admin/audit"].map(String::from));
    let out = Command::new("node").args(&args).current_dir(&dir).output().expect("node runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser check failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), args.len() - 4, "{stdout}");
}
