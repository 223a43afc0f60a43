//! The meeting ledger (会议台账).

use super::meetings::{list, MeetingFilter, MeetingView};
use crate::audit::{self, Event};
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::Caller;

/// The meeting ledger (会议台账) of an organization's subtree for a year: each meeting with how many
/// were expected and present, oldest first.
pub async fn ledger(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<Vec<(MeetingView, i64, i64)>> {
    let f = MeetingFilter {
        org_id: Some(org_id),
        from: Some(format!("{year}-01-01")),
        to: Some(format!("{year}-12-31")),
        limit: Some(2000),
        ..Default::default()
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
