//! Big screens (大屏): a meeting-room display opens an organization's dashboard with a token of
//! its own, read-only and aggregates only — counts of people from 1 to 4 withheld, no dues
//! amounts, no names of people — never with a user's session. Those who manage the organization
//! create a display (the token is shown once and kept only as its hash) and revoke it; every
//! showing is audited under the display's name.

use domain::dashboard::hide_small;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::{new_token, token_hash};
use crate::dashboard::{self, Dashboard};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Display {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    /// Who created it (their name).
    pub created_by: String,
    pub created_at: String,
    pub last_shown_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DisplayInput {
    /// Where it hangs (`三楼会议室`), 1 to 50 characters.
    #[schema(schema_with = domain::schema::required_text::<50>, required = true)]
    pub name: Option<String>,
}

/// A display just created, with the token that opens it: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub display: Display,
    pub token: String,
    /// The screen's address, relative to the server.
    pub path: String,
}

const COLUMNS: &str = concat!(
    "id, org_id, name, ",
    person!("created_by"),
    " AS created_by, created_at, last_shown_at, revoked_at"
);

/// The organization whose displays the caller manages.
async fn managed(db: &Db, caller: &Caller, org_id: i64, action: &'static str) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &org.path) {
        return caller.refuse(db, Error::NotFound, action, ("org", &org_id)).await;
    }
    caller
        .require(db, Perm::ManageOrgs, &org.path, action, ("org", &org_id))
        .await?;
    Ok(org)
}

/// An organization's displays, the revoked ones last.
pub async fn list(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<Display>> {
    let org = managed(db, caller, org_id, "display.list").await?;
    Ok(db
        .all(
            Q::new(&format!(
                "SELECT {COLUMNS} FROM displays WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC, id"
            ))
            .bind(org.id),
        )
        .await?)
}

pub async fn create(db: &Db, caller: &Caller, org_id: i64, input: &DisplayInput) -> Result<Created> {
    let mut e = Vec::new();
    let name = domain::required_text("name", input.name.as_deref(), 50, &mut e);
    domain::error::check(e)?;
    let name = name.expect("checked");
    let org = managed(db, caller, org_id, "display.create").await?;
    let token = new_token();
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO displays (id, org_id, name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(org.id)
        .bind(name.clone())
        .bind(token_hash(&token))
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("display.create", "org", org.id).with_detail(format!("display={id}")),
    )
    .await?;
    tx.commit().await?;
    let display = db
        .one(Q::new(&format!("SELECT {COLUMNS} FROM displays WHERE id = $1")).bind(id))
        .await?;
    Ok(Created {
        display,
        path: format!("/display/{token}"),
        token,
    })
}

/// Revokes a display: its screen closes at its next refresh. Revoking twice is no change.
pub async fn revoke(db: &Db, caller: &Caller, id: i64) -> Result<Display> {
    let org_id: Option<(i64,)> = db
        .opt(Q::new("SELECT org_id FROM displays WHERE id = $1").bind(id))
        .await?;
    let Some((org_id,)) = org_id else {
        return caller
            .refuse(db, Error::NotFound, "display.revoke", ("display", &id))
            .await;
    };
    // Another subtree's display is answered as absent, as everywhere.
    if orgs::find(db, caller, org_id).await?.is_none() {
        return caller
            .refuse(db, Error::NotFound, "display.revoke", ("display", &id))
            .await;
    }
    managed(db, caller, org_id, "display.revoke").await?;
    let mut tx = db.begin().await?;
    let changed = tx
        .exec(
            Q::new("UPDATE displays SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
                .bind(now_text())
                .bind(caller.username.clone())
                .bind(id),
        )
        .await?;
    if changed == 1 {
        audit::append(&mut tx, caller, Event::ok("display.revoke", "display", id)).await?;
    }
    tx.commit().await?;
    Ok(db
        .one(Q::new(&format!("SELECT {COLUMNS} FROM displays WHERE id = $1")).bind(id))
        .await?)
}

/// What a screen shows: today's dashboard of the display's organization, aggregates only.
pub async fn show(db: &Db, token: &str, ip: &str) -> Result<(Display, Dashboard)> {
    let found: Option<Display> = db
        .opt(
            Q::new(&format!(
                "SELECT {COLUMNS} FROM displays WHERE token_hash = $1 AND revoked_at IS NULL"
            ))
            .bind(token_hash(token)),
        )
        .await?;
    let Some(display) = found else {
        // A wrong or revoked token is audited like any refusal (who probes, from where).
        let caller = Caller::display(0, "unknown", ip);
        return caller
            .refuse(db, Error::NotFound, "display.show", ("display", &0))
            .await;
    };
    let caller = Caller::display(display.id, &display.name, ip);
    let org = orgs::get_unscoped(db, display.org_id).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE displays SET last_shown_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(display.id),
    )
    .await?;
    audit::append(&mut tx, &caller, Event::ok("display.show", "org", org.id)).await?;
    tx.commit().await?;
    let dashboard = dashboard::on_day(db, &org, today()).await?;
    Ok((display, aggregates_only(dashboard)))
}

/// A dashboard fit for a room: counts of people from 1 to 4 withheld (organizations and meetings
/// are not people and stay), dues amounts and the study rate of the units below left out (a small
/// branch's would be one person's).
fn aggregates_only(mut d: Dashboard) -> Dashboard {
    d.tiles.retain(|t| t.unit != "fen");
    for t in d.tiles.iter_mut().filter(|t| PEOPLE_UNITS.contains(&t.unit)) {
        for s in &mut t.series {
            for v in &mut s.values {
                *v = hide_small(*v);
            }
        }
    }
    for b in &mut d.below {
        b.figures.remove("study_met_percent");
        for (k, v) in b.figures.iter_mut() {
            if k != "warnings:meetings_overdue" && k != "warnings:terms_overdue" {
                *v = hide_small(*v);
            }
        }
    }
    d
}

/// Tiles whose counts are of people (a development file and a warning name one too).
const PEOPLE_UNITS: [&str; 3] = ["people", "files", "warnings"];
