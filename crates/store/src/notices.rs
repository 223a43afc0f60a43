//! Notices (通知) in each user's space, an outbox that an SMS or mail gateway can drain, and the
//! daily reminder job: due-soon and overdue organizational life and committee terms for the
//! secretaries, upcoming meetings for the members expected, and transfer letters that expired
//! unanswered for both sides. Each reminder is sent once (a dedupe
//! key), and the job runs once a day even with several servers on one database (a lease row).

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::db::{instant_text, new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::life;
use crate::scope::Caller;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// Adds a notice for a user unless one with the same key exists; users with a phone also get an
/// outbox entry for the SMS gateway. Returns whether it was new.
pub async fn notify(tx: &mut Tx, user_id: i64, kind: &str, key: &str, title: &str, link: &str) -> Result<bool> {
    let id = new_id();
    let added = tx
        .exec(
            Q::new(
                "INSERT INTO notices (id, user_id, kind, dedupe_key, title, link, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(id)
            .bind(user_id)
            .bind(kind)
            .bind(format!("{user_id}:{key}"))
            .bind(title)
            .bind(link)
            .bind(now_text()),
        )
        .await?;
    if added == 1 {
        tx.exec(
            Q::new(
                "INSERT INTO outbox (id, notice_id, channel, created_at)
                 SELECT $1, $2, 'sms', $3 FROM users WHERE id = $4 AND phone_enc IS NOT NULL",
            )
            .bind(new_id())
            .bind(id)
            .bind(now_text())
            .bind(user_id),
        )
        .await?;
    }
    Ok(added == 1)
}

/// The caller's notices, newest first.
pub async fn mine(db: &Db, caller: &Caller, unread_only: bool) -> Result<Vec<Notice>> {
    let mut q = Q::new("SELECT id, kind, title, link, created_at, read_at FROM notices WHERE user_id = $1")
        .bind(caller.user_id);
    if unread_only {
        q.push(" AND read_at IS NULL");
    }
    q.push(" ORDER BY created_at DESC LIMIT 100");
    Ok(db.all(q).await?)
}

pub async fn mark_read(db: &Db, caller: &Caller, id: i64) -> Result<()> {
    let n = db
        .exec(
            Q::new("UPDATE notices SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
                .bind(now_text())
                .bind(id)
                .bind(caller.user_id),
        )
        .await?;
    let exists: Option<(i64,)> = db
        .opt(
            Q::new("SELECT id FROM notices WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(caller.user_id),
        )
        .await?;
    if n == 0 && exists.is_none() {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Takes today's run of a daily job: true for exactly one caller per local date, even across
/// servers (the conditional update is atomic; on PostgreSQL a second server waits on the row lock
/// and then sees today's date).
pub async fn take_daily_lease(db: &Db, job: &str, holder: &str, today: NaiveDate) -> Result<bool> {
    let now = crate::clock::now();
    let taken = db
        .exec(
            Q::new(
                "UPDATE job_leases SET holder = $1, leased_until = $2, last_run_on = $3
                 WHERE name = $4 AND (last_run_on IS NULL OR last_run_on < $3) AND leased_until < $5",
            )
            .bind(holder)
            .bind(instant_text(now + Duration::minutes(30)))
            .bind(today)
            .bind(job)
            .bind(instant_text(now)),
        )
        .await?;
    Ok(taken == 1)
}

/// Users holding a secretary or committee-staff grant on exactly this organization.
async fn responsible(tx: &mut Tx, org_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .all(
            Q::new("SELECT DISTINCT user_id FROM grants WHERE org_id = $1 AND role IN ('secretary', 'org_admin')")
                .bind(org_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// One day's reminders; returns how many notices were new. Runs as the system.
pub async fn daily_reminders(db: &Db, today: NaiveDate) -> Result<usize> {
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
        for user in responsible(&mut tx, i.org_id).await? {
            let key = format!("life:{}:{}:{}:{}", i.org_id, i.kind, i.period, i.status);
            added += usize::from(
                notify(
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
        for user in responsible(&mut tx, t.org_id).await? {
            let key = format!("term:{}:{}:{end}", t.org_id, t.status);
            added += usize::from(notify(&mut tx, user, "term", &key, &title, &format!("/orgs/{}", t.org_id)).await?);
        }
    }
    for (meeting, title, _) in &upcoming {
        let users: Vec<(i64,)> = tx
            .all(Q::new("SELECT u.id FROM users u JOIN meeting_attendance a ON a.member_id = u.member_id WHERE a.meeting_id = $1").bind(*meeting))
            .await?;
        for (user,) in users {
            added += usize::from(
                notify(
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
            for user in responsible(&mut tx, org).await? {
                let key = format!("transfer:{id}:expired");
                added += usize::from(
                    notify(
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
