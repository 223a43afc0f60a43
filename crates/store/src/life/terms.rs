//! Committee terms (换届): due in six or three months, or overdue.

use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::Result;
use crate::orgs::{self};
use crate::scope::Caller;
use chrono::NaiveDate;
use domain::life::{self};
use domain::org::subtree_end;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TermItem {
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    /// `current`, `due_in6_months`, `due_in3_months`, `overdue`, or `unknown` when no term is recorded.
    pub status: String,
}

/// Committee terms below an organization (关于党的基层组织任期的意见 2018): when each ends and
/// whether the 6- and 3-month reminders or the overdue alert apply; the most urgent first.
pub async fn terms(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<TermItem>> {
    let root = orgs::get(db, caller, org_id).await?;
    let q = Q::new(
        "SELECT id, name, kind, term_start, term_end FROM orgs WHERE path >= $1 AND path < $2 AND dissolved_on IS NULL
         AND kind <> 'party_group' ORDER BY path",
    )
    .bind(root.path.clone())
    .bind(subtree_end(&root.path));
    Ok(ranked(db.all(q).await?))
}

/// The terms ended or ending within six months, the soonest first, at most `limit` of them, and how
/// many there are: what the compliance page lists. The database picks them by their end
/// (`life::latest_due_term_end`; a province has tens of thousands of organizations, orgs_term_end
/// finds these).
pub async fn due(db: &Db, caller: &Caller, org_id: i64, limit: usize) -> Result<(Vec<TermItem>, usize)> {
    let root = orgs::get(db, caller, org_id).await?;
    let latest = life::latest_due_term_end(today());
    let within = |select: &str| {
        Q::new(&format!(
            "SELECT {select} FROM orgs WHERE term_end <= $1 AND path >= $2 AND path < $3
             AND dissolved_on IS NULL AND kind <> 'party_group'"
        ))
        .bind(latest)
        .bind(root.path.clone())
        .bind(subtree_end(&root.path))
    };
    let (total,): (i64,) = db.one(within("COUNT(*)")).await?;
    let mut q = within("id, name, kind, term_start, term_end");
    q.push(" ORDER BY term_end, path LIMIT ").push_bind(limit as i64);
    Ok((ranked(db.all(q).await?), total as usize))
}

/// The terms of chosen organizations ended or ending within six months, for the warnings.
pub(crate) async fn due_among(db: &Db, org_ids: &[i64]) -> Result<Vec<TermItem>> {
    let mut q = Q::new(
        "SELECT id, name, kind, term_start, term_end FROM orgs WHERE dissolved_on IS NULL AND kind <> 'party_group' AND id IN (",
    );
    q.push_list(org_ids.iter().copied()).push(")");
    let mut items = ranked(db.all(q).await?);
    items.retain(|t| !matches!(t.status.as_str(), "current" | "unknown"));
    Ok(items)
}

type TermRow = (i64, String, String, Option<NaiveDate>, Option<NaiveDate>);

/// Each term's status by `life::term_status`, the most urgent first.
fn ranked(rows: Vec<TermRow>) -> Vec<TermItem> {
    let today = today();
    let mut items: Vec<(u8, TermItem)> = rows
        .into_iter()
        .map(|(id, name, kind, start, end)| {
            let (rank, status) = match end.map(|e| life::term_status(e, today)) {
                Some(life::TermStatus::Overdue) => (0, "overdue"),
                Some(life::TermStatus::DueIn3Months) => (1, "due_in3_months"),
                Some(life::TermStatus::DueIn6Months) => (2, "due_in6_months"),
                None => (3, "unknown"),
                Some(life::TermStatus::Current) => (4, "current"),
            };
            (
                rank,
                TermItem {
                    org_id: id,
                    org_name: name,
                    kind,
                    term_start: start,
                    term_end: end,
                    status: status.into(),
                },
            )
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.term_end.cmp(&b.1.term_end)));
    items.into_iter().map(|(_, i)| i).collect()
}
