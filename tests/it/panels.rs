//! Golden tests of every dashboard panel: each query of `queries/panels/`
//! runs on the lake `xuncha demo` builds from the committed samples, under
//! four filter sets (none; town + term + dates; one village; one rule), and
//! its rows must equal `tests/golden/panels/<page>.txt`. Times and run ids
//! are the only values blanked. Set `XUNCHA_UPDATE_GOLDEN=1` to rewrite the
//! files after an intended change, and review the diff.

use crate::common::{scratch, xuncha_ok};
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::Path;
use xuncha_core::lake::Lake;
use xuncha_queries::panels::{self, Filters};
use xuncha_queries::session::{SessionOptions, session};
use xuncha_queries::table::TextTable;

/// The filter sets, named as their query strings.
fn filter_sets() -> Vec<(&'static str, Filters)> {
    let s = |v: &str| Some(v.to_string());
    vec![
        ("(无筛选)", Filters::default()),
        (
            "town=430223101000&term=十三届&from=2024-01-01&to=2026-06-30",
            Filters { town: s("430223101000"), term: s("十三届"), from: NaiveDate::from_ymd_opt(2024, 1, 1), to: NaiveDate::from_ymd_opt(2026, 6, 30), ..Filters::default() },
        ),
        ("village=430223101201", Filters { village: s("430223101201"), ..Filters::default() }),
        ("rule=deceased_paid&town=430223101000", Filters { rule: s("deceased_paid"), town: s("430223101000"), ..Filters::default() }),
    ]
}

/// Columns whose values change from run to run.
/// (线索编号: a case's number follows the year and the order cases were opened in.)
const VOLATILE: &[&str] = &["run_id", "运行编号", "最近入库", "距今天数", "最近运行", "最近失败", "开始", "结束", "线索编号"];

fn render(table: &TextTable) -> String {
    let mut out = csv::WriterBuilder::new().from_writer(Vec::new());
    out.write_record(&table.columns).unwrap();
    for row in &table.rows {
        out.write_record(row.iter().zip(&table.columns).map(|(v, c)| if VOLATILE.contains(&c.as_str()) && !v.is_empty() { "<变动>" } else { v.as_str() })).unwrap();
    }
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

/// Moves a few cases along (the demo hands none over), so that the case
/// panels pin real figures: four cases of the first town handed to it, two
/// of them late on 2026-12-06 (the others due in 2099, so that answers given
/// on any real day are on time); one found true with money recovered, one not.
async fn work_some_cases(lake: &Lake) {
    use xuncha_cases::{Actor, Change, State, Verdict, apply, select};
    let actor = Actor { user: "analyst".into(), ..Actor::default() };
    let ids = select(lake, &actor, None, Some("430223101000"), Some(State::Pending)).await.unwrap();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    apply(lake, &actor, &ids[..2], &Change::Assign { unit: "430223101000".into(), due: day(2026, 12, 1) }, None).await.unwrap();
    apply(lake, &actor, &ids[2..4], &Change::Assign { unit: "430223101000".into(), due: day(2099, 12, 31) }, None).await.unwrap();
    apply(lake, &actor, &ids[2..3], &Change::Verdict { verdict: Verdict::True, note: "属实".into() }, None).await.unwrap();
    apply(lake, &actor, &ids[2..3], &Change::Money { recovered: Some(12_050), back_paid: None, people: Some(1) }, None).await.unwrap();
    apply(lake, &actor, &ids[3..4], &Change::Verdict { verdict: Verdict::False, note: "登记有误".into() }, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_matches_its_golden_rows() {
    let dir = scratch("panels");
    let lake_dir = dir.join("lake");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let lake_s = lake_dir.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || xuncha_ok(&["--lake", &lake_s, "demo", "--no-serve", "--inbox", samples.to_str().unwrap()])).await.unwrap();
    let lake = Lake::open(&lake_dir).unwrap();
    work_some_cases(&lake).await;
    let today = NaiveDate::from_ymd_opt(2026, 12, 6);
    let ctx = session(&lake, &SessionOptions { today, ..SessionOptions::default() }).await.unwrap();
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/panels");
    let update = std::env::var_os("XUNCHA_UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    let mut panels_run = 0;
    for sheet in panels::builtin() {
        let mut text = format!("# {} ({})\n", sheet.title, sheet.page);
        for (name, filters) in filter_sets() {
            write!(text, "\n## 筛选:{name}\n").unwrap();
            for panel in sheet.shown(&filters) {
                let table = TextTable::run(&ctx, &panel.bind(&filters).unwrap()).await.unwrap_or_else(|e| panic!("{}/{}: {e}", sheet.page, panel.id));
                write!(text, "\n### {} {}({} 行)\n{}", panel.id, panel.title, table.rows.len(), render(&table)).unwrap();
                panels_run += 1;
            }
        }
        let path = golden_dir.join(format!("{}.txt", sheet.page));
        if update {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} (XUNCHA_UPDATE_GOLDEN=1 writes it)", path.display()));
        if text != expected {
            let got = dir.join(format!("{}.txt", sheet.page));
            std::fs::write(&got, &text).unwrap();
            differ.push(format!("{} differs from {} (now: {})", sheet.page, path.display(), got.display()));
        }
    }
    assert!(panels_run >= 100, "{panels_run} panels ran");
    assert!(differ.is_empty(), "{}\nreview and set XUNCHA_UPDATE_GOLDEN=1 if intended", differ.join("\n"));
}
