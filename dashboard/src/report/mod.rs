//! The common-issue thematic report (共性问题专题报告) as files: its data
//! comes from `xuncha_queries::report` (what makes a topic common and every
//! figure is in `queries/reports/common_issues.sql`); this module writes it
//! as HTML, Markdown or Word, people masked.

pub(crate) mod docx;
mod render;
mod text;

pub use render::{Format, bytes, write};
pub(crate) use text::wan;
