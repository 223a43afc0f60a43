//! Bulk loading of past meetings for the demo and the benchmark (outside the scoped API).

use crate::audit::{self, Event};
use crate::db::{instant_text, new_id, now_text, Db, Q};
use crate::error::Result;
use crate::scope::Caller;
use chrono::{DateTime, Duration, Utc};
use domain::life::MeetingKind;
use domain::time::local_date;

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
        let mut changes = Q::new("INSERT INTO search_changes (kind, doc_id) VALUES ");
        for (i, id) in ids.iter().enumerate() {
            changes.push_row(i == 0, ["meeting".into(), (*id).into()]);
        }
        tx.exec(changes).await?;
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
    crate::marks::stale_orgs(&mut tx, meetings.iter().map(|m| m.org_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("meeting.bulk_create", "meeting", "").with_detail(format!("rows={}", meetings.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
