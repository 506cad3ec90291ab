//! A scoped user's tables: only the rows of their county, town or village,
//! and no user expression ever sees a row outside it.
//!
//! A scoped table is not a view. A view is inlined into the user's query,
//! and the optimizer then moves the user's own predicates next to (or
//! below) the scope's: `WHERE 1/(CASE WHEN id_number = '…' THEN 0 ELSE 1
//! END) = 1` raised "divide by zero" for an ID of another town, and a
//! prefix search read out whole ID numbers. So each scoped table is a
//! [`ScopedTable`]: a provider that accepts no filters (the user's stay
//! above it), whose scan is the scope's own plan under a [`ScopeBarrier`],
//! an operator that lets no filter through to the scan below and reports no
//! statistics (so no count of the whole county either). Whatever the user
//! writes is evaluated on in-scope rows only.

use crate::QueryError;
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Column;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, LogicalPlanBuilder, cast, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, ReplaceChildrenOptions};
use datafusion::prelude::SessionContext;
use std::sync::Arc;
use xuncha_core::contract::Scope;
use xuncha_core::declared::Catalog;

/// How one table of a scoped session is cut down.
enum Scoping {
    /// Its rows in scope (the contract's `Scope` of a source).
    Rows(Scope),
    /// Not about any place: every row, with these columns (counts and
    /// messages about the whole county) emptied.
    Redacted(&'static [&'static str]),
    /// Deliveries: only those of the sources a scoped user sees, with these
    /// columns (file names, which may name other towns, and counts) emptied.
    Deliveries(&'static [&'static str]),
}

/// Every table's scoping: the sources as the contract says (in contract
/// order, where a `Via` table follows the one it goes through) and the
/// declared ones with a scope column, then the tables `xuncha run` and
/// ingest write. A table not listed is not in a scoped session at all (the
/// quarantine's raw rows, a declared source about no place).
fn scoping(sources: &Catalog) -> impl Iterator<Item = (&'static str, Scoping)> + '_ {
    sources.all().filter(|s| s.scope != Scope::Unscoped).map(|s| (s.name, Scoping::Rows(s.scope))).chain([
        ("findings", Scoping::Rows(Scope::Code("village_code"))),
        ("risk_scores", Scoping::Rows(Scope::Code("village_code"))),
        ("case_events", Scoping::Rows(Scope::Code("village_code"))),
        ("case_findings", Scoping::Rows(Scope::Code("village_code"))),
        ("runs", Scoping::Redacted(&["findings_rows", "risk_score_rows", "rule_stats", "error"])),
        ("ingest_batches", Scoping::Deliveries(&["file", "sha256", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "error", "notes"])),
    ])
}

/// The code prefix of a county (6 digits), town (9) or village (12) code.
pub fn scope_prefix(code: &str) -> Result<String, QueryError> {
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::Usage(format!("范围「{code}」应为 12 位区划代码(县、乡镇或村)")));
    }
    Ok(if code.ends_with("000000") {
        code[..6].to_string()
    } else if code.ends_with("000") {
        code[..9].to_string()
    } else {
        code.to_string()
    })
}

/// Registers each table as its rows within `prefix`; tables without a
/// scoping (the quarantine's raw rows) are not registered at all.
pub(crate) async fn register_scoped(ctx: &SessionContext, sources: &Catalog, providers: Vec<(String, Arc<dyn TableProvider>)>, prefix: &str) -> Result<(), QueryError> {
    for (name, scoping) in scoping(sources) {
        let Some((_, provider)) = providers.iter().find(|(n, _)| n == name) else { continue };
        let frame = ctx.read_table(provider.clone())?;
        let scoped: Arc<dyn TableProvider> = match scoping {
            Scoping::Rows(Scope::Unscoped) => continue,
            Scoping::Rows(Scope::Code(column)) => ScopedTable::over(frame.filter(col(column).like(lit(format!("{prefix}%"))))?.into_unoptimized_plan()),
            Scoping::Rows(Scope::Via { column, via, via_column }) => {
                let keys = ctx.table(via).await?.select_columns(&[via_column])?;
                ScopedTable::over(frame.join(keys, JoinType::LeftSemi, &[column], &[via_column], None)?.into_unoptimized_plan())
            }
            Scoping::Redacted(hidden) => redacted(frame, hidden)?.into_view(),
            Scoping::Deliveries(hidden) => {
                let seen: Vec<Expr> = sources.all().filter(|s| s.scope != Scope::Unscoped).map(|s| lit(s.name)).collect();
                ScopedTable::over(redacted(frame.filter(col("source").in_list(seen, false))?, hidden)?.into_unoptimized_plan())
            }
        };
        ctx.register_table(name, scoped)?;
    }
    Ok(())
}

/// `frame` with the columns `hidden` emptied (NULL of their type).
fn redacted(frame: datafusion::dataframe::DataFrame, hidden: &[&str]) -> Result<datafusion::dataframe::DataFrame> {
    let columns: Vec<Expr> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| if hidden.contains(&f.name().as_str()) { cast(lit(datafusion::common::ScalarValue::Null), f.data_type().clone()).alias(f.name()) } else { col(Column::from_name(f.name())) })
        .collect();
    frame.select(columns)
}

/// A table that is its scope's plan, sealed: it takes no filters and its
/// scan is that plan under a [`ScopeBarrier`].
#[derive(Debug)]
struct ScopedTable {
    plan: LogicalPlan,
    schema: SchemaRef,
}

impl ScopedTable {
    fn over(plan: LogicalPlan) -> Arc<dyn TableProvider> {
        let schema = plan.schema().inner().clone();
        Arc::new(ScopedTable { plan, schema })
    }
}

#[async_trait]
impl TableProvider for ScopedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, _filters: &[Expr], _limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = match projection {
            None => self.plan.clone(),
            Some(indices) => {
                let fields = self.plan.schema();
                let columns: Vec<Expr> = indices.iter().map(|&i| Expr::Column(Column::from(fields.qualified_field(i)))).collect();
                LogicalPlanBuilder::from(self.plan.clone()).project(columns)?.build()?
            }
        };
        Ok(Arc::new(ScopeBarrier::new(state.create_physical_plan(&plan).await?)))
    }
}

/// Passes its input's batches through unchanged, but no filter down to it
/// and no statistics up from it.
#[derive(Debug, Clone)]
struct ScopeBarrier {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl ScopeBarrier {
    fn new(input: Arc<dyn ExecutionPlan>) -> ScopeBarrier {
        let properties = Arc::new(PlanProperties::clone(input.properties()));
        ScopeBarrier { input, properties }
    }
}

impl DisplayAs for ScopeBarrier {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScopeBarrier")
    }
}

impl ExecutionPlan for ScopeBarrier {
    fn name(&self) -> &str {
        "ScopeBarrier"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(&self, _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>, options: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children.swap_remove(0);
        Ok(Arc::new(match options.children_properties {
            ChildrenPropertiesMode::Keep => ScopeBarrier { input, properties: self.properties.clone() },
            ChildrenPropertiesMode::Recompute => ScopeBarrier::new(input),
        }))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_goes_through_a_table_scoped_before_it() {
        let sources = Catalog::default();
        let order: Vec<&str> = scoping(&sources).map(|(name, _)| name).collect();
        for (i, (name, scoping)) in scoping(&sources).enumerate() {
            if let Scoping::Rows(Scope::Via { via, .. }) = scoping {
                assert!(order[..i].contains(&via), "{name} is scoped through {via}, which must come first");
            }
        }
        assert!(xuncha_core::contract::SOURCES.iter().all(|s| order.contains(&s.name)));
    }

    #[test]
    fn scope_prefixes_by_level() {
        assert_eq!(scope_prefix("430223000000").unwrap(), "430223");
        assert_eq!(scope_prefix("430223101000").unwrap(), "430223101");
        assert_eq!(scope_prefix("430223101201").unwrap(), "430223101201");
        assert!(scope_prefix("4302231").is_err());
    }
}
