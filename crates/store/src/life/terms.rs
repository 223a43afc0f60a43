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
    read(db, caller, org_id, None).await
}

/// Only the terms ended or ending within six months, most urgent first: what the home lists. The
/// database picks those ending within seven months (a province has tens of thousands of
/// organizations); the rule itself is `life::term_status`.
pub async fn due(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<TermItem>> {
    let within = today() + chrono::Months::new(7);
    let mut items = read(db, caller, org_id, Some(within)).await?;
    items.retain(|t| !matches!(t.status.as_str(), "current" | "unknown"));
    Ok(items)
}

async fn read(db: &Db, caller: &Caller, org_id: i64, ending_before: Option<NaiveDate>) -> Result<Vec<TermItem>> {
    let root = orgs::get(db, caller, org_id).await?;
    let mut q = Q::new(
        "SELECT id, name, kind, term_start, term_end FROM orgs WHERE path >= $1 AND path < $2 AND dissolved_on IS NULL
         AND kind <> 'party_group'",
    )
    .bind(root.path.clone())
    .bind(subtree_end(&root.path));
    if let Some(before) = ending_before {
        q.push(" AND term_end < ").push_bind(before);
    }
    q.push(" ORDER BY path");
    let rows: Vec<(i64, String, String, Option<NaiveDate>, Option<NaiveDate>)> = db.all(q).await?;
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
    Ok(items.into_iter().map(|(_, i)| i).collect())
}
