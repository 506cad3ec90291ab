//! The common-issue report from the demo lake: the Word file opens in
//! LibreOffice (converted headless to PDF, whose text has the headings), the
//! HTML renders in headless Chromium without errors, Markdown writes its
//! charts beside it, and no format shows a full ID number or name.

use crate::common::{full_ids, scratch, xuncha_ok};
use std::path::Path;
use std::process::Command;

#[test]
fn common_issue_reports_in_html_markdown_and_word() {
    let dir = scratch("report");
    let lake = dir.join("lake");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let lake_s = lake.to_str().unwrap();
    xuncha_ok(&["--lake", lake_s, "demo", "--no-serve", "--inbox", samples.to_str().unwrap()]);

    let html = dir.join("report.html");
    let out = xuncha_ok(&["--lake", lake_s, "report", "common-issues", "--format", "html", "--out", html.to_str().unwrap()]);
    assert!(out.contains("类共性问题"), "{out}");
    let text = std::fs::read_to_string(&html).unwrap();
    for heading in ["关于全部领域共性问题的专题报告", "一、总体情况", "二、共性问题排序", "三、分布与趋势", "四、数据附表", "典型案例"] {
        assert!(text.contains(heading), "HTML lacks {heading}");
    }
    assert!(text.matches("<svg").count() >= 3, "charts are inline");
    assert!(!text.contains("src=\"http") && !text.contains("href=\"http") && !text.contains("<script"), "one self-contained file");
    assert!(full_ids(&text).is_empty(), "IDs are masked: {:?}", full_ids(&text));

    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(browser.join("node_modules/playwright-core").is_dir(), "playwright-core is not installed: run scripts/setup");
    let check = Command::new("node").args(["check.mjs", &format!("file://{}", html.display())]).current_dir(&browser).output().unwrap();
    assert!(check.status.success(), "{}\n{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));

    let md = dir.join("report.md");
    xuncha_ok(&["--lake", lake_s, "report", "common-issues", "--topic", "低保", "--format", "md", "--out", md.to_str().unwrap()]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("# 关于「低保」类共性问题的专题报告") && text.contains("(report-heatmap.svg)"));
    assert!(dir.join("report-heatmap.svg").is_file() && dir.join("report-trend.svg").is_file());
    assert!(full_ids(&text).is_empty());
    // The whole Markdown report on the committed samples is a golden file
    // (its dates are the data's own as_of, so it is stable); set
    // XUNCHA_UPDATE_GOLDEN=1 to rewrite it after an intended change.
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/common-issues-dibao.md");
    if std::env::var_os("XUNCHA_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).expect("tests/golden/common-issues-dibao.md (XUNCHA_UPDATE_GOLDEN=1 writes it)");
    assert!(text == expected, "the 低保 report differs from {}; review and set XUNCHA_UPDATE_GOLDEN=1 if intended\n{text}", golden.display());

    let docx = dir.join("report.docx");
    xuncha_ok(&["--lake", lake_s, "report", "common-issues", "--format", "docx", "--out", docx.to_str().unwrap()]);
    let convert = Command::new("soffice")
        .args(["--headless", &format!("-env:UserInstallation=file://{}", dir.join("lo-profile").display()), "--convert-to", "pdf", "--outdir", dir.to_str().unwrap(), docx.to_str().unwrap()])
        .output()
        .expect("LibreOffice (soffice) is installed by scripts/setup");
    assert!(convert.status.success(), "{}", String::from_utf8_lossy(&convert.stderr));
    let pdf = dir.join("report.pdf");
    let text = Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().expect("pdftotext is installed by scripts/setup");
    let text = String::from_utf8_lossy(&text.stdout);
    for heading in ["一、总体情况", "二、共性问题排序", "三、分布与趋势", "四、数据附表"] {
        assert!(text.contains(heading), "the PDF of the Word report lacks {heading}:\n{text}");
    }
    assert!(full_ids(&text).is_empty());
}
