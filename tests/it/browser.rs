//! The dashboard in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/check.mjs`, installed by `scripts/setup`),
//! logs in as every role and opens every page it may see at 1366×768 and
//! 1920×1080 (screenshots kept under the test output); any console error,
//! failed or external request, missing heading, empty chart, chart text
//! under 12 px, sideways scroll or chart without working links fails it, and
//! for leaders and units so does Latin or a machine time in the visible text
//! and an overview whose key figures, funnel and map are not on the first
//! screen.

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
    // (user, pages beyond the leaders' pages, whether the user is a reader: no Latin, no machine times)
    let pages: Vec<String> = crate::dashboard::PAGES.iter().map(|p| (*p).to_string()).collect();
    let with = |more: &[&str]| pages.iter().cloned().chain(more.iter().map(|p| (*p).to_string()).chain(["/cases".to_string()])).collect::<Vec<_>>();
    let users: [(&str, Vec<String>, bool); 5] = [
        ("leader", with(&[]), true),
        ("town_leader", with(&[]), true),
        ("town_unit", vec!["/cases".to_string()], true),
        ("analyst", with(&["/sql"]), false),
        ("admin", with(&["/sql", "/admin/users", "/admin/audit"]), false),
    ];
    for (user, visited, reader) in &users {
        let mut args = vec!["check.mjs".to_string(), server.base.clone(), (*user).to_string(), server.passwords[*user].clone()];
        args.extend(visited.iter().cloned());
        let out = Command::new("node")
            .args(&args)
            .current_dir(&dir)
            .env("SCREENSHOTS", &shots)
            .env("SCREENSHOT_PREFIX", format!("{user}-"))
            .env("LATIN_FREE", if *reader { "1" } else { "0" })
            .output()
            .expect("node runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "browser check as {user} failed:\n{stdout}\n{stderr}");
        assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), 2 * visited.len(), "each page at both sizes: {stdout}");
        if visited.len() > 1 {
            for heading in ["«总览»", "«问题整改»", "«比对发现»", "«风险画像»", "«信访»", "«共性问题»", "«村情档案»", "«数据»"] {
                assert!(stdout.contains(heading), "{user}: no page headed {heading}");
            }
            for width in [1366, 1920] {
                assert!(shots.join(format!("{user}-_p_overview-{width}.png")).is_file(), "screenshots are kept as artifacts");
            }
        }
    }
}
