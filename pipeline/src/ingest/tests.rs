//! Ingest of hand-made files: each encoding, title rows, 合计 rows, embedded
//! line breaks, every spelling, legacy IDs, unknown columns, a file in the
//! wrong folder, and a later delivery replacing an earlier one. Real Delta
//! tables in a temporary folder, read back with DataFusion.

use super::*;
use deltalake::arrow::util::display::array_value_to_string;

struct Fixture {
    _dir: tempfile::TempDir,
    inbox: PathBuf,
    lake: Lake,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        let lake = Lake::open(&dir.path().join("lake")).unwrap();
        Fixture { _dir: dir, inbox, lake }
    }

    fn put(&self, rel: &str, bytes: &[u8]) {
        let path = self.inbox.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    async fn ingest(&self) -> Vec<FileReport> {
        ingest(&self.lake, &self.inbox, &IngestOptions::default()).await.unwrap()
    }

    async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let ctx = SessionContext::new();
        for name in self.lake.tables().unwrap() {
            let table = self.lake.table(&name).await.unwrap().unwrap();
            table.update_datafusion_session(&ctx.state()).unwrap();
            ctx.register_table(name.as_str(), table.table_provider().await.unwrap()).unwrap();
        }
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut out = Vec::new();
        for b in batches {
            for r in 0..b.num_rows() {
                out.push((0..b.num_columns()).map(|c| array_value_to_string(b.column(c).as_ref(), r).unwrap()).collect());
            }
        }
        out
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

const PAYMENTS_HEADER: &str = "发放流水号,资金项目,身份证号码,姓名,村居代码,所属期,金额（元）,银行账号,发放日期,发放部门";

#[tokio::test]
async fn gbk_csv_with_title_rows_footer_and_every_spelling() {
    let f = Fixture::new();
    let text = format!(
        "2024年网岭镇低保发放花名册,,,,,,,,,\n{PAYMENTS_HEADER}\n\
         P1,低保,430223195003071233,张伟,430223101201,2024-03,430,6217,2024-03-05,民政局\n\
         P2,低保,430223195003071233,张　伟,430223101201,2024/03,\"1,350.00\",,2024/3/5,民政局\n\
         P3,低保,430223195003071233,张伟,430223101201,202403,430.00元,,2024.03.05,民政局\n\
         P4,低保,430223195003071233,张伟,430223101201,2024年3月,１２３.５０,,20240305,民政局\n\
         P5,低保,430223480615071,张伟,430223101201,2024年03月,36000,,2024年3月5日,民政局\n\
         P6,低保,43022319640101102x,张伟,430223101201,2024-03,-50.00,,45356,民政局\n\
         ,,,,,,,,,\n\
         合计,,,,,,37783.5,,,\n\
         制表人:李四,,,,,,,,,\n"
    );
    f.put("subsidy_payments/网岭镇低保.csv", &gbk(&text));
    let reports = f.ingest().await;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.outcome, FileOutcome::Loaded, "{r:?}");
    assert_eq!((r.rows_loaded, r.rows_quarantined, r.rows_skipped), (6, 0, 3), "{r:?}");
    assert!(r.format.contains("GB"), "{}", r.format);
    let rows = f.rows("SELECT payment_id, id_number, period, CAST(amount AS VARCHAR), CAST(paid_date AS VARCHAR), source_row FROM subsidy_payments ORDER BY payment_id").await;
    assert_eq!(rows[0], ["P1", "430223195003071233", "2024-03", "430.00", "2024-03-05", "3"]);
    assert_eq!(rows[1][3], "1350.00");
    assert_eq!(rows[3][3], "123.50");
    assert_eq!(rows[4][1], "430223194806150715", "legacy 15-digit ID upgraded");
    assert_eq!(rows[5][1], "43022319640101102X", "x upper-cased");
    assert_eq!(rows[5][4], "2024-03-05", "Excel serial date");
    for row in &rows {
        assert_eq!(row[2], "2024-03");
        assert_eq!(row[4], "2024-03-05");
    }
}

#[tokio::test]
async fn utf8_bom_csv_with_embedded_line_breaks_keeps_row_numbers() {
    let f = Fixture::new();
    let text = "\u{feff}信访件编号,登记日期,信访渠道,问题发生地代码,问题类别,内容摘要,是否重复件,办理状态\n\
                XF1,2024-03-05,来信,430223101201,低保,\"反映:低保不公\n诉求:核查\",是,受理\n\
                XF2,2024-03-06,来访,430223101201,低保,一般,N,受理\n\
                XF3,2024-03-07,走访,430223101201,低保,一般,0,受理\n";
    f.put("petitions/p.csv", text.as_bytes());
    let r = &f.ingest().await[0];
    assert_eq!((r.rows_loaded, r.rows_quarantined), (2, 1), "{r:?}");
    let rows = f.rows("SELECT petition_id, summary, CAST(is_repeat AS VARCHAR), source_row FROM petitions ORDER BY petition_id").await;
    assert_eq!(rows[0], ["XF1", "反映:低保不公\n诉求:核查", "true", "2"]);
    assert_eq!(rows[1], ["XF2", "一般", "false", "3"]);
    let q = f.rows("SELECT row_number, reason_kind, reason FROM quarantine").await;
    assert_eq!(q[0][0], "4", "the row after a two-line record is row 4");
    assert_eq!(q[0][1], "bad_enum");
    assert!(q[0][2].contains("信访渠道") && q[0][2].contains("走访"), "{}", q[0][2]);
}

#[tokio::test]
async fn xlsx_with_title_rows_date_cells_and_total_row() {
    let f = Fixture::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "2024年网岭镇公益岗位花名册").unwrap();
    sheet.write_string(1, 0, "填报单位:网岭镇").unwrap();
    for (i, h) in ["序号", "岗位编号", "公民身份号码", "姓名", "村(社区)代码", "岗位名称", "上岗日期", "离岗日期", "月补贴标准(元)"].iter().enumerate() {
        sheet.write_string(2, i as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (r, job) in ["G1", "G2"].iter().enumerate() {
        let row = 3 + r as u32;
        sheet.write_number(row, 0, (r + 1) as f64).unwrap();
        sheet.write_string(row, 1, *job).unwrap();
        sheet.write_string(row, 2, "430223195003071233").unwrap();
        sheet.write_string(row, 3, "张伟").unwrap();
        sheet.write_string(row, 4, "430223101201").unwrap();
        sheet.write_string(row, 5, "保洁员").unwrap();
        sheet.write_number_with_format(row, 6, 45356.0, &date).unwrap();
        sheet.write_number(row, 8, 1200.5).unwrap();
    }
    sheet.write_string(5, 1, "G3").unwrap(); // no ID, no name, no date: quarantined
    sheet.write_string(7, 0, "合计").unwrap();
    sheet.write_number(7, 8, 2401.0).unwrap();
    let path = f.inbox.join("welfare_jobs/jobs.xlsx");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    wb.save(&path).unwrap();
    let r = &f.ingest().await[0];
    // Skipped: the 合计 row (the blank row between holds no cell, so it is no row).
    assert_eq!((r.rows_loaded, r.rows_quarantined, r.rows_skipped), (2, 1, 1), "{r:?}");
    let rows = f.rows("SELECT job_id, CAST(start_date AS VARCHAR), CAST(monthly_wage AS VARCHAR), extra, source_row FROM welfare_jobs ORDER BY job_id").await;
    assert_eq!(rows[0], ["G1", "2024-03-05", "1200.50", r#"{"序号":"1"}"#, "4"]);
    let q = f.rows("SELECT row_number, reason_kind, reason FROM quarantine").await;
    assert_eq!(q[0][0], "6", "sheet row number, title rows counted");
    assert_eq!(q[0][1], "missing_required");
    assert!(q[0][2].contains("公民身份号码") && q[0][2].contains("姓名"), "every problem of the row is named: {}", q[0][2]);
}

#[tokio::test]
async fn jsonl_with_unknown_keys_kept_in_extra() {
    let f = Fixture::new();
    let text = "{\"credit_code\":\"91430223MA4L0000X1\",\"name\":\"攸县兴盛建材\",\"established_date\":\"2019-05-01\",\"status\":\"存续\",\"注册资本(万元)\":50,\"联系电话\":\"0731-1234\"}\n\n\
                {\"credit_code\":\"91430223MA4L0000X2\",\"name\":\"攸县宏达\",\"established_date\":\"2019-13-01\",\"status\":\"存续\"}\n";
    f.put("businesses/b.jsonl", text.as_bytes());
    let r = &f.ingest().await[0];
    assert_eq!((r.rows_loaded, r.rows_quarantined), (1, 1), "{r:?}");
    let rows = f.rows("SELECT CAST(registered_capital AS VARCHAR), extra FROM businesses").await;
    assert_eq!(rows[0], ["50.00", r#"{"联系电话":"0731-1234"}"#]);
    let q = f.rows("SELECT row_number, reason_kind FROM quarantine").await;
    assert_eq!(q[0], ["3", "bad_date"]);
}

#[tokio::test]
async fn a_file_in_the_wrong_folder_is_rejected_whole() {
    let f = Fixture::new();
    let population = "公民身份号码,姓名,性别,出生日期,户号,与户主关系,村(社区)代码,人口状态\n430223195003071233,张伟,男,1950-03-07,H1,户主,430223101201,正常\n";
    f.put("subsidy_payments/人口.csv", population.as_bytes());
    f.put("subsidy_payments/readme.pdf", b"%PDF");
    f.put("populaton/x.csv", population.as_bytes());
    let reports = f.ingest().await;
    assert_eq!(reports.len(), 3);
    for r in &reports {
        let FileOutcome::Rejected(why) = &r.outcome else { panic!("{r:?} should be rejected") };
        match r.file.as_str() {
            "subsidy_payments/人口.csv" => assert!(why.contains("户籍人口") && why.contains("population/"), "{why}"),
            "subsidy_payments/readme.pdf" => assert!(why.contains(".pdf"), "{why}"),
            _ => assert!(why.contains("populaton"), "{why}"),
        }
    }
    assert!(f.lake.table("subsidy_payments").await.unwrap().is_none(), "nothing of a rejected file lands");
    let batches = f.rows("SELECT status, error FROM ingest_batches WHERE file = 'subsidy_payments/人口.csv'").await;
    assert_eq!(batches[0][0], "rejected");
}

#[tokio::test]
async fn a_later_delivery_replaces_the_earlier_row_and_duplicates_in_a_file_are_quarantined() {
    let f = Fixture::new();
    let row = |id: &str, amount: &str| format!("{id},养老金,430223195003071233,张伟,430223101201,2024-03,{amount},,,\n");
    f.put("subsidy_payments/a.csv", format!("{PAYMENTS_HEADER}\n{}{}{}", row("P1", "100"), row("P2", "100"), row("P1", "999")).as_bytes());
    f.put("subsidy_payments/b.csv", format!("{PAYMENTS_HEADER}\n{}", row("P2", "200")).as_bytes());
    let reports = f.ingest().await;
    assert_eq!(reports[0].rows_quarantined, 1);
    let rows = f.rows("SELECT payment_id, CAST(amount AS VARCHAR) FROM subsidy_payments ORDER BY payment_id").await;
    assert_eq!(rows, [["P1", "100.00"], ["P2", "200.00"]]);
    let q = f.rows("SELECT reason_kind, reason FROM quarantine").await;
    assert_eq!(q[0][0], "duplicate_key");
    assert!(q[0][1].contains("第 2 行"), "{}", q[0][1]);
    // A correction delivered in a later run replaces the row (merge path).
    f.put("subsidy_payments/c.csv", format!("{PAYMENTS_HEADER}\n{}", row("P1", "150")).as_bytes());
    let reports = f.ingest().await;
    assert_eq!(reports.iter().filter(|r| r.outcome == FileOutcome::AlreadyIngested).count(), 2);
    let rows = f.rows("SELECT payment_id, CAST(amount AS VARCHAR) FROM subsidy_payments ORDER BY payment_id").await;
    assert_eq!(rows, [["P1", "150.00"], ["P2", "200.00"]]);
}

#[tokio::test]
async fn a_table_whose_creation_was_killed_before_its_first_commit_is_created_anew() {
    let f = Fixture::new();
    // What a writer killed between writing its temporary commit and renaming
    // it to version 0 leaves behind: a log folder without a version.
    let log = f.lake.root().join("deaths/_delta_log");
    std::fs::create_dir_all(&log).unwrap();
    std::fs::write(log.join("_commit_4b1e2c1a-0000-4000-8000-000000000000.json.tmp"), b"{\"protocol\":{}}\n").unwrap();
    assert!(f.lake.table("deaths").await.unwrap().is_none(), "a log without a version is no table yet");
    assert!(!f.lake.tables().unwrap().contains(&"deaths".to_string()));
    f.put("deaths/d.csv", "公民身份号码,姓名,死亡日期,数据来源\n430223195003071233,张伟,2024-03-05,民政\n".as_bytes());
    let r = &f.ingest().await[0];
    assert_eq!(r.rows_loaded, 1, "{r:?}");
    assert_eq!(f.rows("SELECT count(*) FROM deaths").await, [["1"]]);
}

#[tokio::test]
async fn a_csv_turning_into_another_encoding_past_its_first_megabyte_is_rejected_naming_the_row() {
    let f = Fixture::new();
    // UTF-8 for well over the megabyte the encoding is detected from (so
    // the file passes as UTF-8), then one row in GBK.
    let row = |n: usize| format!("P{n},养老金,430223195003071233,张伟,430223101201,2024-03,100,,,\n");
    let mut bytes = format!("{PAYMENTS_HEADER}\n").into_bytes();
    let good_rows = 40_000;
    for n in 0..good_rows {
        bytes.extend(row(n).as_bytes());
    }
    assert!(bytes.len() > 1 << 20);
    bytes.extend(gbk(&row(good_rows)));
    f.put("subsidy_payments/mixed.csv", &bytes);
    let r = &f.ingest().await[0];
    let FileOutcome::Rejected(why) = &r.outcome else { panic!("{r:?} should be rejected") };
    assert!(why.contains(&format!("第 {} 行第 2 列「资金项目」不是有效的 UTF-8 文本", good_rows + 2)), "{why}");
    assert!(f.lake.table("subsidy_payments").await.unwrap().is_none(), "nothing of a rejected file lands");
}
