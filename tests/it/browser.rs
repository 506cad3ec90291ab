//! The dashboard in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/check.mjs`, installed by `scripts/setup`),
//! logs in and opens every page; any console error, failed or external
//! request, missing heading or empty chart fails the test.

use crate::dashboard::start;
use std::path::Path;
use std::process::Command;

#[test]
fn every_page_renders_in_headless_chromium_for_each_role() {
    let server = start("dashboard-browser", "");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(dir.join("node_modules/playwright-core").is_dir(), "playwright-core is not installed: run scripts/setup (bash scripts/test does)");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("it/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let extra: &[(&str, &[&str])] = &[("leader", &[]), ("analyst", &["/sql"]), ("admin", &["/sql", "/admin/users", "/admin/audit"])];
    for (role, more) in extra {
        let mut args = vec!["check.mjs".to_string(), server.base.clone(), (*role).to_string(), server.passwords[*role].clone()];
        args.extend(crate::dashboard::PAGES.iter().map(|p| (*p).to_string()));
        args.extend(more.iter().map(|p| (*p).to_string()));
        let out = Command::new("node").args(&args).current_dir(&dir).env("SCREENSHOTS", &shots).env("SCREENSHOT_PREFIX", format!("{role}-")).output().expect("node runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "browser check as {role} failed:\n{stdout}\n{stderr}");
        assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), args.len() - 4, "{stdout}");
        for heading in ["«总览»", "«问题整改»", "«比对发现»", "«风险画像»", "«信访»", "«共性问题»", "«村情档案»", "«数据»"] {
            assert!(stdout.contains(heading), "{role}: no page headed {heading}");
        }
        assert!(shots.join(format!("{role}-_p_overview.png")).is_file(), "screenshots are kept as artifacts");
    }
}
