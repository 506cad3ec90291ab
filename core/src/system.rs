//! The lake's system tables — what xuncha itself writes beside the sources:
//! `ingest_batches` and `quarantine` (the pipeline), `findings`,
//! `risk_scores` and `runs` (the query layer's runs and the scheduler's
//! jobs), `case_events` and `case_findings` (the cases' history, append-only). Their schemas live here so that every layer reads the same
//! columns, and a session can offer an empty table before the first write.

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;

/// A function giving a table's schema.
pub type SchemaOf = fn() -> SchemaRef;

/// Every system table and its schema.
pub const SYSTEM_TABLES: &[(&str, SchemaOf)] = &[
    ("ingest_batches", ingest_batches_schema),
    ("quarantine", quarantine_schema),
    ("findings", findings_schema),
    ("risk_scores", risk_scores_schema),
    ("runs", runs_schema),
    ("case_events", case_events_schema),
    ("case_findings", case_findings_schema),
];

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The schema of `ingest_batches`.
pub fn ingest_batches_schema() -> SchemaRef {
    let ts = timestamp();
    Arc::new(Schema::new(vec![
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_loaded", DataType::Int64, false),
        Field::new("rows_quarantined", DataType::Int64, false),
        Field::new("rows_skipped", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("started_at", ts.clone(), false),
        Field::new("finished_at", ts, false),
        Field::new("error", DataType::Utf8, true),
        Field::new("notes", DataType::Utf8, true),
    ]))
}

/// Why a row was quarantined (`quarantine.reason_kind`), in words a clerk
/// reads; every kind the pipeline writes is here (a test checks).
pub const REASON_KINDS: &[(&str, &str)] = &[
    ("missing_required", "缺少必填项"),
    ("bad_date", "日期无法识别"),
    ("bad_month", "月份无法识别"),
    ("bad_money", "金额无法识别或超出上限"),
    ("bad_int", "整数无法识别"),
    ("bad_bool", "是/否无法识别"),
    ("bad_enum", "取值不在规定范围内"),
    ("bad_id", "身份证号无效"),
    ("bad_code", "代码格式不对"),
    ("bad_decimal", "数值无法识别"),
    ("bad_formula", "单元格是公式"),
    ("duplicate_key", "重复记录"),
    ("unknown_village", "村(社区)代码不存在"),
    ("ambiguous_village", "村名对应多个村"),
    ("conflicting_columns", "两列取值矛盾"),
    ("total_above_data", "合计行在数据之上"),
];

/// The schema of `quarantine`.
pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("row_number", DataType::Int64, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("reason_kind", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, true),
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("ingested_at", timestamp(), false),
    ]))
}

/// The schema of `findings`.
pub fn findings_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("village_code", DataType::Utf8, true),
        Field::new("town_code", DataType::Utf8, true),
        Field::new("entity_key", DataType::Utf8, false),
        Field::new("id_number", DataType::Utf8, true),
        Field::new("person_name", DataType::Utf8, true),
        Field::new("period", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(18, 2), true),
        Field::new("evidence", DataType::Utf8, true),
        Field::new("as_of", DataType::Date32, false),
        Field::new("detected_at", timestamp(), false),
    ]))
}

/// The schema of `runs`.
pub fn runs_schema() -> SchemaRef {
    let ts = timestamp();
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("started_at", ts.clone(), false),
        Field::new("finished_at", ts, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("as_of", DataType::Date32, true),
        Field::new("findings_rows", DataType::Int64, false),
        Field::new("risk_score_rows", DataType::Int64, false),
        Field::new("rule_stats", DataType::Utf8, true),
        Field::new("thresholds", DataType::Utf8, true),
        Field::new("error", DataType::Utf8, true),
    ]))
}

/// One component of the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    /// Column name in `risk_scores` (raw value; `<name>_pts` holds its points).
    pub name: &'static str,
    pub label: &'static str,
    pub default_weight: f64,
}

/// Every component, with its default weight (they sum to 1).
pub const COMPONENTS: &[Component] = &[
    Component { name: "petitions_per_1000", label: "信访密度(件/千人)", default_weight: 0.15 },
    Component { name: "repeat_petition_share", label: "重复信访占比", default_weight: 0.05 },
    Component { name: "dissatisfied_share", label: "群众不满意占比", default_weight: 0.05 },
    Component { name: "findings_weighted", label: "比对发现(按严重程度加权)", default_weight: 0.15 },
    Component { name: "livelihood_amount", label: "民生资金问题金额", default_weight: 0.10 },
    Component { name: "collective_amount", label: "三资问题金额", default_weight: 0.10 },
    Component { name: "sanzi_volume", label: "三资支出规模", default_weight: 0.05 },
    Component { name: "project_contracts", label: "工程合同数", default_weight: 0.05 },
    Component { name: "untendered_share", label: "工程未公开招标占比", default_weight: 0.05 },
    Component { name: "open_problems", label: "未完成整改问题数", default_weight: 0.05 },
    Component { name: "overdue_problems", label: "逾期整改问题数", default_weight: 0.05 },
    Component { name: "unrectified_share", label: "未整改率", default_weight: 0.05 },
    Component { name: "months_since_inspection", label: "距上次巡察月数(从未=最高)", default_weight: 0.10 },
];

/// The schema of `risk_scores`.
pub fn risk_scores_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("village_code", DataType::Utf8, false),
        Field::new("village_name", DataType::Utf8, true),
        Field::new("town_code", DataType::Utf8, false),
        Field::new("town_name", DataType::Utf8, true),
        Field::new("county_code", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("tier", DataType::Utf8, false),
        Field::new("rank_in_county", DataType::Int32, false),
    ];
    for c in COMPONENTS {
        fields.push(Field::new(c.name, DataType::Float64, false));
        fields.push(Field::new(format!("{}_pts", c.name), DataType::Float64, false));
    }
    fields.push(Field::new("as_of", DataType::Date32, false));
    Arc::new(Schema::new(fields))
}

/// The schema of `case_events`: every change of every case, appended, never
/// updated; a case's state is its last event's (`seq` counts a case's
/// events from 1 without gaps).
pub fn case_events_schema() -> SchemaRef {
    let money = || DataType::Decimal128(18, 2);
    Arc::new(Schema::new(vec![
        Field::new("case_id", DataType::Utf8, false),
        Field::new("seq", DataType::Int64, false),
        Field::new("at", timestamp(), false),
        // The month the data had reached when the event was made (the
        // latest run's as_of): what "a period after the hand-over" is
        // measured against.
        Field::new("data_month", DataType::Utf8, true),
        Field::new("user", DataType::Utf8, false),
        Field::new("action", DataType::Utf8, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("flag", DataType::Utf8, true),
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("subject", DataType::Utf8, false),
        Field::new("village_code", DataType::Utf8, true),
        Field::new("unit_code", DataType::Utf8, true),
        Field::new("due", DataType::Date32, true),
        Field::new("verdict", DataType::Utf8, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("recovered", money(), true),
        Field::new("back_paid", money(), true),
        Field::new("people", DataType::Int64, true),
        Field::new("transfer", DataType::Utf8, true),
        Field::new("run_id", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, true),
        // The number people use (`攸巡线〔2026〕0001号`), on a case's first
        // event; the case id stays the key.
        Field::new("case_no", DataType::Utf8, true),
    ]))
}

/// The schema of `case_findings`: each finding a case carries, the first
/// time a run made it (with the run and the table versions it read).
pub fn case_findings_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("case_id", DataType::Utf8, false),
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("entity_key", DataType::Utf8, false),
        Field::new("village_code", DataType::Utf8, true),
        Field::new("period", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(18, 2), true),
        Field::new("run_id", DataType::Utf8, false),
        Field::new("table_versions", DataType::Utf8, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_table_has_a_schema_and_no_source_shares_its_name() {
        for (name, schema) in SYSTEM_TABLES {
            assert!(schema().fields().len() >= 5, "{name}");
            assert!(crate::contract::source(name).is_none(), "{name} is a source and a system table");
        }
        let scores = risk_scores_schema();
        for c in COMPONENTS {
            assert!(scores.field_with_name(c.name).is_ok() && scores.field_with_name(&format!("{}_pts", c.name)).is_ok(), "{}", c.name);
        }
        assert!((COMPONENTS.iter().map(|c| c.default_weight).sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
