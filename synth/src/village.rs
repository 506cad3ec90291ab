//! One village of the synthetic world: its households, cadres, livelihood
//! payments, welfare jobs, assets, collective finance, petitions and
//! inspection problems, generated on a baseline that meets no rule, and then
//! the anomalies planted for the rules chosen for this village.
//!
//! See the module doc of [`super`] for the distributions and the plants.

use super::codes::IdAllocator;
use super::model::*;
use super::names;
use super::oracle::{SPLIT_LIMIT_CENTS, SPLIT_WINDOW_DAYS, TRAVEL_KEYWORDS};
use chrono::{Datelike, Duration, Months, NaiveDate};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use xuncha_core::values::Month;

/// A firm of the county that villages deal with.
#[derive(Debug, Clone)]
pub(crate) struct Firm {
    pub code: String,
    pub name: String,
    pub kind: FirmKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirmKind {
    Builder,
    Supplier,
    Restaurant,
    Travel,
}

/// A county body that employs public servants and can be inspected.
#[derive(Debug, Clone)]
pub(crate) struct Agency {
    pub code: String,
    pub name: String,
}

/// What the county knows when it generates one of its villages.
pub(crate) struct VillageContext<'a> {
    pub county_code: &'a str,
    pub county_name: &'a str,
    pub town_code: &'a str,
    pub town_name: &'a str,
    pub village_code: &'a str,
    pub village_name: &'a str,
    pub people: usize,
    pub months: &'a [Month],
    pub as_of: NaiveDate,
    pub firms: &'a [Firm],
    pub agencies: &'a [Agency],
    /// Inspections of this village: (round_id, entry date, end date).
    pub inspections: &'a [(String, NaiveDate, NaiveDate)],
    /// Rule ids to plant here.
    pub plants: &'a [&'static str],
}

/// Regions people's ID numbers come from besides the county itself.
const OTHER_REGIONS: &[&str] = &["430224", "430281", "430521", "430626", "360321", "450303"];

#[derive(Debug, Clone)]
struct Resident {
    person: Person,
    death: Option<NaiveDate>,
    moved: Option<NaiveDate>,
    /// Months paid after death (planted).
    paid_after_death: i32,
    employer: Option<(String, String)>,
}

impl Resident {
    fn age_on(&self, day: NaiveDate) -> i32 {
        let b = self.person.birth;
        let mut age = day.year() - b.year();
        if (day.month(), day.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age
    }

    /// The last month payments reach this person.
    fn paid_through(&self, last: Month) -> Month {
        let mut through = last;
        if let Some(d) = self.death {
            through = through.min(Month::of(d).plus(self.paid_after_death));
        }
        if let Some(m) = self.moved {
            through = through.min(Month::of(m));
        }
        through
    }

    /// The first month in which the person is `years` old.
    fn month_turning(&self, years: u32) -> Month {
        Month::of(self.person.birth.checked_add_months(Months::new(years * 12)).expect("date"))
    }
}

#[derive(Debug, Clone)]
struct Enrollment {
    person: usize,
    program: &'static str,
    first: Month,
    last: Month,
    cents: i64,
}

/// Builds one village.
pub(crate) struct VillageBuilder<'a, 'c> {
    ctx: &'c VillageContext<'a>,
    rng: ChaCha8Rng,
    ids: &'c mut IdAllocator,
    residents: Vec<Resident>,
    households: Vec<Vec<usize>>,
    /// Each resident's household.
    home: Vec<usize>,
    accounts: Vec<String>,
    enrollments: Vec<Enrollment>,
    data: VillageData,
    dibao_households: BTreeSet<usize>,
    cadre_households: BTreeSet<usize>,
    blocked_people: BTreeSet<usize>,
}

fn day_in(rng: &mut ChaCha8Rng, m: Month) -> NaiveDate {
    let last = m.last_day().day();
    NaiveDate::from_ymd_opt(m.year, m.month, rng.random_range(1..=last)).expect("day in month")
}

fn between(rng: &mut ChaCha8Rng, first: NaiveDate, last: NaiveDate) -> NaiveDate {
    let span = (last - first).num_days().max(0);
    first + Duration::days(rng.random_range(0..=span))
}

impl<'a, 'c> VillageBuilder<'a, 'c> {
    pub(crate) fn new(ctx: &'c VillageContext<'a>, rng: ChaCha8Rng, ids: &'c mut IdAllocator) -> Self {
        VillageBuilder {
            ctx,
            rng,
            ids,
            residents: Vec::new(),
            households: Vec::new(),
            home: Vec::new(),
            accounts: Vec::new(),
            enrollments: Vec::new(),
            data: VillageData::default(),
            dibao_households: BTreeSet::new(),
            cadre_households: BTreeSet::new(),
            blocked_people: BTreeSet::new(),
        }
    }

    fn first_month(&self) -> Month {
        self.ctx.months[0]
    }
    fn last_month(&self) -> Month {
        *self.ctx.months.last().expect("months")
    }
    fn start(&self) -> NaiveDate {
        self.first_month().first_day()
    }
    fn plants(&self, rule: &str) -> bool {
        self.ctx.plants.contains(&rule)
    }

    /// Generates the village.
    pub(crate) fn build(mut self) -> VillageData {
        self.people();
        self.mortality();
        self.cadres();
        self.employment();
        self.programs();
        self.assets();
        self.welfare_jobs();
        self.plant_person_level();
        self.payments();
        self.plant_payment_level();
        self.insurance();
        self.finance();
        self.inspection_problems();
        self.petitions();
        self.data.people = self.residents.iter().map(|r| r.person.clone()).collect();
        self.data
    }

    fn add_person(&mut self, household: usize, surname: &str, male: bool, age: i32, relation: &'static str) -> usize {
        let as_of = self.ctx.as_of;
        let birth_year = as_of.year() - age - 1;
        let birth = NaiveDate::from_ymd_opt(birth_year, 1, 1).expect("date") + Duration::days(self.rng.random_range(0..365));
        let region = if self.rng.random_bool(0.88) { self.ctx.county_code } else { OTHER_REGIONS.choose(&mut self.rng).copied().unwrap_or("430224") };
        let id = self.ids.person_id(&mut self.rng, region, birth, male);
        let name = names::full_name(&mut self.rng, surname, male, birth_year);
        let index = self.residents.len();
        self.residents.push(Resident {
            person: Person {
                id,
                name,
                male,
                birth,
                household: format!("{}{:04}", self.ctx.village_code, household + 1),
                relation,
                village: self.ctx.village_code.to_string(),
                status: "正常",
                status_date: None,
            },
            death: None,
            moved: None,
            paid_after_death: 0,
            employer: None,
        });
        self.households[household].push(index);
        self.home.push(household);
        let account = self.ids.bank_account();
        self.accounts.push(account);
        index
    }

    /// Households by type: elderly couples, elderly living alone, couples
    /// with children, three generations, single adults.
    fn people(&mut self) {
        let target = (self.ctx.people as f64 * self.rng.random_range(0.7..1.3)) as usize;
        while self.residents.len() < target {
            let h = self.households.len();
            self.households.push(Vec::new());
            let surname = names::surname(&mut self.rng);
            let kind = self.rng.random_range(0..100);
            let spouse_surname = names::surname(&mut self.rng);
            match kind {
                0..22 => {
                    let age = self.rng.random_range(60..89);
                    self.add_person(h, surname, true, age, "户主");
                    let spouse_age = (age + self.rng.random_range(-5..3)).max(55);
                    self.add_person(h, spouse_surname, false, spouse_age, "配偶");
                }
                22..32 => {
                    let age = self.rng.random_range(65..97);
                    let male = self.rng.random_bool(0.35);
                    self.add_person(h, surname, male, age, "户主");
                }
                32..93 => {
                    let age = self.rng.random_range(if kind < 65 { 26..58 } else { 32..62 });
                    self.add_person(h, surname, true, age, "户主");
                    let spouse_age = age + self.rng.random_range(-4..3);
                    self.add_person(h, spouse_surname, false, spouse_age, "配偶");
                    let children = self.rng.random_range(1..=3);
                    for _ in 0..children {
                        let child_age = self.rng.random_range(0..(age - 20).clamp(1, 35));
                        let male = self.rng.random_bool(0.52);
                        self.add_person(h, surname, male, child_age, if male { "子" } else { "女" });
                    }
                    if kind >= 65 {
                        let parent_age = (age + self.rng.random_range(22..34)).min(101);
                        if self.rng.random_bool(0.6) {
                            self.add_person(h, surname, true, parent_age, "父亲");
                        }
                        let mother_surname = names::surname(&mut self.rng);
                        let mother_age = parent_age - self.rng.random_range(0..4);
                        self.add_person(h, mother_surname, false, mother_age, "母亲");
                    }
                }
                _ => {
                    let age = self.rng.random_range(20..60);
                    let male = self.rng.random_bool(0.7);
                    self.add_person(h, surname, male, age, "户主");
                }
            }
        }
    }

    /// Deaths (annual risk 0.03% × e^(0.09·(age−20)), capped at 35%) over the
    /// window and the three years before it, and moves out (0.5% a year).
    fn mortality(&mut self) {
        let history = self.first_month().plus(-36);
        let months: Vec<Month> = (0..=history.months_until(self.last_month())).map(|i| history.plus(i)).collect();
        for i in 0..self.residents.len() {
            for &m in &months {
                let age = self.residents[i].age_on(m.first_day());
                if age < 0 {
                    continue;
                }
                let annual = (0.0003 * (0.09 * f64::from(age - 20)).exp()).min(0.35);
                if self.rng.random_bool(annual / 12.0) {
                    let date = day_in(&mut self.rng, m);
                    let updated = m < self.first_month() || self.rng.random_bool(0.85);
                    self.kill(i, date, updated);
                    break;
                }
                if m >= self.first_month() && age >= 18 && self.rng.random_bool(0.005 / 12.0) {
                    let date = day_in(&mut self.rng, m);
                    let r = &mut self.residents[i];
                    r.moved = Some(date);
                    r.person.status = "迁出";
                    r.person.status_date = Some(date);
                    break;
                }
            }
        }
    }

    /// Records a death: the population status (unless the police record lags)
    /// and one to three registry rows, all with the same date.
    fn kill(&mut self, i: usize, date: NaiveDate, population_updated: bool) {
        let r = &mut self.residents[i];
        r.death = Some(date);
        if population_updated {
            r.person.status = "死亡";
            r.person.status_date = Some(date);
        }
        let mut sources = vec!["公安", "民政", "卫健", "殡葬"];
        sources.shuffle(&mut self.rng);
        let n = if population_updated { self.rng.random_range(1..=3) } else { self.rng.random_range(1..=2) };
        let sources: Vec<&'static str> = sources.into_iter().filter(|s| population_updated || *s != "公安").take(n).collect();
        for source in sources {
            self.data.deaths.push(Death { id: r.person.id.clone(), name: r.person.name.clone(), date, source });
        }
    }

    fn alive_through_window(&self, i: usize) -> bool {
        let r = &self.residents[i];
        r.death.is_none() && r.moved.is_none()
    }

    fn adults(&self, min_age: i32, max_age: i32) -> Vec<usize> {
        let start = self.start();
        (0..self.residents.len()).filter(|&i| self.alive_through_window(i) && (min_age..=max_age).contains(&self.residents[i].age_on(start))).collect()
    }

    fn household_of(&self, person: usize) -> usize {
        self.home[person]
    }

    /// Village 两委 (secretary often also director, 一肩挑), accountant,
    /// supervisory chair and members, elected in early 2021 with some
    /// turnover in the window; a few residents are town cadres and about 1%
    /// of working-age adults public servants of county agencies.
    fn cadres(&mut self) {
        let mut candidates = self.adults(30, 57);
        candidates.shuffle(&mut self.rng);
        let mut used_households = BTreeSet::new();
        let mut chosen = Vec::new();
        for c in candidates {
            let h = self.household_of(c);
            if used_households.insert(h) {
                chosen.push(c);
            }
            if chosen.len() == 11 {
                break;
            }
        }
        let org = self.ctx.village_code.to_string();
        let org_name = format!("{}{}村民委员会", self.ctx.town_name, self.ctx.village_name);
        let election = NaiveDate::from_ymd_opt(2021, 1, 10).expect("date") + Duration::days(self.rng.random_range(0..70));
        let one_shoulder = self.rng.random_bool(0.75);
        let mut positions: Vec<&'static str> = vec!["村党组织书记", "村会计", "村监委会主任", "村委委员"];
        if !one_shoulder {
            positions.insert(1, "村委会主任");
        }
        let window = (self.start(), self.ctx.as_of);
        for (slot, position) in positions.iter().enumerate() {
            let Some(&person) = chosen.get(slot) else { break };
            let turnover = self.rng.random_bool(0.2);
            let end = turnover.then(|| between(&mut self.rng, window.0 + Duration::days(60), window.1 - Duration::days(60)));
            self.push_cadre(person, &org, &org_name, position, "村干部", election, end);
            if *position == "村党组织书记" && one_shoulder {
                self.push_cadre(person, &org, &org_name, "村委会主任", "村干部", election, end);
            }
            if let Some(end) = end
                && let Some(&successor) = chosen.get(positions.len() + slot % 3)
            {
                let start = end + Duration::days(self.rng.random_range(1..30));
                self.push_cadre(successor, &org, &org_name, position, "村干部", start, None);
            }
        }
        // Town cadres living here.
        let town_cadres = self.rng.random_range(0..=2);
        for &person in chosen.iter().skip(positions.len() + 3).take(town_cadres) {
            let position = *["副镇长", "镇纪委委员", "驻村工作队员", "镇财政所所长", "镇民政办主任"].choose(&mut self.rng).expect("position");
            let start = NaiveDate::from_ymd_opt(self.rng.random_range(2012..2023), self.rng.random_range(1..=12), 1).expect("date");
            let town_org = format!("{}人民政府", self.ctx.town_name);
            self.push_cadre(person, self.ctx.town_code, &town_org, position, "乡镇干部", start, None);
        }
        for h in self.cadre_person_households() {
            self.cadre_households.insert(h);
        }
        // Public servants: teachers, doctors, agency staff.
        let working = self.adults(23, 58);
        for person in working {
            if self.cadre_households.contains(&self.household_of(person)) || !self.rng.random_bool(0.012) {
                continue;
            }
            let agency = self.ctx.agencies.choose(&mut self.rng).expect("agencies").clone();
            let position = *["教师", "医生", "护士", "科员", "技术员"].choose(&mut self.rng).expect("position");
            let start = NaiveDate::from_ymd_opt(self.rng.random_range(2000..2022), 9, 1).expect("date");
            self.push_cadre(person, &agency.code, &agency.name, position, "公职人员", start, None);
            self.residents[person].employer = Some((agency.code, agency.name));
            self.blocked_people.insert(person);
        }
    }

    fn cadre_person_households(&self) -> Vec<usize> {
        let ids: BTreeSet<&str> = self.data.cadres.iter().filter(|c| c.cadre_type != "公职人员").map(|c| c.id.as_str()).collect();
        (0..self.households.len()).filter(|&h| self.households[h].iter().any(|&p| ids.contains(self.residents[p].person.id.as_str()))).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn push_cadre(&mut self, person: usize, org: &str, org_name: &str, position: &'static str, cadre_type: &'static str, start: NaiveDate, end: Option<NaiveDate>) {
        let p = &self.residents[person].person;
        self.data.cadres.push(Cadre { id: p.id.clone(), name: p.name.clone(), org_code: org.to_string(), org_name: org_name.to_string(), position, cadre_type, start, end });
    }

    fn cadre_ids(&self) -> BTreeSet<String> {
        self.data.cadres.iter().map(|c| c.id.clone()).collect()
    }

    /// About 7% of adults 20–55 are employees of county firms, insured from
    /// their hiring (or the window's start) to the end.
    fn employment(&mut self) {
        let cadres = self.cadre_ids();
        for person in self.adults(20, 55) {
            if cadres.contains(&self.residents[person].person.id) || !self.rng.random_bool(0.07) {
                continue;
            }
            let firm = self.ctx.firms.choose(&mut self.rng).expect("firms");
            self.residents[person].employer = Some((firm.code.clone(), firm.name.clone()));
            self.blocked_people.insert(person);
        }
        let town_cadres: Vec<usize> = (0..self.residents.len()).filter(|&i| self.data.cadres.iter().any(|c| c.cadre_type == "乡镇干部" && c.id == self.residents[i].person.id)).collect();
        for person in town_cadres {
            self.residents[person].employer = Some((self.ctx.town_code.to_string(), format!("{}人民政府", self.ctx.town_name)));
        }
    }

    fn household_blocked(&self, h: usize) -> bool {
        self.cadre_households.contains(&h) || self.households[h].iter().any(|p| self.blocked_people.contains(p))
    }

    /// Enrolment: 低保 ≈ 4% of households (head, and the spouse half the
    /// time), 特困 ≈ 35% of elderly living alone, 养老金 for everyone from
    /// the month they turn 60, 高龄津贴 from 80, 残疾人补贴 ≈ 2.2%.
    fn programs(&mut self) {
        let (first, last) = (self.first_month(), self.last_month());
        for h in 0..self.households.len() {
            if self.household_blocked(h) {
                continue;
            }
            let members = self.households[h].clone();
            let living: Vec<usize> = members.iter().copied().filter(|&p| self.residents[p].death.is_none_or(|d| d >= self.start())).collect();
            if living.is_empty() {
                continue;
            }
            let elderly_alone = living.len() == 1 && self.residents[living[0]].age_on(self.start()) >= 65;
            if elderly_alone && self.rng.random_bool(0.35) {
                let cents = self.rng.random_range(650..900) * 100;
                self.enroll(living[0], "特困供养", first, last, cents);
            } else if self.rng.random_bool(0.04) {
                self.dibao_households.insert(h);
                let (a, b) = self.span(first, last);
                let cents = (380 + self.rng.random_range(0..150)) * 100;
                self.enroll(living[0], "低保", a, b, cents);
                if living.len() > 1 && self.rng.random_bool(0.5) {
                    self.enroll(living[1], "低保", a, b, cents - 5000);
                }
            }
        }
        for p in 0..self.residents.len() {
            let r = &self.residents[p];
            if r.employer.is_none() {
                let from = r.month_turning(60).max(first);
                let personal = self.rng.random_range(5..120) * 100 + self.rng.random_range(0..100);
                if from <= last {
                    self.enroll(p, "养老金", from, last, 14_300 + personal);
                }
            }
            let r = &self.residents[p];
            let eighty = r.month_turning(80);
            if eighty <= last {
                let age = r.age_on(self.ctx.as_of);
                let cents = if age >= 100 {
                    50_000
                } else if age >= 90 {
                    15_000
                } else {
                    5_000
                };
                self.enroll(p, "高龄津贴", eighty.max(first), last, cents);
            }
            if self.rng.random_bool(0.022) {
                let cents = if self.rng.random_bool(0.4) { 16_000 } else { 8_000 };
                self.enroll(p, "残疾人补贴", first, last, cents);
            }
        }
    }

    /// A random enrolment span: most cover the window, some start or stop in it.
    fn span(&mut self, first: Month, last: Month) -> (Month, Month) {
        let n = first.months_until(last);
        let a = if self.rng.random_bool(0.2) { first.plus(self.rng.random_range(0..=n)) } else { first };
        let b = if self.rng.random_bool(0.1) { a.plus(self.rng.random_range(0..=a.months_until(last))) } else { last };
        (a, b)
    }

    fn enroll(&mut self, person: usize, program: &'static str, first: Month, last: Month, cents: i64) {
        self.enrollments.push(Enrollment { person, program, first, last, cents });
    }

    /// Vehicles (about a quarter of households not on 低保; 低保 households
    /// only scrapped or deregistered ones) and businesses (one per ~45
    /// people: sole traders and small companies with their people).
    fn assets(&mut self) {
        for h in 0..self.households.len() {
            let adults: Vec<usize> = self.households[h].iter().copied().filter(|&p| self.alive_through_window(p) && self.residents[p].age_on(self.start()) >= 20).collect();
            let Some(&owner) = adults.first() else { continue };
            if self.dibao_households.contains(&h) {
                if self.rng.random_bool(0.15) {
                    let status = *["报废", "注销"].choose(&mut self.rng).expect("status");
                    self.add_vehicle(owner, status, NaiveDate::from_ymd_opt(2010, 5, 1).expect("date"));
                }
                continue;
            }
            if self.rng.random_bool(0.25) {
                let status = if self.rng.random_bool(0.9) { "正常" } else { "报废" };
                let registered = NaiveDate::from_ymd_opt(self.rng.random_range(2008..2026), 1, 1).expect("date") + Duration::days(self.rng.random_range(0..365));
                self.add_vehicle(owner, status, registered.min(self.ctx.as_of));
            }
            if self.rng.random_bool(adults.len() as f64 / 45.0 * 1.6) {
                let established = NaiveDate::from_ymd_opt(self.rng.random_range(2005..2026), 1, 1).expect("date") + Duration::days(self.rng.random_range(0..300));
                let status = match self.rng.random_range(0..100) {
                    0..85 => "存续",
                    85..95 => "注销",
                    _ => "吊销",
                };
                let partner = adults.get(1).copied();
                self.add_business(owner, partner, established.min(self.ctx.as_of), status);
            }
        }
    }

    fn add_vehicle(&mut self, owner: usize, status: &'static str, register: NaiveDate) -> String {
        let plate = self.ids.plate();
        let p = &self.residents[owner].person;
        let vehicle_type = *["小型普通客车", "小型轿车", "轻型货车", "普通二轮摩托车", "三轮汽车"].choose(&mut self.rng).expect("type");
        self.data.vehicles.push(Vehicle { plate: plate.clone(), owner_id: p.id.clone(), owner_name: p.name.clone(), vehicle_type, register, status });
        plate
    }

    fn add_business(&mut self, rep: usize, partner: Option<usize>, established: NaiveDate, status: &'static str) -> String {
        let company = partner.is_some() && self.rng.random_bool(0.5);
        let code = self.ids.credit_code(if company { "91" } else { "92" }, self.ctx.county_code);
        let trade = *["种养专业合作社", "建材经营部", "农资店", "土石方工程有限公司", "农机服务部", "超市", "养殖场", "建筑劳务有限公司"].choose(&mut self.rng).expect("trade");
        let rep_person = self.residents[rep].person.clone();
        let name = format!("{}{}{}{}", self.ctx.county_name, self.ctx.village_name, rep_person.name.chars().next().unwrap_or('新'), trade);
        self.data.businesses.push(Business {
            credit_code: code.clone(),
            name,
            rep_id: Some(rep_person.id.clone()),
            rep_name: Some(rep_person.name.clone()),
            capital: self.rng.random_range(1..500) * 100,
            established,
            status,
            village: Some(self.ctx.village_code.to_string()),
        });
        let share = if company { "60" } else { "100" };
        self.data.business_people.push(BusinessPerson { credit_code: code.clone(), id: rep_person.id.clone(), name: rep_person.name, role: "股东", share: Some(share.into()) });
        if company && let Some(partner) = partner {
            let p = self.residents[partner].person.clone();
            self.data.business_people.push(BusinessPerson { credit_code: code.clone(), id: p.id.clone(), name: p.name.clone(), role: "股东", share: Some("40".into()) });
            self.data.business_people.push(BusinessPerson { credit_code: code.clone(), id: p.id, name: p.name, role: "监事", share: None });
        }
        code
    }

    /// Welfare jobs for about 0.7% of people aged 35–62 outside cadre,
    /// employee and public-servant households.
    fn welfare_jobs(&mut self) {
        let candidates: Vec<usize> = self.adults(35, 62).into_iter().filter(|&p| !self.household_blocked(self.household_of(p))).collect();
        let wanted = ((self.residents.len() as f64) * 0.007).round() as usize;
        let picks: Vec<usize> = candidates.choose_multiple(&mut self.rng, wanted).copied().collect();
        for holder in picks {
            let (from, to) = (self.start() - Duration::days(365), self.ctx.as_of - Duration::days(60));
            let start = between(&mut self.rng, from, to);
            let end = self.rng.random_bool(0.2).then(|| between(&mut self.rng, start + Duration::days(60), self.ctx.as_of));
            self.add_job(holder, start, end);
        }
    }

    fn add_job(&mut self, holder: usize, start: NaiveDate, end: Option<NaiveDate>) -> usize {
        let p = self.residents[holder].person.clone();
        let post = *["保洁员", "护林员", "护路员", "水管员", "治安巡逻员", "乡村公益性岗位管理员"].choose(&mut self.rng).expect("post");
        let wage = self.rng.random_range(6..16) * 10_000;
        let job_id = format!("GYG{}{:03}", self.ctx.village_code, self.data.jobs.len() + 1);
        self.data.jobs.push(WelfareJob { job_id, id: p.id, name: p.name, village: self.ctx.village_code.to_string(), post, start, end, wage_cents: wage });
        self.data.jobs.len() - 1
    }

    fn person_index(&self, id: &str) -> usize {
        self.residents.iter().position(|r| r.person.id == id).expect("resident")
    }

    /// Plants that change who is enrolled or employed, before payments.
    fn plant_person_level(&mut self) {
        let (first, last) = (self.first_month(), self.last_month());
        if self.plants("deceased_paid") {
            let pensioners: Vec<usize> = self
                .enrollments
                .iter()
                .filter(|e| matches!(e.program, "养老金" | "低保" | "残疾人补贴") && e.first <= last.plus(-8) && e.last == last)
                .map(|e| e.person)
                .filter(|&p| self.alive_through_window(p))
                .collect();
            let picks: Vec<usize> = pensioners.choose_multiple(&mut self.rng, 2).copied().collect();
            for p in picks {
                let death_month = last.plus(-self.rng.random_range(3..8));
                let date = day_in(&mut self.rng, death_month);
                let updated = self.rng.random_bool(0.4);
                self.kill(p, date, updated);
                self.residents[p].paid_after_death = self.rng.random_range(1..=4);
            }
        }
        if self.plants("pension_missing") {
            let w_first = self.last_month().plus(-2);
            let candidates: Vec<usize> = self.enrollments.iter().filter(|e| e.program == "养老金" && e.first < w_first && self.alive_through_window(e.person)).map(|e| e.person).collect();
            let picks: Vec<usize> = candidates.choose_multiple(&mut self.rng, 2).copied().collect();
            for p in picks {
                let stop = w_first.plus(-self.rng.random_range(1..6));
                for e in self.enrollments.iter_mut().filter(|e| e.person == p && e.program == "养老金") {
                    e.last = stop.max(e.first.plus(-1));
                }
            }
            // Near miss: turning 60 inside the window, not yet paid.
            let w_second = w_first.next();
            let near: Vec<usize> = self.enrollments.iter().filter(|e| e.program == "养老金" && e.first >= w_second && self.residents[e.person].person.birth.day() > 1).map(|e| e.person).collect();
            if let Some(&p) = near.first() {
                self.enrollments.retain(|e| !(e.person == p && e.program == "养老金"));
            }
        }
        if self.plants("cadre_family_dibao") {
            let cadres: Vec<Cadre> = self.data.cadres.iter().filter(|c| c.cadre_type == "村干部").cloned().collect();
            for cadre in distinct_people(cadres.iter().filter(|c| c.end.is_none())).into_iter().take(2) {
                let me = self.person_index(&cadre.id);
                let h = self.household_of(me);
                let relative = self.households[h].iter().copied().find(|&p| p != me && self.alive_through_window(p)).unwrap_or(me);
                let from = Month::of(cadre.start.max(self.start())).plus(self.rng.random_range(0..3)).min(last);
                let cents = (380 + self.rng.random_range(0..150)) * 100;
                let program = if self.rng.random_bool(0.8) { "低保" } else { "特困供养" };
                self.enroll(relative, program, from, last, cents);
            }
            // Near miss: the relative of a cadre who left office, enrolled after.
            if let Some(gone) = cadres.iter().find(|c| c.end.is_some_and(|e| Month::of(e) < last.plus(-1))) {
                let me = self.person_index(&gone.id);
                let from = Month::of(gone.end.expect("ended")).plus(1);
                let still_in_office = self.data.cadres.iter().any(|c| c.id == gone.id && c.end.is_none());
                if !still_in_office {
                    self.enroll(me, "低保", from, last, 42_000);
                }
            }
        }
        if self.plants("public_servant_dibao") {
            let servants: Vec<String> = self.data.cadres.iter().filter(|c| c.cadre_type == "公职人员").map(|c| c.id.clone()).collect();
            let servants = if servants.is_empty() {
                // Make one: a teacher of this village.
                let p = *self.adults(25, 55).choose(&mut self.rng).expect("adults");
                let agency = self.ctx.agencies[0].clone();
                self.push_cadre(p, &agency.code, &agency.name, "教师", "公职人员", NaiveDate::from_ymd_opt(2015, 9, 1).expect("date"), None);
                self.residents[p].employer = Some((agency.code, agency.name));
                vec![self.residents[p].person.id.clone()]
            } else {
                servants
            };
            for id in servants.iter().take(2) {
                let p = self.person_index(id);
                let from = first.plus(self.rng.random_range(0..6));
                self.enroll(p, "低保", from, last, 45_000);
            }
        }
        if self.plants("dibao_with_assets") {
            let households: Vec<usize> = self.dibao_households.iter().copied().collect();
            let households = if households.is_empty() {
                let h = (0..self.households.len()).find(|&h| !self.household_blocked(h) && self.households[h].iter().any(|&p| self.alive_through_window(p))).expect("a household");
                let p = self.households[h][0];
                self.enroll(p, "低保", first, last, 40_000);
                self.dibao_households.insert(h);
                vec![h]
            } else {
                households
            };
            for (n, &h) in households.iter().take(2).enumerate() {
                let Some(&owner) = self.households[h].iter().find(|&&p| self.alive_through_window(p)) else { continue };
                let (from, to) = (self.start() + Duration::days(30), self.ctx.as_of - Duration::days(90));
                let date = between(&mut self.rng, from, to);
                if n == 0 {
                    self.add_vehicle(owner, "正常", date);
                } else {
                    self.add_business(owner, None, date, "存续");
                }
            }
        }
        if self.plants("welfare_job_nepotism") {
            let cadres: Vec<Cadre> = self.data.cadres.iter().filter(|c| c.cadre_type == "村干部" && c.end.is_none()).cloned().collect();
            for cadre in distinct_people(cadres.iter()).into_iter().take(2) {
                let me = self.person_index(&cadre.id);
                let h = self.household_of(me);
                let holder = self.households[h].iter().copied().find(|&p| p != me && self.alive_through_window(p) && self.residents[p].age_on(self.start()) >= 18).unwrap_or(me);
                let (from, to) = (self.start(), self.ctx.as_of - Duration::days(120));
                let start = between(&mut self.rng, from, to);
                self.add_job(holder, start, None);
            }
        }
        if self.plants("welfare_job_employed_elsewhere") {
            let holders: Vec<String> = self.data.jobs.iter().filter(|j| j.end.is_none()).map(|j| j.id.clone()).collect();
            let holders = if holders.is_empty() {
                let p = *self.adults(35, 55).iter().find(|&&p| !self.household_blocked(self.household_of(p))).expect("an adult");
                let j = self.add_job(p, self.start(), None);
                vec![self.data.jobs[j].id.clone()]
            } else {
                holders
            };
            for id in holders.iter().take(2) {
                let p = self.person_index(id);
                if self.residents[p].age_on(self.ctx.as_of) >= 59 {
                    continue;
                }
                let firm = self.ctx.firms.choose(&mut self.rng).expect("firms").clone();
                let from = last.plus(-self.rng.random_range(2..6));
                let name = self.residents[p].person.name.clone();
                let mut m = from;
                while m <= last {
                    for kind in ["职工养老", "医疗"] {
                        self.data.insurance.push(Insurance { id: id.clone(), name: name.clone(), employer_code: firm.code.clone(), employer_name: firm.name.clone(), month: m, kind });
                    }
                    m = m.next();
                }
            }
        }
    }

    fn department(&self, program: &str) -> String {
        let agency = match program {
            "低保" | "特困供养" | "临时救助" | "高龄津贴" => "民政局",
            "养老金" | "公益岗工资" => "人力资源和社会保障局",
            "残疾人补贴" => "残疾人联合会",
            "危房改造" => "住房和城乡建设局",
            "耕地地力补贴" => "农业农村局",
            _ => "自然资源局",
        };
        format!("{}{agency}", self.ctx.county_name)
    }

    fn push_payment(&mut self, person: usize, program: &'static str, period: Month, cents: i64) {
        let code = match program {
            "低保" => "DB",
            "特困供养" => "TK",
            "养老金" => "YL",
            "高龄津贴" => "GL",
            "残疾人补贴" => "CJ",
            "公益岗工资" => "GY",
            "临时救助" => "LS",
            "危房改造" => "WF",
            "耕地地力补贴" => "GD",
            _ => "QM",
        };
        let r = &self.residents[person];
        let payment_id = format!("{code}{}{}{:05}", period.year * 100 + period.month as i32, self.ctx.village_code, self.data.payments.len() + 1);
        let head = self.households[self.home[person]][0];
        let account = if r.age_on(self.ctx.as_of) >= 80 && head != person { self.accounts[head].clone() } else { self.accounts[person].clone() };
        let paid_date = Some(day_in(&mut self.rng, period).max(period.first_day() + Duration::days(4)));
        let department = self.department(program);
        let r = &self.residents[person];
        self.data.payments.push(Payment {
            payment_id,
            program,
            id: r.person.id.clone(),
            name: r.person.name.clone(),
            village: self.ctx.village_code.to_string(),
            period,
            cents,
            bank_account: Some(account),
            paid_date,
            department,
        });
    }

    /// Monthly payments for each enrolment up to the month a person dies or
    /// moves away; welfare-job wages month by month of each job's span;
    /// one-off 临时救助, 危房改造, 青苗补偿; 耕地地力补贴 each May.
    fn payments(&mut self) {
        let last = self.last_month();
        let enrollments = self.enrollments.clone();
        for e in enrollments {
            let through = self.residents[e.person].paid_through(last).min(e.last);
            let mut m = e.first;
            while m <= through {
                self.push_payment(e.person, e.program, m, e.cents);
                m = m.next();
            }
        }
        for j in 0..self.data.jobs.len() {
            let job = self.data.jobs[j].clone();
            let holder = self.person_index(&job.id);
            let span_end = job.end.unwrap_or(self.ctx.as_of);
            let through = self.residents[holder].paid_through(Month::of(span_end));
            let mut m = Month::of(job.start).max(self.first_month());
            while m <= through {
                let workdays = 22;
                let first = job.start.max(m.first_day());
                let lastd = span_end.min(m.last_day());
                let share = ((lastd - first).num_days() + 1) as f64 / f64::from(m.last_day().day());
                let required = ((workdays as f64) * share).round().max(1.0) as i64;
                let present = (required - self.rng.random_range(0..3)).max((required * 4 + 4) / 5);
                self.data.attendance.push(Attendance { job_id: job.job_id.clone(), month: m, required, present });
                self.push_payment(holder, "公益岗工资", m, job.wage_cents);
                m = m.next();
            }
        }
        let months = self.ctx.months.to_vec();
        for p in 0..self.residents.len() {
            let through = self.residents[p].paid_through(last);
            if self.rng.random_bool(0.005 * months.len() as f64 / 12.0) {
                let m = *months.choose(&mut self.rng).expect("months");
                if m <= through {
                    let cents = self.rng.random_range(5..30) * 10_000;
                    self.push_payment(p, "临时救助", m, cents);
                }
            }
        }
        for h in 0..self.households.len() {
            let head = self.households[h][0];
            let through = self.residents[head].paid_through(last);
            if self.rng.random_bool(0.75) {
                let cents = self.rng.random_range(5_000..90_000);
                for m in months.iter().copied().filter(|m| m.month == 5 && *m <= through) {
                    self.push_payment(head, "耕地地力补贴", m, cents);
                }
            }
            if self.rng.random_bool(0.0008 * months.len() as f64) {
                let m = *months.choose(&mut self.rng).expect("months");
                if m.plus(1) <= through {
                    let total = self.rng.random_range(15..35) * 100_000;
                    self.push_payment(head, "危房改造", m, total * 6 / 10);
                    self.push_payment(head, "危房改造", m.plus(1), total * 4 / 10);
                }
            }
            if self.rng.random_bool(0.002 * months.len() as f64 / 12.0) {
                let m = *months.choose(&mut self.rng).expect("months");
                if m <= through {
                    let cents = self.rng.random_range(200..5000) * 100 + self.rng.random_range(0..100);
                    self.push_payment(head, "青苗补偿", m, cents);
                }
            }
        }
    }

    /// Plants on payments: duplicates, wrong identities, one card for many,
    /// welfare-job absence.
    fn plant_payment_level(&mut self) {
        let last = self.last_month();
        if self.plants("duplicate_payment") {
            let recurring: Vec<usize> = (0..self.data.payments.len()).filter(|&i| matches!(self.data.payments[i].program, "低保" | "养老金" | "残疾人补贴" | "高龄津贴")).collect();
            let picks: Vec<usize> = recurring.choose_multiple(&mut self.rng, 2).copied().collect();
            for i in picks {
                let mut copy = self.data.payments[i].clone();
                copy.payment_id = format!("{}C", copy.payment_id);
                copy.paid_date = copy.paid_date.map(|d| d.min(copy.period.last_day() - Duration::days(1)) + Duration::days(1));
                self.data.payments.push(copy);
            }
        }
        if self.plants("identity_mismatch") {
            let candidates: Vec<usize> = (0..self.data.payments.len()).filter(|&i| matches!(self.data.payments[i].program, "残疾人补贴" | "高龄津贴" | "耕地地力补贴" | "临时救助")).collect();
            let picks: Vec<usize> = candidates.choose_multiple(&mut self.rng, 2).copied().collect();
            for (n, i) in picks.into_iter().enumerate() {
                let p = &mut self.data.payments[i];
                if n == 0 {
                    let check = p.id.pop().expect("id");
                    p.id.push(if check == '0' { '1' } else { '0' });
                } else {
                    p.name = names::misspell(&p.name, &mut self.rng);
                }
            }
            // A payment to someone the police never registered.
            let birth = NaiveDate::from_ymd_opt(self.rng.random_range(1940..1990), 1, 1).expect("date") + Duration::days(self.rng.random_range(0..365));
            let ghost_id = self.ids.person_id(&mut self.rng, self.ctx.county_code, birth, true);
            let ghost_surname = names::surname(&mut self.rng);
            let ghost_name = names::full_name(&mut self.rng, ghost_surname, true, birth.year());
            let period = last.plus(-self.rng.random_range(0..6));
            let payment_id = format!("CJ{}{}{:05}", period.year * 100 + period.month as i32, self.ctx.village_code, self.data.payments.len() + 1);
            let account = self.ids.bank_account();
            let department = self.department("残疾人补贴");
            self.data.payments.push(Payment {
                payment_id,
                program: "残疾人补贴",
                id: ghost_id,
                name: ghost_name,
                village: self.ctx.village_code.to_string(),
                period,
                cents: 16_000,
                bank_account: Some(account),
                paid_date: Some(period.first_day() + Duration::days(14)),
                department,
            });
        }
        if self.plants("shared_bank_account") {
            let accountant = self.data.cadres.iter().find(|c| c.position == "村会计").map(|c| c.id.clone());
            let collector = accountant.map(|id| self.accounts[self.person_index(&id)].clone()).unwrap_or_else(|| self.ids.bank_account());
            let months: Vec<Month> = (0..self.rng.random_range(2..5)).map(|k| last.plus(-k - 1)).collect();
            let paid: BTreeSet<(&str, &str, Month)> = self.data.payments.iter().map(|q| (q.id.as_str(), q.program, q.period)).collect();
            let mut by_household: BTreeMap<usize, usize> = BTreeMap::new();
            for (i, p) in self.data.payments.iter().enumerate() {
                if matches!(p.program, "养老金" | "高龄津贴") && months.iter().all(|m| paid.contains(&(p.id.as_str(), p.program, *m))) {
                    let h = self.household_of(self.person_index(&p.id));
                    by_household.entry(h).or_insert(i);
                }
            }
            let chosen: Vec<usize> = by_household.values().copied().take(self.rng.random_range(3..5)).collect();
            let targets: Vec<(String, &'static str)> = chosen.iter().map(|&i| (self.data.payments[i].id.clone(), self.data.payments[i].program)).collect();
            for p in self.data.payments.iter_mut() {
                if months.contains(&p.period) && targets.iter().any(|(id, program)| *id == p.id && *program == p.program) {
                    p.bank_account = Some(collector.clone());
                }
            }
        }
        if self.plants("welfare_job_absent") {
            let paid: Vec<usize> = (0..self.data.attendance.len()).collect();
            let picks: Vec<usize> = paid.choose_multiple(&mut self.rng, 3).copied().collect();
            for i in picks {
                let a = &mut self.data.attendance[i];
                a.present = self.rng.random_range(0..(a.required / 2).max(1));
            }
            // Near miss: exactly half.
            if let Some(a) = self.data.attendance.iter_mut().find(|a| a.required % 2 == 0 && a.present * 2 >= a.required) {
                a.present = a.required / 2;
            }
        }
    }

    /// 职工养老 and 医疗 (and often 失业, 工伤) every month of employment in
    /// the window, to the month before an employee turns 60.
    fn insurance(&mut self) {
        let last = self.last_month();
        for r in &self.residents {
            let Some((code, name)) = &r.employer else { continue };
            let through = r.paid_through(last).min(r.month_turning(60).plus(-1));
            let extra = r.person.id.as_bytes()[15] % 2 == 0;
            let mut m = self.first_month();
            while m <= through {
                for kind in ["职工养老", "医疗", "失业", "工伤"].into_iter().take(if extra { 4 } else { 2 }) {
                    self.data.insurance.push(Insurance { id: r.person.id.clone(), name: r.person.name.clone(), employer_code: code.clone(), employer_name: name.clone(), month: m, kind });
                }
                m = m.next();
            }
        }
    }

    fn voucher(&mut self, date: NaiveDate, direction: &'static str, account: &'static str, cents: i64, counterparty: Option<(String, Option<String>)>, summary: String) -> String {
        let approver = self.data.cadres.iter().find(|c| c.position == "村党组织书记" && c.in_office_on(date)).map_or_else(|| "村委会".to_string(), |c| c.name.clone());
        let voucher_id = format!("{}-{}-{:04}", self.ctx.village_code, date.year(), self.data.vouchers.len() + 1);
        let (counterparty_name, counterparty_code) = counterparty.map_or((None, None), |(n, c)| (Some(n), c));
        self.data.vouchers.push(Voucher {
            voucher_id: voucher_id.clone(),
            village: self.ctx.village_code.to_string(),
            date,
            direction,
            account,
            cents,
            counterparty_name,
            counterparty_code,
            approver,
            summary,
        });
        voucher_id
    }

    fn firm(&mut self, kind: FirmKind) -> Firm {
        let of_kind: Vec<&Firm> = self.ctx.firms.iter().filter(|f| f.kind == kind).collect();
        (*of_kind.choose(&mut self.rng).expect("firms of every kind")).clone()
    }

    #[allow(clippy::too_many_arguments)]
    fn contract(&mut self, kind: &'static str, title: String, firm: &Firm, cents: i64, signed: NaiveDate, procurement: &'static str, pay: bool) {
        let contract_id = format!("HT{}{}{:03}", self.ctx.village_code, signed.year(), self.data.contracts.len() + 1);
        self.data.contracts.push(Contract {
            contract_id,
            village: self.ctx.village_code.to_string(),
            kind,
            title: title.clone(),
            counterparty_name: firm.name.clone(),
            counterparty_code: Some(firm.code.clone()),
            cents,
            signed,
            procurement,
        });
        if pay {
            let paid = (signed + Duration::days(self.rng.random_range(20..60))).min(self.ctx.as_of);
            let account = if kind == "工程" { "工程支出" } else { "办公费" };
            self.voucher(paid, "支出", account, cents, Some((firm.name.clone(), Some(firm.code.clone()))), format!("支付{title}款"));
        }
    }

    /// Whether a small non-tendered works contract with `firm` on `signed`
    /// would make a split (CONTRACT §3 contract_splitting) with those so far.
    fn would_split(&self, firm: &Firm, signed: NaiveDate, cents: i64) -> bool {
        let near: i64 = self
            .data
            .contracts
            .iter()
            .filter(|c| c.kind == "工程" && !matches!(c.procurement, "公开招标" | "邀请招标") && c.cents < SPLIT_LIMIT_CENTS)
            .filter(|c| c.counterparty_code.as_deref() == Some(firm.code.as_str()) && (c.signed - signed).num_days().abs() <= 2 * SPLIT_WINDOW_DAYS)
            .map(|c| c.cents)
            .sum();
        near > 0 && near + cents >= SPLIT_LIMIT_CENTS / 2
    }

    /// The village's books: grants and rents in, cadre pay monthly, allowances
    /// quarterly, office, travel, meetings, works paid against contracts.
    fn finance(&mut self) {
        let months = self.ctx.months.to_vec();
        for &m in &months {
            let pay_day = NaiveDate::from_ymd_opt(m.year, m.month, 25).expect("date").min(self.ctx.as_of);
            let in_office: BTreeMap<String, String> = self.data.cadres.iter().filter(|c| c.cadre_type == "村干部" && c.in_office_on(pay_day)).map(|c| (c.id.clone(), c.name.clone())).collect();
            for (id, name) in &in_office {
                let cents = self.rng.random_range(18..36) * 10_000;
                self.voucher(pay_day, "支出", "干部报酬", cents, Some((name.clone(), Some(id.clone()))), format!("发放{}月村干部基本报酬", m.month));
                if m.month % 3 == 0 {
                    self.voucher(pay_day, "支出", "津补贴", 30_000, Some((name.clone(), Some(id.clone()))), format!("发放第{}季度通讯补贴", m.month / 3));
                }
            }
            if m.month % 3 == 1 {
                let cents = self.rng.random_range(50..200) * 100_000;
                let day = day_in(&mut self.rng, m);
                self.voucher(day, "收入", "补助收入", cents, Some((format!("{}财政所", self.ctx.town_name), None)), "收到村级组织运转经费".into());
            }
            if self.rng.random_bool(0.6) {
                let firm = self.firm(FirmKind::Supplier);
                let cents = self.rng.random_range(200..3000) * 100;
                let summary = ["购买办公用品", "打印复印费", "购买村部清洁用品", "村务公开栏维护"].choose(&mut self.rng).expect("summary").to_string();
                let day = day_in(&mut self.rng, m);
                self.voucher(day, "支出", "办公费", cents, Some((firm.name.clone(), Some(firm.code.clone()))), summary);
            }
            if self.rng.random_bool(0.4) {
                let who = in_office.values().next().cloned().unwrap_or_else(|| "村委会".into());
                let cents = self.rng.random_range(80..1500) * 100;
                let summary = ["赴县农业农村局汇报工作差旅费", "参加镇党委培训交通费", "赴县民政局办理低保审核差旅费"].choose(&mut self.rng).expect("summary").to_string();
                let day = day_in(&mut self.rng, m);
                self.voucher(day, "支出", "差旅费", cents, Some((who, None)), summary);
            }
            if self.rng.random_bool(0.25) {
                let firm = self.firm(FirmKind::Restaurant);
                let cents = self.rng.random_range(300..3500) * 100;
                let (account, summary) = *[("会议费", "召开村民代表大会误餐费"), ("招待费", "接待县农业技术人员工作餐"), ("会议费", "召开党员大会场地布置费")].choose(&mut self.rng).expect("summary");
                let day = day_in(&mut self.rng, m);
                self.voucher(day, "支出", account, cents, Some((firm.name.clone(), Some(firm.code.clone()))), summary.into());
            }
            if self.rng.random_bool(0.15) {
                let (account, summary) = *[("资产租赁收入", "村部门面租金"), ("资源发包收入", "山塘承包费")].choose(&mut self.rng).expect("summary");
                let cents = self.rng.random_range(20..300) * 10_000;
                let day = day_in(&mut self.rng, m);
                self.voucher(day, "收入", account, cents, None, summary.into());
            }
            if self.rng.random_bool(0.2) {
                let villagers: Vec<usize> = (0..self.residents.len())
                    .filter(|&p| !self.cadre_households.contains(&self.household_of(p)) && self.alive_through_window(p) && self.residents[p].age_on(self.start()) >= 18)
                    .collect();
                if let Some(&p) = villagers.choose(&mut self.rng) {
                    let person = self.residents[p].person.clone();
                    let cents = self.rng.random_range(20..300) * 1_000;
                    let day = day_in(&mut self.rng, m);
                    self.voucher(day, "支出", "其他", cents, Some((person.name, Some(person.id))), "支付村道清扫劳务费".into());
                }
            }
        }
        // A keyword in the summary, but a small amount or an account outside the list.
        let d = day_in(&mut self.rng, months[months.len() / 2]);
        self.voucher(d, "支出", "办公费", 360_000, None, "购买景区宣传展板".into());
        // Contracts.
        let years: BTreeSet<i32> = months.iter().map(|m| m.year).collect();
        for year in years {
            let in_year: Vec<Month> = months.iter().copied().filter(|m| m.year == year).collect();
            for _ in 0..self.rng.random_range(1..=3) {
                let month = *in_year.choose(&mut self.rng).expect("month");
                let signed = day_in(&mut self.rng, month);
                let cents = self.rng.random_range(20..400) * 100_000;
                let what = *["村道硬化工程", "山塘清淤工程", "水渠维修工程", "村部亮化工程", "安全饮水管网改造工程"].choose(&mut self.rng).expect("title");
                let procurement = if cents >= SPLIT_LIMIT_CENTS {
                    *["公开招标", "邀请招标"].choose(&mut self.rng).expect("p")
                } else {
                    *["询价", "竞争性谈判", "直接发包", "村民代表会议决议"].choose(&mut self.rng).expect("p")
                };
                let mut firm = self.firm(FirmKind::Builder);
                for _ in 0..20 {
                    if !self.would_split(&firm, signed, cents) {
                        break;
                    }
                    firm = self.firm(FirmKind::Builder);
                }
                if cents < SPLIT_LIMIT_CENTS && self.would_split(&firm, signed, cents) {
                    continue;
                }
                self.contract("工程", format!("{}{what}", self.ctx.village_name), &firm, cents, signed, procurement, true);
            }
            if self.rng.random_bool(0.7) {
                let month = *in_year.choose(&mut self.rng).expect("month");
                let signed = day_in(&mut self.rng, month);
                let firm = self.firm(FirmKind::Supplier);
                let cents = self.rng.random_range(5..50) * 100_000;
                self.contract("采购", "村部办公设备采购".into(), &firm, cents, signed, "询价", true);
            }
        }
        self.plant_finance();
    }

    fn plant_finance(&mut self) {
        let as_of = self.ctx.as_of;
        let start = self.start();
        if self.plants("cadre_linked_counterparty") {
            let cadres: Vec<Cadre> = self.data.cadres.iter().filter(|c| c.cadre_type == "村干部" && c.end.is_none()).cloned().collect();
            if let Some(cadre) = cadres.first() {
                let me = self.person_index(&cadre.id);
                let h = self.household_of(me);
                let relative = self.households[h].iter().copied().find(|&p| p != me && self.residents[p].age_on(start) >= 20).unwrap_or(me);
                let established = start - Duration::days(400);
                let code = self.add_business(relative, None, established, "存续");
                let name = self.data.businesses.last().expect("added").name.clone();
                let firm = Firm { code, name, kind: FirmKind::Builder };
                let signed = between(&mut self.rng, cadre.start.max(start), as_of - Duration::days(60));
                let cents = self.rng.random_range(3..30) * 1_000_000;
                let procurement = if cents >= SPLIT_LIMIT_CENTS { "邀请招标" } else { "村民代表会议决议" };
                self.contract("工程", format!("{}组级道路拓宽工程", self.ctx.village_name), &firm, cents, signed, procurement, true);
                let person = self.residents[relative].person.clone();
                let d = between(&mut self.rng, cadre.start.max(start), as_of);
                self.voucher(d, "支出", "其他", 480_000, Some((person.name, Some(person.id))), "支付村部维修材料款".into());
                // Near miss: a deregistered business of the same household.
                let gone = self.add_business(relative, None, established, "注销");
                let gone_name = self.data.businesses.last().expect("added").name.clone();
                let d = between(&mut self.rng, start, as_of);
                self.voucher(d, "支出", "办公费", 150_000, Some((gone_name, Some(gone))), "购买村部桌椅".into());
            }
        }
        if self.plants("contract_splitting") {
            let firm = self.firm(FirmKind::Builder);
            let base = between(&mut self.rng, start, as_of - Duration::days(120));
            let parts = self.rng.random_range(2..=4);
            let mut total = 0;
            for k in 0..parts {
                let remaining_parts = i64::from(parts - k);
                let cents = if k + 1 == parts { (SPLIT_LIMIT_CENTS + 500_000 - total).max(SPLIT_LIMIT_CENTS / remaining_parts + 100_000) } else { self.rng.random_range(35..50) * 100_000 };
                let cents = cents.min(SPLIT_LIMIT_CENTS - 100);
                total += cents;
                let signed = base + Duration::days(i64::from(k) * self.rng.random_range(10..30));
                self.contract("工程", format!("{}村组道路修复工程(第{}段)", self.ctx.village_name, k + 1), &firm, cents, signed, "直接发包", true);
            }
            // Near miss: two small ones 91+ days apart with another builder.
            let other = self.firm(FirmKind::Builder);
            if other.code != firm.code && !self.would_split(&other, base, 6_000_000) {
                self.contract("工程", "村级活动场地平整".into(), &other, 6_000_000, base, "询价", false);
                self.contract("工程", "村级活动场地围栏".into(), &other, 5_500_000, base + Duration::days(SPLIT_WINDOW_DAYS + 1), "询价", false);
            }
        }
        if self.plants("allowance_to_non_cadre") {
            let gone: Option<Cadre> = self.data.cadres.iter().find(|c| c.cadre_type == "村干部" && c.end.is_some_and(|e| e < as_of - Duration::days(40))).cloned();
            let still_serving = gone.as_ref().is_some_and(|g| self.data.cadres.iter().any(|c| c.id == g.id && c.org_code == g.org_code && c.end.is_none()));
            match gone {
                Some(g) if !still_serving => {
                    let d = g.end.expect("ended") + Duration::days(self.rng.random_range(20..40));
                    self.voucher(d, "支出", "干部报酬", 280_000, Some((g.name.clone(), Some(g.id.clone()))), "发放村干部基本报酬".into());
                }
                _ => {}
            }
            let cadre_ids = self.cadre_ids();
            let relatives: Vec<usize> = self
                .cadre_households
                .iter()
                .flat_map(|&h| self.households[h].clone())
                .filter(|&p| !cadre_ids.contains(&self.residents[p].person.id) && self.residents[p].age_on(start) >= 18)
                .collect();
            if let Some(&p) = relatives.first() {
                let person = self.residents[p].person.clone();
                let d = between(&mut self.rng, start, as_of);
                self.voucher(d, "支出", "津补贴", 60_000, Some((person.name, Some(person.id))), "发放误工补贴".into());
            }
        }
        if self.plants("public_funds_travel") {
            let agency = self.firm(FirmKind::Travel);
            let spots = ["韶山景区", "张家界景区", "凤凰古城景区", "井冈山"];
            for (account, template) in [("差旅费", "组织村两委干部赴{}考察学习"), ("其他", "{}门票及旅游大巴费用")] {
                let d = between(&mut self.rng, start, as_of);
                let spot = spots.choose(&mut self.rng).expect("spot");
                let cents = self.rng.random_range(30..200) * 10_000;
                let summary = template.replace("{}", spot);
                debug_assert!(TRAVEL_KEYWORDS.iter().any(|k| summary.contains(k)));
                self.voucher(d, "支出", account, cents, Some((agency.name.clone(), Some(agency.code.clone()))), summary);
            }
            // Near miss: a keyword under the amount threshold.
            let d = between(&mut self.rng, start, as_of);
            self.voucher(d, "支出", "会议费", 180_000, Some((agency.name.clone(), Some(agency.code.clone()))), "党员参观学习红色教育基地".into());
        }
    }

    /// Problems found when this village was inspected; deadlines 60–180 days
    /// after finding; rectified on or before the deadline on the baseline.
    fn inspection_problems(&mut self) {
        let as_of = self.ctx.as_of;
        for (round_id, start, end) in self.ctx.inspections {
            let n = self.rng.random_range(3..=8);
            for k in 0..n {
                let problem = problem_row(&mut self.rng, round_id, self.ctx.village_code, *start, *end, as_of, k);
                self.data.problems.push(problem);
            }
        }
        if self.data.problems.is_empty() {
            return;
        }
        if self.plants("rectification_overdue") {
            let past: Vec<usize> = (0..self.data.problems.len()).filter(|&i| self.data.problems[i].deadline.is_some_and(|d| d < as_of - Duration::days(45))).collect();
            for (n, &i) in past.iter().take(3).enumerate() {
                let p = &mut self.data.problems[i];
                let deadline = p.deadline.expect("filtered");
                match n {
                    0 => {
                        p.status = "整改中";
                        p.rectified = None;
                    }
                    1 => {
                        p.status = "已整改";
                        p.rectified = Some(deadline + Duration::days(self.rng.random_range(1..40)));
                    }
                    _ => {
                        // Near miss: rectified on the deadline day.
                        p.status = "已销号";
                        p.rectified = Some(deadline);
                    }
                }
            }
        }
    }

    /// Petitions: about 8 a year per 1,000 residents, topics in the mix of
    /// the seeds (cadre conduct, 低保, collective assets, land, works first).
    fn petitions(&mut self) {
        const TOPIC_WEIGHTS: &[(&str, u32)] = &[
            ("干部作风", 10),
            ("低保", 10),
            ("三资管理", 8),
            ("征地补偿", 8),
            ("惠农补贴", 8),
            ("环境卫生", 8),
            ("工程项目", 7),
            ("供水", 6),
            ("道路交通", 6),
            ("住房安全", 5),
            ("养老金", 4),
            ("医疗服务", 4),
            ("工资拖欠", 4),
            ("公益岗", 3),
            ("特困供养", 2),
            ("学校食堂", 2),
            ("殡葬", 2),
            ("基层党建", 2),
            ("其他", 5),
        ];
        let months = self.ctx.months.to_vec();
        let expected = self.residents.len() as f64 * 8.0 / 1000.0 * months.len() as f64 / 12.0;
        let count = (expected * self.rng.random_range(0.6..1.4)).round() as usize;
        let rectified: Vec<(&'static str, NaiveDate)> = self.data.problems.iter().filter(|p| matches!(p.status, "已整改" | "已销号")).filter_map(|p| Some((p.topic, p.rectified?))).collect();
        let total: u32 = TOPIC_WEIGHTS.iter().map(|(_, w)| w).sum();
        for _ in 0..count {
            let month = *months.choose(&mut self.rng).expect("months");
            let received = day_in(&mut self.rng, month).min(self.ctx.as_of);
            let mut topic = "其他";
            for _ in 0..10 {
                let mut pick = self.rng.random_range(0..total);
                for (t, w) in TOPIC_WEIGHTS {
                    if pick < *w {
                        topic = t;
                        break;
                    }
                    pick -= w;
                }
                let rebound = rectified.iter().any(|(t, d)| *t == topic && received > *d && received <= *d + Duration::days(super::oracle::REBOUND_DAYS));
                if !rebound {
                    break;
                }
                topic = "其他";
            }
            if topic == "其他" && rectified.iter().any(|(t, d)| *t == "其他" && received > *d && received <= *d + Duration::days(super::oracle::REBOUND_DAYS)) {
                continue;
            }
            self.push_petition(received, topic);
        }
        if self.plants("rectification_rebound") {
            let as_of = self.ctx.as_of;
            let candidates: Vec<(&'static str, NaiveDate)> = rectified.iter().copied().filter(|(_, d)| *d + Duration::days(20) <= as_of).collect();
            for (n, (topic, d)) in candidates.into_iter().take(3).enumerate() {
                if n == 2 {
                    // Near miss: the same topic 181 days later, or on the day itself.
                    let later = d + Duration::days(super::oracle::REBOUND_DAYS + 1);
                    self.push_petition(if later <= as_of { later } else { d }, topic);
                    continue;
                }
                let latest = (d + Duration::days(super::oracle::REBOUND_DAYS)).min(as_of);
                let received = between(&mut self.rng, d + Duration::days(1), latest);
                self.push_petition(received, topic);
            }
        }
    }

    fn push_petition(&mut self, received: NaiveDate, topic: &'static str) {
        let channel = *["来信", "来访", "网上信访", "12345热线", "巡察组收集"].choose(&mut self.rng).expect("channel");
        let done = received + Duration::days(self.rng.random_range(15..60));
        let (status, closed) = if done <= self.ctx.as_of { ("办结", Some(done)) } else { (*["受理", "办理中"].choose(&mut self.rng).expect("status"), None) };
        let satisfaction = closed.map(|_| *["满意", "满意", "基本满意", "不满意", "未评价"].choose(&mut self.rng).expect("s"));
        let accused = if matches!(topic, "干部作风" | "三资管理" | "低保") && self.rng.random_bool(0.5) {
            self.data.cadres.iter().filter(|c| c.cadre_type == "村干部").collect::<Vec<_>>().choose(&mut self.rng).map(|c| (c.name.clone(), c.id.clone()))
        } else {
            None
        };
        let complaint = petition_text(topic);
        let summary = if self.rng.random_bool(0.2) { format!("反映:{complaint}\n诉求:请求核查处理") } else { format!("反映{complaint}") };
        let petition_id = format!("XF{}{}{:04}", received.year(), self.ctx.village_code, self.data.petitions.len() + 1);
        self.data.petitions.push(Petition {
            petition_id,
            received,
            channel,
            village: self.ctx.village_code.to_string(),
            topic,
            summary,
            accused_id: accused.as_ref().filter(|_| self.rng.random_bool(0.4)).map(|(_, id)| id.clone()),
            accused_name: accused.map(|(n, _)| n),
            is_repeat: self.rng.random_bool(0.12),
            status,
            closed,
            satisfaction,
        });
    }
}

/// One cadre row per person, in order (a 一肩挑 secretary has two rows).
fn distinct_people<'x>(cadres: impl Iterator<Item = &'x Cadre>) -> Vec<&'x Cadre> {
    let mut seen = BTreeSet::new();
    cadres.filter(|c| seen.insert(c.id.clone())).collect()
}

fn petition_text(topic: &str) -> &'static str {
    match topic {
        "干部作风" => "村干部办事推诿、态度生硬",
        "低保" => "低保评定不公开、不公平",
        "三资管理" => "村集体收支不公开,账目不清",
        "征地补偿" => "征地补偿款迟迟未发放到位",
        "惠农补贴" => "耕地地力补贴发放金额与面积不符",
        "环境卫生" => "垃圾长期堆放无人清运",
        "工程项目" => "村道硬化工程质量差、偷工减料",
        "供水" => "安全饮水管网经常停水",
        "道路交通" => "通组公路破损严重",
        "住房安全" => "危房改造对象评定不公",
        "养老金" => "到龄老人未按时领取养老金",
        "医疗服务" => "村卫生室药品价格偏高",
        "工资拖欠" => "工程项目拖欠农民工工资",
        "公益岗" => "公益岗位安排优亲厚友、有人不上岗",
        "特困供养" => "特困人员供养待遇未落实",
        "学校食堂" => "学校食堂饭菜质量差、收费不透明",
        "殡葬" => "公益性公墓收费不规范",
        "基层党建" => "村党支部组织生活不规范",
        _ => "其他涉及群众切身利益的问题",
    }
}

/// One problem found at `target` in a round, with the rectification state it
/// has on `as_of` on the baseline (rectified on or before its deadline, or
/// still within it).
pub(crate) fn problem_row(rng: &mut ChaCha8Rng, round_id: &str, target: &str, start: NaiveDate, end: NaiveDate, as_of: NaiveDate, k: usize) -> Problem {
    const KINDS: &[(&str, &str, &str)] = &[
        ("民政", "低保", "低保对象动态管理不到位,存在不符合条件人员享受低保"),
        ("民政", "特困供养", "特困供养资金发放不及时"),
        ("人社", "养老金", "城乡居民养老保险到龄人员待遇未及时发放"),
        ("人社", "公益岗", "公益性岗位人员管理松散,考勤流于形式"),
        ("农业农村", "三资管理", "村集体资金收支未按规定公开,白条入账"),
        ("农业农村", "工程项目", "村级小型工程未按规定程序发包"),
        ("农业农村", "惠农补贴", "惠农补贴资金发放审核把关不严"),
        ("水务", "供水", "农村安全饮水工程管护不到位"),
        ("交通", "道路交通", "通组公路养护责任未落实"),
        ("住建", "住房安全", "农村危房改造对象认定不精准"),
        ("党建", "基层党建", "三会一课制度落实不到位"),
        ("党建", "干部作风", "村干部坐班值班制度执行不严"),
        ("殡葬", "殡葬", "公益性公墓建设管理不规范"),
        ("卫健", "医疗服务", "村卫生室药品采购管理不规范"),
        ("教育", "学校食堂", "学校食堂财务管理不规范"),
        ("其他", "环境卫生", "人居环境整治长效机制未建立"),
    ];
    let (sector, topic, description) = *KINDS.choose(rng).expect("kinds");
    let found = between(rng, start, end.min(as_of));
    let immediate = rng.random_bool(0.25);
    let deadline = found + Duration::days(*[60, 90, 180].choose(rng).expect("days"));
    let (status, rectified) = if immediate {
        ("已销号", Some((found + Duration::days(rng.random_range(0..10))).min(as_of)))
    } else if deadline <= as_of {
        let done = between(rng, found + Duration::days(10), deadline);
        (if rng.random_bool(0.6) { "已销号" } else { "已整改" }, Some(done))
    } else {
        match rng.random_range(0..3) {
            0 => ("未整改", None),
            1 => ("整改中", None),
            _ => {
                let done = between(rng, found, as_of.min(deadline));
                ("已整改", Some(done))
            }
        }
    };
    let money = matches!(topic, "低保" | "三资管理" | "工程项目" | "惠农补贴" | "特困供养" | "养老金" | "住房安全");
    let funds_involved = if money { rng.random_range(5..500) * 100_000 } else { 0 };
    let funds_recovered = if money && rectified.is_some() { funds_involved * rng.random_range(0..=100) / 100 } else { 0 };
    let severity = *["一般", "一般", "较重", "严重"].choose(rng).expect("severity");
    Problem {
        problem_id: format!("WT{round_id}{target}{k:02}"),
        round_id: round_id.to_string(),
        target_code: target.to_string(),
        sector,
        topic,
        description: description.to_string(),
        severity,
        found,
        immediate,
        clue_transferred: severity == "严重" && rng.random_bool(0.4),
        deadline: (!immediate || rng.random_bool(0.5)).then_some(deadline),
        status,
        rectified,
        funds_involved,
        funds_recovered,
        systems: rng.random_range(0..=2),
    }
}
