//! The dashboard's panels: every key figure, chart and table of a page is
//! one query of `queries/panels/<page>.sql` (a [`sheet`](crate::sheet)), so
//! "how is 整改率 computed?" is answered by opening the page's file.
//!
//! A panel's header names how it is shown and when:
//! ```sql
//! -- panel: by_town
//! -- title: 各乡镇整改率
//! -- view: bars 乡镇 整改率百分比 %     (tiles | table | cards | bars <label> <value> <unit>
//! --                                     | lines <x> <value>… | heat <row> <column> <value>
//! --                                     | funnel <stage> <count> | map <town> <place> <tier>)
//! -- links: findings                   (rows open a finding: run_id, rule_id, entity_key;
//! --                                     `village`, `case`: the first column's; `cases`:
//! --                                     the queue filtered by the hidden column 筛选;
//! --                                     `page NAME`: that page filtered by 筛选)
//! -- requires: village                 (shown only with that filter; `unless:` only without)
//! ```
//! The filters are the placeholders, always filled (`NULL` when unset):
//! `${town}` (a town's 9-digit code prefix), `${term}` (届次), `${from}` and
//! `${to}` (dates), `${village}` (12-digit code) and `${rule}` (a rule id);
//! a query narrows with e.g. `(${town} IS NULL OR starts_with(village_code, ${town}))`.
//! The values are bound, never pasted into the SQL.
//! The built-in sheets are embedded in the binary.

use crate::QueryError;
use crate::sheet::{Block, Bound, Param, Sheet, date, text};
use chrono::NaiveDate;
use std::sync::OnceLock;

/// Every `queries/panels/*.sql` file, embedded by `build.rs` as (page, text).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_panels.rs"));

/// The filters a page applies to its panels, already checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// A town's 12-digit code.
    pub town: Option<String>,
    pub term: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A village's 12-digit code.
    pub village: Option<String>,
    pub rule: Option<String>,
}

impl Filters {
    /// Each placeholder and its value.
    pub fn values(&self) -> Vec<Param> {
        vec![
            ("town", text(self.town.as_deref().map(|t| t.get(..9).unwrap_or(t)))),
            ("term", text(self.term.as_deref())),
            ("from", date(self.from)),
            ("to", date(self.to)),
            ("village", text(self.village.as_deref())),
            ("rule", text(self.rule.as_deref())),
        ]
    }

    fn is_set(&self, name: &str) -> bool {
        match name {
            "town" => self.town.is_some(),
            "term" => self.term.is_some(),
            "from" => self.from.is_some(),
            "to" => self.to.is_some(),
            "village" => self.village.is_some(),
            "rule" => self.rule.is_some(),
            _ => false,
        }
    }
}

/// How a panel shows its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// The first row's columns as key figures.
    Tiles,
    Table,
    /// One card per row: red when its `逾期` is above zero, else yellow
    /// (the first column its title, the others its figures).
    Cards,
    /// Bars of `value` per `label`, and the table.
    Bars {
        label: String,
        value: String,
        unit: String,
    },
    /// Lines of `values` over `x`, and the table.
    Lines {
        x: String,
        values: Vec<String>,
    },
    /// A heat map of `value` by `row` × `column`, without the table.
    Heat {
        row: String,
        column: String,
        value: String,
    },
    /// The case funnel: one band per row, `count` cases at step `stage`,
    /// with the conversion from the step before.
    Funnel {
        stage: String,
        count: String,
    },
    /// A schematic map: one square per row (a village) under its `town`,
    /// coloured by its risk `tier`; the row links as `links` says.
    Map {
        town: String,
        place: String,
        tier: String,
    },
}

impl View {
    fn parse(text: &str) -> Option<View> {
        let words: Vec<String> = text.split_whitespace().map(String::from).collect();
        Some(match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["tiles"] => View::Tiles,
            ["table"] => View::Table,
            ["cards"] => View::Cards,
            ["bars", label, value, unit] => View::Bars { label: (*label).into(), value: (*value).into(), unit: (*unit).into() },
            ["lines", x, values @ ..] if !values.is_empty() => View::Lines { x: (*x).into(), values: values.iter().map(|v| (*v).to_string()).collect() },
            ["heat", row, column, value] => View::Heat { row: (*row).into(), column: (*column).into(), value: (*value).into() },
            ["funnel", stage, count] => View::Funnel { stage: (*stage).into(), count: (*count).into() },
            ["map", town, place, tier] => View::Map { town: (*town).into(), place: (*place).into(), tier: (*tier).into() },
            _ => return None,
        })
    }
}

/// Where a panel's rows lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Links {
    None,
    /// To a finding's evidence page (the rows carry run_id, rule_id, entity_key).
    Findings,
    /// To the village's file (the first column is the village code).
    Village,
    /// To one case (the first column is the case id).
    Case,
    /// To the case queue, filtered by the row's hidden `筛选` column (a query string).
    Cases,
    /// To another page (`links: page findings`), filtered by the row's hidden `筛选` column.
    Page(String),
}

/// One panel of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub id: String,
    pub title: String,
    pub view: View,
    pub links: Links,
    /// Filters that must be set for the panel to show, and that must not.
    pub requires: Vec<String>,
    pub unless: Vec<String>,
    /// The SQL, placeholders unfilled.
    pub sql: String,
}

impl Panel {
    fn parse(block: &Block, page: &str) -> Result<Panel, QueryError> {
        let what = format!("panels/{page}.sql panel {}", block.name);
        let view = block.field("view")?;
        let list = |key: &str| -> Result<Vec<String>, QueryError> {
            let names: Vec<String> = block.fields.get(key).map(|v| v.split_whitespace().map(String::from).collect()).unwrap_or_default();
            match names.iter().find(|n| !Filters::default().values().iter().any(|(p, _)| p == n)) {
                Some(bad) => Err(QueryError::Authoring(format!("{what}: `{key}: {bad}` is not a filter"))),
                None => Ok(names),
            }
        };
        Ok(Panel {
            id: block.name.clone(),
            title: block.field("title")?.to_string(),
            view: View::parse(view).ok_or_else(|| QueryError::Authoring(format!("{what}: unknown view 「{view}」")))?,
            links: match block.fields.get("links").map(String::as_str) {
                None => Links::None,
                Some("findings") => Links::Findings,
                Some("village") => Links::Village,
                Some("case") => Links::Case,
                Some("cases") => Links::Cases,
                Some(other) if other.starts_with("page ") && crate::panels::BUILTIN.iter().any(|(page, _)| Some(*page) == other.strip_prefix("page ")) => {
                    Links::Page(other["page ".len()..].to_string())
                }
                Some(other) => return Err(QueryError::Authoring(format!("{what}: unknown links 「{other}」"))),
            },
            requires: list("requires")?,
            unless: list("unless")?,
            sql: block.sql.clone(),
        })
    }

    /// Whether the panel shows under these filters.
    pub fn applies(&self, filters: &Filters) -> bool {
        self.requires.iter().all(|f| filters.is_set(f)) && !self.unless.iter().any(|f| filters.is_set(f))
    }

    /// The SQL with the filters bound.
    pub fn bind(&self, filters: &Filters) -> Result<Bound, QueryError> {
        Bound::new(&self.sql, &filters.values(), &format!("panel {}", self.id))
    }
}

/// A page's panels, from its sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelSheet {
    pub page: String,
    pub title: String,
    pub panels: Vec<Panel>,
}

impl PanelSheet {
    /// The panels shown under these filters, in the sheet's order.
    pub fn shown(&self, filters: &Filters) -> impl Iterator<Item = &Panel> {
        self.panels.iter().filter(move |p| p.applies(filters))
    }

    /// The panel `id` as shown under these filters.
    pub fn panel(&self, id: &str, filters: &Filters) -> Option<&Panel> {
        self.shown(filters).find(|p| p.id == id)
    }
}

/// Parses a page's sheet.
pub fn parse(page: &str, text: &str) -> Result<PanelSheet, QueryError> {
    let origin = format!("panels/{page}.sql");
    let sheet = Sheet::parse(text, &origin)?;
    if sheet.field("page", &origin)? != page {
        return Err(QueryError::Authoring(format!("{origin}: names itself page 「{}」", sheet.field("page", &origin)?)));
    }
    let panels = sheet.blocks.iter().map(|b| Panel::parse(b, page)).collect::<Result<Vec<_>, _>>()?;
    Ok(PanelSheet { page: page.to_string(), title: sheet.field("title", &origin)?.to_string(), panels })
}

/// Every built-in page's panels (parsed once; a bad built-in sheet is a
/// build defect that the tests catch).
pub fn builtin() -> &'static [PanelSheet] {
    static SHEETS: OnceLock<Vec<PanelSheet>> = OnceLock::new();
    SHEETS.get_or_init(|| BUILTIN.iter().map(|(page, text)| parse(page, text).unwrap_or_else(|e| panic!("built-in panel sheet: {e}"))).collect())
}

/// The built-in sheet of `page`.
pub fn page(page: &str) -> Option<&'static PanelSheet> {
    builtin().iter().find(|s| s.page == page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_sheet_parses_and_binds() {
        let all = Filters {
            town: Some("430223101000".into()),
            term: Some("十三届".into()),
            from: NaiveDate::from_ymd_opt(2024, 1, 1),
            to: NaiveDate::from_ymd_opt(2026, 6, 30),
            village: Some("430223101201".into()),
            rule: Some("deceased_paid".into()),
        };
        assert!(builtin().len() >= 8);
        for sheet in builtin() {
            assert!(!sheet.panels.is_empty(), "{}", sheet.page);
            for panel in &sheet.panels {
                for filters in [&Filters::default(), &all] {
                    let bound = panel.bind(filters).unwrap();
                    assert!(!bound.sql.contains("${"), "{}/{}", sheet.page, panel.id);
                }
                let links = sheet.panels.iter().filter(|p| p.id == panel.id).count();
                assert!(links == 1 || !panel.requires.is_empty() || !panel.unless.is_empty(), "{}/{}: a repeated id needs requires/unless", sheet.page, panel.id);
            }
        }
    }

    #[test]
    fn requires_and_unless_choose_the_variant() {
        let findings = page("findings").unwrap();
        let list = |f: &Filters| findings.panel("list", f).unwrap().sql.clone();
        let ruled = Filters { rule: Some("deceased_paid".into()), ..Filters::default() };
        assert_ne!(list(&Filters::default()), list(&ruled));
        let village = page("village").unwrap();
        assert_eq!(village.shown(&Filters::default()).map(|p| p.id.as_str()).collect::<Vec<_>>(), ["villages"]);
        let one = Filters { village: Some("430223101201".into()), ..Filters::default() };
        assert!(village.shown(&one).all(|p| p.id != "villages") && village.shown(&one).count() >= 8);
    }

    #[test]
    fn the_village_risk_panel_lists_every_score_component() {
        let sql = &page("village").unwrap().panels.iter().find(|p| p.id == "risk").unwrap().sql;
        for c in crate::scores::COMPONENTS {
            assert!(sql.contains(&format!("'{}'", c.label)) && sql.contains(&format!("{}_pts", c.name)), "{}", c.name);
        }
    }

    #[test]
    fn bad_headers_are_named() {
        let bad = |text: &str| parse("p", text).unwrap_err().to_string();
        assert!(bad("-- page: q\n-- title: t\n-- panel: a\n-- title: t\n-- view: table\nSELECT 1").contains("names itself"));
        assert!(bad("-- page: p\n-- title: t\n-- panel: a\n-- title: t\n-- view: pie\nSELECT 1").contains("pie"));
        assert!(bad("-- page: p\n-- title: t\n-- panel: a\n-- title: t\n-- view: table\n-- requires: colour\nSELECT 1").contains("colour"));
        assert!(bad("-- page: p\n-- title: t\n-- panel: a\n-- view: table\nSELECT 1").contains("-- title:"));
    }
}
