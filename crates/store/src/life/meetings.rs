//! Meetings: planning, recording and archiving; who may see and manage them.

use crate::audit::{self, Event};
use crate::db::{instant_text, new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Own, Perm};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::life::MeetingKind;
use domain::org::subtree_end;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Meeting {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub local_date: NaiveDate,
    pub location: Option<String>,
    /// For meetings held online: an `http(s)` address.
    pub online_link: Option<String>,
    pub topic: Option<String>,
    pub agenda: Option<String>,
    /// `planned`, `held`, `archived` or `cancelled`.
    pub status: String,
    pub minutes: Option<String>,
    pub resolutions: Option<String>,
    /// The 学时 it credits to each member present (a 党课, a study session), in tenths; none when
    /// it is not study.
    pub study_tenths: Option<i64>,
}

/// A meeting as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: Meeting,
    pub kinds: Vec<String>,
}

/// A meeting: one `kind`, or `kinds` for a joint meeting; `starts_at` and `ends_at` in RFC 3339 or
/// `YYYY-MM-DDTHH:MM` Beijing time; `status` planned (the default), held, archived or cancelled.
/// A patch keeps what it leaves out.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MeetingInput {
    #[schema(schema_with = id)]
    pub org_id: Option<i64>,
    /// One kind, or `kinds` for a joint meeting.
    #[schema(schema_with = domain::life::MeetingKind::schema)]
    pub kind: Option<String>,
    pub kinds: Option<Vec<String>>,
    #[schema(schema_with = lines::<100>)]
    pub title: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Beijing time.
    #[schema(schema_with = instant)]
    pub starts_at: Option<String>,
    #[schema(schema_with = instant)]
    pub ends_at: Option<String>,
    #[schema(schema_with = lines::<200>)]
    pub location: Option<String>,
    #[schema(schema_with = link_schema)]
    pub online_link: Option<String>,
    #[schema(schema_with = lines::<200>)]
    pub topic: Option<String>,
    #[schema(schema_with = lines::<5000>)]
    pub agenda: Option<String>,
    /// `planned`, `held`, `archived` or `cancelled`.
    #[schema(schema_with = status_schema)]
    pub status: Option<String>,
    #[schema(schema_with = lines::<50_000>)]
    pub minutes: Option<String>,
    #[schema(schema_with = lines::<10_000>)]
    pub resolutions: Option<String>,
    /// 学时 credited to each member present, e.g. `2` or `1.5` (a 党课, a study session); empty
    /// when the meeting is not study.
    #[schema(max_length = 6)]
    pub study_hours: Option<String>,
}

const STATUSES: [&str; 4] = ["planned", "held", "archived", "cancelled"];

fn status_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&STATUSES)
}

/// An `http(s)://` address of at most 500 characters without spaces.
fn link_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^https?://[!-~]+$"))
        .max_length(Some(500))
        .build()
}

use domain::schema::{id, instant, lines};
use domain::time::{local_date, parse_local_instant};

struct Valid {
    kinds: Vec<MeetingKind>,
    title: String,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    location: Option<String>,
    online_link: Option<String>,
    topic: Option<String>,
    agenda: Option<String>,
    status: String,
    minutes: Option<String>,
    resolutions: Option<String>,
    study_tenths: Option<i64>,
}

fn validate(i: &MeetingInput) -> Result<Valid, Invalid> {
    let mut e = Vec::new();
    let mut codes: Vec<String> = i.kinds.clone().unwrap_or_default();
    codes.extend(i.kind.clone());
    if codes.len() > MeetingKind::ALL.len() {
        e.push(FieldError::new(
            "kinds",
            format!("too_many_items:{}", MeetingKind::ALL.len()),
        ));
    }
    let mut kinds = Vec::new();
    for c in &codes {
        match MeetingKind::parse(c) {
            Some(k) if !kinds.contains(&k) => kinds.push(k),
            Some(_) => {}
            None => e.push(FieldError::new("kind", "invalid")),
        }
    }
    if codes.is_empty() {
        e.push(FieldError::new("kind", "required"));
    }
    let title = match i.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => clean_text("title", t, 100, &mut e),
        _ => {
            e.push(FieldError::new("title", "required"));
            None
        }
    };
    let mut instant =
        |field: &'static str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push(FieldError::new(field, "required"));
                None
            }
            Some(s) => parse_local_instant(s).or_else(|| {
                e.push(FieldError::new(field, domain::time::date_problem(s)));
                None
            }),
        };
    let starts = instant("starts_at", &i.starts_at);
    let ends = instant("ends_at", &i.ends_at);
    if let (Some(s), Some(en)) = (starts, ends) {
        if en <= s {
            e.push(FieldError::new("ends_at", "before_start"));
        } else if en - s > Duration::days(3) {
            e.push(FieldError::new("ends_at", "too_long"));
        }
    }
    let text = |field: &'static str, v: &Option<String>, max: usize, e: &mut Vec<FieldError>| {
        v.as_deref().and_then(|s| {
            // Minutes and agendas have line breaks; other control characters are refused.
            let cleaned: String = s.replace(['\r', '\n', '\t'], " ");
            clean_text(field, &cleaned, max, e).map(|_| s.trim().to_string())
        })
    };
    let location = text("location", &i.location, 200, &mut e);
    let online_link = i
        .online_link
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .and_then(|l| {
            let ok = (l.starts_with("https://") || l.starts_with("http://"))
                && l.len() <= 500
                && !l.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                e.push(FieldError::new("online_link", "invalid"));
            }
            ok.then(|| l.to_string())
        });
    let topic = text("topic", &i.topic, 200, &mut e);
    let agenda = text("agenda", &i.agenda, 5000, &mut e);
    let minutes = text("minutes", &i.minutes, 50_000, &mut e);
    let resolutions = text("resolutions", &i.resolutions, 10_000, &mut e);
    let status = match i.status.as_deref().map(str::trim) {
        None | Some("") => "planned".to_string(),
        Some(s) if STATUSES.contains(&s) => s.to_string(),
        Some(_) => {
            e.push(FieldError::new("status", "invalid"));
            String::new()
        }
    };
    let study_tenths = match i.study_hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        None => None,
        Some(h) => {
            let parsed = domain::study::parse_hours(h);
            if parsed.is_none() {
                e.push(FieldError::new("study_hours", "invalid"));
            }
            parsed
        }
    };
    domain::error::check(e)?;
    Ok(Valid {
        kinds,
        study_tenths,
        title: title.unwrap_or_default(),
        starts: starts.expect("checked"),
        ends: ends.expect("checked"),
        location,
        online_link,
        topic,
        agenda,
        status,
        minutes,
        resolutions,
    })
}

/// The organization the caller manages meetings for: not found outside the caller's scope,
/// refused once dissolved.
pub(crate) async fn managed_org(db: &Db, caller: &Caller, org_id: i64, action: &'static str) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageMeetings, &org.path, action, ("org", &org_id))
        .await?;
    if org.dissolved_on.is_some() {
        return Err(Error::Refused("org.dissolved"));
    }
    Ok(org)
}

/// Plans (or records) a meeting; the members expected at it are set from the organization: all
/// its active members, the committee for a committee meeting, the group's members for a group.
pub async fn create(db: &Db, caller: &Caller, input: &MeetingInput) -> Result<MeetingView> {
    let v = validate(input);
    let org = match input.org_id {
        // The organization is a field of the input here: its problems are named on the field.
        Some(id) => match managed_org(db, caller, id, "meeting.create").await {
            Err(Error::NotFound) => Err(Invalid::one("org_id", "not_found").into()),
            Err(Error::Refused("org.dissolved")) => Err(Invalid::one("org_id", "dissolved").into()),
            other => other.map(Some),
        },
        None => Err(Invalid::one("org_id", "required").into()),
    };
    let (v, org) = match (v, org) {
        (Ok(v), Ok(Some(o))) => (v, o),
        (Err(mut a), Err(Error::Invalid(b))) => {
            a.0.extend(b.0);
            return Err(a.into());
        }
        (Err(a), _) => return Err(a.into()),
        (_, Err(e)) => return Err(e),
        (_, Ok(None)) => unreachable!("org is Some when Ok"),
    };
    let checkin: (bool,) = db
        .one(Q::new("SELECT checkin_enabled FROM orgs WHERE id = $1").bind(org.id))
        .await?;
    let code = checkin.0.then(|| {
        use rand::Rng;
        format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
    });
    let id = new_id();
    let now = now_text();
    let title = v.title.clone();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO meetings (id, org_id, org_path, title, starts_at, ends_at, local_date, location, topic, agenda, status,
             minutes, resolutions, checkin_code, created_at, updated_at, online_link, study_tenths)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(v.title)
        .bind(instant_text(v.starts))
        .bind(instant_text(v.ends))
        .bind(local_date(v.starts))
        .bind(v.location)
        .bind(v.topic)
        .bind(v.agenda)
        .bind(v.status)
        .bind(v.minutes)
        .bind(v.resolutions)
        .bind(code)
        .bind(now)
        .bind(v.online_link)
        .bind(v.study_tenths),
    )
    .await?;
    crate::search::log::changed(&mut tx, "meeting", id).await?;
    for k in &v.kinds {
        tx.exec(
            Q::new("INSERT INTO meeting_kinds (meeting_id, kind) VALUES ($1, $2)")
                .bind(id)
                .bind(k.as_str()),
        )
        .await?;
    }
    let expected = if v.kinds == [MeetingKind::BranchCommitteeMeeting] {
        "SELECT f.member_id FROM org_officers f JOIN members m ON m.id = f.member_id WHERE f.org_id = $1 AND m.status = 'active'"
    } else if org.kind == "party_group" {
        "SELECT id FROM members WHERE group_id = $1 AND status = 'active'"
    } else {
        "SELECT id FROM members WHERE org_id = $1 AND status = 'active'"
    };
    let ids: Vec<(i64,)> = tx.all(Q::new(expected).bind(org.id)).await?;
    // Mobile members hosted here join its organizational life, except its committee's meetings.
    let guests = if v.kinds == [MeetingKind::BranchCommitteeMeeting] || org.kind == "party_group" {
        Vec::new()
    } else {
        crate::mobile::hosted_on(&mut tx, org.id, local_date(v.starts)).await?
    };
    let expected = ids
        .iter()
        .map(|(m,)| (*m, false))
        .chain(guests.into_iter().map(|m| (m, true)));
    for chunk in expected.collect::<Vec<_>>().chunks(300) {
        let mut q = Q::new("INSERT INTO meeting_attendance (meeting_id, member_id, status, guest) VALUES ");
        for (i, (m, guest)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [id.into(), (*m).into(), "expected".into(), (*guest).into()]);
        }
        tx.exec(q).await?;
    }
    // The members expected hear of it in their space (and by SMS once a gateway drains the outbox).
    let users: Vec<(i64,)> = tx
        .all(Q::new("SELECT u.id FROM users u JOIN meeting_attendance a ON a.member_id = u.member_id WHERE a.meeting_id = $1").bind(id))
        .await?;
    for (user,) in users {
        let title = format!("{} · {}", org.name, title);
        crate::inbox::notify(
            &mut tx,
            user,
            "meeting.planned",
            &format!("meeting:{id}:planned"),
            &title,
            &format!("/meetings/{id}"),
        )
        .await?;
    }
    let kinds: Vec<&str> = v.kinds.iter().map(|k| k.as_str()).collect();
    crate::marks::stale(&mut tx, crate::marks::Of::Meeting(id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.create", "meeting", id).with_detail(format!("kinds={}", kinds.join(","))),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

const SELECT_MEETING: &str =
    "SELECT m.id, m.org_id, o.name AS org_name, m.org_path, m.title, m.starts_at, m.ends_at, m.local_date,
    m.location, m.online_link, m.topic, m.agenda, m.status, m.minutes, m.resolutions, m.study_tenths
    FROM meetings m JOIN orgs o ON o.id = m.org_id";

async fn with_kinds(db: &Db, meetings: Vec<Meeting>) -> Result<Vec<MeetingView>> {
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new("SELECT meeting_id, kind FROM meeting_kinds WHERE meeting_id IN (");
    for (i, m) in meetings.iter().enumerate() {
        q.push(if i == 0 { "" } else { ", " }).push_bind(m.id);
    }
    q.push(") ORDER BY kind");
    let rows: Vec<(i64, String)> = db.all(q).await?;
    let mut by: HashMap<i64, Vec<String>> = HashMap::new();
    for (m, k) in rows {
        by.entry(m).or_default().push(k);
    }
    Ok(meetings
        .into_iter()
        .map(|m| MeetingView {
            kinds: by.remove(&m.id).unwrap_or_default(),
            meeting: m,
        })
        .collect())
}

/// Who sees a meeting: those who read its organization's members, the members of its branch, and
/// anyone expected at it (a party group's members at their group's meetings).
pub(crate) fn visible(caller: &Caller, q: &mut Q) {
    q.push("(");
    caller.filter(q, Perm::ReadMembers, "m.org_path", Own::BranchPath("m.org_path"));
    if let Some(me) = caller.member_id {
        q.push(" OR EXISTS (SELECT 1 FROM meeting_attendance x WHERE x.meeting_id = m.id AND x.member_id = ")
            .push_bind(me)
            .push(")");
    }
    q.push(")");
}

/// Whether the caller may plan and record meetings of this organization (pages offer the forms by it).
pub fn may_plan(caller: &Caller, org: &Org) -> bool {
    caller.can_at(Perm::ManageMeetings, &org.path) && org.dissolved_on.is_none()
}

/// Whether the caller may record this meeting (attendance, minutes): not once it is archived.
pub fn may_record(caller: &Caller, m: &MeetingView) -> bool {
    caller.can_at(Perm::ManageMeetings, &m.meeting.org_path) && m.meeting.status != "archived"
}

/// One meeting, if the caller may see it.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<MeetingView> {
    let mut q = Q::new(&format!("{SELECT_MEETING} WHERE m.id = $1 AND ")).bind(id);
    visible(caller, &mut q);
    let m: Meeting = caller
        .found(db, db.opt(q).await?, "meeting.read", ("meeting", &id))
        .await?;
    Ok(with_kinds(db, vec![m]).await?.remove(0))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub org_id: Option<i64>,
    /// Inclusive local dates, `YYYY-MM-DD`.
    #[param(schema_with = domain::schema::date)]
    pub from: Option<String>,
    #[param(schema_with = domain::schema::date)]
    pub to: Option<String>,
    #[param(schema_with = domain::life::MeetingKind::schema)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub limit: Option<i64>,
    /// Meetings to skip, for the next page.
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub offset: Option<i64>,
}

/// Meetings of an organization's subtree (or all the caller sees), newest first: at most `limit`
/// (200 by default), after skipping `offset`.
pub async fn list(db: &Db, caller: &Caller, f: &MeetingFilter) -> Result<Vec<MeetingView>> {
    let mut q = Q::new(&format!("{SELECT_MEETING} WHERE "));
    filtered(db, caller, f, &mut q).await?;
    q.push(" ORDER BY m.starts_at DESC, m.id DESC LIMIT ")
        .push_bind(f.limit.unwrap_or(200).clamp(1, 2000))
        .push(" OFFSET ")
        .push_bind(f.offset.unwrap_or(0).clamp(0, 10_000_000));
    let meetings = db.all(q).await?;
    with_kinds(db, meetings).await
}

/// How many meetings the filter finds in all, for a list's total and pages.
pub async fn count(db: &Db, caller: &Caller, f: &MeetingFilter) -> Result<i64> {
    let mut q = Q::new("SELECT COUNT(*) FROM meetings m WHERE ");
    filtered(db, caller, f, &mut q).await?;
    let (n,): (i64,) = db.one(q).await?;
    Ok(n)
}

/// The conditions of a filter, shared by the list and its count.
async fn filtered(db: &Db, caller: &Caller, f: &MeetingFilter, q: &mut Q) -> Result<()> {
    match f.org_id {
        Some(id) => {
            let org = orgs::get(db, caller, id).await?;
            q.push("m.org_path >= ")
                .push_bind(org.path.clone())
                .push(" AND m.org_path < ")
                .push_bind(subtree_end(&org.path));
        }
        None => visible(caller, q),
    }
    let date = |field: &'static str, v: &Option<String>| -> Result<Option<NaiveDate>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => domain::time::parse_bound(s)
                .map(Some)
                .ok_or_else(|| Invalid::one(field, "invalid").into()),
        }
    };
    if let Some(d) = date("from", &f.from)? {
        q.push(" AND m.local_date >= ").push_bind(d);
    }
    if let Some(d) = date("to", &f.to)? {
        q.push(" AND m.local_date <= ").push_bind(d);
    }
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty()) {
        let kind = MeetingKind::parse(k).ok_or_else(|| Invalid::one("kind", "invalid"))?;
        q.push(" AND EXISTS (SELECT 1 FROM meeting_kinds k WHERE k.meeting_id = m.id AND k.kind = ")
            .push_bind(kind.as_str())
            .push(")");
    }
    Ok(())
}

/// Edits a meeting; an archived meeting is read-only.
pub async fn update(db: &Db, caller: &Caller, id: i64, patch: &MeetingInput) -> Result<MeetingView> {
    let current = get(db, caller, id).await?;
    managed_org(db, caller, current.meeting.org_id, "meeting.update").await?;
    if current.meeting.status == "archived" {
        return Err(Error::Refused("meeting.archived"));
    }
    let m = &current.meeting;
    let merged = MeetingInput {
        org_id: Some(m.org_id),
        kind: None,
        kinds: Some(
            patch
                .kinds
                .clone()
                .or(patch.kind.clone().map(|k| vec![k]))
                .unwrap_or(current.kinds.clone()),
        ),
        title: patch.title.clone().or(Some(m.title.clone())),
        starts_at: patch.starts_at.clone().or(Some(m.starts_at.clone())),
        ends_at: patch.ends_at.clone().or(Some(m.ends_at.clone())),
        location: patch.location.clone().or(m.location.clone()),
        online_link: patch.online_link.clone().or(m.online_link.clone()),
        topic: patch.topic.clone().or(m.topic.clone()),
        agenda: patch.agenda.clone().or(m.agenda.clone()),
        status: patch.status.clone().or(Some(m.status.clone())),
        minutes: patch.minutes.clone().or(m.minutes.clone()),
        resolutions: patch.resolutions.clone().or(m.resolutions.clone()),
        study_hours: patch
            .study_hours
            .clone()
            .or(m.study_tenths.map(domain::study::hours_text)),
    };
    let v = validate(&merged)?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE meetings SET title = $1, starts_at = $2, ends_at = $3, local_date = $4, location = $5, topic = $6, agenda = $7,
             status = $8, minutes = $9, resolutions = $10, updated_at = $11, online_link = $13, study_tenths = $14 WHERE id = $12",
        )
        .bind(v.title)
        .bind(instant_text(v.starts))
        .bind(instant_text(v.ends))
        .bind(local_date(v.starts))
        .bind(v.location)
        .bind(v.topic)
        .bind(v.agenda)
        .bind(v.status.clone())
        .bind(v.minutes)
        .bind(v.resolutions)
        .bind(now_text())
        .bind(id)
        .bind(v.online_link)
        .bind(v.study_tenths),
    )
    .await?;
    crate::search::log::changed(&mut tx, "meeting", id).await?;
    tx.exec(Q::new("DELETE FROM meeting_kinds WHERE meeting_id = $1").bind(id))
        .await?;
    for k in &v.kinds {
        tx.exec(
            Q::new("INSERT INTO meeting_kinds (meeting_id, kind) VALUES ($1, $2)")
                .bind(id)
                .bind(k.as_str()),
        )
        .await?;
    }
    crate::marks::stale(&mut tx, crate::marks::Of::Meeting(id)).await?;
    // A study meeting's hours, status or day decide its attendees' 学时 (that year and the one before an edit).
    let was_year = crate::study::credits::year_of(current.meeting.local_date);
    crate::study::totals::meeting_changed(&mut tx, id, Some(was_year)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.update", "meeting", id).with_detail(format!("status={}", v.status)),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}
