//! The inspection plan (`xuncha plan`): the villages not yet inspected in a
//! term, riskiest first, grouped into proposed rounds, and whether full
//! coverage within the term (届内全覆盖) is on track for the rounds left.
//!
//! Capacity is what the term's past rounds managed (villages per round on
//! average), or `--per-round` when given; coverage is on track when the
//! villages left fit into the rounds left at that capacity.

use crate::QueryError;
use crate::report::{q, rows};
use crate::sheet::text;
use datafusion::prelude::SessionContext;

/// One village proposed for a round.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedVillage {
    /// The proposed round of the term (continuing its numbering).
    pub round_no: u32,
    pub village_code: String,
    pub village_name: String,
    pub town_name: String,
    /// The latest risk score, if a run has scored the village.
    pub score: Option<f64>,
    pub tier: String,
}

/// The plan of one term.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub term: String,
    pub villages_total: usize,
    pub inspected: usize,
    pub rounds_done: u32,
    pub rounds_left: u32,
    /// Villages per proposed round.
    pub per_round: usize,
    /// Villages the past rounds covered on average (or `per_round` if given).
    pub capacity: f64,
    pub on_track: bool,
    pub villages: Vec<PlannedVillage>,
}

/// The latest term with inspections, or `None` when there are none.
pub async fn latest_term(ctx: &SessionContext) -> Result<Option<String>, QueryError> {
    Ok(rows::<q::plan::LatestTermRow>(ctx, &[]).await?.into_iter().next().map(|r| r.term))
}

/// Plans term `term` (the latest when `None`).
pub async fn plan(ctx: &SessionContext, term: Option<&str>, per_round: Option<usize>, rounds_per_term: u32) -> Result<Plan, QueryError> {
    let term = match term {
        Some(t) => t.to_string(),
        None => latest_term(ctx).await?.ok_or_else(|| QueryError::Usage("湖中没有巡察记录(inspections),请用 --term 指定届次".into()))?,
    };
    let values = [("term", text(Some(&term)))];
    let coverage = rows::<q::plan::CoverageRow>(ctx, &values).await?.into_iter().next();
    let count = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let (villages_total, inspected, rounds_done) = match coverage {
        Some(c) => (count(c.villages), count(c.inspected), u32::try_from(count(c.rounds)).unwrap_or(u32::MAX)),
        None => (0, 0, 0),
    };
    let left = rows::<q::plan::VillagesLeftRow>(ctx, &values).await?;
    let rounds_left = rounds_per_term.saturating_sub(rounds_done);
    let per_round = per_round.unwrap_or_else(|| if rounds_left == 0 { left.len() } else { left.len().div_ceil(rounds_left as usize) }).max(1);
    let capacity = match (per_round, rounds_done) {
        (_, 0) => per_round as f64,
        _ => inspected as f64 / f64::from(rounds_done),
    };
    let on_track = left.len() as f64 <= f64::from(rounds_left) * capacity;
    let villages = left
        .into_iter()
        .enumerate()
        .map(|(i, r)| PlannedVillage {
            round_no: rounds_done + 1 + u32::try_from(i / per_round).unwrap_or(u32::MAX),
            score: r.score.parse().ok(),
            tier: r.tier,
            town_name: r.town_name,
            village_name: r.village_name,
            village_code: r.village_code,
        })
        .collect();
    Ok(Plan { term, villages_total, inspected, rounds_done, rounds_left, per_round, capacity, on_track, villages })
}
