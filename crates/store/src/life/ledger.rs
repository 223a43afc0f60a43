//! The meeting ledger (会议台账).

use std::collections::HashMap;

use super::meetings::{list, MeetingFilter, MeetingView};
use crate::audit::{self, Event};
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::Caller;

/// The meeting ledger (会议台账) of an organization's subtree for a year: each meeting with how many
/// were expected and present, oldest first. Every meeting of the year, read a page at a time (a
/// province holds hundreds of thousands; the ledger used to stop silently at 2,000).
pub async fn ledger(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<Vec<(MeetingView, i64, i64)>> {
    const PAGE: usize = 2000;
    let mut f = MeetingFilter {
        org_id: Some(org_id),
        from: Some(format!("{year}-01-01")),
        to: Some(format!("{year}-12-31")),
        limit: Some(PAGE as i64),
        ..Default::default()
    };
    let mut meetings = Vec::new();
    let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
    loop {
        f.offset = Some(meetings.len() as i64);
        let page = list(db, caller, &f).await?;
        if !page.is_empty() {
            // The organization's own members; guests are recorded on the sheet but not counted here.
            let mut q = Q::new("SELECT meeting_id, COUNT(*), SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END) FROM meeting_attendance WHERE guest = FALSE AND meeting_id IN (");
            q.push_list(page.iter().map(|m| m.meeting.id));
            q.push(") GROUP BY meeting_id");
            let rows: Vec<(i64, i64, i64)> = db.all(q).await?;
            counts.extend(
                rows.into_iter()
                    .map(|(id, expected, present)| (id, (expected, present))),
            );
        }
        let last = page.len() < PAGE;
        meetings.extend(page);
        if last {
            break;
        }
    }
    meetings.reverse();
    audit::append_alone(
        db,
        caller,
        Event::ok("meeting.export", "org", org_id).with_detail(format!("year={year} rows={}", meetings.len())),
    )
    .await?;
    Ok(meetings
        .into_iter()
        .map(|m| {
            let (expected, present) = counts.get(&m.meeting.id).copied().unwrap_or((0, 0));
            (m, expected, present)
        })
        .collect())
}
