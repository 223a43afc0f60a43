//! Organizational life (组织生活): meetings planned and held, attendance, check-in, and compliance
//! against the frequencies of the regulations (domain::life). A meeting may count for several kinds
//! (a theme day that is also a party lecture).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::life::{self, ComplianceStatus, Frequency, MeetingKind, MonthAttendance};
use domain::org::subtree_end;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{instant_text, new_id, now_text, parse_instant, Db, Q};
use crate::error::{Error, Result};
use crate::files;
use crate::orgs::{self, Org};
use crate::scope::{Caller, Own, Perm};

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
}

/// A meeting as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: Meeting,
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MeetingInput {
    pub org_id: Option<i64>,
    /// One kind, or `kinds` for a joint meeting.
    pub kind: Option<String>,
    pub kinds: Option<Vec<String>>,
    pub title: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Beijing time.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub location: Option<String>,
    pub online_link: Option<String>,
    pub topic: Option<String>,
    pub agenda: Option<String>,
    /// `planned`, `held`, `archived` or `cancelled`.
    pub status: Option<String>,
    pub minutes: Option<String>,
    pub resolutions: Option<String>,
}

const STATUSES: [&str; 4] = ["planned", "held", "archived", "cancelled"];

use domain::time::parse_local_instant;

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
}

fn validate(i: &MeetingInput) -> Result<Valid, Invalid> {
    let mut e = Vec::new();
    let mut codes: Vec<String> = i.kinds.clone().unwrap_or_default();
    codes.extend(i.kind.clone());
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
                e.push(FieldError::new(field, "invalid"));
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
    domain::error::check(e)?;
    Ok(Valid {
        kinds,
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

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    domain::time::local_date(t)
}

/// The organization the caller manages meetings for.
async fn managed_org(db: &Db, caller: &Caller, org_id: i64, action: &'static str) -> Result<Org> {
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    if !caller.can_at(Perm::ManageMeetings, &org.path) {
        audit::append_alone(db, caller, Event::denied(action, "org", org_id)).await?;
        return Err(Error::Forbidden);
    }
    if org.dissolved_on.is_some() {
        return Err(Invalid::one("org_id", "dissolved").into());
    }
    Ok(org)
}

/// Plans (or records) a meeting; the members expected at it are set from the organization: all
/// its active members, the committee for a committee meeting, the group's members for a group.
pub async fn create(db: &Db, caller: &Caller, input: &MeetingInput) -> Result<MeetingView> {
    let v = validate(input);
    let org = match input.org_id {
        Some(id) => managed_org(db, caller, id, "meeting.create").await.map(Some),
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
             minutes, resolutions, checkin_code, created_at, updated_at, online_link)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)",
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
        .bind(v.online_link),
    )
    .await?;
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
        crate::notices::notify(
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
    m.location, m.online_link, m.topic, m.agenda, m.status, m.minutes, m.resolutions
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
fn visible(caller: &Caller, q: &mut Q) {
    q.push("(");
    caller.filter(q, Perm::ReadMembers, "m.org_path", Own::BranchPath("m.org_path"));
    if let Some(me) = caller.member_id {
        q.push(" OR EXISTS (SELECT 1 FROM meeting_attendance x WHERE x.meeting_id = m.id AND x.member_id = ")
            .push_bind(me)
            .push(")");
    }
    q.push(")");
}

/// One meeting, if the caller may see it.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<MeetingView> {
    let mut q = Q::new(&format!("{SELECT_MEETING} WHERE m.id = $1 AND ")).bind(id);
    visible(caller, &mut q);
    let m: Meeting = db.opt(q).await?.ok_or(Error::NotFound)?;
    Ok(with_kinds(db, vec![m]).await?.remove(0))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub org_id: Option<i64>,
    /// Inclusive local dates, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: Option<String>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub limit: Option<i64>,
}

/// Meetings of an organization's subtree (or all the caller sees), newest first.
pub async fn list(db: &Db, caller: &Caller, f: &MeetingFilter) -> Result<Vec<MeetingView>> {
    let mut q = Q::new(&format!("{SELECT_MEETING} WHERE "));
    match f.org_id {
        Some(id) => {
            let org = orgs::get(db, caller, id).await?;
            q.push("m.org_path >= ")
                .push_bind(org.path.clone())
                .push(" AND m.org_path < ")
                .push_bind(subtree_end(&org.path));
        }
        None => visible(caller, &mut q),
    }
    let date = |field: &'static str, v: &Option<String>| -> Result<Option<NaiveDate>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => domain::member::parse_date(s)
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
    q.push(" ORDER BY m.starts_at DESC LIMIT ")
        .push_bind(f.limit.unwrap_or(200).clamp(1, 2000));
    let meetings = db.all(q).await?;
    with_kinds(db, meetings).await
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
    };
    let v = validate(&merged)?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE meetings SET title = $1, starts_at = $2, ends_at = $3, local_date = $4, location = $5, topic = $6, agenda = $7,
             status = $8, minutes = $9, resolutions = $10, updated_at = $11, online_link = $13 WHERE id = $12",
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
        .bind(v.online_link),
    )
    .await?;
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
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.update", "meeting", id).with_detail(format!("status={}", v.status)),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attendance {
    pub member_id: i64,
    pub name: String,
    pub category: String,
    /// `expected`, `present`, `absent` or `leave`.
    pub status: String,
    pub reason: Option<String>,
    /// Recorded by the secretary for the member (代签), not by the member's own check-in.
    pub proxy: bool,
    pub checked_in_at: Option<String>,
    pub officer: bool,
    /// A mobile member (流动党员) hosted here: expected and recorded, not counted for the quorum.
    pub guest: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceSheet {
    pub items: Vec<Attendance>,
    pub present: usize,
    /// Who counts for the quorum: full members for a general meeting (probationary members do not
    /// vote), committee members for a committee meeting; otherwise everyone expected.
    pub entitled: usize,
    pub present_entitled: usize,
    pub quorum: bool,
    pub checkin_code: Option<String>,
}

pub async fn attendance(db: &Db, caller: &Caller, id: i64) -> Result<AttendanceSheet> {
    let view = get(db, caller, id).await?;
    let items: Vec<Attendance> = db
        .all(
            Q::new(
                "SELECT a.member_id, m.name, m.category, a.status, a.reason, a.proxy, a.checked_in_at, a.guest,
                        EXISTS (SELECT 1 FROM org_officers f WHERE f.member_id = a.member_id AND f.org_id = $2) AS officer
                 FROM meeting_attendance a JOIN members m ON m.id = a.member_id WHERE a.meeting_id = $1 ORDER BY m.name, m.id",
            )
            .bind(id)
            .bind(view.meeting.org_id),
        )
        .await?;
    let kinds: Vec<&str> = view.kinds.iter().map(String::as_str).collect();
    let entitled_of = |a: &&Attendance| {
        if a.guest {
            false
        } else if kinds == ["branch_committee_meeting"] {
            a.officer
        } else if kinds.contains(&"branch_general_meeting") || kinds.contains(&"election") {
            a.category == "full"
        } else {
            true
        }
    };
    let entitled = items.iter().filter(entitled_of).count();
    let present_entitled = items
        .iter()
        .filter(entitled_of)
        .filter(|a| a.status == "present")
        .count();
    let present = items.iter().filter(|a| a.status == "present").count();
    let manage = caller.can_at(Perm::ManageMeetings, &view.meeting.org_path);
    let code: Option<(Option<String>,)> = if manage {
        db.opt(Q::new("SELECT checkin_code FROM meetings WHERE id = $1").bind(id))
            .await?
    } else {
        None
    };
    // A member sees only their own line; the secretary sees the sheet.
    let items = if manage {
        items
    } else {
        items
            .into_iter()
            .filter(|a| Some(a.member_id) == caller.member_id)
            .collect()
    };
    Ok(AttendanceSheet {
        items,
        present,
        entitled,
        present_entitled,
        quorum: life::quorum(entitled as u32, present_entitled as u32),
        checkin_code: code.and_then(|c| c.0),
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AttendanceMark {
    pub member_id: i64,
    /// `present`, `absent` or `leave`.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Records attendance for the listed members in one transaction. Members marked present by the
/// secretary are marked as recorded for them (代签) unless they checked in themselves.
pub async fn record_attendance(db: &Db, caller: &Caller, id: i64, marks: &[AttendanceMark]) -> Result<AttendanceSheet> {
    let view = get(db, caller, id).await?;
    let org = managed_org(db, caller, view.meeting.org_id, "meeting.attendance").await?;
    if view.meeting.status == "archived" {
        return Err(Error::Refused("meeting.archived"));
    }
    let mut e = Vec::new();
    for m in marks {
        if !["present", "absent", "leave"].contains(&m.status.as_str()) {
            e.push(FieldError::new("status", "invalid"));
        }
        if m.reason.as_deref().is_some_and(|r| r.chars().count() > 200) {
            e.push(FieldError::new("reason", "too_long"));
        }
    }
    domain::error::check(e)?;
    // Where members check themselves in, a presence recorded by the secretary is signing for them
    // (代签) and is marked so; elsewhere recording attendance is simply the record.
    let (checkin,): (bool,) = db
        .one(Q::new("SELECT checkin_enabled FROM orgs WHERE id = $1").bind(org.id))
        .await?;
    let mut tx = db.begin().await?;
    for m in marks {
        // Only members of this organization's subtree, and the guests expected, can be recorded.
        let (path, expected): (String, bool) = tx
            .opt(
                Q::new(
                    "SELECT org_path, EXISTS (SELECT 1 FROM meeting_attendance a WHERE a.meeting_id = $2 AND a.member_id = $1)
                     FROM members WHERE id = $1",
                )
                .bind(m.member_id)
                .bind(id),
            )
            .await?
            .unwrap_or_default();
        if !path.starts_with(&org.path) && !expected {
            return Err(Invalid::one("member_id", "not_found").into());
        }
        let reason = m
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let changed = tx
            .exec(
                Q::new(
                    "UPDATE meeting_attendance SET status = $1, reason = $2,
                     proxy = CASE WHEN $1 = 'present' AND checked_in_at IS NULL THEN $5 ELSE FALSE END
                     WHERE meeting_id = $3 AND member_id = $4",
                )
                .bind(m.status.clone())
                .bind(reason.clone())
                .bind(id)
                .bind(m.member_id)
                .bind(checkin),
            )
            .await?;
        if changed == 0 {
            tx.exec(
                Q::new("INSERT INTO meeting_attendance (meeting_id, member_id, status, reason, proxy) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(m.member_id)
                    .bind(m.status.clone())
                    .bind(reason)
                    .bind(checkin && m.status == "present"),
            )
            .await?;
        }
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.attendance", "meeting", id).with_detail(format!("marks={}", marks.len())),
    )
    .await?;
    tx.commit().await?;
    attendance(db, caller, id).await
}

/// A member checks in with the meeting's code, from thirty minutes before the start until the end,
/// if the organization uses check-in.
pub async fn check_in(db: &Db, caller: &Caller, id: i64, code: &str) -> Result<()> {
    let member_id = caller.member_id.ok_or(Error::Forbidden)?;
    let view = get(db, caller, id).await?;
    let row: (Option<String>, String, String) = db
        .one(Q::new("SELECT checkin_code, starts_at, ends_at FROM meetings WHERE id = $1").bind(id))
        .await?;
    let refused = |code: &'static str| async move {
        audit::append_alone(
            db,
            caller,
            Event {
                result: "refused",
                ..Event::ok("meeting.check_in", "meeting", id)
            }
            .with_detail(code),
        )
        .await?;
        Err::<(), Error>(Error::Refused(code))
    };
    let Some(expected) = row.0 else {
        return refused("checkin.disabled").await;
    };
    let now = crate::clock::now();
    let (starts, ends) = (parse_instant(&row.1), parse_instant(&row.2));
    let open = starts
        .zip(ends)
        .is_some_and(|(s, e)| now >= s - Duration::minutes(30) && now <= e);
    if !open {
        return refused("checkin.closed").await;
    }
    if code.trim() != expected {
        return refused("checkin.wrong_code").await;
    }
    // Members of the meeting's organization (or above it), and the guests it expects.
    let mine: Option<(String, bool)> = db
        .opt(
            Q::new(
                "SELECT org_path, EXISTS (SELECT 1 FROM meeting_attendance a WHERE a.meeting_id = $2 AND a.member_id = $1)
                 FROM members WHERE id = $1",
            )
            .bind(member_id)
            .bind(id),
        )
        .await?;
    let inside = |p: &str| p.starts_with(&view.meeting.org_path) || view.meeting.org_path.starts_with(p);
    if !mine.is_some_and(|(p, expected)| expected || inside(&p)) {
        return refused("checkin.not_expected").await;
    }
    let mut tx = db.begin().await?;
    let changed = tx
        .exec(
            Q::new("UPDATE meeting_attendance SET status = 'present', proxy = FALSE, checked_in_at = $1 WHERE meeting_id = $2 AND member_id = $3")
                .bind(now_text())
                .bind(id)
                .bind(member_id),
        )
        .await?;
    if changed == 0 {
        tx.exec(
            Q::new("INSERT INTO meeting_attendance (meeting_id, member_id, status, proxy, checked_in_at) VALUES ($1, $2, 'present', FALSE, $3)")
                .bind(id)
                .bind(member_id)
                .bind(now_text()),
        )
        .await?;
    }
    audit::append(&mut tx, caller, Event::ok("meeting.check_in", "meeting", id)).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LifeSettings {
    /// Members may check in with a code; never required (formalism at the fingertips is discouraged).
    pub checkin_enabled: Option<bool>,
    /// Overrides of how often each kind is due, e.g. `{"party_lecture": "monthly"}`.
    #[serde(default)]
    pub frequencies: BTreeMap<String, String>,
}

/// An organization's current settings.
pub async fn settings(db: &Db, caller: &Caller, org_id: i64) -> Result<LifeSettings> {
    orgs::get(db, caller, org_id).await?;
    let (checkin,): (bool,) = db
        .one(Q::new("SELECT checkin_enabled FROM orgs WHERE id = $1").bind(org_id))
        .await?;
    let rows: Vec<(String, String)> = db
        .all(Q::new("SELECT kind, frequency FROM org_life_settings WHERE org_id = $1").bind(org_id))
        .await?;
    Ok(LifeSettings {
        checkin_enabled: Some(checkin),
        frequencies: rows.into_iter().collect(),
    })
}

pub async fn set_settings(db: &Db, caller: &Caller, org_id: i64, s: &LifeSettings) -> Result<()> {
    managed_org(db, caller, org_id, "org.life_settings").await?;
    let mut e = Vec::new();
    for (k, f) in &s.frequencies {
        if MeetingKind::parse(k).is_none() || (Frequency::parse(f).is_none() && f != "default") {
            e.push(FieldError::new("frequencies", "invalid"));
        }
    }
    domain::error::check(e)?;
    let mut tx = db.begin().await?;
    if let Some(on) = s.checkin_enabled {
        tx.exec(
            Q::new("UPDATE orgs SET checkin_enabled = $1 WHERE id = $2")
                .bind(on)
                .bind(org_id),
        )
        .await?;
    }
    for (k, f) in &s.frequencies {
        tx.exec(
            Q::new("DELETE FROM org_life_settings WHERE org_id = $1 AND kind = $2")
                .bind(org_id)
                .bind(k.clone()),
        )
        .await?;
        if f != "default" {
            tx.exec(
                Q::new("INSERT INTO org_life_settings (org_id, kind, frequency) VALUES ($1, $2, $3)")
                    .bind(org_id)
                    .bind(k.clone())
                    .bind(f.clone()),
            )
            .await?;
        }
    }
    audit::append(&mut tx, caller, Event::ok("org.life_settings", "org", org_id)).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceItem {
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub period: String,
    pub expected: u32,
    pub held: u32,
    /// `on_track`, `due_soon` or `overdue`.
    pub status: String,
}

/// What compliance is computed from: the branches and groups of a subtree, their frequency
/// settings, and the dates each kind was held in the year.
struct LifeYear {
    orgs: Vec<(i64, String, String, i64, NaiveDate)>,
    overrides: HashMap<(i64, String), Frequency>,
    held: HashMap<(i64, String), Vec<NaiveDate>>,
    year: i32,
}

async fn load_year(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<LifeYear> {
    let root = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &root.path) && !caller.can_at(Perm::ManageMeetings, &root.path) {
        return Err(Error::Forbidden);
    }
    let (from, to) = (root.path.clone(), subtree_end(&root.path));
    let orgs = db
        .all(
            Q::new(
                "SELECT o.id, o.name, o.kind, (SELECT COUNT(*) FROM org_officers f WHERE f.org_id = o.id), o.established_on FROM orgs o
                 WHERE o.path >= $1 AND o.path < $2 AND o.dissolved_on IS NULL AND o.kind IN ('branch', 'party_group') ORDER BY o.path",
            )
            .bind(from.clone())
            .bind(to.clone()),
        )
        .await?;
    let overrides: Vec<(i64, String, String)> = db
        .all(
            Q::new("SELECT s.org_id, s.kind, s.frequency FROM org_life_settings s JOIN orgs o ON o.id = s.org_id WHERE o.path >= $1 AND o.path < $2")
                .bind(from.clone())
                .bind(to.clone()),
        )
        .await?;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?;
    let rows: Vec<(i64, String, NaiveDate)> = db
        .all(
            Q::new(
                "SELECT m.org_id, k.kind, m.local_date FROM meetings m JOIN meeting_kinds k ON k.meeting_id = m.id
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.local_date >= $3 AND m.local_date <= $4 AND m.status IN ('held', 'archived')",
            )
            .bind(from)
            .bind(to)
            .bind(first)
            .bind(last),
        )
        .await?;
    let mut held: HashMap<(i64, String), Vec<NaiveDate>> = HashMap::new();
    for (org, kind, date) in rows {
        held.entry((org, kind)).or_default().push(date);
    }
    let overrides = overrides
        .into_iter()
        .filter_map(|(o, k, f)| Some(((o, k), Frequency::parse(&f)?)))
        .collect();
    Ok(LifeYear {
        orgs,
        overrides,
        held,
        year,
    })
}

impl LifeYear {
    /// Calls `visit(org index, kind, period, held, status)` for every item, linear in the organizations.
    fn each(&self, today: NaiveDate, mut visit: impl FnMut(usize, MeetingKind, &life::Period, u32, ComplianceStatus)) {
        for (i, (id, _, kind, committee, established)) in self.orgs.iter().enumerate() {
            for k in life::expected_kinds(kind == "branch", kind == "party_group", *committee >= 3) {
                let key = (*id, k.as_str().to_string());
                let Some(freq) = self.overrides.get(&key).copied().or_else(|| life::default_frequency(k)) else {
                    continue;
                };
                let dates = self.held.get(&key);
                // Nothing is due for the time before an organization existed.
                for p in life::periods(self.year, freq)
                    .into_iter()
                    .filter(|p| p.end > *established)
                {
                    let count =
                        dates.map_or(0, |ds| ds.iter().filter(|d| **d >= p.start && **d < p.end).count()) as u32;
                    visit(i, k, &p, count, life::status(count, 1, &p, freq, today));
                }
            }
        }
    }

    fn item(
        &self,
        org: usize,
        kind: MeetingKind,
        p: &life::Period,
        held: u32,
        status: ComplianceStatus,
    ) -> ComplianceItem {
        ComplianceItem {
            org_id: self.orgs[org].0,
            org_name: self.orgs[org].1.clone(),
            kind: kind.as_str().into(),
            period: p.label.clone(),
            expected: 1,
            held,
            status: status.as_str().into(),
        }
    }
}

/// Expected versus held, per organization of the subtree, kind and period of `year`; with `only`,
/// just the items in that status.
pub async fn compliance(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    only: Option<ComplianceStatus>,
) -> Result<Vec<ComplianceItem>> {
    let data = load_year(db, caller, org_id, year).await?;
    let mut out = Vec::new();
    data.each(today(), |org, kind, p, held, status| {
        if only.is_none_or(|o| o == status) {
            out.push(data.item(org, kind, p, held, status));
        }
    });
    Ok(out)
}

/// Overdue items below an organization, the organizations with the most first, at most `limit`
/// items (whole organizations), and how many there are in all. Counting comes first, so a
/// province's list builds only the items it shows.
pub async fn overdue(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    limit: usize,
) -> Result<(Vec<ComplianceItem>, usize)> {
    let data = load_year(db, caller, org_id, year).await?;
    let today = today();
    let mut per_org = vec![0usize; data.orgs.len()];
    data.each(today, |org, _, _, _, status| {
        if status == ComplianceStatus::Overdue {
            per_org[org] += 1;
        }
    });
    let total = per_org.iter().sum();
    let mut order: Vec<usize> = (0..data.orgs.len()).filter(|i| per_org[*i] > 0).collect();
    order.sort_by(|a, b| {
        per_org[*b]
            .cmp(&per_org[*a])
            .then(data.orgs[*a].1.cmp(&data.orgs[*b].1))
    });
    let mut rank = vec![usize::MAX; data.orgs.len()];
    let mut shown = 0;
    for (r, org) in order.iter().enumerate() {
        if shown >= limit {
            break;
        }
        rank[*org] = r;
        shown += per_org[*org];
    }
    let mut items = Vec::with_capacity(shown);
    data.each(today, |org, kind, p, held, status| {
        if status == ComplianceStatus::Overdue && rank[org] != usize::MAX {
            items.push((rank[org], data.item(org, kind, p, held, status)));
        }
    });
    items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.period.cmp(&b.1.period)));
    Ok((items.into_iter().map(|(_, i)| i).collect(), total))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AbsenceFlag {
    pub member_id: i64,
    pub name: String,
    /// The months counted, oldest first (`YYYY-MM`).
    pub months_missed: Vec<String>,
}

/// Members of the subtree who missed organizational life six consecutive months without reason
/// (党章 Art. 9): a flag for the branch to look at, never an action.
pub async fn absence_flags(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<AbsenceFlag>> {
    let root = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ManageMeetings, &root.path) {
        return Err(Error::Forbidden);
    }
    let since = today() - Duration::days(400);
    let rows: Vec<(i64, String, NaiveDate, String, Option<String>)> = db
        .all(
            Q::new(
                // The subtree's meetings without their guests (they are not the host's to flag), and
                // the subtree's mobile members at their hosts' meetings (that counts for them at
                // home); the second part starts from the few registrations, not every attendance.
                "SELECT a.member_id, mb.name, m.local_date, a.status, a.reason FROM meeting_attendance a
                 JOIN meetings m ON m.id = a.meeting_id JOIN members mb ON mb.id = a.member_id
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.local_date >= $3 AND m.status IN ('held', 'archived')
                   AND mb.status = 'active' AND a.guest = FALSE
                 UNION ALL
                 SELECT a.member_id, mb.name, m.local_date, a.status, a.reason FROM mobile_members x
                 JOIN members mb ON mb.id = x.member_id JOIN meeting_attendance a ON a.member_id = x.member_id
                 JOIN meetings m ON m.id = a.meeting_id
                 WHERE mb.org_path >= $1 AND mb.org_path < $2 AND m.local_date >= $3 AND m.status IN ('held', 'archived')
                   AND mb.status = 'active' AND a.guest = TRUE AND m.org_id = x.host_org_id",
            )
            .bind(root.path.clone())
            .bind(subtree_end(&root.path))
            .bind(since),
        )
        .await?;
    let mut by_member: BTreeMap<(i64, String), BTreeMap<String, MonthAttendance>> = BTreeMap::new();
    for (member, name, date, status, reason) in rows {
        let month = by_member
            .entry((member, name))
            .or_default()
            .entry(life::month_label(date))
            .or_insert(MonthAttendance::Missed);
        let this = match (status.as_str(), reason.as_deref().is_some_and(|r| !r.trim().is_empty())) {
            ("present", _) => MonthAttendance::Attended,
            ("leave", _) | ("absent", true) => MonthAttendance::Excused,
            _ => MonthAttendance::Missed,
        };
        // Attending any meeting of the month counts; an excuse counts unless attended.
        *month = match (*month, this) {
            (MonthAttendance::Attended, _) | (_, MonthAttendance::Attended) => MonthAttendance::Attended,
            (MonthAttendance::Excused, _) | (_, MonthAttendance::Excused) => MonthAttendance::Excused,
            _ => MonthAttendance::Missed,
        };
    }
    Ok(by_member
        .into_iter()
        .filter_map(|((member_id, name), months)| {
            let list: Vec<MonthAttendance> = months.values().copied().collect();
            life::six_month_flag(&list).then(|| AbsenceFlag {
                member_id,
                name,
                months_missed: months
                    .into_iter()
                    .filter(|(_, m)| *m == MonthAttendance::Missed)
                    .map(|(k, _)| k)
                    .collect(),
            })
        })
        .collect())
}

/// The meeting ledger (会议台账) of an organization's subtree for a year: each meeting with how many
/// were expected and present, oldest first.
pub async fn ledger(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<Vec<(MeetingView, i64, i64)>> {
    let f = MeetingFilter {
        org_id: Some(org_id),
        from: Some(format!("{year}-01-01")),
        to: Some(format!("{year}-12-31")),
        kind: None,
        limit: Some(2000),
    };
    let mut meetings = list(db, caller, &f).await?;
    meetings.reverse();
    let counts: Vec<(i64, i64, i64)> = if meetings.is_empty() {
        Vec::new()
    } else {
        // The organization's own members; guests are recorded on the sheet but not counted here.
        let mut q = Q::new("SELECT meeting_id, COUNT(*), SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END) FROM meeting_attendance WHERE guest = FALSE AND meeting_id IN (");
        for (i, m) in meetings.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push_bind(m.meeting.id);
        }
        q.push(") GROUP BY meeting_id");
        db.all(q).await?
    };
    audit::append_alone(
        db,
        caller,
        Event::ok("meeting.export", "org", org_id).with_detail(format!("year={year}")),
    )
    .await?;
    Ok(meetings
        .into_iter()
        .map(|m| {
            let (e, p) = counts
                .iter()
                .find(|c| c.0 == m.meeting.id)
                .map(|c| (c.1, c.2))
                .unwrap_or((0, 0));
            (m, e, p)
        })
        .collect())
}

/// A held meeting for bulk loading (the demo): who was expected and how each attended.
pub struct PastMeeting {
    pub org_id: i64,
    pub org_path: String,
    pub kinds: Vec<MeetingKind>,
    pub title: String,
    pub starts: DateTime<Utc>,
    pub location: String,
    /// (member, status, reason)
    pub attendance: Vec<(i64, &'static str, Option<&'static str>)>,
}

/// Inserts held meetings in batches, with one audit entry.
pub async fn insert_bulk(db: &Db, caller: &Caller, meetings: &[PastMeeting]) -> Result<()> {
    let now = now_text();
    let mut tx = db.begin().await?;
    for chunk in meetings.chunks(200) {
        let ids: Vec<i64> = chunk.iter().map(|_| new_id()).collect();
        let mut q = Q::new(
            "INSERT INTO meetings (id, org_id, org_path, title, starts_at, ends_at, local_date, location, status, created_at, updated_at) VALUES ",
        );
        for (i, (m, id)) in chunk.iter().zip(&ids).enumerate() {
            let values = [
                (*id).into(),
                m.org_id.into(),
                m.org_path.clone().into(),
                m.title.clone().into(),
                instant_text(m.starts).into(),
                instant_text(m.starts + Duration::hours(2)).into(),
                local_date(m.starts).into(),
                m.location.clone().into(),
                "held".into(),
                now.clone().into(),
                now.clone().into(),
            ];
            q.push_row(i == 0, values);
        }
        tx.exec(q).await?;
        let mut kinds = Q::new("INSERT INTO meeting_kinds (meeting_id, kind) VALUES ");
        let mut first = true;
        for (m, id) in chunk.iter().zip(&ids) {
            for k in &m.kinds {
                kinds.push_row(first, [(*id).into(), k.as_str().into()]);
                first = false;
            }
        }
        tx.exec(kinds).await?;
        let rows: Vec<[crate::db::Arg; 5]> = chunk
            .iter()
            .zip(&ids)
            .flat_map(|(m, id)| {
                m.attendance.iter().map(move |(member, status, reason)| {
                    [
                        (*id).into(),
                        (*member).into(),
                        (*status).into(),
                        reason.map(str::to_string).into(),
                        (*status == "present").into(),
                    ]
                })
            })
            .collect();
        for part in rows.chunks(400) {
            let mut q = Q::new("INSERT INTO meeting_attendance (meeting_id, member_id, status, reason, proxy) VALUES ");
            for (i, r) in part.iter().enumerate() {
                q.push_row(i == 0, r.iter().cloned());
            }
            tx.exec(q).await?;
        }
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.bulk_create", "meeting", "").with_detail(format!("rows={}", meetings.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

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
    let rows: Vec<(i64, String, String, Option<NaiveDate>, Option<NaiveDate>)> = db
        .all(
            Q::new(
                "SELECT id, name, kind, term_start, term_end FROM orgs WHERE path >= $1 AND path < $2 AND dissolved_on IS NULL
                 AND kind <> 'party_group' ORDER BY path",
            )
            .bind(root.path.clone())
            .bind(subtree_end(&root.path)),
        )
        .await?;
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearRecord {
    pub member_id: i64,
    pub year: i32,
    pub meetings_expected: i64,
    pub meetings_attended: i64,
    /// Hours of party lectures attended.
    pub lecture_hours: f64,
    /// Hours of all organizational life attended (collective study counts toward the 32 hours a
    /// year of 党员教育管理工作条例 Art. 13).
    pub study_hours: f64,
    /// Volunteer service credited this year.
    pub volunteer_hours: f64,
    pub by_kind: BTreeMap<String, i64>,
}

/// A member's organizational life in a year: what they were expected at and attended.
pub async fn year_record(db: &Db, caller: &Caller, member_id: i64, year: i32) -> Result<YearRecord> {
    crate::members::get(db, caller, member_id).await?;
    let rows: Vec<(i64, String, String, String)> = db
        .all(
            Q::new(
                "SELECT m.id, a.status, m.starts_at, m.ends_at FROM meeting_attendance a JOIN meetings m ON m.id = a.meeting_id
                 WHERE a.member_id = $1 AND m.local_date >= $2 AND m.local_date <= $3 AND m.status IN ('held', 'archived')",
            )
            .bind(member_id)
            .bind(NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?)
            .bind(NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?),
        )
        .await?;
    let kinds: Vec<(i64, String)> = db
        .all(
            Q::new(
                "SELECT k.meeting_id, k.kind FROM meeting_kinds k JOIN meeting_attendance a ON a.meeting_id = k.meeting_id
                 WHERE a.member_id = $1 AND a.status = 'present'",
            )
            .bind(member_id),
        )
        .await?;
    let mut record = YearRecord {
        member_id,
        year,
        meetings_expected: rows.len() as i64,
        meetings_attended: 0,
        lecture_hours: 0.0,
        study_hours: 0.0,
        volunteer_hours: crate::activities::volunteer_minutes(db, member_id, year).await? as f64 / 60.0,
        by_kind: BTreeMap::new(),
    };
    for (id, status, starts, ends) in rows {
        if status != "present" {
            continue;
        }
        record.meetings_attended += 1;
        let hours = parse_instant(&starts)
            .zip(parse_instant(&ends))
            .map_or(0.0, |(s, e)| (e - s).num_minutes() as f64 / 60.0);
        record.study_hours += hours;
        for (_, k) in kinds.iter().filter(|(m, _)| *m == id) {
            if k == MeetingKind::PartyLecture.as_str() {
                record.lecture_hours += hours;
            }
            *record.by_kind.entry(k.clone()).or_default() += 1;
        }
    }
    Ok(record)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub meeting_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: String,
}

/// Attaches a file to a meeting: type and size checked, the bytes written to `dir` before the
/// record commits (and removed if it does not).
pub async fn attach(
    db: &Db,
    caller: &Caller,
    dir: &std::path::Path,
    meeting_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    let view = get(db, caller, meeting_id).await?;
    managed_org(db, caller, view.meeting.org_id, "meeting.attach").await?;
    let upload = files::check(name, bytes)?;
    let id = new_id();
    let record = async {
        let mut tx = db.begin().await?;
        tx.exec(
            Q::new("INSERT INTO attachments (id, meeting_id, name, content_type, size, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id)
                .bind(meeting_id)
                .bind(upload.name.clone())
                .bind(upload.content_type)
                .bind(bytes.len() as i64)
                .bind(upload.digest.clone())
                .bind(now_text()),
        )
        .await?;
        audit::append(
            &mut tx,
            caller,
            Event::ok("meeting.attach", "meeting", meeting_id).with_detail(format!("attachment={id}")),
        )
        .await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    };
    files::save(dir, id, bytes, record).await?;
    Ok(db
        .one(
            Q::new("SELECT id, meeting_id, name, content_type, size, created_at FROM attachments WHERE id = $1")
                .bind(id),
        )
        .await?)
}

pub async fn attachments(db: &Db, caller: &Caller, meeting_id: i64) -> Result<Vec<Attachment>> {
    get(db, caller, meeting_id).await?;
    Ok(db
        .all(Q::new("SELECT id, meeting_id, name, content_type, size, created_at FROM attachments WHERE meeting_id = $1 ORDER BY created_at").bind(meeting_id))
        .await?)
}

/// An attachment's record and bytes, for those who may see its meeting; audited.
pub async fn open_attachment(
    db: &Db,
    caller: &Caller,
    dir: &std::path::Path,
    id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    let a: Attachment = db
        .opt(
            Q::new("SELECT id, meeting_id, name, content_type, size, created_at FROM attachments WHERE id = $1")
                .bind(id),
        )
        .await?
        .ok_or(Error::NotFound)?;
    get(db, caller, a.meeting_id).await?;
    let bytes = files::read(dir, id).await?;
    audit::append_alone(db, caller, Event::ok("meeting.attachment_read", "attachment", id)).await?;
    Ok((a, bytes))
}
