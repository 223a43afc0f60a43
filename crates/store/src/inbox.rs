//! Each user's inbox (个人消息): reminders and messages addressed to one person, with an outbox that
//! an SMS or mail gateway can drain. Each message is kept once per dedupe key. The daily job that
//! sends the reminders is `jobs::reminders`; the notices published to members (党务公开) are
//! `notices`.

use serde::Serialize;

use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
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
