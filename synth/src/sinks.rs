//! The inbox being written: every open file, the bad rows departments slip
//! in, and the lists the generator leaves beside the source folders
//! (`expected_quarantine.csv`, `expected_counts.csv`).
//!
//! Bad rows are extra rows (a good row with one cell spoiled, or a good row
//! pasted twice), so the good data and the answer key are untouched by them.
//! Every non-empty file carries at least one.

use super::model::Val;
use super::render::{FileStyle, Format, Out, SourceFile};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use xuncha_core::contract::{ColumnType, Source};
use xuncha_core::values::id_check_digit;

struct OpenFile {
    file: SourceFile,
    rng: ChaCha8Rng,
    rows_until_bad: u64,
    bad_rows: u64,
    last_good: Option<Vec<Val>>,
}

/// A row department staff got wrong, as listed in `expected_quarantine.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BadRow {
    pub source: &'static str,
    pub file: String,
    pub row_number: u64,
    pub reason_kind: &'static str,
}

/// All files of the inbox being written.
pub(crate) struct Sinks {
    inbox: PathBuf,
    seed: u64,
    open: BTreeMap<String, OpenFile>,
    good_rows: BTreeMap<&'static str, u64>,
    bad: Vec<BadRow>,
    bad_serial: u64,
}

/// A seed for a named thing, stable across runs and platforms.
pub(crate) fn derive_seed(seed: u64, name: &str) -> u64 {
    let digest = Sha256::new().chain_update(seed.to_le_bytes()).chain_update(name.as_bytes()).finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

impl Sinks {
    pub(crate) fn new(inbox: &Path, seed: u64) -> Sinks {
        Sinks { inbox: inbox.to_path_buf(), seed, open: BTreeMap::new(), good_rows: BTreeMap::new(), bad: Vec::new(), bad_serial: 0 }
    }

    /// Writes one good row to `source/stem.*`, opening the file with a style
    /// drawn from `formats` on first use.
    pub(crate) fn emit(&mut self, source: &'static Source, stem: &str, title: &str, formats: &[Format], cells: Vec<Val>) -> io::Result<()> {
        let cents = cells.iter().find_map(|v| if let Val::Money(c) = v { Some(*c) } else { None });
        let key = format!("{}/{stem}", source.name);
        if !self.open.contains_key(&key) {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(self.seed, &key));
            let style = FileStyle::draw(&mut rng, formats);
            let file = SourceFile::create(&self.inbox, source, stem, style, title)?;
            let rows_until_bad = rng.random_range(1..40);
            self.open.insert(key.clone(), OpenFile { file, rng, rows_until_bad, bad_rows: 0, last_good: None });
        }
        let open = self.open.get_mut(&key).expect("opened");
        let rendered = open.file.render(&cells, &mut open.rng);
        open.file.write(rendered, cents)?;
        *self.good_rows.entry(source.name).or_default() += 1;
        open.last_good = Some(cells);
        open.rows_until_bad -= 1;
        if open.rows_until_bad == 0 {
            open.rows_until_bad = open.rng.random_range(800..4000);
            Self::spoil(open, &mut self.bad, &mut self.bad_serial)?;
        }
        Ok(())
    }

    /// Closes every file whose stem starts with `prefix`.
    pub(crate) fn close_matching(&mut self, prefix: &str) -> io::Result<()> {
        let keys: Vec<String> = self.open.keys().filter(|k| k.split_once('/').is_some_and(|(_, stem)| stem.starts_with(prefix))).cloned().collect();
        for key in keys {
            let mut open = self.open.remove(&key).expect("listed");
            if open.bad_rows == 0 && open.last_good.is_some() {
                Self::spoil(&mut open, &mut self.bad, &mut self.bad_serial)?;
            }
            open.file.finish()?;
        }
        Ok(())
    }

    /// Writes one bad row after the last good one.
    fn spoil(open: &mut OpenFile, bad: &mut Vec<BadRow>, serial: &mut u64) -> io::Result<()> {
        let Some(template) = open.last_good.clone() else { return Ok(()) };
        let source = open.file.source;
        *serial += 1;
        let kinds = bad_kinds(source);
        let kind = *kinds.choose(&mut open.rng).expect("a kind");
        let (cells, spoiled) = if kind == "duplicate_key" {
            (open.file.render(&template, &mut open.rng), None)
        } else {
            let fresh = fresh_key(source, template, *serial);
            let (column, literal) = spoil_cell(source, kind, &mut open.rng);
            (open.file.render(&fresh, &mut open.rng), Some((column, literal)))
        };
        let mut cells = cells;
        if let Some((column, literal)) = spoiled {
            cells[column] = literal.map_or(Out::Empty, |l| Out::Text(l.to_string()));
        }
        let row_number = open.file.write(cells, None)?;
        open.bad_rows += 1;
        bad.push(BadRow { source: source.name, file: open.file.rel_path.clone(), row_number, reason_kind: kind });
        Ok(())
    }

    /// Closes all files and writes the expectation lists.
    pub(crate) fn finish(mut self) -> io::Result<(Vec<BadRow>, BTreeMap<&'static str, u64>)> {
        self.close_matching("")?;
        let mut bad = std::mem::take(&mut self.bad);
        bad.sort();
        let mut w = csv::Writer::from_path(self.inbox.join("expected_quarantine.csv"))?;
        w.write_record(["source", "file", "row_number", "reason_kind"])?;
        for b in &bad {
            w.write_record([b.source, &b.file, &b.row_number.to_string(), b.reason_kind])?;
        }
        w.flush()?;
        let mut w = csv::Writer::from_path(self.inbox.join("expected_counts.csv"))?;
        w.write_record(["source", "rows"])?;
        for s in xuncha_core::contract::SOURCES {
            w.write_record([s.name, &self.good_rows.get(s.name).copied().unwrap_or(0).to_string()])?;
        }
        w.flush()?;
        Ok((bad, self.good_rows))
    }
}

/// The kinds of mistake that fit a source's columns.
fn bad_kinds(source: &Source) -> Vec<&'static str> {
    let mut kinds = vec!["missing_required", "duplicate_key"];
    let has = |f: fn(ColumnType) -> bool| source.columns.iter().any(|c| f(c.ty));
    if has(|t| t == ColumnType::Date) {
        kinds.push("bad_date");
    }
    if has(|t| t == ColumnType::Month) {
        kinds.push("bad_month");
    }
    if has(|t| t == ColumnType::Money) {
        kinds.push("bad_money");
    }
    if has(|t| t == ColumnType::Int) {
        kinds.push("bad_int");
    }
    if has(|t| matches!(t, ColumnType::Enum(_))) {
        kinds.push("bad_enum");
    }
    if source.name != "subsidy_payments" && has(|t| t == ColumnType::Id) {
        kinds.push("bad_id");
    }
    kinds
}

/// The template row with a key no good row has.
fn fresh_key(source: &Source, mut cells: Vec<Val>, serial: u64) -> Vec<Val> {
    let column = source.column_index(source.key[0]).expect("key column");
    cells[column] = match &cells[column] {
        Val::Id(_) => Val::Id(fresh_id(serial)),
        Val::Str(s) => Val::Str(format!("{s}E{serial}")),
        other => other.clone(),
    };
    cells
}

/// A checksum-valid ID from a region no generated person comes from.
pub(crate) fn fresh_id(serial: u64) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1960, 1, 1).expect("date") + chrono::Duration::days((serial % 15_000) as i64);
    let body = format!("429004{}{:03}", birth.format("%Y%m%d"), serial / 15_000 % 1000);
    let check = id_check_digit(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Which cell to spoil for a kind of mistake, and the text to put there
/// (`None`: leave it empty).
fn spoil_cell(source: &Source, kind: &str, rng: &mut ChaCha8Rng) -> (usize, Option<&'static str>) {
    let pick = |rng: &mut ChaCha8Rng, f: &dyn Fn(&xuncha_core::contract::Column) -> bool| -> usize {
        let candidates: Vec<usize> = source.columns.iter().enumerate().filter(|(_, c)| f(c)).map(|(i, _)| i).collect();
        *candidates.choose(rng).expect("a column of that kind")
    };
    match kind {
        "missing_required" if source.columns.iter().any(|c| c.required && !source.key.contains(&c.name)) => (pick(rng, &|c| c.required && !source.key.contains(&c.name)), None),
        // Every required column is part of the key: blank one beside the first.
        "missing_required" => (pick(rng, &|c| c.required && c.name != source.key[0]), None),
        "bad_date" => (pick(rng, &|c| c.ty == ColumnType::Date), ["2023-02-29", "2024-13-01", "待定", "2024-02-30"].choose(rng).copied()),
        "bad_month" => (pick(rng, &|c| c.ty == ColumnType::Month), ["2024-13", "2024-00", "待定"].choose(rng).copied()),
        "bad_money" => (pick(rng, &|c| c.ty == ColumnType::Money), ["待定", "1.2.3", "约500元", "abc"].choose(rng).copied()),
        "bad_int" => (pick(rng, &|c| c.ty == ColumnType::Int), ["二十", "约10", "n/a"].choose(rng).copied()),
        "bad_enum" => (pick(rng, &|c| matches!(c.ty, ColumnType::Enum(_))), ["待核实", "不详"].choose(rng).copied()),
        "bad_id" => (pick(rng, &|c| c.ty == ColumnType::Id), ["43022319500307123", "身份证遗失", "4302231950030712345"].choose(rng).copied()),
        other => unreachable!("unknown kind {other}"),
    }
}
