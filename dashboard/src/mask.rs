//! Masking, decided in one place by what a value *is*: a citizen ID number,
//! a person's name, a bank account, a birth date or a phone number.
//!
//! Every page, export, finding, report line and console result that is not
//! an audited reveal passes through here. A value is recognised two ways:
//! by the column or evidence key that holds it ([`kind_of_key`]: `approver`
//! and `payment_name` are names, `bank_account` an account, `birth_date` a
//! birth date), and by its shape wherever it appears, also inside longer
//! text and entity keys ([`mask_text`]: an 18-character ID, an 11-digit
//! mobile number, a 16-digit-or-longer account). Birth dates keep only the
//! year: a masked ID keeps its region and last four characters, and with
//! the full birth date beside it the whole number could be rebuilt.

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;
use xuncha_queries::lineage::Lineage;
use xuncha_queries::udf::{mask_id, mask_name};

/// What a value is, as far as privacy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    IdNumber,
    PersonName,
    /// People listed in one text: `张三(配偶, 村主任, 2021-01-01 至 今); 李四(…)`
    /// or `王五 经 本人 关联 张三(村主任)` (how the rules write cadres and links).
    PersonList,
    /// A name that may be a person's or an organisation's (a counterparty).
    PartyName,
    BankAccount,
    BirthDate,
    Phone,
    /// Anything else: masked only where an ID, phone or account shows in it.
    Text,
}

/// Keys ending in `name` that name a place, an organisation or a thing.
const NOT_PERSON_NAMES: &[&str] = &[
    "village_name",
    "town_name",
    "county_name",
    "org_name",
    "business_name",
    "company_name",
    "employer_name",
    "project_name",
    "contract_name",
    "program_name",
    "department_name",
    "unit_name",
    "source_name",
    "rule_name",
    "file_name",
    "table_name",
    "column_name",
    "sheet_name",
];

/// Keys whose values (strings or lists of strings) are people's names.
const PERSON_KEYS: &[&str] = &["approver", "approvers", "payee", "holder", "owner", "legal_rep", "姓名", "户主", "领款人", "审批人", "法定代表人"];

/// Keys whose values list people with details (see [`Kind::PersonList`]).
const PERSON_LIST_KEYS: &[&str] = &["cadres", "links", "relatives", "members", "beneficiaries", "关联干部", "关联关系"];

/// Keys whose values may name a person or an organisation.
const PARTY_KEYS: &[&str] = &["counterparty_name", "counterparty", "相对方", "employers"];

/// The kind of value a column or evidence key holds.
pub(crate) fn kind_of_key(key: &str) -> Kind {
    let k = key.to_ascii_lowercase();
    if k.contains("id_number") || k.contains("身份证") {
        Kind::IdNumber
    } else if k.contains("bank") || k.contains("card_no") || k.contains("账号") || k.contains("卡号") {
        Kind::BankAccount
    } else if k.contains("birth") || k.contains("出生") {
        Kind::BirthDate
    } else if k.contains("phone") || k.contains("mobile") || k.contains("电话") || k.contains("手机") {
        Kind::Phone
    } else if PERSON_LIST_KEYS.contains(&k.as_str()) {
        Kind::PersonList
    } else if PARTY_KEYS.contains(&k.as_str()) {
        Kind::PartyName
    } else if PERSON_KEYS.contains(&k.as_str()) || (k.ends_with("name") && !NOT_PERSON_NAMES.contains(&k.as_str())) || k.ends_with("姓名") {
        Kind::PersonName
    } else {
        Kind::Text
    }
}

/// A value masked as what `kind` says it is.
pub(crate) fn mask_as(kind: Kind, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    match kind {
        Kind::IdNumber => mask_id(value),
        Kind::PersonName => mask_name(value),
        Kind::PersonList => mask_person_list(value),
        Kind::PartyName if looks_like_person(value) => mask_name(value),
        Kind::BankAccount => mask_account(value),
        Kind::BirthDate => mask_birth_date(value),
        Kind::Phone => mask_phone(value),
        Kind::PartyName | Kind::Text => mask_text(value).into_owned(),
    }
}

/// A table cell: by its column, then by its shape; JSON cells as evidence.
pub(crate) fn cell(column: &str, value: &str) -> String {
    let trimmed = value.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(parsed) = serde_json::from_str::<Value>(value)
    {
        return json(Some(column), parsed).to_string();
    }
    mask_as(kind_of_key(column), value)
}

/// Evidence (or any JSON): every string by its key, then by its shape;
/// lists take their key's kind.
pub(crate) fn json(key: Option<&str>, value: Value) -> Value {
    let kind = key.map_or(Kind::Text, kind_of_key);
    match value {
        Value::String(s) => Value::String(mask_as(kind, &s)),
        Value::Number(n) if matches!(kind, Kind::IdNumber | Kind::BankAccount | Kind::Phone) => Value::String(mask_as(kind, &n.to_string())),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| json(key, v)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let masked = json(Some(&k), v);
                    (k, masked)
                })
                .collect(),
        ),
        other => other,
    }
}

/// What a table column holds, for masking by lineage: its kind when it
/// identifies someone (by [`kind_of_key`]), [`Kind::Text`] for free text
/// that may name people (evidence, a quarantined raw row, a case's
/// subject, an entity key), `None` for the rest.
fn identity_of(_table: &str, column: &str) -> Option<Kind> {
    match kind_of_key(column) {
        Kind::Text if matches!(column, "subject" | "entity_key" | "evidence" | "raw" | "detail" | "note" | "members" | "links") => Some(Kind::Text),
        Kind::Text => None,
        kind => Some(kind),
    }
}

/// How an output column of an analyst's query is masked, by its lineage.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Masking {
    /// Not from an identity: by its name and by shape, as any table.
    ByName,
    /// One identity column unchanged: masked as what it is.
    As(Kind),
    /// Computed from identities (split, joined, aggregated, converted):
    /// nothing of it is shown.
    Hidden,
}

fn masking(lineage: Option<&Lineage>) -> Masking {
    let Some(lineage) = lineage else { return Masking::ByName };
    let kinds: Vec<Kind> = lineage.sources.iter().filter_map(|(t, c)| identity_of(t, c)).collect();
    match (kinds.as_slice(), lineage.direct) {
        ([], _) => Masking::ByName,
        ([kind], true) => Masking::As(*kind),
        _ => Masking::Hidden,
    }
}

/// What a hidden value shows.
const HIDDEN: &str = "******";

/// A console result masked by lineage: a column that reads an identity
/// column, under any name, is masked as that identity (or hidden whole
/// when computed from one); the rest as [`batches`] does. `lineage` has one
/// entry per column (none: by name only).
pub(crate) fn by_lineage(schema: &SchemaRef, batches: &[RecordBatch], lineage: &[Lineage]) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let plain = |t: &DataType| t.is_numeric() || t.is_temporal() || matches!(t, DataType::Boolean | DataType::Null);
    let rules: Vec<Masking> = (0..schema.fields().len()).map(|i| masking(lineage.get(i).filter(|_| lineage.len() == schema.fields().len()))).collect();
    let keeps = |i: usize, t: &DataType| rules[i] == Masking::ByName && plain(t);
    let fields: Vec<Field> = schema.fields().iter().enumerate().map(|(i, f)| if keeps(i, f.data_type()) { f.as_ref().clone() } else { Field::new(f.name(), DataType::Utf8, true) }).collect();
    let masked_schema = Arc::new(Schema::new(fields));
    let options = FormatOptions::default();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (i, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
            if keeps(i, field.data_type()) {
                columns.push(column.clone());
                continue;
            }
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
            let shown = |text: String| match rules[i] {
                Masking::ByName => cell(field.name(), &text),
                Masking::As(Kind::Text) => cell("evidence", &text),
                Masking::As(kind) => mask_as(kind, &text),
                Masking::Hidden => HIDDEN.to_string(),
            };
            let values: StringArray = (0..column.len()).map(|r| column.is_valid(r).then(|| shown(formatter.value(r).to_string()))).collect();
            columns.push(Arc::new(values));
        }
        out.push(RecordBatch::try_new(masked_schema.clone(), columns)?);
    }
    Ok((masked_schema, out))
}

/// How many identities a result shows unmasked, for a bulk user's daily
/// cap: each value of a column read from an identity counts once per item
/// it lists (`string_agg` of 10,000 ID numbers counts 10,000), and any
/// other cell showing an ID number, mobile number or account counts once.
pub(crate) fn identities_shown(schema: &SchemaRef, batches: &[RecordBatch], lineage: &[Lineage]) -> Result<usize, ArrowError> {
    let rules: Vec<Masking> = (0..schema.fields().len()).map(|i| masking(lineage.get(i).filter(|_| lineage.len() == schema.fields().len()))).collect();
    let options = FormatOptions::default();
    let mut shown = 0;
    for batch in batches {
        let formatters = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            for (i, f) in formatters.iter().enumerate() {
                if batch.column(i).is_null(row) {
                    continue;
                }
                let text = f.value(row).to_string();
                shown += match rules[i] {
                    Masking::ByName if matches!(mask_text(&text), Cow::Owned(_)) => 1,
                    Masking::ByName => 0,
                    _ => text.split([',', ';', '、', '|', ' ', '\n', '\t', ',', ';']).filter(|t| !t.is_empty()).count().max(1),
                };
            }
        }
    }
    Ok(shown)
}

/// Each listed person's name masked: every `; `-separated item starts with
/// a name, and in a link the cadre's name follows ` 关联 `; the details
/// keep only what [`mask_text`] lets through.
fn mask_person_list(text: &str) -> String {
    let leading_name = |piece: &str| {
        let end = piece.find(['(', '(', ' ', ',', ',', '、']).unwrap_or(piece.len());
        format!("{}{}", mask_name(&piece[..end]), mask_text(&piece[end..]))
    };
    text.split("; ").map(|item| item.split(" 关联 ").map(leading_name).collect::<Vec<_>>().join(" 关联 ")).collect::<Vec<_>>().join("; ")
}

/// A counterparty that is a person (a short name, not a company).
fn looks_like_person(name: &str) -> bool {
    name.chars().count() <= 4 && !["公司", "合作社", "厂", "店", "部", "社", "中心", "局", "站", "所", "院", "委", "队"].iter().any(|w| name.contains(w))
}

/// Whether a value is a citizen ID number's shape (15 digits, or 17 and a
/// digit or X).
pub(crate) fn looks_like_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    (bytes.len() == 18 && bytes[..17].iter().all(u8::is_ascii_digit) && (bytes[17].is_ascii_digit() || bytes[17] == b'X' || bytes[17] == b'x'))
        || (bytes.len() == 15 && bytes.iter().all(u8::is_ascii_digit))
}

/// The first `head` and last `tail` characters with stars between (all
/// stars when the value is too short to keep anything).
fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() < head + tail + 2 {
        return "*".repeat(chars.len());
    }
    let (first, last): (String, String) = (chars[..head].iter().collect(), chars[chars.len() - tail..].iter().collect());
    format!("{first}{}{last}", "*".repeat(chars.len() - head - tail))
}

/// An account: the first and last four digits.
fn mask_account(value: &str) -> String {
    keep_ends(value, 4, 4)
}

/// A birth date: the year only.
fn mask_birth_date(value: &str) -> String {
    match value.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit())) {
        Some(year) => format!("{year}-**-**"),
        None => "*".repeat(value.chars().count()),
    }
}

/// A phone number: the first three and last four digits.
fn mask_phone(value: &str) -> String {
    keep_ends(value, 3, 4)
}

/// Free text with every ID number, mobile number and account inside it
/// masked (runs of digits, an ID's final X included).
pub(crate) fn mask_text(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && end < bytes.len() && (bytes[end] == b'X' || bytes[end] == b'x') {
            end += 1;
        }
        if end < bytes.len() && bytes[end].is_ascii_alphabetic() {
            i = end;
            continue; // part of a code such as a credit code
        }
        let decimal_point = |at: usize, digit_at: usize| bytes.get(at) == Some(&b'.') && bytes.get(digit_at).is_some_and(u8::is_ascii_digit);
        if (start >= 2 && decimal_point(start - 1, start - 2)) || decimal_point(end, end + 1) {
            i = end;
            continue; // a number with a fraction (a score, a ratio): not an identity
        }
        let run = &text[start..end];
        let masked = match run.len() {
            15 | 18 if looks_like_id(run) => Some(mask_id(run)),
            11 if run.starts_with('1') => Some(mask_phone(run)),
            n if n >= 16 => Some(mask_account(run)),
            _ => None,
        };
        if let Some(masked) = masked {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(&masked);
            copied = end;
        }
        i = end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_masked_by_what_they_are() {
        assert_eq!(cell("id_number", "43022319800101123X"), "430223********123X");
        assert_eq!(cell("anything", "430223198001011234"), "430223********1234");
        assert_eq!(cell("person_name", "欧阳明"), "欧阳*");
        assert_eq!(cell("姓名", "李四"), "李*");
        assert_eq!(cell("entity_key", "43022319800101123X|低保|2026-05"), "430223********123X|低保|2026-05");
        assert_eq!(cell("entity_key", "6217003810012345678"), "6217***********5678", "an account as an entity key");
        assert_eq!(cell("village_name", "长坪村"), "长坪村");
        assert_eq!(cell("村代码", "430223101201"), "430223101201", "division codes stay");
        assert_eq!(cell("bank_account", "6217003810012345678"), "6217***********5678");
        assert_eq!(cell("birth_date", "1962-03-04"), "1962-**-**");
        assert_eq!(cell("内容摘要", "联系电话13812345678,身份证430223198001011234"), "联系电话138****5678,身份证430223********1234");
        assert_eq!(cell("credit", "91430223MA4L12345X"), "91430223MA4L12345X", "a credit code is not an ID");
        assert_eq!(cell("amount", "300.00"), "300.00");
        assert_eq!(cell("account", "管理费用"), "管理费用", "a ledger account is not a bank account");
        assert_eq!(cell("人均收入比", "5.3475935828877005347701"), "5.3475935828877005347701", "a decimal is not an account");
        assert_eq!(cell("风险分", "4302231980010112345.5"), "4302231980010112345.5", "nor its whole part");
        assert_eq!(cell("备注", "比值 0.5,身份证430223198001011234。"), "比值 0.5,身份证430223********1234。", "a sentence's full stop is no decimal point");
    }

    #[test]
    fn evidence_is_masked_by_key_and_by_shape() {
        let evidence = json!({
            "payment_name": "张三", "population_name": "张三丰", "approver": "王五", "cadres": ["赵六", "孙七"],
            "members": "郑十一(配偶, 长坪村村主任, 2021-01-01 至 今); 冯十二(本人, 村会计, 2020-05-01 至 2023-01-01)",
            "detail": {"links": "陈十三 经 法定代表人@某建材公司 关联 褚十四(村支书); 卫十五 经 本人 关联 蒋十六(村主任)"},
            "links": [{"cadre_name": "周八", "relation": "配偶", "id_number": "43022319800101123X"}],
            "bank_account": "6217003810012345678", "birth_date": "1962-03-04", "counterparty_name": "吴九",
            "counterparty": "株洲市某建筑有限公司", "village_name": "长坪村", "amount": "300.00", "payments": [{"payment_id": "P1", "amount": 12.5}]
        });
        let masked = json(None, evidence).to_string();
        for full in ["张三", "张三丰", "王五", "赵六", "孙七", "周八", "吴九", "19800101", "6217003810012345678", "03-04", "郑十一", "冯十二", "陈十三", "褚十四", "卫十五", "蒋十六"]
        {
            assert!(!masked.contains(&format!("\"{full}\"")) && !masked.contains(full), "{full} in {masked}");
        }
        for kept in ["株洲市某建筑有限公司", "长坪村", "300.00", "配偶", "P1", "12.5", "1962", "郑*(配偶, 长坪村村主任, 2021-01-01 至 今); 冯*(本人", "陈* 经 法定代表人@某建材公司 关联 褚*(村支书)"]
        {
            assert!(masked.contains(kept), "{kept} lost from {masked}");
        }
    }
}
