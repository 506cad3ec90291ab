//! `xuncha gen`: a synthetic but realistic county (or city) written as an
//! inbox, with the answer key of every rule and the list of bad rows.
//!
//! # The world
//! - **Divisions**: 株洲-style statistical codes. A county (`430223` 攸县 for
//!   `sample` and `county`) or six counties of one city (`city`); towns
//!   `CCCCCC1TT000`, villages `CCCCCC1TT2VV`. Sizes: sample 5 towns × 8
//!   villages × ~250 people, 12 months; county 16 × 16 × ~1,560, 24 months;
//!   city 6 × 17 × 15 × ~2,600, 24 months (≈ 4 M people, 35 M+ payments).
//! - **People**: households of five kinds (elderly couple 22%, elderly alone
//!   10%, couple with children 33%, three generations 28%, single adult 7%),
//!   which gives the aged rural pyramid of the seeds (about a quarter 60+).
//!   Names by census surname frequencies ([`names`]); ID numbers valid under
//!   GB 11643 with the county's region code for 88% and a neighbouring one
//!   for the rest, the birth date coded, odd sequence digits for men.
//! - **Deaths**: annual risk 0.03% × e^(0.09·(age − 20)), capped at 35%; 85%
//!   of deaths in the window reach the population register (status 死亡), all
//!   reach one to three of 公安/民政/卫健/殡葬 with the same date. Moves out
//!   0.5% a year.
//! - **Cadres**: per village 书记 (75% also 主任, 一肩挑), 会计, 监委会主任,
//!   a member, elected early 2021, 20% replaced during the window; up to two
//!   residents are town cadres; 1.2% of working-age adults are public
//!   servants (teachers, doctors, staff) of county agencies.
//! - **Payments** (monthly, by program): 低保 4% of eligible households at
//!   ¥380–530 a person, 特困供养 35% of elderly living alone at ¥650–900,
//!   养老金 from the month of the 60th birthday (¥143 base + personal
//!   account), 高龄津贴 from 80 (¥50/150/500 by age band), 残疾人补贴 2.2% at
//!   ¥80 or ¥160, 公益岗工资 0.7% of people at ¥600–1,500 with attendance ≥ 80%,
//!   临时救助 0.5%/year one-off, 危房改造 in two instalments, 耕地地力补贴
//!   each May for 75% of households, rare 青苗补偿. Payments stop at the month
//!   of death or moving out. Employees (7% of adults 20–55, and public
//!   servants) pay 职工养老 and 医疗 (half also 失业, 工伤) and draw no 养老金.
//! - **Assets**: a vehicle for a quarter of households, a business per ~45
//!   adults (85% 存续); 低保 households only own scrapped vehicles.
//! - **Village books**: monthly cadre pay to cadres in office, quarterly
//!   allowances, grants, office, travel (reimbursed by name), meetings,
//!   works contracts (≥ ¥100,000 tendered) paid by vouchers, to county firms.
//! - **Inspections**: term 十三届, a round every six months; each round
//!   inspects 12% of villages (15% at sample), one or two towns and three
//!   agencies; 3–8 problems per village, deadlines 60–180 days, rectified by
//!   their deadline on the baseline. Petitions: ~8 a year per 1,000 people.
//!
//! # The baseline is clean, the anomalies are planted
//! The baseline is built so that no rule of CONTRACT §3 fires: payments stop
//! at death, every 60-year-old is paid or insured, cadre, employee and
//! public-servant households get no 低保 or welfare job, 低保 households own
//! nothing, accounts are personal (or the household head's), small works
//! with one firm are spread apart, petitions avoid a rectified topic for 180
//! days. Each rule is then planted in one village in eight (rectification
//! rules: in every village inspected before the last round), as the seeds
//! describe them: pensions paid on after a death the police never recorded;
//! pensions stopped before the last quarter; a pension paid twice; a cadre's
//! spouse or parent put on 低保; a teacher on 低保; a 低保 household that
//! bought a car or opened a shop; a welfare job for a cadre's son; a cleaner
//! paid while present a few days a month; a welfare-job holder with a factory
//! job; the village accountant's card receiving four families' pensions; an
//! ID with a wrong check digit, a misspelt name, a person the police never
//! registered; a works contract to the secretary's son's firm; one job split
//! in three direct awards; cadre pay to a cadre who left; a "study tour" to a
//! scenic spot; a rectified problem whose petitions come back; a problem
//! past its deadline. Near misses sit beside them (death in the payment
//! month, half attendance exactly, 91 days apart, rectified on the deadline).
//! The answer key is computed from the final rows by [`oracle`], so it lists
//! every entity that meets a condition, planted or not.

mod codes;
mod model;
mod names;
mod oracle;
mod render;
mod sinks;
mod village;

use chrono::{Duration, NaiveDate};
use codes::IdAllocator;
use model::*;
use oracle::{BusinessIndex, Hit};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use render::Format;
use sinks::{Sinks, derive_seed};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use village::{Agency, Firm, FirmKind, VillageBuilder, VillageContext, problem_row};
use xuncha_core::contract::{self, Source};
use xuncha_core::values::Month;

/// Everything that can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Config(String),
}

/// How big a world to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// One county, 5 towns, 40 villages, ~10k people, 12 months.
    Sample,
    /// One county, 256 villages, ~400k people, 24 months.
    County,
    /// Six counties, ~1,500 villages, ~4M people, 24 months.
    City,
}

impl std::str::FromStr for Scale {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Scale, SynthError> {
        match s {
            "sample" => Ok(Scale::Sample),
            "county" => Ok(Scale::County),
            "city" => Ok(Scale::City),
            other => Err(SynthError::Config(format!("unknown scale {other:?}: expected sample, county or city"))),
        }
    }
}

struct Params {
    counties: usize,
    towns: usize,
    villages_per_town: usize,
    people_per_village: usize,
    months: i32,
    inspected_share: f64,
}

impl Scale {
    fn params(self) -> Params {
        match self {
            Scale::Sample => Params { counties: 1, towns: 5, villages_per_town: 8, people_per_village: 250, months: 12, inspected_share: 0.15 },
            Scale::County => Params { counties: 1, towns: 16, villages_per_town: 16, people_per_village: 1560, months: 24, inspected_share: 0.12 },
            Scale::City => Params { counties: 6, towns: 17, villages_per_town: 15, people_per_village: 2600, months: 24, inspected_share: 0.12 },
        }
    }
}

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub scale: Scale,
    pub seed: u64,
    pub out: PathBuf,
}

/// What was generated.
#[derive(Debug, Default)]
pub struct GenSummary {
    pub villages: usize,
    pub people: u64,
    /// Good rows per source.
    pub rows: BTreeMap<&'static str, u64>,
    pub bad_rows: usize,
    /// Answer-key entities per rule.
    pub answer_key: BTreeMap<&'static str, usize>,
    pub as_of: Option<NaiveDate>,
}

use xuncha_core::contract::RULE_IDS;

const COUNTIES: &[(&str, &str)] = &[("430223", "攸县"), ("430224", "茶陵县"), ("430225", "炎陵县"), ("430281", "醴陵市"), ("430212", "渌口区"), ("430211", "天元区")];
const TOWN_STEMS: &[&str] = &[
    "网岭",
    "菜花坪",
    "丫江桥",
    "皇图岭",
    "新市",
    "黄丰桥",
    "酒埠江",
    "桃水",
    "宁家坪",
    "柏市",
    "鸾山",
    "莲塘坳",
    "渌田",
    "石羊塘",
    "鸭塘铺",
    "湖南坳",
    "江桥",
    "高枧",
    "下东",
    "严仙",
    "腰潞",
    "界首",
    "思聪",
    "火田",
    "虎踞",
    "秩堂",
    "枣市",
    "马江",
    "湖口",
    "浣溪",
    "平水",
    "十都",
];
const VILLAGE_FIRST: &[&str] = &["东", "西", "南", "北", "新", "大", "小", "上", "下", "石", "黄", "高", "长", "青", "龙", "凤", "金", "桃", "杨", "柳", "荷", "竹", "松", "梅"];
const VILLAGE_SECOND: &[&str] = &["塘", "湾", "坪", "岭", "山", "江", "田", "桥", "坳", "冲", "洲", "铺", "源", "峰", "林", "溪", "口", "湖", "园"];
const AGENCIES: &[(&str, &str)] = &[
    ("11", "教育局"),
    ("11", "卫生健康局"),
    ("11", "民政局"),
    ("11", "人力资源和社会保障局"),
    ("11", "农业农村局"),
    ("11", "水利局"),
    ("11", "住房和城乡建设局"),
    ("11", "交通运输局"),
    ("11", "医疗保障局"),
    ("11", "自然资源局"),
    ("12", "人民医院"),
    ("12", "第一中学"),
    ("12", "实验小学"),
    ("12", "中医医院"),
];
const CHINESE_NUMBERS: &[&str] = &["一", "二", "三", "四", "五", "六"];

/// The last month of every generated world; `as_of` is its last day.
fn last_month() -> Month {
    Month::new(2026, 10).expect("month")
}

const ALL: &[Format] = &[Format::CsvUtf8, Format::CsvBom, Format::CsvGbk, Format::Xlsx, Format::Jsonl];
const NO_XLSX: &[Format] = &[Format::CsvUtf8, Format::CsvBom, Format::CsvGbk, Format::Jsonl];

fn src(name: &str) -> &'static Source {
    contract::source(name).expect("contract source")
}

struct County {
    code: &'static str,
    name: &'static str,
    firms: Vec<Firm>,
    agencies: Vec<Agency>,
}

struct Generator {
    params: Params,
    seed: u64,
    sample: bool,
    months: Vec<Month>,
    as_of: NaiveDate,
    ids: IdAllocator,
    businesses: BusinessIndex,
    sinks: Sinks,
    hits: BTreeSet<Hit>,
    village_serial: usize,
    people: u64,
}

/// Generates the inbox described by `config` and its expectation files.
pub fn generate(config: &GenConfig) -> Result<GenSummary, SynthError> {
    let params = config.scale.params();
    let last = last_month();
    let months: Vec<Month> = (0..params.months).map(|i| last.plus(i - params.months + 1)).collect();
    std::fs::create_dir_all(&config.out)?;
    let mut g = Generator {
        params,
        seed: config.seed,
        sample: config.scale == Scale::Sample,
        months,
        as_of: last.last_day(),
        ids: IdAllocator::default(),
        businesses: BusinessIndex::default(),
        sinks: Sinks::new(&config.out, config.seed),
        hits: BTreeSet::new(),
        village_serial: 0,
        people: 0,
    };
    for c in 0..g.params.counties {
        g.county(c)?;
    }
    let Generator { sinks, hits, people, village_serial, as_of, .. } = g;
    let mut w = csv::Writer::from_path(config.out.join("answer_key.csv"))?;
    w.write_record(["rule_id", "entity_key"])?;
    let mut answer_key: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (rule, key) in &hits {
        w.write_record([rule, key.as_str()])?;
        *answer_key.entry(rule).or_default() += 1;
    }
    w.flush()?;
    let (bad, rows) = sinks.finish()?;
    Ok(GenSummary { villages: village_serial, people, rows, bad_rows: bad.len(), answer_key, as_of: Some(as_of) })
}

impl Generator {
    fn rng(&self, name: &str) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(derive_seed(self.seed, name))
    }

    fn emit(&mut self, source: &str, stem: &str, title: &str, formats: &[Format], row: &impl Row) -> Result<(), SynthError> {
        let formats = if self.sample { ALL } else { formats };
        self.sinks.emit(src(source), stem, title, formats, row.cells())?;
        Ok(())
    }

    fn county(&mut self, index: usize) -> Result<(), SynthError> {
        let (code, name) = COUNTIES[index];
        let mut rng = self.rng(code);
        let county = County { code, name, firms: self.firms(&mut rng, code, name)?, agencies: self.agencies(code, name) };
        let first_round_start = self.months[0].plus(1).first_day();
        let rounds = (self.params.months / 6) as usize;
        let round_ids: Vec<String> = (0..rounds).map(|r| format!("{code}13{:02}", r + 5)).collect();
        let round_dates: Vec<(NaiveDate, NaiveDate)> = (0..rounds)
            .map(|r| {
                let start = first_round_start + Duration::days(182 * r as i64 + rng.random_range(0..10));
                (start, start + Duration::days(rng.random_range(30..45)))
            })
            .collect();
        let mut town_names: Vec<&str> = TOWN_STEMS.to_vec();
        town_names.shuffle(&mut rng);
        let village_codes: Vec<(usize, usize)> = (0..self.params.towns).flat_map(|t| (0..self.params.villages_per_town).map(move |v| (t, v))).collect();
        // The inspection plan: disjoint shares of villages per round, and a
        // 回头看 of some first-round villages in the last round.
        let mut order = village_codes.clone();
        order.shuffle(&mut rng);
        let per_round = ((village_codes.len() as f64) * self.params.inspected_share).round().max(1.0) as usize;
        let mut plan: BTreeMap<(usize, usize), Vec<(usize, &'static str)>> = BTreeMap::new();
        for (r, chunk) in order.chunks(per_round).take(rounds).enumerate() {
            for &tv in chunk {
                let mode = if rng.random_bool(0.2) { "提级巡察" } else { "常规巡察" };
                plan.entry(tv).or_default().push((r, mode));
            }
        }
        for &tv in order.iter().take(per_round / 4 + 1) {
            plan.entry(tv).or_default().push((rounds - 1, "回头看"));
        }
        let mut divisions: Vec<Division> = Vec::new();
        let mut inspections: Vec<Inspection> = Vec::new();
        let (mut county_people, mut county_households) = (0i64, 0i64);
        for t in 0..self.params.towns {
            let town_code = format!("{code}{:03}000", 101 + t);
            let town_name = format!("{}{}", town_names[t % town_names.len()], if t % 7 == 6 { "乡" } else { "镇" });
            let (mut town_people, mut town_households) = (0i64, 0i64);
            let mut used_names = BTreeSet::new();
            for v in 0..self.params.villages_per_town {
                let village_code = format!("{}{:03}", &town_code[..9], 201 + v);
                let village_name = loop {
                    let n = format!("{}{}村", VILLAGE_FIRST.choose(&mut rng).expect("n"), VILLAGE_SECOND.choose(&mut rng).expect("n"));
                    if used_names.insert(n.clone()) {
                        break n;
                    }
                };
                let visits = plan.get(&(t, v)).cloned().unwrap_or_default();
                let village_inspections: Vec<(String, NaiveDate, NaiveDate)> =
                    visits.iter().map(|(r, _)| (round_ids[*r].clone(), round_dates[*r].0 + Duration::days(rng.random_range(0..5)), round_dates[*r].1)).collect();
                for ((r, mode), (_, start, end)) in visits.iter().zip(&village_inspections) {
                    inspections.push(Inspection {
                        round_id: round_ids[*r].clone(),
                        term: "十三届".into(),
                        round_no: *r as i64 + 5,
                        group_name: format!("县委第{}巡察组", CHINESE_NUMBERS[(t + r) % 4]),
                        target_code: village_code.clone(),
                        target_name: format!("{town_name}{village_name}"),
                        target_type: "村",
                        mode,
                        start: *start,
                        end: Some(*end),
                    });
                }
                let inspected_before_last = visits.iter().any(|(r, _)| *r + 1 < rounds);
                let plants = self.plants(inspected_before_last);
                let ctx = VillageContext {
                    county_code: code,
                    county_name: name,
                    town_code: &town_code,
                    town_name: &town_name,
                    village_code: &village_code,
                    village_name: &village_name,
                    people: self.params.people_per_village,
                    months: &self.months,
                    as_of: self.as_of,
                    firms: &county.firms,
                    agencies: &county.agencies,
                    inspections: &village_inspections,
                    plants: &plants,
                };
                let village_rng = self.rng(&village_code);
                let data = VillageBuilder::new(&ctx, village_rng, &mut self.ids).build();
                let households = data.people.iter().map(|p| p.household.as_str()).collect::<BTreeSet<_>>().len() as i64;
                let residents = data.people.iter().filter(|p| p.status == "正常").count() as i64;
                divisions.push(Division { code: village_code.clone(), name: village_name.clone(), level: "村", parent_code: Some(town_code.clone()), population: residents, households });
                town_people += residents;
                town_households += households;
                self.village(&data, code, &town_code, &town_name)?;
                self.village_serial += 1;
            }
            divisions.push(Division { code: town_code.clone(), name: town_name, level: "乡镇", parent_code: Some(format!("{code}000000")), population: town_people, households: town_households });
            county_people += town_people;
            county_households += town_households;
            self.sinks.close_matching(&town_code)?;
        }
        divisions.push(Division { code: format!("{code}000000"), name: name.into(), level: "县", parent_code: Some("430200000000".into()), population: county_people, households: county_households });
        divisions.sort_by(|a, b| a.code.cmp(&b.code));
        for d in &divisions {
            self.emit("divisions", &format!("{code}_行政区划"), &format!("{name}行政区划代码表"), ALL, d)?;
        }
        self.county_targets(&mut rng, &county, &round_ids, &round_dates, &divisions, &mut inspections)?;
        for i in &inspections {
            self.emit("inspections", &format!("{code}_巡察对象"), &format!("{name}十三届县委巡察对象清单"), ALL, i)?;
        }
        self.sinks.close_matching(code)?;
        Ok(())
    }

    /// Which rules to plant in the next village.
    fn plants(&self, inspected_before_last: bool) -> Vec<&'static str> {
        RULE_IDS
            .iter()
            .enumerate()
            .filter(|(ri, rule)| if rule.starts_with("rectification_") { inspected_before_last } else { (self.village_serial + ri * 5).is_multiple_of(8) })
            .map(|(_, r)| *r)
            .collect()
    }

    /// Towns and agencies inspected each round, with their problems; one
    /// agency problem per county left open past its deadline.
    fn county_targets(
        &mut self,
        rng: &mut ChaCha8Rng,
        county: &County,
        round_ids: &[String],
        round_dates: &[(NaiveDate, NaiveDate)],
        divisions: &[Division],
        inspections: &mut Vec<Inspection>,
    ) -> Result<(), SynthError> {
        let towns: Vec<&Division> = divisions.iter().filter(|d| d.level == "乡镇").collect();
        let mut problems = VillageData::default();
        for (r, round_id) in round_ids.iter().enumerate() {
            let (start, end) = round_dates[r];
            let town_count = rng.random_range(1..=2);
            let mut targets: Vec<(String, String, &'static str)> = towns.choose_multiple(rng, town_count).map(|t| (t.code.clone(), t.name.clone(), "乡镇")).collect();
            for a in county.agencies.choose_multiple(rng, 3) {
                let kind = if a.name.ends_with("医院") {
                    "医院"
                } else if a.name.ends_with("学") {
                    "学校"
                } else {
                    "部门"
                };
                targets.push((a.code.clone(), a.name.clone(), kind));
            }
            for (code, name, kind) in targets {
                inspections.push(Inspection {
                    round_id: round_id.clone(),
                    term: "十三届".into(),
                    round_no: r as i64 + 5,
                    group_name: format!("县委第{}巡察组", CHINESE_NUMBERS[r % 4]),
                    target_code: code.clone(),
                    target_name: name,
                    target_type: kind,
                    mode: if kind == "乡镇" { "常规巡察" } else { "专项巡察" },
                    start,
                    end: Some(end),
                });
                for k in 0..rng.random_range(5..=12) {
                    problems.problems.push(problem_row(rng, round_id, &code, start, end, self.as_of, k));
                }
            }
        }
        if let Some(p) = problems.problems.iter_mut().find(|p| p.target_code.len() == 18 && p.deadline.is_some_and(|d| d < self.as_of)) {
            p.status = "整改中";
            p.rectified = None;
        }
        let mut hits = BTreeSet::new();
        oracle::problem_rules(&problems, self.as_of, &mut hits);
        self.hits.extend(hits);
        for p in &problems.problems {
            self.emit("problems", &format!("{}_问题台账", county.code), &format!("{}巡察反馈问题整改台账", county.name), ALL, p)?;
        }
        Ok(())
    }

    /// County firms villages deal with, registered as businesses too.
    fn firms(&mut self, rng: &mut ChaCha8Rng, code: &str, name: &str) -> Result<Vec<Firm>, SynthError> {
        let count = 12 + self.params.towns * self.params.villages_per_town / 6;
        let mut firms = Vec::new();
        for i in 0..count {
            let (kind, trade) = match i % 6 {
                0 | 1 => (FirmKind::Builder, "建筑工程有限公司"),
                2 => (FirmKind::Builder, "市政建设有限公司"),
                3 => (FirmKind::Supplier, "办公用品经营部"),
                4 => (FirmKind::Restaurant, "餐饮服务有限公司"),
                _ => (FirmKind::Travel, "旅行社有限公司"),
            };
            let stem = format!("{}{}", VILLAGE_FIRST.choose(rng).expect("n"), ["兴", "盛", "达", "鑫", "宏", "诚", "顺", "泰"].choose(rng).expect("n"));
            let firm_name = format!("{name}{stem}{trade}");
            let credit = self.ids.credit_code("91", code);
            let birth = NaiveDate::from_ymd_opt(rng.random_range(1960..1990), 1, 1).expect("date") + Duration::days(rng.random_range(0..365));
            // Owners from the city district: never residents of a village here.
            let rep = self.ids.person_id(rng, "430203", birth, true);
            let rep_name = format!("{}{}", names::surname(rng), names::given_name(rng, true, 1975));
            let business = Business {
                credit_code: credit.clone(),
                name: firm_name.clone(),
                rep_id: Some(rep.clone()),
                rep_name: Some(rep_name.clone()),
                capital: rng.random_range(50..2000) * 100,
                established: NaiveDate::from_ymd_opt(rng.random_range(2003..2020), 3, 1).expect("date"),
                status: "存续",
                village: None,
            };
            let people = vec![BusinessPerson { credit_code: credit.clone(), id: rep, name: rep_name, role: "股东", share: Some("100".into()) }];
            self.businesses.add(&business, &people);
            self.emit("businesses", &format!("{code}_市场主体"), &format!("{name}市场主体登记信息"), ALL, &business)?;
            for p in &people {
                self.emit("business_people", &format!("{code}_企业股东及主要人员"), &format!("{name}企业股东及主要人员"), ALL, p)?;
            }
            firms.push(Firm { code: credit, name: firm_name, kind });
        }
        Ok(firms)
    }

    fn agencies(&mut self, code: &str, name: &str) -> Vec<Agency> {
        AGENCIES.iter().map(|(kind, agency)| Agency { code: self.ids.credit_code(kind, code), name: format!("{name}{agency}") }).collect()
    }

    /// Writes one village's rows and adds its answers to the key.
    fn village(&mut self, v: &VillageData, county: &str, town: &str, town_name: &str) -> Result<(), SynthError> {
        for b in &v.businesses {
            self.businesses.add(b, &v.business_people);
        }
        let hits = oracle::evaluate(v, &self.businesses, self.as_of);
        self.hits.extend(hits);
        self.people += v.people.len() as u64;
        let year = self.as_of.format("%Y").to_string();
        for p in &v.people {
            self.emit("population", &format!("{town}_户籍人口"), &format!("{town_name}户籍人口信息表"), NO_XLSX, p)?;
        }
        for d in &v.deaths {
            self.emit("deaths", &format!("{county}_死亡登记_{}", d.source), &format!("{}死亡人员信息", d.source), ALL, d)?;
        }
        for c in &v.cadres {
            let stem = if c.cadre_type == "公职人员" { format!("{county}_财政供养人员名册") } else { format!("{county}_干部名册") };
            self.emit("cadres", &stem, "干部人员花名册", ALL, c)?;
        }
        for p in &v.payments {
            let (stem, formats) = match p.program {
                "临时救助" | "危房改造" | "青苗补偿" => (format!("{county}_{}", p.program), ALL),
                "养老金" | "高龄津贴" => (format!("{town}_{}", p.program), NO_XLSX),
                _ => (format!("{town}_{}", p.program), ALL),
            };
            self.emit("subsidy_payments", &stem, &format!("{year}年{town_name}{}发放花名册", p.program), formats, p)?;
        }
        for j in &v.jobs {
            self.emit("welfare_jobs", &format!("{county}_公益岗位"), "公益性岗位人员花名册", ALL, j)?;
        }
        for a in &v.attendance {
            self.emit("attendance", &format!("{town}_公益岗考勤"), &format!("{town_name}公益性岗位考勤汇总表"), ALL, a)?;
        }
        for i in &v.insurance {
            self.emit("social_insurance", &format!("{town}_社保缴费"), "职工社会保险缴费明细", NO_XLSX, i)?;
        }
        for x in &v.vehicles {
            self.emit("vehicles", &format!("{county}_机动车"), "机动车登记信息", NO_XLSX, x)?;
        }
        for b in &v.businesses {
            self.emit("businesses", &format!("{county}_市场主体"), "市场主体登记信息", ALL, b)?;
        }
        for b in &v.business_people {
            self.emit("business_people", &format!("{county}_企业股东及主要人员"), "企业股东及主要人员", ALL, b)?;
        }
        for p in &v.petitions {
            self.emit("petitions", &format!("{county}_信访件"), "信访件登记台账", ALL, p)?;
        }
        for x in &v.vouchers {
            self.emit("finance_vouchers", &format!("{town}_三资凭证"), &format!("{town_name}农村集体三资记账凭证"), ALL, x)?;
        }
        for c in &v.contracts {
            self.emit("contracts", &format!("{county}_村级合同"), "村级合同台账", ALL, c)?;
        }
        for p in &v.problems {
            self.emit("problems", &format!("{county}_问题台账"), "巡察反馈问题整改台账", ALL, p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use xuncha_core::values::{id_birth_date, id_valid};

    fn world(plants: &[&'static str], seed: u64) -> VillageData {
        let mut ids = IdAllocator::default();
        let kinds = [FirmKind::Builder, FirmKind::Builder, FirmKind::Builder, FirmKind::Supplier, FirmKind::Restaurant, FirmKind::Travel];
        let firms: Vec<Firm> = (0..30).map(|i| Firm { code: ids.credit_code("91", "430223"), name: format!("公司{i}"), kind: kinds[i % kinds.len()] }).collect();
        let agencies = vec![Agency { code: ids.credit_code("11", "430223"), name: "攸县教育局".into() }];
        let months: Vec<Month> = (0..24).map(|i| last_month().plus(i - 23)).collect();
        let as_of = last_month().last_day();
        let inspections = vec![("4302231305".to_string(), months[1].first_day(), months[2].first_day())];
        let ctx = VillageContext {
            county_code: "430223",
            county_name: "攸县",
            town_code: "430223101000",
            town_name: "网岭镇",
            village_code: "430223101201",
            village_name: "东塘村",
            people: 1500,
            months: &months,
            as_of,
            firms: &firms,
            agencies: &agencies,
            inspections: &inspections,
            plants,
        };
        VillageBuilder::new(&ctx, ChaCha8Rng::seed_from_u64(seed), &mut ids).build()
    }

    fn hits(v: &VillageData, extra_businesses: &BusinessIndex) -> Vec<Hit> {
        oracle::evaluate(v, extra_businesses, last_month().last_day())
    }

    #[test]
    fn people_have_valid_ids_that_code_their_birth_and_sex() {
        let v = world(&[], 1);
        assert!(v.people.len() > 1000);
        for p in &v.people {
            assert!(id_valid(&p.id), "{}", p.id);
            assert_eq!(id_birth_date(&p.id), Some(p.birth), "{}", p.id);
            assert_eq!(p.id.as_bytes()[16] % 2 == 1, p.male, "{}", p.id);
        }
        let elderly = v.people.iter().filter(|p| p.birth.year() <= 1966).count() as f64 / v.people.len() as f64;
        assert!((0.15..0.45).contains(&elderly), "share 60+: {elderly}");
    }

    #[test]
    fn the_baseline_meets_no_rule() {
        for seed in 1..=4 {
            let v = world(&[], seed);
            let mut index = BusinessIndex::default();
            for b in &v.businesses {
                index.add(b, &v.business_people);
            }
            assert_eq!(hits(&v, &index), Vec::<Hit>::new(), "seed {seed}");
        }
    }

    #[test]
    fn every_plant_meets_its_rule() {
        for rule in RULE_IDS {
            let v = world(&[rule], 11);
            let mut index = BusinessIndex::default();
            for b in &v.businesses {
                index.add(b, &v.business_people);
            }
            let found = hits(&v, &index).iter().filter(|(r, _)| r == rule).count();
            assert!(found >= 1, "planting {rule} gave no entity");
        }
    }

    #[test]
    fn same_seed_same_village() {
        let a = world(&RULE_IDS[..5], 5);
        let b = world(&RULE_IDS[..5], 5);
        assert_eq!(format!("{:?}", a.payments), format!("{:?}", b.payments));
        assert_eq!(format!("{:?}", a.people), format!("{:?}", b.people));
    }
}
