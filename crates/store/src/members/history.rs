//! A member's history: every recorded change and every organization they belonged to.

use chrono::NaiveDate;
use serde::Serialize;

use super::get;
use crate::changes::{self, Change};
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::Caller;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    /// Who made the change, by name.
    pub actor: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Membership {
    pub org_id: i64,
    pub org_name: String,
    pub from_on: NaiveDate,
    pub to_on: Option<NaiveDate>,
}

/// Every recorded change and every organization the member belonged to, newest first.
pub async fn history(db: &Db, caller: &Caller, id: i64) -> Result<(Vec<HistoryEntry>, Vec<Membership>)> {
    get(db, caller, id).await?;
    let rows: Vec<(String, String, String)> = db
        .all(
            Q::new(concat!(
                "SELECT at, ",
                person!("actor"),
                " AS actor, changes FROM member_history WHERE member_id = $1 ORDER BY id DESC"
            ))
            .bind(id),
        )
        .await?;
    let mut lines: Vec<Vec<Change>> = rows.iter().map(|(_, _, json)| changes::lines(json)).collect();
    changes::name_ids(db, &mut lines, true).await?;
    let changes = rows
        .into_iter()
        .zip(lines)
        .map(|((at, actor, _), changes)| HistoryEntry { at, actor, changes })
        .collect();
    let orgs = db
        .all(
            Q::new(
                "SELECT h.org_id, o.name AS org_name, h.from_on, h.to_on FROM member_orgs h JOIN orgs o ON o.id = h.org_id
                 WHERE h.member_id = $1 ORDER BY h.id DESC",
            )
            .bind(id),
        )
        .await?;
    Ok((changes, orgs))
}
