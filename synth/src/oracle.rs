//! The answer key: CONTRACT §3's rules evaluated directly in Rust over the
//! generated rows, independently of the SQL rules, one village at a time.
//!
//! Every rule is village-local in the generated world (a payment, a job, a
//! voucher or a problem names one village, and people and households live in
//! one village), except that a counterparty business may be registered in
//! another village: those are looked up in the county-wide [`BusinessIndex`].
//! The key lists every entity that meets a condition, planted or not.

use super::model::*;
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeSet, HashMap, HashSet};
use xuncha_core::values::{Month, id_valid, normalize_name};

/// Thresholds of the rules, at their contract defaults.
pub(crate) const SPLIT_LIMIT_CENTS: i64 = 10_000_000;
pub(crate) const SPLIT_WINDOW_DAYS: i64 = 90;
pub(crate) const TRAVEL_MIN_CENTS: i64 = 200_000;
pub(crate) const TRAVEL_KEYWORDS: &[&str] = &["旅游", "景区", "门票", "度假", "参观学习", "考察学习"];
pub(crate) const REBOUND_DAYS: i64 = 180;
pub(crate) const SHARED_ACCOUNT_HOUSEHOLDS: usize = 3;

/// What a counterparty business is: its status and the people behind it.
#[derive(Debug, Default)]
pub(crate) struct BusinessIndex {
    entries: HashMap<String, (bool, Vec<String>)>,
}

impl BusinessIndex {
    /// Records a business and its legal representative and members.
    pub(crate) fn add(&mut self, business: &Business, people: &[BusinessPerson]) {
        let mut ids: Vec<String> = business.rep_id.iter().cloned().collect();
        ids.extend(people.iter().filter(|p| p.credit_code == business.credit_code).map(|p| p.id.clone()));
        self.entries.insert(business.credit_code.clone(), (business.status == "存续", ids));
    }

    /// The people behind `code` when it is a 存续 business.
    fn active_people(&self, code: &str) -> Option<&[String]> {
        self.entries.get(code).filter(|(active, _)| *active).map(|(_, ids)| ids.as_slice())
    }
}

/// One `(rule_id, entity_key)` of the answer key.
pub(crate) type Hit = (&'static str, String);

struct Lookups<'a> {
    person: HashMap<&'a str, &'a Person>,
    household: HashMap<&'a str, Vec<&'a str>>,
    death: HashMap<&'a str, NaiveDate>,
    cadres: HashMap<&'a str, Vec<&'a Cadre>>,
}

impl<'a> Lookups<'a> {
    fn new(v: &'a VillageData) -> Self {
        let person: HashMap<&str, &Person> = v.people.iter().map(|p| (p.id.as_str(), p)).collect();
        let mut household: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in &v.people {
            household.entry(p.household.as_str()).or_default().push(p.id.as_str());
        }
        let mut death: HashMap<&str, NaiveDate> = HashMap::new();
        let deaths = v.deaths.iter().map(|d| (d.id.as_str(), d.date));
        let statuses = v.people.iter().filter(|p| p.status == "死亡").filter_map(|p| Some((p.id.as_str(), p.status_date?)));
        for (id, date) in deaths.chain(statuses) {
            let slot = death.entry(id).or_insert(date);
            *slot = (*slot).min(date);
        }
        let mut cadres: HashMap<&str, Vec<&Cadre>> = HashMap::new();
        for c in &v.cadres {
            cadres.entry(c.id.as_str()).or_default().push(c);
        }
        Lookups { person, household, death, cadres }
    }

    /// The household of `id` (population rows sharing household_id), with
    /// `id` itself included even when it is not in population.
    fn members(&self, id: &'a str) -> Vec<&'a str> {
        let mut out = self.person.get(id).and_then(|p| self.household.get(p.household.as_str())).cloned().unwrap_or_default();
        if !out.contains(&id) {
            out.push(id);
        }
        out
    }

    fn cadre_rows(&self, id: &str) -> &[&'a Cadre] {
        self.cadres.get(id).map_or(&[], Vec::as_slice)
    }

    /// Members of households of 村干部 of `village` in office on `day`.
    fn cadre_household_members(&self, village: &str, day: NaiveDate) -> HashSet<&'a str> {
        let mut out = HashSet::new();
        for cadre_list in self.cadres.values() {
            for c in cadre_list {
                if c.cadre_type == "村干部" && c.org_code == village && c.in_office_on(day) {
                    out.extend(self.members(c.id.as_str()));
                }
            }
        }
        out
    }
}

/// Evaluates every rule over one village's rows.
pub(crate) fn evaluate(v: &VillageData, businesses: &BusinessIndex, as_of: NaiveDate) -> Vec<Hit> {
    let look = Lookups::new(v);
    let mut hits: BTreeSet<Hit> = BTreeSet::new();
    payments_rules(v, &look, as_of, &mut hits);
    welfare_job_rules(v, &look, as_of, &mut hits);
    finance_rules(v, &look, businesses, &mut hits);
    problem_rules(v, as_of, &mut hits);
    hits.into_iter().collect()
}

fn payments_rules<'a>(v: &'a VillageData, look: &Lookups<'a>, as_of: NaiveDate, hits: &mut BTreeSet<Hit>) {
    let mut by_person_program_period: HashMap<(&str, &str, Month), usize> = HashMap::new();
    let mut by_account_period: HashMap<(&str, Month), HashSet<&str>> = HashMap::new();
    for p in &v.payments {
        if let Some(death) = look.death.get(p.id.as_str())
            && p.period > Month::of(*death)
        {
            hits.insert(("deceased_paid", p.payment_id.clone()));
        }
        *by_person_program_period.entry((p.id.as_str(), p.program, p.period)).or_default() += 1;
        if let Some(account) = &p.bank_account {
            let household = look.person.get(p.id.as_str()).map_or(p.id.as_str(), |x| x.household.as_str());
            by_account_period.entry((account.as_str(), p.period)).or_default().insert(household);
        }
        let population_name = look.person.get(p.id.as_str()).map(|x| normalize_name(&x.name));
        if !id_valid(&p.id) || population_name.as_ref().is_none_or(|n| *n != normalize_name(&p.name)) {
            hits.insert(("identity_mismatch", p.payment_id.clone()));
        }
        if matches!(p.program, "低保" | "特困供养") {
            let cadre_in_household = look.members(p.id.as_str()).iter().any(|m| look.cadre_rows(m).iter().any(|c| matches!(c.cadre_type, "村干部" | "乡镇干部") && c.in_office_during(p.period)));
            if cadre_in_household {
                hits.insert(("cadre_family_dibao", p.id.clone()));
            }
            if look.cadre_rows(&p.id).iter().any(|c| c.cadre_type == "公职人员" && c.in_office_during(p.period)) {
                hits.insert(("public_servant_dibao", p.id.clone()));
            }
        }
        if p.program == "低保" {
            let last = p.period.last_day();
            let members: HashSet<&str> = look.members(p.id.as_str()).into_iter().collect();
            let vehicle = v.vehicles.iter().any(|c| members.contains(c.owner_id.as_str()) && c.status == "正常" && c.register <= last);
            let business = v.businesses.iter().any(|b| {
                b.status == "存续"
                    && b.established <= last
                    && (b.rep_id.as_deref().is_some_and(|r| members.contains(r)) || v.business_people.iter().any(|bp| bp.credit_code == b.credit_code && members.contains(bp.id.as_str())))
            });
            if vehicle || business {
                hits.insert(("dibao_with_assets", p.id.clone()));
            }
        }
    }
    for ((id, program, period), n) in by_person_program_period {
        if n >= 2 {
            hits.insert(("duplicate_payment", format!("{id}|{program}|{period}")));
        }
    }
    for ((account, period), households) in by_account_period {
        if households.len() >= SHARED_ACCOUNT_HOUSEHOLDS {
            hits.insert(("shared_bank_account", format!("{account}|{period}")));
        }
    }
    let as_of_month = Month::of(as_of);
    let window_first = as_of_month.plus(-2);
    let pension_paid: HashSet<&str> = v.payments.iter().filter(|p| p.program == "养老金" && p.period >= window_first && p.period <= as_of_month).map(|p| p.id.as_str()).collect();
    let employee_pension: HashSet<&str> = v.insurance.iter().filter(|i| i.kind == "职工养老").map(|i| i.id.as_str()).collect();
    for person in &v.people {
        let alive = look.death.get(person.id.as_str()).is_none_or(|d| *d > as_of) && person.status != "迁出";
        let sixty = person.birth.checked_add_months(chrono::Months::new(720)).is_some_and(|d| d <= window_first.first_day());
        if alive && sixty && !pension_paid.contains(person.id.as_str()) && !employee_pension.contains(person.id.as_str()) {
            hits.insert(("pension_missing", person.id.clone()));
        }
    }
}

fn welfare_job_rules<'a>(v: &'a VillageData, look: &Lookups<'a>, as_of: NaiveDate, hits: &mut BTreeSet<Hit>) {
    let attendance: HashMap<(&str, Month), &Attendance> = v.attendance.iter().map(|a| ((a.job_id.as_str(), a.month), a)).collect();
    let employed: HashSet<(&str, Month)> = v.insurance.iter().filter(|i| i.kind == "职工养老").map(|i| (i.id.as_str(), i.month)).collect();
    for job in &v.jobs {
        let span_end = job.end.unwrap_or(as_of);
        let related =
            look.members(job.id.as_str()).iter().any(|m| look.cadre_rows(m).iter().any(|c| c.cadre_type == "村干部" && c.org_code == job.village && c.in_office_between(job.start, span_end)));
        if related {
            hits.insert(("welfare_job_nepotism", job.job_id.clone()));
        }
    }
    for p in v.payments.iter().filter(|p| p.program == "公益岗工资") {
        for job in v.jobs.iter().filter(|j| j.id == p.id) {
            let span_end = job.end.unwrap_or(as_of);
            let in_span = job.start <= p.period.last_day() && span_end >= p.period.first_day();
            if in_span
                && let Some(a) = attendance.get(&(job.job_id.as_str(), p.period))
                && a.present * 2 < a.required
            {
                hits.insert(("welfare_job_absent", format!("{}|{}", job.job_id, p.period)));
            }
        }
        if employed.contains(&(p.id.as_str(), p.period)) {
            hits.insert(("welfare_job_employed_elsewhere", format!("{}|{}", p.id, p.period)));
        }
    }
}

fn finance_rules<'a>(v: &'a VillageData, look: &Lookups<'a>, businesses: &BusinessIndex, hits: &mut BTreeSet<Hit>) {
    let linked = |village: &str, code: &Option<String>, day: NaiveDate| -> bool {
        let Some(code) = code else { return false };
        let members = look.cadre_household_members(village, day);
        members.contains(code.as_str()) || businesses.active_people(code).is_some_and(|ids| ids.iter().any(|i| members.contains(i.as_str())))
    };
    for voucher in v.vouchers.iter().filter(|x| x.direction == "支出") {
        let pay = matches!(voucher.account, "干部报酬" | "津补贴");
        if !pay && linked(&voucher.village, &voucher.counterparty_code, voucher.date) {
            hits.insert(("cadre_linked_counterparty", voucher.voucher_id.clone()));
        }
        if pay
            && let Some(code) = &voucher.counterparty_code
            && !look.cadre_rows(code).iter().any(|c| c.org_code == voucher.village && c.in_office_on(voucher.date))
        {
            hits.insert(("allowance_to_non_cadre", voucher.voucher_id.clone()));
        }
        if matches!(voucher.account, "差旅费" | "招待费" | "会议费" | "其他") && voucher.cents >= TRAVEL_MIN_CENTS && TRAVEL_KEYWORDS.iter().any(|k| voucher.summary.contains(k)) {
            hits.insert(("public_funds_travel", voucher.voucher_id.clone()));
        }
    }
    for c in &v.contracts {
        if linked(&c.village, &c.counterparty_code, c.signed) {
            hits.insert(("cadre_linked_counterparty", c.contract_id.clone()));
        }
    }
    let small: Vec<&Contract> = v.contracts.iter().filter(|c| c.kind == "工程" && !matches!(c.procurement, "公开招标" | "邀请招标") && c.cents < SPLIT_LIMIT_CENTS).collect();
    for c in &small {
        let Some(code) = &c.counterparty_code else { continue };
        let window: Vec<&&Contract> =
            small.iter().filter(|o| o.village == c.village && o.counterparty_code.as_ref() == Some(code) && (o.signed - c.signed).num_days().abs() <= SPLIT_WINDOW_DAYS).collect();
        if window.len() >= 2 && window.iter().map(|o| o.cents).sum::<i64>() >= SPLIT_LIMIT_CENTS {
            hits.insert(("contract_splitting", c.contract_id.clone()));
        }
    }
}

/// Whether a target code is a village's: 12 digits, not a town's `…000`.
pub(crate) fn is_village_code(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()) && !code.ends_with("000")
}

/// The problem rules; also used for town and department problems.
pub(crate) fn problem_rules(v: &VillageData, as_of: NaiveDate, hits: &mut BTreeSet<Hit>) {
    for p in &v.problems {
        if matches!(p.status, "已整改" | "已销号")
            && let Some(d) = p.rectified
            && is_village_code(&p.target_code)
            && v.petitions.iter().any(|x| x.village == p.target_code && x.topic == p.topic && x.received > d && x.received <= d + Duration::days(REBOUND_DAYS))
        {
            hits.insert(("rectification_rebound", p.problem_id.clone()));
        }
        if let Some(deadline) = p.deadline {
            let open_late = deadline < as_of && matches!(p.status, "未整改" | "整改中");
            let fixed_late = p.rectified.is_some_and(|r| r > deadline);
            if open_late || fixed_late {
                hits.insert(("rectification_overdue", p.problem_id.clone()));
            }
        }
    }
}
