//! The site map: every page of the dashboard and every tool, the lowest
//! role that sees it, and the navigation derived from them. A page's title
//! and panels are `queries/panels/<name>.sql`.

use crate::users::Role;
use xuncha_queries::panels::{self, PanelSheet};

/// What a page shows between its filter bar and its panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    Nothing,
    /// The inspection plan (risk page).
    Plan,
    /// Links to the thematic report (common-issues page).
    ReportLinks,
}

/// One page: `/p/{name}`.
pub(crate) struct Page {
    pub(crate) name: &'static str,
    /// The lowest role that sees it.
    pub(crate) role: Role,
    pub(crate) head: Head,
}

impl Page {
    /// Its panels (a page without a sheet is a build defect the tests catch).
    pub(crate) fn sheet(&self) -> &'static PanelSheet {
        panels::page(self.name).unwrap_or_else(|| panic!("queries/panels/{}.sql is missing", self.name))
    }
}

/// Every page, in navigation order.
pub(crate) const PAGES: &[Page] = &[
    Page { name: "overview", role: Role::Leader, head: Head::Nothing },
    Page { name: "rectification", role: Role::Leader, head: Head::Nothing },
    Page { name: "findings", role: Role::Leader, head: Head::Nothing },
    Page { name: "risk", role: Role::Leader, head: Head::Plan },
    Page { name: "petitions", role: Role::Leader, head: Head::Nothing },
    Page { name: "common", role: Role::Leader, head: Head::ReportLinks },
    Page { name: "village", role: Role::Leader, head: Head::Nothing },
    Page { name: "data", role: Role::Leader, head: Head::Nothing },
];

/// The navigation: every page, then the console and the admin pages —
/// (path, title, lowest role).
pub(crate) fn nav() -> impl Iterator<Item = (String, &'static str, Role)> {
    let pages = PAGES.iter().map(|p| (format!("/p/{}", p.name), p.sheet().title.as_str(), p.role));
    let tools = [("/cases", "线索处置", Role::Unit), ("/sql", "SQL 控制台", Role::Analyst), ("/admin/users", "用户", Role::Admin), ("/admin/audit", "审计日志", Role::Admin)];
    pages.chain(tools.into_iter().map(|(path, title, role)| (path.to_string(), title, role)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_sheet_and_every_sheet_a_page() {
        for page in PAGES {
            assert!(!page.sheet().title.is_empty(), "{}", page.name);
        }
        for sheet in panels::builtin() {
            assert!(PAGES.iter().any(|p| p.name == sheet.page), "queries/panels/{}.sql has no page", sheet.page);
        }
        assert_eq!(nav().count(), PAGES.len() + 4);
    }
}
