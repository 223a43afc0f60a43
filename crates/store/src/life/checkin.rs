//! Check-in with a meeting's code. Optional, never required (国办函〔2026〕12号: no mandatory check-in).

use super::meetings::get;
use crate::audit::{self, Event};
use crate::db::{now_text, parse_instant, Db, Q};
use crate::error::{Error, Result};
use crate::scope::Caller;
use chrono::Duration;

/// A member checks in with the meeting's code, from thirty minutes before the start until the end,
/// if the organization uses check-in.
/// Check-in opens half an hour before a meeting starts and closes when it ends.
fn window_open(starts_at: &str, ends_at: &str) -> bool {
    let now = crate::clock::now();
    parse_instant(starts_at)
        .zip(parse_instant(ends_at))
        .is_some_and(|(s, e)| now >= s - Duration::minutes(30) && now <= e)
}

/// Whether members can check in to this meeting now (pages offer the form by it): check-in is on,
/// the meeting is not cancelled or archived, and its window is open.
pub async fn is_open(db: &Db, id: i64) -> Result<bool> {
    let row: Option<(Option<String>, String, String, String)> = db
        .opt(Q::new("SELECT checkin_code, starts_at, ends_at, status FROM meetings WHERE id = $1").bind(id))
        .await?;
    Ok(row.is_some_and(|(code, starts, ends, status)| {
        code.is_some() && matches!(status.as_str(), "planned" | "held") && window_open(&starts, &ends)
    }))
}

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
    if !window_open(&row.1, &row.2) {
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
    crate::study::totals::meeting_changed(&mut tx, id, None).await?;
    audit::append(&mut tx, caller, Event::ok("meeting.check_in", "meeting", id)).await?;
    tx.commit().await?;
    Ok(())
}
