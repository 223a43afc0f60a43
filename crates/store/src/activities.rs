//! Activities and volunteering (活动与志愿服务): theme activities, volunteer services and
//! three-linkage (三联) activities published to an organization's subtree; members sign up within
//! a limit, the organizer records who attended, and volunteer hours are credited.

use chrono::NaiveDate;
use domain::org::subtree_end;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{instant_text, new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::scope::{Caller, Perm};
use domain::schema::{id, instant, lines, required_text, text};
use domain::time::parse_local_instant;

pub const KINDS: [&str; 3] = ["theme_activity", "volunteer_service", "three_linkage"];

fn kind_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&KINDS)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Activity {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    /// `theme_activity`, `volunteer_service` or `three_linkage`.
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    pub local_date: NaiveDate,
    pub location: Option<String>,
    pub capacity: Option<i64>,
    /// Volunteer time credited to each member who attends.
    pub credit_minutes: i64,
    pub status: String,
    pub signed_up: i64,
}

const SELECT: &str =
    "SELECT a.id, a.org_id, o.name AS org_name, a.org_path, a.kind, a.title, a.description, a.starts_at, a.ends_at,
    a.local_date, a.location, a.capacity, a.credit_minutes, a.status,
    (SELECT COUNT(*) FROM activity_signups s WHERE s.activity_id = a.id) AS signed_up
    FROM activities a JOIN orgs o ON o.id = a.org_id";

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ActivityInput {
    #[schema(schema_with = id, required = true)]
    pub org_id: Option<i64>,
    #[schema(schema_with = kind_schema, required = true)]
    pub kind: Option<String>,
    #[schema(schema_with = required_text::<100>, required = true)]
    pub title: Option<String>,
    #[schema(schema_with = lines::<5000>)]
    pub description: Option<String>,
    #[schema(schema_with = instant, required = true)]
    pub starts_at: Option<String>,
    #[schema(schema_with = instant, required = true)]
    pub ends_at: Option<String>,
    #[schema(schema_with = text::<200>)]
    pub location: Option<String>,
    /// At most this many may sign up; none for no limit.
    #[schema(minimum = 1, maximum = 100_000)]
    pub capacity: Option<i64>,
    #[schema(minimum = 0, maximum = 1440)]
    pub credit_minutes: Option<i64>,
}

/// Publishes an activity to an organization's subtree.
pub async fn create(db: &Db, caller: &Caller, i: &ActivityInput) -> Result<Activity> {
    let mut e = Vec::new();
    let kind = i.kind.as_deref().filter(|k| KINDS.contains(k));
    if kind.is_none() {
        e.push(FieldError::new("kind", "invalid"));
    }
    let title = match i.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => clean_text("title", t, 100, &mut e),
        _ => {
            e.push(FieldError::new("title", "required"));
            None
        }
    };
    let description = i
        .description
        .as_deref()
        .and_then(|d| clean_text("description", &d.replace(['\n', '\r'], " "), 5000, &mut e))
        .map(|_| i.description.clone().unwrap_or_default().trim().to_string());
    let location = i
        .location
        .as_deref()
        .and_then(|l| clean_text("location", l, 200, &mut e));
    let starts = i.starts_at.as_deref().and_then(parse_local_instant);
    let ends = i.ends_at.as_deref().and_then(parse_local_instant);
    let problem = |v: &Option<String>| domain::time::date_problem(v.as_deref().unwrap_or_default());
    if starts.is_none() {
        e.push(FieldError::new("starts_at", problem(&i.starts_at)));
    }
    match (starts, ends) {
        (_, None) => e.push(FieldError::new("ends_at", problem(&i.ends_at))),
        (Some(s), Some(en)) if en <= s => e.push(FieldError::new("ends_at", "before_start")),
        _ => {}
    }
    if i.capacity.is_some_and(|c| !(1..=100_000).contains(&c)) {
        e.push(FieldError::new("capacity", "invalid"));
    }
    let credit = i.credit_minutes.unwrap_or(0);
    if !(0..=24 * 60).contains(&credit) {
        e.push(FieldError::new("credit_minutes", "invalid"));
    }
    let org = match i.org_id {
        Some(id) => orgs::get(db, caller, id).await.ok(),
        None => None,
    };
    if org.is_none() {
        e.push(FieldError::new("org_id", "not_found"));
    }
    domain::error::check(e)?;
    let org = org.expect("checked");
    caller
        .require(db, Perm::ManageMeetings, &org.path, "activity.create", ("org", &org.id))
        .await?;
    let (starts, ends) = (starts.expect("checked"), ends.expect("checked"));
    let id = new_id();
    let now = now_text();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO activities (id, org_id, org_path, kind, title, description, starts_at, ends_at, local_date, location, capacity,
             credit_minutes, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'published', $13, $13)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(kind.unwrap_or_default())
        .bind(title)
        .bind(description)
        .bind(instant_text(starts))
        .bind(instant_text(ends))
        .bind(domain::time::local_date(starts))
        .bind(location)
        .bind(i.capacity)
        .bind(credit)
        .bind(now),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("activity.create", "activity", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Visibility: those who read the organization's members, and members of its subtree (an
/// activity is published to the whole subtree below its organization).
fn visible(caller: &Caller, q: &mut Q) {
    q.push("(");
    caller.filter(q, Perm::ReadMembers, "a.org_path", crate::scope::Own::Nothing);
    if let Some(path) = &caller.member_org_path {
        q.push(" OR ").push_bind(path).push(" LIKE a.org_path || '%'");
    }
    q.push(")");
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Activity> {
    let mut q = Q::new(&format!("{SELECT} WHERE a.id = $1 AND ")).bind(id);
    visible(caller, &mut q);
    caller
        .found(db, db.opt(q).await?, "activity.read", ("activity", &id))
        .await
}

/// Activities the caller may see (of one organization's subtree if given), newest first.
pub async fn list(db: &Db, caller: &Caller, org_id: Option<i64>) -> Result<Vec<Activity>> {
    let mut q = Q::new(&format!("{SELECT} WHERE "));
    visible(caller, &mut q);
    if let Some(id) = org_id {
        let org = orgs::get(db, caller, id).await?;
        q.push(" AND a.org_path >= ")
            .push_bind(org.path.clone())
            .push(" AND a.org_path < ")
            .push_bind(subtree_end(&org.path));
    }
    q.push(" ORDER BY a.starts_at DESC LIMIT 200");
    Ok(db.all(q).await?)
}

/// The caller signs up, if there is room; twice is once.
pub async fn sign_up(db: &Db, caller: &Caller, id: i64) -> Result<Activity> {
    let member = caller.member_id.ok_or(Error::Forbidden)?;
    let a = get(db, caller, id).await?;
    if a.status != "published" {
        return Err(Error::Refused("activity.closed"));
    }
    let mut tx = db.begin().await?;
    let (taken,): (i64,) = tx
        .one(Q::new("SELECT COUNT(*) FROM activity_signups WHERE activity_id = $1").bind(id))
        .await?;
    let mine: Option<(i64,)> = tx
        .opt(
            Q::new("SELECT member_id FROM activity_signups WHERE activity_id = $1 AND member_id = $2")
                .bind(id)
                .bind(member),
        )
        .await?;
    if mine.is_none() {
        if a.capacity.is_some_and(|c| taken >= c) {
            return Err(Error::Refused("activity.full"));
        }
        tx.exec(
            Q::new("INSERT INTO activity_signups (activity_id, member_id, signed_up_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(member)
                .bind(now_text()),
        )
        .await?;
        audit::append(&mut tx, caller, Event::ok("activity.sign_up", "activity", id)).await?;
    }
    tx.commit().await?;
    get(db, caller, id).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Signup {
    pub member_id: i64,
    pub name: String,
    pub attended: bool,
    pub credited_minutes: i64,
}

pub async fn signups(db: &Db, caller: &Caller, id: i64) -> Result<Vec<Signup>> {
    let a = get(db, caller, id).await?;
    let mut q = Q::new(
        "SELECT s.member_id, m.name, s.attended, s.credited_minutes FROM activity_signups s JOIN members m ON m.id = s.member_id
         WHERE s.activity_id = $1",
    )
    .bind(id);
    if !caller.can_at(Perm::ManageMeetings, &a.org_path) {
        q.push(" AND s.member_id = ").push_bind(caller.member_id.unwrap_or(0));
    }
    q.push(" ORDER BY m.name");
    Ok(db.all(q).await?)
}

/// Records who attended (members not signed up are added); attendees are credited the activity's
/// volunteer time, the others nothing.
pub async fn record_attendance(db: &Db, caller: &Caller, id: i64, attended: &[i64]) -> Result<Vec<Signup>> {
    let a = get(db, caller, id).await?;
    caller
        .require(
            db,
            Perm::ManageMeetings,
            &a.org_path,
            "activity.attendance",
            ("activity", &id),
        )
        .await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE activity_signups SET attended = FALSE, credited_minutes = 0 WHERE activity_id = $1").bind(id),
    )
    .await?;
    for m in attended {
        let inside: Option<(String,)> = tx
            .opt(Q::new("SELECT org_path FROM members WHERE id = $1").bind(*m))
            .await?;
        if !inside.is_some_and(|(p,)| p.starts_with(&a.org_path)) {
            return Err(Invalid::one("member_id", "not_found").into());
        }
        let changed = tx
            .exec(
                Q::new("UPDATE activity_signups SET attended = TRUE, credited_minutes = $1 WHERE activity_id = $2 AND member_id = $3")
                    .bind(a.credit_minutes)
                    .bind(id)
                    .bind(*m),
            )
            .await?;
        if changed == 0 {
            tx.exec(
                Q::new("INSERT INTO activity_signups (activity_id, member_id, signed_up_at, attended, credited_minutes) VALUES ($1, $2, $3, TRUE, $4)")
                    .bind(id)
                    .bind(*m)
                    .bind(now_text())
                    .bind(a.credit_minutes),
            )
            .await?;
        }
    }
    tx.exec(
        Q::new("UPDATE activities SET status = 'done', updated_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(id),
    )
    .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("activity.attendance", "activity", id).with_detail(format!("attended={}", attended.len())),
    )
    .await?;
    tx.commit().await?;
    signups(db, caller, id).await
}

/// A member's credited volunteer minutes in a year.
pub async fn volunteer_minutes(db: &Db, member_id: i64, year: i32) -> Result<i64> {
    let (first, last) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    );
    let (first, last) = first.zip(last).ok_or_else(|| Invalid::one("year", "invalid"))?;
    let rows: Vec<(i64,)> = db
        .all(
            Q::new(
                "SELECT s.credited_minutes FROM activity_signups s JOIN activities a ON a.id = s.activity_id
                 WHERE s.member_id = $1 AND s.attended = TRUE AND a.local_date >= $2 AND a.local_date <= $3",
            )
            .bind(member_id)
            .bind(first)
            .bind(last),
        )
        .await?;
    Ok(rows.iter().map(|(m,)| m).sum())
}
