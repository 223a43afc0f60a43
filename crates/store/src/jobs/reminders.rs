//! The daily reminders: meetings due or overdue, committee terms coming due, sent once each to
//! the secretaries and committee staff of the organization that must act; study tasks about to
//! fall due, to the members who have not finished them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use crate::db::{Db, Tx, Q};
use crate::error::Result;
use crate::inbox;
use crate::life;
use crate::scope::Caller;

/// The users holding a secretary or committee-staff grant, by the organization they hold it on:
/// read once for the day, not once per organization (52,000 reads at a million members).
async fn responsible(tx: &mut Tx) -> Result<HashMap<i64, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = tx
        .all(Q::new(
            "SELECT DISTINCT org_id, user_id FROM grants WHERE org_id IS NOT NULL AND role IN ('secretary', 'org_admin')",
        ))
        .await?;
    let mut by_org: HashMap<i64, Vec<i64>> = HashMap::new();
    for (org, user) in rows {
        by_org.entry(org).or_default().push(user);
    }
    Ok(by_org)
}

/// One day's reminders; returns how many notices were new. Runs as the system.
pub async fn send(db: &Db, today: NaiveDate) -> Result<usize> {
    let system = Caller::system("reminders");
    let roots: Vec<(i64,)> = db
        .all(Q::new(
            "SELECT id FROM orgs WHERE parent_id IS NULL AND dissolved_on IS NULL",
        ))
        .await?;
    let year = chrono::Datelike::year(&today);
    let mut items = Vec::new();
    let mut terms = Vec::new();
    for (root,) in &roots {
        items.extend(
            life::compliance::compliance(db, &system, *root, year, None)
                .await?
                .into_iter()
                .filter(|i| i.status != "on_track"),
        );
        terms.extend(
            life::terms::terms(db, &system, *root)
                .await?
                .into_iter()
                .filter(|t| t.status != "current" && t.status != "unknown"),
        );
    }
    let upcoming: Vec<(i64, String, String)> = db
        .all(
            Q::new("SELECT id, title, starts_at FROM meetings WHERE status = 'planned' AND local_date >= $1 AND local_date <= $2")
                .bind(today)
                .bind(today + Duration::days(2)),
        )
        .await?;
    let mut added = 0;
    let mut tx = db.begin().await?;
    let responsible = responsible(&mut tx).await?;
    let users_of = |org: i64| responsible.get(&org).map_or(&[][..], Vec::as_slice);
    for i in &items {
        let title = format!(
            "{} · {} · {}",
            i.org_name,
            kind_zh(&i.kind),
            if i.status == "overdue" {
                "逾期未开"
            } else {
                "即将到期"
            }
        );
        for &user in users_of(i.org_id) {
            let key = format!("life:{}:{}:{}:{}", i.org_id, i.kind, i.period, i.status);
            added += usize::from(
                inbox::notify(
                    &mut tx,
                    user,
                    &format!("life.{}", i.status),
                    &key,
                    &title,
                    &format!("/orgs/{}/meetings", i.org_id),
                )
                .await?,
            );
        }
    }
    for t in &terms {
        let end = t.term_end.map(|d| d.to_string()).unwrap_or_default();
        let title = format!("{} · 任期届满 {end} · 请做好换届准备", t.org_name);
        for &user in users_of(t.org_id) {
            let key = format!("term:{}:{}:{end}", t.org_id, t.status);
            added +=
                usize::from(inbox::notify(&mut tx, user, "term", &key, &title, &format!("/orgs/{}", t.org_id)).await?);
        }
    }
    for (meeting, title, _) in &upcoming {
        let users: Vec<(i64,)> = tx
            .all(Q::new("SELECT u.id FROM users u JOIN meeting_attendance a ON a.member_id = u.member_id WHERE a.meeting_id = $1").bind(*meeting))
            .await?;
        for (user,) in users {
            added += usize::from(
                inbox::notify(
                    &mut tx,
                    user,
                    "meeting.upcoming",
                    &format!("meeting:{meeting}:upcoming"),
                    title,
                    &format!("/meetings/{meeting}"),
                )
                .await?,
            );
        }
    }
    // Letters past their validity without an answer: both sides are told, once.
    let expired: Vec<(i64, i64, Option<i64>, String)> = tx
        .all(
            Q::new(
                "SELECT id, from_org_id, to_org_id, letter_no FROM transfers WHERE status = 'sent' AND expires_on < $1",
            )
            .bind(today),
        )
        .await?;
    for (id, from, to, letter_no) in &expired {
        let title = format!("组织关系介绍信 {letter_no} 已过有效期，尚未接收");
        for org in std::iter::once(*from).chain(*to) {
            for &user in users_of(org) {
                let key = format!("transfer:{id}:expired");
                added += usize::from(
                    inbox::notify(
                        &mut tx,
                        user,
                        "transfer.expired",
                        &key,
                        &title,
                        &format!("/transfers/{id}"),
                    )
                    .await?,
                );
            }
        }
    }
    // Study tasks about to fall due, to the members who have not finished them.
    added += crate::study::tasks::remind(&mut tx, today).await?;
    crate::audit::append(
        &mut tx,
        &system,
        crate::audit::Event::ok("job.daily_reminders", "job", today).with_detail(format!("notices={added}")),
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

fn kind_zh(kind: &str) -> &'static str {
    domain::life::MeetingKind::parse(kind)
        .map(|k| k.zh())
        .unwrap_or("组织生活")
}
