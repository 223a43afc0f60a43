//! Mobile members (流动党员): members away from home for six months or more without transferring
//! (党员教育管理工作条例 2019 Art. 25). They stay on their home branch's roll, which keeps contact
//! with them, and join organizational life at a host organization: they are expected at its
//! meetings as guests, and their attendance counts in their own year, not in the host's quorum.

use chrono::NaiveDate;
use domain::org::OrgKind;
use domain::{past_date, required_past_date, required_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::inbox;
use crate::members;
use crate::orgs;
use crate::scope::{Caller, Own, Perm};
use domain::schema::{date, id};

/// A member away from their branch (流动党员): the host branch, `since` and, when known, `until`
/// they expect to be away, and `reason`: where and why (work, study, family).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MobileInput {
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[schema(schema_with = id, required = true)]
    pub member_id: Option<i64>,
    /// The host organization (a branch), by its number.
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[schema(minimum = 1, required = true)]
    pub host_org_id: Option<i64>,
    /// `YYYY-MM-DD`: since when the member is away.
    #[schema(schema_with = date, required = true)]
    pub since: Option<String>,
    /// `YYYY-MM-DD`, when known: until when they expect to be away.
    #[schema(schema_with = date)]
    pub until: Option<String>,
    /// Where and why: work, study, family.
    #[schema(schema_with = domain::schema::required_text::<200>, required = true)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Mobile {
    pub id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub home_org_id: i64,
    pub home_org_name: String,
    pub host_org_id: i64,
    pub host_org_name: String,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
    pub reason: String,
    pub ended_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: String,
    #[serde(skip)]
    pub home_path: String,
    #[serde(skip)]
    pub host_path: String,
}

impl Mobile {
    /// The home branch or the host may end it.
    pub fn can_end(&self, caller: &Caller) -> bool {
        self.ended_on.is_none()
            && (caller.can_at(Perm::WriteMembers, &self.home_path)
                || caller.can_at(Perm::WriteMembers, &self.host_path))
    }
}

const SELECT: &str = concat!(
    "SELECT x.id, x.member_id, m.name AS member_name, m.org_id AS home_org_id, h.name AS home_org_name,
    x.host_org_id, o.name AS host_org_name, x.since, x.until, x.reason, x.ended_on, ",
    person!("x.created_by"),
    " AS created_by, x.created_at, m.org_path AS home_path, x.host_path
    FROM mobile_members x JOIN members m ON m.id = x.member_id JOIN orgs h ON h.id = m.org_id JOIN orgs o ON o.id = x.host_org_id"
);

/// The registrations the caller reaches: of members they may read (the home side), or at
/// organizations whose members they may read (the host side, which sees the registration and the
/// member's name, not their record).
fn visible(caller: &Caller, q: &mut Q) {
    q.push("(");
    caller.filter(q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
    q.push(" OR ");
    caller.filter(q, Perm::ReadMembers, "x.host_path", Own::Nothing);
    q.push(")");
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Mobile> {
    let mut q = Q::new(&format!("{SELECT} WHERE x.id = $1 AND ")).bind(id);
    visible(caller, &mut q);
    caller.found(db, db.opt(q).await?, "mobile.read", ("mobile", &id)).await
}

/// The home branch registers one of its members at a host branch; one registration is open at a
/// time. The host's secretaries are told.
pub async fn register(db: &Db, caller: &Caller, input: &MobileInput) -> Result<Mobile> {
    let today = today();
    let mut e = Vec::new();
    let reason = required_text("reason", input.reason.as_deref(), 200, &mut e);
    let since = required_past_date("since", input.since.as_deref(), today, &mut e);
    let until = match input.until.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => {
            let day = domain::member::parse_date(v);
            if day.is_none() {
                e.push(FieldError::new("until", "invalid"));
            }
            day
        }
    };
    if let (Some(s), Some(u)) = (since, until) {
        if u <= s {
            e.push(FieldError::new("until", "before_start"));
        }
    }
    let host: Option<(i64, String, String, Option<NaiveDate>)> = match input.host_org_id {
        Some(id) => {
            db.opt(Q::new("SELECT id, path, kind, dissolved_on FROM orgs WHERE id = $1").bind(id))
                .await?
        }
        None => {
            e.push(FieldError::new("host_org_id", "required"));
            None
        }
    };
    match &host {
        None if input.host_org_id.is_some() => e.push(FieldError::new("host_org_id", "not_found")),
        Some((_, _, _, Some(_))) => e.push(FieldError::new("host_org_id", "dissolved")),
        Some((_, _, kind, _)) if !OrgKind::parse(kind).is_some_and(OrgKind::holds_members) => {
            e.push(FieldError::new("host_org_id", "not_a_branch"))
        }
        _ => {}
    }
    let Some(member_id) = input.member_id else {
        e.push(FieldError::new("member_id", "required"));
        return Err(Invalid(e).into());
    };
    domain::error::check(e)?;
    let (host_id, host_path, _, _) = host.expect("checked");
    let member = members::get(db, caller, member_id).await?;
    caller
        .require(
            db,
            Perm::WriteMembers,
            &member.org_path,
            "mobile.register",
            ("member", &member_id),
        )
        .await?;
    if member.status != "active" {
        return Err(Error::Refused("mobile.member_inactive"));
    }
    if host_id == member.org_id {
        return Err(Invalid::one("host_org_id", "own_branch").into());
    }
    let id = new_id();
    let mut tx = db.begin().await?;
    let open: Option<(i64,)> = tx
        .opt(Q::new("SELECT id FROM mobile_members WHERE member_id = $1 AND ended_on IS NULL").bind(member_id))
        .await?;
    if open.is_some() {
        return Err(Error::Refused("mobile.open"));
    }
    tx.exec(
        Q::new(
            "INSERT INTO mobile_members (id, member_id, host_org_id, host_path, since, until, reason, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(member_id)
        .bind(host_id)
        .bind(host_path)
        .bind(since)
        .bind(until)
        .bind(reason)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    let users: Vec<(i64,)> = tx
        .all(
            Q::new("SELECT DISTINCT user_id FROM grants WHERE org_id = $1 AND role IN ('secretary', 'org_admin')")
                .bind(host_id),
        )
        .await?;
    for (user,) in users {
        inbox::notify(
            &mut tx,
            user,
            "mobile",
            &format!("mobile:{id}:registered"),
            &format!("流动党员来到本组织：{}（{}）", member.name, member.org_name),
            "/mobile",
        )
        .await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("mobile.register", "member", member_id).with_detail(format!("host={host_id}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Ends a registration (the member came home, or transferred): by the home branch or the host.
pub async fn end(db: &Db, caller: &Caller, id: i64, on: Option<&str>) -> Result<Mobile> {
    let today = today();
    let mobile = get(db, caller, id).await?;
    if !caller.can_at(Perm::WriteMembers, &mobile.home_path) && !caller.can_at(Perm::WriteMembers, &mobile.host_path) {
        return caller.refuse(db, Error::Forbidden, "mobile.end", ("mobile", &id)).await;
    }
    let mut e = Vec::new();
    let ended_on = past_date("ended_on", on, today, &mut e).unwrap_or(today);
    if ended_on < mobile.since {
        e.push(FieldError::new("ended_on", "before_start"));
    }
    domain::error::check(e)?;
    let mut tx = db.begin().await?;
    let changed = tx
        .exec(
            Q::new("UPDATE mobile_members SET ended_on = $1 WHERE id = $2 AND ended_on IS NULL")
                .bind(ended_on)
                .bind(id),
        )
        .await?;
    if changed != 1 {
        return Err(Error::Refused("mobile.ended"));
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("mobile.end", "member", mobile.member_id).with_detail(format!("mobile {id}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Registrations from or at an organization's subtree (or everything the caller reaches), open
/// ones first.
pub async fn list(db: &Db, caller: &Caller, org_id: Option<i64>) -> Result<Vec<Mobile>> {
    let mut q = Q::new(&format!("{SELECT} WHERE "));
    visible(caller, &mut q);
    if let Some(org_id) = org_id {
        let org = orgs::get(db, caller, org_id).await?;
        let end = domain::org::subtree_end(&org.path);
        q.push(" AND ((m.org_path >= ")
            .push_bind(org.path.clone())
            .push(" AND m.org_path < ")
            .push_bind(end.clone())
            .push(") OR (x.host_path >= ")
            .push_bind(org.path)
            .push(" AND x.host_path < ")
            .push_bind(end)
            .push("))");
    }
    q.push(" ORDER BY CASE WHEN x.ended_on IS NULL THEN 0 ELSE 1 END, x.since DESC LIMIT 1000");
    Ok(db.all(q).await?)
}

/// The members hosted at an organization on a day, for its meetings' attendance.
pub(crate) async fn hosted_on(tx: &mut crate::db::Tx, host_org_id: i64, day: NaiveDate) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .all(
            Q::new(
                "SELECT x.member_id FROM mobile_members x JOIN members m ON m.id = x.member_id
                 WHERE x.host_org_id = $1 AND x.since <= $2 AND (x.ended_on IS NULL OR x.ended_on >= $2)
                 AND (x.until IS NULL OR x.until >= $2) AND m.status = 'active' AND m.org_id <> x.host_org_id",
            )
            .bind(host_org_id)
            .bind(day),
        )
        .await?;
    Ok(rows.into_iter().map(|(m,)| m).collect())
}
