//! Where each output column of an analyst's query comes from: the table
//! columns its expression reads, through every projection, aggregate,
//! join, union, window and scalar subquery of the logical plan, and whether
//! it is one of them unchanged (`name AS x`) or something computed from
//! them (`id_birth_date(id_number)`, `string_agg(id_number, ',')`).
//!
//! The console masks by this lineage rather than by the output's column
//! names, which a query can choose at will. Counting does not read a value
//! (`count(id_number)`, `count(DISTINCT …)`, `approx_distinct`); a filter or
//! a join condition does not flow into a column. A plan node this does not
//! know is taken to pass every input column into every output column.

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan};
use std::collections::BTreeSet;

/// One output column's origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lineage {
    /// The (table, column) pairs it reads.
    pub sources: BTreeSet<(String, String)>,
    /// It is one table column, unchanged.
    pub direct: bool,
}

impl Lineage {
    fn merge(items: impl IntoIterator<Item = Lineage>) -> Lineage {
        let sources = items.into_iter().flat_map(|l| l.sources).collect();
        Lineage { sources, direct: false }
    }
}

/// The lineage of each output column of `plan`, in order.
pub fn of(plan: &LogicalPlan) -> Vec<Lineage> {
    let width = plan.schema().fields().len();
    let found = node(plan);
    if found.len() == width { found } else { vec![Lineage::merge(all_scans(plan)); width] }
}

/// The tables a plan scans, subqueries included (views appear as
/// themselves until the plan is analyzed, which inlines them).
pub fn tables(plan: &LogicalPlan) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let _ = plan.apply_with_subqueries(|p| {
        if let LogicalPlan::TableScan(scan) = p {
            out.insert(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// Every column of every table the plan scans (the conservative answer).
fn all_scans(plan: &LogicalPlan) -> Vec<Lineage> {
    let mut out = Vec::new();
    let _ = plan.apply_with_subqueries(|p| {
        if let LogicalPlan::TableScan(scan) = p {
            out.extend(scan.projected_schema.fields().iter().map(|f| Lineage { sources: [(scan.table_name.table().to_string(), f.name().clone())].into(), direct: true }));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

fn node(plan: &LogicalPlan) -> Vec<Lineage> {
    match plan {
        LogicalPlan::TableScan(scan) => {
            let table = scan.table_name.table().to_string();
            scan.projected_schema.fields().iter().map(|f| Lineage { sources: [(table.clone(), f.name().clone())].into(), direct: true }).collect()
        }
        LogicalPlan::Projection(p) => {
            let input = of(&p.input);
            p.expr.iter().map(|e| expr(e, p.input.schema(), &input)).collect()
        }
        LogicalPlan::Aggregate(a) => {
            let input = of(&a.input);
            let groups = a.group_expr.iter().map(|e| expr(e, a.input.schema(), &input));
            let aggregates = a.aggr_expr.iter().map(|e| if counts_only(e) { Lineage::default() } else { Lineage { direct: false, ..expr(e, a.input.schema(), &input) } });
            groups.chain(aggregates).collect()
        }
        LogicalPlan::Window(w) => {
            let input = of(&w.input);
            let computed: Vec<Lineage> = w.window_expr.iter().map(|e| if counts_only(e) { Lineage::default() } else { Lineage { direct: false, ..expr(e, w.input.schema(), &input) } }).collect();
            input.into_iter().chain(computed).collect()
        }
        LogicalPlan::Filter(f) => of(&f.input),
        LogicalPlan::Sort(s) => of(&s.input),
        LogicalPlan::Limit(l) => of(&l.input),
        LogicalPlan::Repartition(r) => of(&r.input),
        LogicalPlan::SubqueryAlias(s) => of(&s.input),
        LogicalPlan::Subquery(s) => of(&s.subquery),
        LogicalPlan::Distinct(datafusion::logical_expr::Distinct::All(input)) => of(input),
        LogicalPlan::Join(j) => {
            let (left, right) = (of(&j.left), of(&j.right));
            match j.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => left.into_iter().chain(right).collect(),
                JoinType::LeftSemi | JoinType::LeftAnti => left,
                JoinType::RightSemi | JoinType::RightAnti => right,
                JoinType::LeftMark => left.into_iter().chain([Lineage::default()]).collect(),
                JoinType::RightMark => right.into_iter().chain([Lineage::default()]).collect(),
            }
        }
        LogicalPlan::Union(u) => {
            let inputs: Vec<Vec<Lineage>> = u.inputs.iter().map(|i| of(i)).collect();
            (0..u.schema.fields().len()).map(|i| Lineage::merge(inputs.iter().filter_map(|l| l.get(i).cloned()))).collect()
        }
        LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) | LogicalPlan::Explain(_) | LogicalPlan::DescribeTable(_) => vec![Lineage::default(); plan.schema().fields().len()],
        // Anything else: every input column may reach every output column.
        other => vec![Lineage::merge(all_scans(other)); other.schema().fields().len()],
    }
}

/// Aggregates that count rows or distinct values: they read no value out.
fn counts_only(e: &Expr) -> bool {
    let inner = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        other => other,
    };
    match inner {
        Expr::AggregateFunction(f) => matches!(f.func.name(), "count" | "approx_distinct"),
        Expr::WindowFunction(f) => matches!(f.fun.name(), "count" | "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile"),
        _ => false,
    }
}

/// The lineage of an expression over an input with `schema` and `input` lineages.
fn expr(e: &Expr, schema: &DFSchema, input: &[Lineage]) -> Lineage {
    let column = |c: &Column| schema.index_of_column(c).ok().and_then(|i| input.get(i).cloned());
    let bare = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        other => other,
    };
    if let Expr::Column(c) = bare {
        return column(c).unwrap_or_else(|| Lineage::merge(input.iter().cloned()));
    }
    let mut parts = Vec::new();
    let _ = bare.apply(|e| {
        match e {
            Expr::Column(c) => parts.push(column(c).unwrap_or_else(|| Lineage::merge(input.iter().cloned()))),
            Expr::ScalarSubquery(s) => {
                parts.extend(of(&s.subquery));
                parts.extend(s.outer_ref_columns.iter().map(|o| expr(o, schema, input)));
            }
            Expr::OuterReferenceColumn(_, c) => parts.push(column(c).unwrap_or_else(|| Lineage::merge(input.iter().cloned()))),
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    Lineage::merge(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    async fn lineage(sql: &str) -> Vec<(bool, Vec<String>)> {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("id_number", DataType::Utf8, true), Field::new("name", DataType::Utf8, true), Field::new("village_code", DataType::Utf8, true)]));
        ctx.register_table("population", Arc::new(MemTable::try_new(schema, vec![vec![]]).unwrap())).unwrap();
        let plan = ctx.state().create_logical_plan(sql).await.unwrap();
        of(&plan).into_iter().map(|l| (l.direct, l.sources.into_iter().map(|(_, c)| c).collect())).collect()
    }

    #[tokio::test]
    async fn identity_is_followed_through_the_query() {
        let id = || vec!["id_number".to_string()];
        assert_eq!(lineage("SELECT name AS x, village_code FROM population").await, [(true, vec!["name".into()]), (true, vec!["village_code".into()])]);
        assert_eq!(lineage("SELECT 'X' || id_number AS a FROM population").await, [(false, id())]);
        assert_eq!(lineage("SELECT substr(id_number, 1, 9) AS a, substr(id_number, 10) AS b FROM population").await, [(false, id()), (false, id())]);
        assert_eq!(lineage("SELECT string_agg(id_number, ',') AS all_ids, count(DISTINCT id_number) AS n FROM population").await, [(false, id()), (false, vec![])]);
        assert_eq!(lineage("SELECT v FROM (SELECT id_number AS v FROM population WHERE name = 'x') t").await, [(true, id())]);
        assert_eq!(lineage("SELECT village_code FROM population WHERE id_number LIKE '43%'").await, [(true, vec!["village_code".into()])]);
        assert_eq!(lineage("SELECT (SELECT max(id_number) FROM population) AS m").await, [(false, id())]);
        assert_eq!(lineage("SELECT name FROM population UNION ALL SELECT id_number FROM population").await, [(false, vec!["id_number".to_string(), "name".to_string()])]);
        assert_eq!(lineage("SELECT a.village_code, b.name FROM population a JOIN population b ON a.id_number = b.id_number").await, [(true, vec!["village_code".into()]), (true, vec!["name".into()])]);
        // A window's ordering counts as read (conservative: it picks the value).
        assert_eq!(
            lineage("SELECT first_value(id_number) OVER (ORDER BY name) AS f, row_number() OVER () AS r FROM population").await,
            [(false, vec!["id_number".to_string(), "name".to_string()]), (false, vec![])]
        );
    }
}
