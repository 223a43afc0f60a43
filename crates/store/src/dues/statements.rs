//! The yearly statement (收缴使用情况公示) a branch publishes to its members.

use super::reports::{report, OrgDues};
use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self};
use crate::scope::{Caller, Perm};
use chrono::Datelike;
use domain::{clean_text, FieldError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    /// The figures as they stood when published.
    pub report: OrgDues,
    /// How the dues were used and passed up, in the branch's words.
    pub note: Option<String>,
    pub published_by: String,
    pub published_at: String,
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    id: i64,
    org_id: i64,
    org_name: String,
    year: i64,
    body: String,
    note: Option<String>,
    published_by: String,
    published_at: String,
}

impl StatementRow {
    fn shown(self) -> Option<Statement> {
        Some(Statement {
            report: serde_json::from_str(&self.body).ok()?,
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            year: self.year,
            note: self.note,
            published_by: self.published_by,
            published_at: self.published_at,
        })
    }
}

/// Publishes the year's collection to the organization's members: the figures are kept as they are
/// now, so later corrections show in the next statement, not by changing this one.
pub async fn publish_statement(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    note: Option<&str>,
) -> Result<Statement> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(
            db,
            Perm::ManageDues,
            &org.path,
            "dues.statement.publish",
            ("org", &org_id),
        )
        .await?;
    let mut e = Vec::new();
    let note = note.and_then(|n| clean_text("note", &n.replace(['\r', '\n'], " "), 2000, &mut e));
    if year > today().year() || year < 2000 {
        e.push(FieldError::new("year", "invalid"));
    }
    domain::error::check(e)?;
    let report = report(db, caller, org_id, year, None).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO dues_statements (id, org_id, year, body, note, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(org_id)
        .bind(year as i64)
        .bind(serde_json::to_string(&report).expect("serializable"))
        .bind(note)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("dues.statement.publish", "org", org_id)).await?;
    tx.commit().await?;
    statements(db, caller, org_id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound)
}

/// The statements an organization has published, newest first: for its members and those who may
/// read it.
pub async fn statements(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<Statement>> {
    let org = orgs::get(db, caller, org_id).await?;
    let own_branch = caller.member_org_path.as_deref() == Some(org.path.as_str());
    if !own_branch && !caller.can_at(Perm::ReadMembers, &org.path) {
        return caller
            .refuse(db, Error::Forbidden, "dues.statement.read", ("org", &org_id))
            .await;
    }
    let rows: Vec<StatementRow> = db
        .all(
            Q::new(concat!(
                "SELECT s.id, s.org_id, o.name AS org_name, s.year, s.body, s.note, ",
                person!("s.published_by"),
                " AS published_by, s.published_at
                 FROM dues_statements s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = $1 ORDER BY s.published_at DESC"
            ))
            .bind(org_id),
        )
        .await?;
    Ok(rows.into_iter().filter_map(StatementRow::shown).collect())
}
