//! The data contract (CONTRACT.md §1) as data: every inbox source, its
//! columns, Chinese headers, types, required flags, allowed values and key.
//!
//! Ingest, the generator, `xuncha sql`'s `\d` and the dashboard all read this
//! one registry, so a column is described in exactly one place.

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;
use unicode_normalization::UnicodeNormalization;

/// How one cell of a column is typed (CONTRACT §1 "Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text, trimmed.
    Str,
    /// A code (division code, credit code or ID number as a code): trimmed,
    /// inner spaces removed, upper-cased.
    Code,
    /// Whole number.
    Int,
    /// Calendar date.
    Date,
    /// Calendar month `YYYY-MM`.
    Month,
    /// Yuan with two decimals, exact.
    Money,
    /// Exact decimal (e.g. a share ratio).
    Decimal,
    /// Yes / no.
    Bool,
    /// 公民身份号码: 18 characters after normalization (15-digit legacy upgraded).
    Id,
    /// One of a fixed list of values.
    Enum(&'static [&'static str]),
}

impl ColumnType {
    /// The Arrow-ish type name shown to analysts.
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnType::Str | ColumnType::Code | ColumnType::Id | ColumnType::Enum(_) => "Utf8",
            ColumnType::Int => "Int64",
            ColumnType::Date => "Date32",
            ColumnType::Month => "Utf8 (YYYY-MM)",
            ColumnType::Money => "Decimal128(18,2)",
            ColumnType::Decimal => "Decimal128(18,4)",
            ColumnType::Bool => "Boolean",
        }
    }
}

/// One column of a source.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Canonical snake_case name, also the lake column name.
    pub name: &'static str,
    /// The Chinese header departments use.
    pub header: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether a row without it is quarantined.
    pub required: bool,
}

/// One inbox source and lake table.
#[derive(Debug)]
pub struct Source {
    /// Folder and table name.
    pub name: &'static str,
    /// Chinese title.
    pub title: &'static str,
    /// Key columns: within a file a repeated key is a duplicate, across files
    /// a later delivery replaces the earlier row.
    pub key: &'static [&'static str],
    /// Columns in contract order.
    pub columns: &'static [Column],
    /// Columns its Parquet files are sorted by (the joins of the rules; empty:
    /// file order).
    pub sort: &'static [&'static str],
    /// How a scoped user's session cuts it down to their county, town or village.
    pub scope: Scope,
}

/// How a table is cut down to a scope (a county, town or village code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Rows whose division-code column starts with the scope's prefix.
    Code(&'static str),
    /// Rows whose `column` appears in `via.via_column` (a table scoped itself).
    Via { column: &'static str, via: &'static str, via_column: &'static str },
    /// Not about a place (a declared source without a scope column): a
    /// scoped user does not see it at all.
    Unscoped,
}

impl Source {
    /// Columns worth a Parquet bloom filter: ID numbers and counterparties.
    pub fn bloom_columns(&self) -> Vec<&'static str> {
        self.columns.iter().filter(|c| c.ty == ColumnType::Id || c.name == "counterparty_code").map(|c| c.name).collect()
    }

    /// Columns whose every value in a file is distinct: a one-column key
    /// and the source row number. A Parquet dictionary of them only fills
    /// up and is given up, so they are written plain.
    pub fn unique_columns(&self) -> Vec<&'static str> {
        self.distinct_key().iter().copied().chain(["source_row"]).collect()
    }

    /// The key when it is one column (its values are then distinct), else
    /// nothing.
    fn distinct_key(&self) -> &'static [&'static str] {
        if self.key.len() == 1 { self.key } else { &[] }
    }

    /// Columns whose minimum and maximum in a file prune nothing: a
    /// one-column key of distinct values and free text (names, positions,
    /// summaries), in no order within a file. Their Parquet statistics are
    /// not written; computing them was a sizable part of writing a file.
    pub fn unordered_columns(&self) -> Vec<&'static str> {
        let key = self.distinct_key();
        key.iter().copied().chain(self.columns.iter().filter(|c| c.ty == ColumnType::Str && !key.contains(&c.name)).map(|c| c.name)).collect()
    }

    /// The column with canonical name `name`.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Index of the column with canonical name `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column a delivered header means, if any (see [`header_key`]).
    pub fn match_header(&self, header: &str) -> Option<usize> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        self.columns.iter().position(|c| header_key(c.header) == key || c.name == key.to_ascii_lowercase())
    }
}

const fn col(name: &'static str, header: &'static str, ty: ColumnType, required: bool) -> Column {
    Column { name, header, ty, required }
}

use ColumnType::*;

/// 资金项目 in `subsidy_payments`.
pub const PROGRAMS: &[&str] = &["低保", "特困供养", "养老金", "高龄津贴", "残疾人补贴", "公益岗工资", "临时救助", "危房改造", "耕地地力补贴", "青苗补偿"];

/// 问题类别, shared by petitions and problems.
pub const TOPICS: &[&str] = &[
    "供水",
    "道路交通",
    "低保",
    "特困供养",
    "养老金",
    "公益岗",
    "三资管理",
    "工程项目",
    "工资拖欠",
    "征地补偿",
    "学校食堂",
    "医疗服务",
    "殡葬",
    "环境卫生",
    "住房安全",
    "惠农补贴",
    "干部作风",
    "基层党建",
    "其他",
];

/// 行业领域 in `problems`.
pub const SECTORS: &[&str] = &["教育", "卫健", "医保", "民政", "人社", "农业农村", "水务", "住建", "交通", "殡葬", "党建", "其他"];

/// 科目 in `finance_vouchers`.
pub const ACCOUNTS: &[&str] = &["工程支出", "招待费", "差旅费", "会议费", "办公费", "干部报酬", "津补贴", "资产租赁收入", "资源发包收入", "补助收入", "其他"];

/// 采购方式 in `contracts`.
pub const PROCUREMENTS: &[&str] = &["公开招标", "邀请招标", "竞争性谈判", "询价", "直接发包", "村民代表会议决议"];

/// 单位类型 in `inspections`.
pub const TARGET_TYPES: &[&str] = &["乡镇", "村", "社区", "部门", "国有企业", "学校", "医院"];

/// 巡察方式 in `inspections`.
pub const MODES: &[&str] = &["常规巡察", "专项巡察", "机动巡察", "提级巡察", "交叉巡察", "回头看"];

/// 数据来源 in `deaths`.
pub const DEATH_SOURCES: &[&str] = &["公安", "民政", "卫健", "殡葬"];

/// 人员类别 in `cadres`.
pub const CADRE_TYPES: &[&str] = &["村干部", "乡镇干部", "公职人员"];

/// 信访渠道 in `petitions`.
pub const CHANNELS: &[&str] = &["来信", "来访", "网上信访", "12345热线", "巡察组收集"];

/// 整改状态 in `problems`.
pub const PROBLEM_STATUSES: &[&str] = &["未整改", "整改中", "已整改", "已销号"];

/// 群众评价 in `petitions`.
pub const SATISFACTIONS: &[&str] = &["满意", "基本满意", "不满意", "未评价"];

/// The rules of CONTRACT §3, in contract order.
pub const RULE_IDS: &[&str] = &[
    "deceased_paid",
    "pension_missing",
    "duplicate_payment",
    "cadre_family_dibao",
    "public_servant_dibao",
    "dibao_with_assets",
    "welfare_job_nepotism",
    "welfare_job_absent",
    "welfare_job_employed_elsewhere",
    "shared_bank_account",
    "identity_mismatch",
    "cadre_linked_counterparty",
    "contract_splitting",
    "allowance_to_non_cadre",
    "public_funds_travel",
    "rectification_rebound",
    "rectification_overdue",
];

/// The sixteen sources, in the order of CONTRACT §1.
pub static SOURCES: &[Source] = &[
    Source {
        name: "divisions",
        title: "行政区划",
        key: &["code"],
        columns: &[
            col("code", "区划代码", Code, true),
            col("name", "名称", Str, true),
            col("level", "级别", Enum(&["县", "乡镇", "村"]), true),
            col("parent_code", "上级代码", Code, false),
            col("population", "户籍人口", Int, false),
            col("households", "户数", Int, false),
        ],
        sort: &[],
        scope: Scope::Code("code"),
    },
    Source {
        name: "population",
        title: "户籍人口",
        key: &["id_number"],
        columns: &[
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, true),
            col("gender", "性别", Enum(&["男", "女"]), false),
            col("birth_date", "出生日期", Date, true),
            col("household_id", "户号", Code, true),
            col("relation", "与户主关系", Str, false),
            col("village_code", "村(社区)代码", Code, true),
            col("status", "人口状态", Enum(&["正常", "死亡", "迁出"]), true),
            col("status_date", "状态变更日期", Date, false),
        ],
        sort: &["village_code", "household_id"],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "deaths",
        title: "死亡登记",
        key: &["id_number", "source"],
        columns: &[col("id_number", "公民身份号码", Id, true), col("name", "姓名", Str, false), col("death_date", "死亡日期", Date, true), col("source", "数据来源", Enum(DEATH_SOURCES), true)],
        sort: &[],
        scope: Scope::Via { column: "id_number", via: "population", via_column: "id_number" },
    },
    Source {
        name: "cadres",
        title: "干部名册",
        key: &["id_number", "org_code", "position", "start_date"],
        columns: &[
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, true),
            col("org_code", "单位代码", Code, true),
            col("org_name", "单位名称", Str, false),
            col("position", "职务", Str, true),
            col("cadre_type", "人员类别", Enum(CADRE_TYPES), true),
            col("start_date", "任职开始日期", Date, true),
            col("end_date", "任职结束日期", Date, false),
        ],
        sort: &["org_code", "id_number"],
        scope: Scope::Code("org_code"),
    },
    Source {
        name: "subsidy_payments",
        title: "民生资金发放",
        key: &["payment_id"],
        columns: &[
            col("payment_id", "发放流水号", Code, true),
            col("program", "资金项目", Enum(PROGRAMS), true),
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, true),
            col("village_code", "村(社区)代码", Code, true),
            col("period", "所属期", Month, true),
            col("amount", "金额(元)", Money, true),
            col("bank_account", "银行账号", Code, false),
            col("paid_date", "发放日期", Date, false),
            col("department", "发放部门", Str, false),
        ],
        sort: &["village_code", "id_number", "period"],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "welfare_jobs",
        title: "公益岗位",
        key: &["job_id"],
        columns: &[
            col("job_id", "岗位编号", Code, true),
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, true),
            col("village_code", "村(社区)代码", Code, true),
            col("post", "岗位名称", Str, false),
            col("start_date", "上岗日期", Date, true),
            col("end_date", "离岗日期", Date, false),
            col("monthly_wage", "月补贴标准(元)", Money, false),
        ],
        sort: &[],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "attendance",
        title: "公益岗考勤",
        key: &["job_id", "month"],
        columns: &[col("job_id", "岗位编号", Code, true), col("month", "考勤月份", Month, true), col("days_required", "应出勤天数", Int, true), col("days_present", "实际出勤天数", Int, true)],
        sort: &["job_id", "month"],
        scope: Scope::Via { column: "job_id", via: "welfare_jobs", via_column: "job_id" },
    },
    Source {
        name: "social_insurance",
        title: "社保缴费",
        key: &["id_number", "employer_code", "month", "insurance_type"],
        columns: &[
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, false),
            col("employer_code", "单位统一社会信用代码", Code, true),
            col("employer_name", "参保单位名称", Str, false),
            col("month", "缴费月份", Month, true),
            col("insurance_type", "险种", Enum(&["职工养老", "失业", "工伤", "医疗"]), true),
        ],
        sort: &[],
        scope: Scope::Via { column: "id_number", via: "population", via_column: "id_number" },
    },
    Source {
        name: "vehicles",
        title: "机动车登记",
        key: &["plate"],
        columns: &[
            col("plate", "号牌号码", Code, true),
            col("owner_id_number", "所有人身份号码", Id, true),
            col("owner_name", "所有人姓名", Str, false),
            col("vehicle_type", "车辆类型", Str, false),
            col("register_date", "初次登记日期", Date, true),
            col("status", "状态", Enum(&["正常", "注销", "报废"]), true),
        ],
        sort: &[],
        scope: Scope::Via { column: "owner_id_number", via: "population", via_column: "id_number" },
    },
    Source {
        name: "businesses",
        title: "市场主体登记",
        key: &["credit_code"],
        columns: &[
            col("credit_code", "统一社会信用代码", Code, true),
            col("name", "企业名称", Str, true),
            col("legal_rep_id_number", "法定代表人身份号码", Id, false),
            col("legal_rep_name", "法定代表人", Str, false),
            col("registered_capital", "注册资本(万元)", Money, false),
            col("established_date", "成立日期", Date, true),
            col("status", "登记状态", Enum(&["存续", "注销", "吊销"]), true),
            col("village_code", "住所所在村(社区)代码", Code, false),
        ],
        sort: &[],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "business_people",
        title: "企业股东及主要人员",
        key: &["credit_code", "id_number", "role"],
        columns: &[
            col("credit_code", "统一社会信用代码", Code, true),
            col("id_number", "公民身份号码", Id, true),
            col("name", "姓名", Str, false),
            col("role", "角色", Enum(&["股东", "董事", "监事", "高管"]), true),
            col("share_ratio", "持股比例", Decimal, false),
        ],
        sort: &[],
        scope: Scope::Via { column: "credit_code", via: "businesses", via_column: "credit_code" },
    },
    Source {
        name: "petitions",
        title: "信访件",
        key: &["petition_id"],
        columns: &[
            col("petition_id", "信访件编号", Code, true),
            col("received_date", "登记日期", Date, true),
            col("channel", "信访渠道", Enum(CHANNELS), true),
            col("village_code", "问题发生地代码", Code, true),
            col("topic", "问题类别", Enum(TOPICS), true),
            col("summary", "内容摘要", Str, false),
            col("accused_name", "被反映人", Str, false),
            col("accused_id_number", "被反映人身份号码", Id, false),
            col("is_repeat", "是否重复件", Bool, false),
            col("status", "办理状态", Enum(&["受理", "办理中", "办结"]), true),
            col("closed_date", "办结日期", Date, false),
            col("satisfaction", "群众评价", Enum(SATISFACTIONS), false),
        ],
        sort: &["village_code", "received_date"],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "finance_vouchers",
        title: "农村集体三资记账凭证",
        key: &["voucher_id"],
        columns: &[
            col("voucher_id", "凭证号", Code, true),
            col("village_code", "村(社区)代码", Code, true),
            col("voucher_date", "记账日期", Date, true),
            col("direction", "收支", Enum(&["收入", "支出"]), true),
            col("account", "科目", Enum(ACCOUNTS), true),
            col("amount", "金额(元)", Money, true),
            col("counterparty_name", "对方单位或个人", Str, false),
            col("counterparty_code", "对方代码", Code, false),
            col("approver", "审批人", Str, false),
            col("summary", "摘要", Str, false),
        ],
        sort: &["village_code", "voucher_date"],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "contracts",
        title: "村级合同",
        key: &["contract_id"],
        columns: &[
            col("contract_id", "合同编号", Code, true),
            col("village_code", "村(社区)代码", Code, true),
            col("kind", "合同类型", Enum(&["工程", "采购", "资产租赁", "资源发包"]), true),
            col("title", "合同名称", Str, false),
            col("counterparty_name", "相对方", Str, true),
            col("counterparty_code", "相对方代码", Code, false),
            col("amount", "合同金额(元)", Money, true),
            col("signed_date", "签订日期", Date, true),
            col("procurement", "采购方式", Enum(PROCUREMENTS), true),
        ],
        sort: &["village_code", "signed_date"],
        scope: Scope::Code("village_code"),
    },
    Source {
        name: "inspections",
        title: "巡察对象",
        key: &["round_id", "target_code"],
        columns: &[
            col("round_id", "轮次编号", Code, true),
            col("term", "届次", Str, true),
            col("round_no", "轮次", Int, true),
            col("group_name", "巡察组", Str, false),
            col("target_code", "被巡察单位代码", Code, true),
            col("target_name", "被巡察单位", Str, true),
            col("target_type", "单位类型", Enum(TARGET_TYPES), true),
            col("mode", "巡察方式", Enum(MODES), true),
            col("start_date", "进驻日期", Date, true),
            col("end_date", "结束日期", Date, false),
        ],
        sort: &[],
        scope: Scope::Code("target_code"),
    },
    Source {
        name: "problems",
        title: "巡察问题及整改台账",
        key: &["problem_id"],
        columns: &[
            col("problem_id", "问题编号", Code, true),
            col("round_id", "轮次编号", Code, true),
            col("target_code", "被巡察单位代码", Code, true),
            col("sector", "行业领域", Enum(SECTORS), true),
            col("topic", "问题类别", Enum(TOPICS), true),
            col("description", "问题描述", Str, true),
            col("severity", "严重程度", Enum(&["一般", "较重", "严重"]), true),
            col("found_date", "发现日期", Date, true),
            col("immediate", "立行立改", Bool, false),
            col("clue_transferred", "移交问题线索", Bool, false),
            col("deadline", "整改时限", Date, false),
            col("status", "整改状态", Enum(PROBLEM_STATUSES), true),
            col("rectified_date", "整改完成日期", Date, false),
            col("funds_involved", "涉及金额(元)", Money, false),
            col("funds_recovered", "挽回(追回)金额(元)", Money, false),
            col("systems_established", "建章立制数", Int, false),
        ],
        sort: &[],
        scope: Scope::Code("target_code"),
    },
];

/// The source named `name`.
pub fn source(name: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.name == name)
}

/// Normalizes a delivered header for matching: NFKC (full-width → half-width),
/// no white space, no trailing unit in brackets (`金额（元）` → `金额`), and the
/// aliases departments use (`身份证号(码)` → `身份号码`, `村居` → `村(社区)`).
pub fn header_key(header: &str) -> String {
    let mut key: String = header.nfkc().filter(|c| !c.is_whitespace()).collect();
    key = key.trim_start_matches('\u{feff}').to_string();
    while key.ends_with(')') {
        match key.rfind('(') {
            Some(open) if open > 0 => key.truncate(open),
            _ => break,
        }
    }
    for (from, to) in [("身份证号码", "身份号码"), ("身份证号", "身份号码"), ("村居", "村(社区)")] {
        if key.contains(from) {
            key = key.replace(from, to);
        }
    }
    if key == "身份号码" {
        key = "公民身份号码".to_string();
    }
    key
}

/// The scale units a header may name in its trailing brackets, with the
/// power of ten of yuan each stands for (`None`: a ratio, not money).
const HEADER_UNITS: [(&str, Option<i32>); 8] = [("元", Some(0)), ("千元", Some(3)), ("万元", Some(4)), ("百万元", Some(6)), ("亿元", Some(8)), ("%", None), ("‰", None), ("百分比", None)];

/// The scale unit a header names in its trailing brackets (`金额（万元）` →
/// `万元`, `比例(%)` → `%`), if it names one; other bracketed words (`村(社区)`,
/// `(必填)`) are not units.
pub fn header_unit(header: &str) -> Option<&'static str> {
    let key: String = header.nfkc().filter(|c| !c.is_whitespace()).collect();
    let inside = key.strip_suffix(')')?;
    let unit = &inside[inside.rfind('(')? + 1..];
    HEADER_UNITS.iter().find(|(u, _)| *u == unit).map(|(u, _)| *u)
}

/// The power of ten a delivered column's values are multiplied by to be in
/// `column`'s unit (`金额(万元)` for `金额(元)`: 4), or why the header's unit
/// cannot be honoured (a ratio in a money column, any unit on a column that
/// has none): the file is then rejected, never read with the unit dropped.
pub fn unit_shift(column: &Column, delivered_header: &str) -> Result<i32, String> {
    let Some(delivered) = header_unit(delivered_header) else { return Ok(0) };
    let own = header_unit(column.header);
    if own == Some(delivered) {
        return Ok(0);
    }
    let power = |unit: &str| HEADER_UNITS.iter().find(|(u, _)| *u == unit).and_then(|(_, p)| *p);
    let own_power = match (column.ty, own) {
        (ColumnType::Money, None) => Some(0),
        (ColumnType::Money, Some(own)) => power(own),
        _ => None,
    };
    match (own_power, power(delivered)) {
        (Some(own), Some(given)) => Ok(given - own),
        _ => {
            let expected = match (column.ty, own) {
                (ColumnType::Money, unit) => format!("以{}为单位", unit.unwrap_or("元")),
                (_, Some(unit)) => format!("以「{unit}」为单位"),
                (_, None) => "不带单位".to_string(),
            };
            Err(format!(
                "表头「{}」标明的单位是「{delivered}」,而这一列「{}」({}) {expected},无法按「{delivered}」换算;整份文件未入库。请把这一列换算后把表头改成「{}」,再重新报送",
                delivered_header.trim(),
                column.header,
                column.name,
                column.header
            ))
        }
    }
}

/// The Arrow type of a contract column.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Int => DataType::Int64,
        ColumnType::Date => DataType::Date32,
        ColumnType::Money => DataType::Decimal128(18, 2),
        ColumnType::Decimal => DataType::Decimal128(18, 4),
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Str | ColumnType::Code | ColumnType::Id | ColumnType::Month | ColumnType::Enum(_) => DataType::Utf8,
    }
}

/// The lake schema of a source: its columns, then `extra` (JSON of the
/// columns the contract does not name), `batch_id`, and where each row came
/// from (`source_file`, `source_row`).
pub fn schema(source: &Source) -> SchemaRef {
    let mut fields: Vec<Field> = source.columns.iter().map(|c| Field::new(c.name, arrow_type(c.ty), !c.required)).collect();
    fields.push(Field::new("extra", DataType::Utf8, true));
    fields.push(Field::new("batch_id", DataType::Utf8, false));
    fields.push(Field::new("source_file", DataType::Utf8, false));
    fields.push(Field::new("source_row", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_source_sorts_and_scopes_by_columns_it_has() {
        for source in SOURCES {
            for column in source.sort {
                assert!(source.column(column).is_some(), "{}: sorts by unknown {column}", source.name);
            }
            match source.scope {
                Scope::Code(column) => assert!(source.column(column).is_some_and(|c| c.ty == ColumnType::Code), "{}: scoped by {column}", source.name),
                Scope::Via { column, via, via_column } => {
                    assert!(source.column(column).is_some(), "{}: scoped through unknown {column}", source.name);
                    let through = super::source(via).unwrap_or_else(|| panic!("{}: scoped through unknown source {via}", source.name));
                    assert!(through.column(via_column).is_some() && !matches!(through.scope, Scope::Via { .. }), "{}: {via}.{via_column}", source.name);
                }
                Scope::Unscoped => panic!("{}: every contract source is about a place", source.name),
            }
        }
    }

    use super::*;

    #[test]
    fn sixteen_sources_with_keys_that_are_columns() {
        assert_eq!(SOURCES.len(), 16);
        for s in SOURCES {
            for k in s.key {
                let c = s.column(k).unwrap_or_else(|| panic!("{}: key {k} is not a column", s.name));
                assert!(c.required, "{}: key column {k} must be required", s.name);
            }
        }
    }

    #[test]
    fn header_variants_match_the_same_column() {
        let pay = source("subsidy_payments").unwrap();
        let amount = pay.column_index("amount");
        for h in ["金额(元)", "金额（元）", " 金额 ", "金额", "amount", "AMOUNT", "金 额（元）"] {
            assert_eq!(pay.match_header(h), amount, "{h}");
        }
        let id = pay.column_index("id_number");
        for h in ["公民身份号码", "身份证号", "身份证号码", "id_number", "公民身份号码 "] {
            assert_eq!(pay.match_header(h), id, "{h}");
        }
        let village = pay.column_index("village_code");
        for h in ["村(社区)代码", "村（社区）代码", "村居代码", "ｖｉｌｌａｇｅ＿ｃｏｄｅ"] {
            assert_eq!(pay.match_header(h), village, "{h}");
        }
        let vehicles = source("vehicles").unwrap();
        assert_eq!(vehicles.match_header("所有人身份证号"), vehicles.column_index("owner_id_number"));
        let problems = source("problems").unwrap();
        assert_eq!(problems.match_header("挽回（追回）金额（元）"), problems.column_index("funds_recovered"));
        assert_eq!(pay.match_header("备注"), None);
        // Units are read, never dropped (issue 32).
        let amount = pay.column("amount").unwrap();
        assert_eq!(header_unit("金额（万元）"), Some("万元"));
        assert_eq!(header_unit("村(社区)"), None);
        assert_eq!(unit_shift(amount, "金额(元)"), Ok(0));
        assert_eq!(unit_shift(amount, "金额"), Ok(0));
        assert_eq!(unit_shift(amount, "金额（万元）"), Ok(4));
        assert_eq!(unit_shift(amount, "金额(千元)"), Ok(3));
        assert!(unit_shift(amount, "金额(%)").unwrap_err().contains("「%」"));
        let capital = source("businesses").unwrap().column("registered_capital").unwrap();
        assert_eq!(unit_shift(capital, "注册资本(元)"), Ok(-4));
        assert_eq!(unit_shift(capital, "注册资本(万元)"), Ok(0));
        let ratio = source("business_people").unwrap().column("share_ratio").unwrap();
        assert!(unit_shift(ratio, "持股比例(%)").unwrap_err().contains("不带单位"));
        let name = pay.column("name").unwrap();
        assert!(unit_shift(name, "姓名(元)").is_err());
    }
}
