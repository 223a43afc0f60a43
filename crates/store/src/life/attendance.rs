//! Attendance: the sheet of everyone expected and how each attended; the quorum.

use super::meetings::{get, managed_org};
use crate::audit::{self, Event};
use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Perm};
use domain::life::{self};
use domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

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

const MARKS: [&str; 3] = ["present", "absent", "leave"];

/// Marks one request may carry: more than the largest Party committee's meeting would need.
pub const MAX_MARKS: usize = 20_000;

fn mark_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&MARKS)
}

/// One member's mark at a meeting: present, absent (with a reason) or on leave.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AttendanceMark {
    #[schema(schema_with = domain::schema::id)]
    pub member_id: i64,
    /// `present`, `absent` or `leave`.
    #[schema(schema_with = mark_schema)]
    pub status: String,
    #[serde(default)]
    #[schema(schema_with = domain::schema::text::<200>)]
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
    let ids: Vec<i64> = marks.iter().map(|m| m.member_id).collect();
    domain::error::list("member_id", &ids, MAX_MARKS)?;
    let mut e = Vec::new();
    for m in marks {
        if !MARKS.contains(&m.status.as_str()) {
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
    crate::marks::stale(&mut tx, crate::marks::Of::Meeting(id)).await?;
    crate::study::totals::meeting_changed(&mut tx, id, None).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.attendance", "meeting", id).with_detail(format!("marks={}", marks.len())),
    )
    .await?;
    tx.commit().await?;
    attendance(db, caller, id).await
}
