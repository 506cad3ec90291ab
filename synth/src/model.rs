//! The generated world as typed rows, one struct per source, each able to give
//! its cells in contract column order. The oracle reads these rows; the
//! renderer turns their cells into department spellings.

use chrono::NaiveDate;
use xuncha_core::values::Month;

/// One canonical cell value before a department spells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Str(String),
    Int(i64),
    Date(NaiveDate),
    Month(Month),
    /// Yuan in cents.
    Money(i64),
    /// A decimal written as text.
    Dec(String),
    Bool(bool),
    Id(String),
}

fn s(v: &str) -> Val {
    Val::Str(v.to_string())
}
fn opt_s(v: &Option<String>) -> Val {
    v.as_deref().map_or(Val::Null, s)
}
fn opt_d(v: Option<NaiveDate>) -> Val {
    v.map_or(Val::Null, Val::Date)
}
fn opt_id(v: &Option<String>) -> Val {
    v.as_ref().map_or(Val::Null, |i| Val::Id(i.clone()))
}

/// Rows of a source give their cells in contract order.
pub(crate) trait Row {
    fn cells(&self) -> Vec<Val>;
}

#[derive(Debug, Clone)]
pub(crate) struct Division {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent_code: Option<String>,
    pub population: i64,
    pub households: i64,
}
impl Row for Division {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.code), s(&self.name), s(self.level), opt_s(&self.parent_code), Val::Int(self.population), Val::Int(self.households)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub id: String,
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub household: String,
    pub relation: &'static str,
    pub village: String,
    pub status: &'static str,
    pub status_date: Option<NaiveDate>,
}
impl Row for Person {
    fn cells(&self) -> Vec<Val> {
        vec![
            Val::Id(self.id.clone()),
            s(&self.name),
            s(if self.male { "男" } else { "女" }),
            Val::Date(self.birth),
            s(&self.household),
            s(self.relation),
            s(&self.village),
            s(self.status),
            opt_d(self.status_date),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Death {
    pub id: String,
    pub name: String,
    pub date: NaiveDate,
    pub source: &'static str,
}
impl Row for Death {
    fn cells(&self) -> Vec<Val> {
        vec![Val::Id(self.id.clone()), s(&self.name), Val::Date(self.date), s(self.source)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Cadre {
    pub id: String,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
    pub position: &'static str,
    pub cadre_type: &'static str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}
impl Cadre {
    pub(crate) fn in_office_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }
    pub(crate) fn in_office_between(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.start <= last && self.end.is_none_or(|e| e >= first)
    }
    pub(crate) fn in_office_during(&self, month: Month) -> bool {
        self.in_office_between(month.first_day(), month.last_day())
    }
}
impl Row for Cadre {
    fn cells(&self) -> Vec<Val> {
        vec![Val::Id(self.id.clone()), s(&self.name), s(&self.org_code), s(&self.org_name), s(self.position), s(self.cadre_type), Val::Date(self.start), opt_d(self.end)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub payment_id: String,
    pub program: &'static str,
    pub id: String,
    pub name: String,
    pub village: String,
    pub period: Month,
    pub cents: i64,
    pub bank_account: Option<String>,
    pub paid_date: Option<NaiveDate>,
    pub department: String,
}
impl Row for Payment {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.payment_id),
            s(self.program),
            Val::Id(self.id.clone()),
            s(&self.name),
            s(&self.village),
            Val::Month(self.period),
            Val::Money(self.cents),
            opt_s(&self.bank_account),
            opt_d(self.paid_date),
            s(&self.department),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WelfareJob {
    pub job_id: String,
    pub id: String,
    pub name: String,
    pub village: String,
    pub post: &'static str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub wage_cents: i64,
}
impl Row for WelfareJob {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.job_id), Val::Id(self.id.clone()), s(&self.name), s(&self.village), s(self.post), Val::Date(self.start), opt_d(self.end), Val::Money(self.wage_cents)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Attendance {
    pub job_id: String,
    pub month: Month,
    pub required: i64,
    pub present: i64,
}
impl Row for Attendance {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.job_id), Val::Month(self.month), Val::Int(self.required), Val::Int(self.present)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Insurance {
    pub id: String,
    pub name: String,
    pub employer_code: String,
    pub employer_name: String,
    pub month: Month,
    pub kind: &'static str,
}
impl Row for Insurance {
    fn cells(&self) -> Vec<Val> {
        vec![Val::Id(self.id.clone()), s(&self.name), s(&self.employer_code), s(&self.employer_name), Val::Month(self.month), s(self.kind)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Vehicle {
    pub plate: String,
    pub owner_id: String,
    pub owner_name: String,
    pub vehicle_type: &'static str,
    pub register: NaiveDate,
    pub status: &'static str,
}
impl Row for Vehicle {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.plate), Val::Id(self.owner_id.clone()), s(&self.owner_name), s(self.vehicle_type), Val::Date(self.register), s(self.status)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Business {
    pub credit_code: String,
    pub name: String,
    pub rep_id: Option<String>,
    pub rep_name: Option<String>,
    /// 万元 in cents of 万元.
    pub capital: i64,
    pub established: NaiveDate,
    pub status: &'static str,
    pub village: Option<String>,
}
impl Row for Business {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.credit_code), s(&self.name), opt_id(&self.rep_id), opt_s(&self.rep_name), Val::Money(self.capital), Val::Date(self.established), s(self.status), opt_s(&self.village)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BusinessPerson {
    pub credit_code: String,
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub share: Option<String>,
}
impl Row for BusinessPerson {
    fn cells(&self) -> Vec<Val> {
        vec![s(&self.credit_code), Val::Id(self.id.clone()), s(&self.name), s(self.role), self.share.as_ref().map_or(Val::Null, |v| Val::Dec(v.clone()))]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Petition {
    pub petition_id: String,
    pub received: NaiveDate,
    pub channel: &'static str,
    pub village: String,
    pub topic: &'static str,
    pub summary: String,
    pub accused_name: Option<String>,
    pub accused_id: Option<String>,
    pub is_repeat: bool,
    pub status: &'static str,
    pub closed: Option<NaiveDate>,
    pub satisfaction: Option<&'static str>,
}
impl Row for Petition {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.petition_id),
            Val::Date(self.received),
            s(self.channel),
            s(&self.village),
            s(self.topic),
            s(&self.summary),
            opt_s(&self.accused_name),
            opt_id(&self.accused_id),
            Val::Bool(self.is_repeat),
            s(self.status),
            opt_d(self.closed),
            self.satisfaction.map_or(Val::Null, s),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Voucher {
    pub voucher_id: String,
    pub village: String,
    pub date: NaiveDate,
    pub direction: &'static str,
    pub account: &'static str,
    pub cents: i64,
    pub counterparty_name: Option<String>,
    pub counterparty_code: Option<String>,
    pub approver: String,
    pub summary: String,
}
impl Row for Voucher {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.voucher_id),
            s(&self.village),
            Val::Date(self.date),
            s(self.direction),
            s(self.account),
            Val::Money(self.cents),
            opt_s(&self.counterparty_name),
            opt_s(&self.counterparty_code),
            s(&self.approver),
            s(&self.summary),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Contract {
    pub contract_id: String,
    pub village: String,
    pub kind: &'static str,
    pub title: String,
    pub counterparty_name: String,
    pub counterparty_code: Option<String>,
    pub cents: i64,
    pub signed: NaiveDate,
    pub procurement: &'static str,
}
impl Row for Contract {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.contract_id),
            s(&self.village),
            s(self.kind),
            s(&self.title),
            s(&self.counterparty_name),
            opt_s(&self.counterparty_code),
            Val::Money(self.cents),
            Val::Date(self.signed),
            s(self.procurement),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Inspection {
    pub round_id: String,
    pub term: String,
    pub round_no: i64,
    pub group_name: String,
    pub target_code: String,
    pub target_name: String,
    pub target_type: &'static str,
    pub mode: &'static str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}
impl Row for Inspection {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.round_id),
            s(&self.term),
            Val::Int(self.round_no),
            s(&self.group_name),
            s(&self.target_code),
            s(&self.target_name),
            s(self.target_type),
            s(self.mode),
            Val::Date(self.start),
            opt_d(self.end),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub problem_id: String,
    pub round_id: String,
    pub target_code: String,
    pub sector: &'static str,
    pub topic: &'static str,
    pub description: String,
    pub severity: &'static str,
    pub found: NaiveDate,
    pub immediate: bool,
    pub clue_transferred: bool,
    pub deadline: Option<NaiveDate>,
    pub status: &'static str,
    pub rectified: Option<NaiveDate>,
    pub funds_involved: i64,
    pub funds_recovered: i64,
    pub systems: i64,
}
impl Row for Problem {
    fn cells(&self) -> Vec<Val> {
        vec![
            s(&self.problem_id),
            s(&self.round_id),
            s(&self.target_code),
            s(self.sector),
            s(self.topic),
            s(&self.description),
            s(self.severity),
            Val::Date(self.found),
            Val::Bool(self.immediate),
            Val::Bool(self.clue_transferred),
            opt_d(self.deadline),
            s(self.status),
            opt_d(self.rectified),
            Val::Money(self.funds_involved),
            Val::Money(self.funds_recovered),
            Val::Int(self.systems),
        ]
    }
}

/// Everything generated for one village (its residents' rows included, even
/// when they hold a town or department post).
#[derive(Debug, Default)]
pub(crate) struct VillageData {
    pub people: Vec<Person>,
    pub deaths: Vec<Death>,
    pub cadres: Vec<Cadre>,
    pub payments: Vec<Payment>,
    pub jobs: Vec<WelfareJob>,
    pub attendance: Vec<Attendance>,
    pub insurance: Vec<Insurance>,
    pub vehicles: Vec<Vehicle>,
    pub businesses: Vec<Business>,
    pub business_people: Vec<BusinessPerson>,
    pub petitions: Vec<Petition>,
    pub vouchers: Vec<Voucher>,
    pub contracts: Vec<Contract>,
    pub problems: Vec<Problem>,
}
