//! Notices to members (党务公开/通知公告): an organization drafts one, the review chain approves it,
//! and it is published to the organization's subtree or to chosen organizations below it. Members
//! see the notices of every organization above them that reached them, and opening one records that
//! they read it; the publishing side sees how many of those reached have read it.

use domain::org::{lineage, subtree_end};
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::reviews;
use crate::scope::{Caller, Perm};
use domain::schema::{lines, required_text};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AnnouncementInput {
    /// The publishing organization.
    #[schema(minimum = 1, required = true)]
    pub org_id: Option<i64>,
    #[schema(schema_with = required_text::<100>, required = true)]
    pub title: Option<String>,
    #[schema(schema_with = lines::<20_000>, required = true, min_length = 1)]
    pub body: Option<String>,
    /// Organizations (in the publisher's subtree) whose members it reaches; empty for the whole
    /// subtree of the publisher.
    #[schema(max_items = 1000)]
    pub to_org_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Announcement {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub body: String,
    /// `reviewing`, `returned` or `published`.
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub published_at: Option<String>,
    /// Whether the caller has read it.
    pub read: bool,
}

/// How far a notice has reached, for the publishing side.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipts {
    /// Organizations it was published to.
    pub targets: Vec<String>,
    /// Members with an account in those subtrees.
    pub reached: i64,
    pub read: i64,
}

fn select(user_id: i64) -> Q {
    Q::new(concat!(
        "SELECT a.id, a.org_id, o.name AS org_name, a.org_path, a.title, a.body, a.status, ",
        person!("a.created_by"),
        " AS created_by, a.created_at, a.published_at,
         EXISTS (SELECT 1 FROM announcement_reads r WHERE r.announcement_id = a.id AND r.user_id = $1) AS read
         FROM announcements a JOIN orgs o ON o.id = a.org_id"
    ))
    .bind(user_id)
}

/// Drafts a notice and submits it to the review chain; nothing is published before the last level
/// approves.
pub async fn create(db: &Db, caller: &Caller, input: &AnnouncementInput) -> Result<Announcement> {
    let mut e = Vec::new();
    let title = match input.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => clean_text("title", t, 100, &mut e),
        _ => {
            e.push(FieldError::new("title", "required"));
            None
        }
    };
    let body = match input.body.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => {
            if b.chars().count() > 20_000 {
                e.push(FieldError::new("body", "too_long"));
            }
            Some(b.to_string())
        }
        _ => {
            e.push(FieldError::new("body", "required"));
            None
        }
    };
    let Some(org_id) = input.org_id else {
        e.push(FieldError::new("org_id", "required"));
        return Err(Invalid(e).into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::PublishNotices, &org.path, "notice.create", ("org", &org_id))
        .await?;
    let targets = orgs::audience(db, caller, &org, "to_org_ids", &input.to_org_ids, &mut e).await?;
    domain::error::check(e)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO announcements (id, org_id, org_path, title, body, status, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, 'reviewing', $6, $7)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(title.clone())
        .bind(body)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    for (target, path) in &targets {
        tx.exec(
            Q::new("INSERT INTO announcement_targets (announcement_id, org_id, org_path) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(*target)
                .bind(path.clone()),
        )
        .await?;
    }
    let review_title = format!("通知公告：{}", title.unwrap_or_default());
    reviews::submit(&mut tx, caller, "notice", id, &org, &review_title).await?;
    crate::search::log::changed(&mut tx, "notice", id).await?;
    audit::append(&mut tx, caller, Event::ok("notice.create", "notice", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The review chain's end: publish, or back to the drafter.
pub(crate) async fn on_review(tx: &mut Tx, id: i64, approved: bool) -> Result<()> {
    let q = if approved {
        Q::new(
            "UPDATE announcements SET status = 'published', published_at = $1 WHERE id = $2 AND status = 'reviewing'",
        )
        .bind(now_text())
        .bind(id)
    } else {
        Q::new("UPDATE announcements SET status = 'returned' WHERE id = $1 AND status = 'reviewing'").bind(id)
    };
    tx.exec(q).await?;
    crate::search::log::changed(tx, "notice", id).await?;
    Ok(())
}

/// Published notices that reach the caller as a member: from any organization above their branch
/// that targeted it. Newest first.
pub async fn mine(db: &Db, caller: &Caller) -> Result<Vec<Announcement>> {
    let Some(path) = &caller.member_org_path else {
        return Ok(Vec::new());
    };
    let mut q = select(caller.user_id);
    q.push(" WHERE a.status = 'published' AND EXISTS (SELECT 1 FROM announcement_targets t WHERE t.announcement_id = a.id AND t.org_path IN (");
    q.push_list(lineage(path));
    q.push(")) ORDER BY a.published_at DESC LIMIT 200");
    Ok(db.all(q).await?)
}

/// Notices published by organizations in the caller's subtrees, every status, newest first.
pub async fn managed(db: &Db, caller: &Caller) -> Result<Vec<Announcement>> {
    let mut q = select(caller.user_id);
    q.push(" WHERE ");
    caller.filter(&mut q, Perm::PublishNotices, "a.org_path", crate::scope::Own::Nothing);
    q.push(" ORDER BY a.created_at DESC LIMIT 200");
    Ok(db.all(q).await?)
}

/// One notice: to a member it reached (and then it counts as read), or to those who manage or review
/// its organization.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Announcement> {
    let mut q = select(caller.user_id);
    q.push(" WHERE a.id = ").push_bind(id);
    let a: Announcement = caller
        .found(db, db.opt(q).await?, "notice.read", ("notice", &id))
        .await?;
    if manages(caller, &a) {
        return Ok(a);
    }
    let reached = a.status == "published" && mine(db, caller).await?.iter().any(|m| m.id == id);
    if !reached {
        return caller.refuse(db, Error::NotFound, "notice.read", ("notice", &id)).await;
    }
    db.exec(
        Q::new("INSERT INTO announcement_reads (announcement_id, user_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(caller.user_id)
            .bind(now_text()),
    )
    .await?;
    Ok(Announcement { read: true, ..a })
}

/// Whether the caller publishes or reviews notices of this one's organization: they see it in any
/// state, whom it reached and who read it.
pub fn manages(caller: &Caller, a: &Announcement) -> bool {
    caller.can_at(Perm::PublishNotices, &a.org_path) || caller.can_at(Perm::Review, &a.org_path)
}

/// Whom a notice reached and how many have read it, for those who manage its organization.
pub async fn receipts(db: &Db, caller: &Caller, id: i64) -> Result<Receipts> {
    let a = get(db, caller, id).await?;
    if !manages(caller, &a) {
        return caller
            .refuse(db, Error::Forbidden, "notice.receipts", ("notice", &id))
            .await;
    }
    let targets: Vec<(String, String)> = db
        .all(
            Q::new(
                "SELECT o.name, t.org_path FROM announcement_targets t JOIN orgs o ON o.id = t.org_id WHERE t.announcement_id = $1",
            )
            .bind(id),
        )
        .await?;
    let mut reached = 0;
    for (_, path) in &targets {
        let (n,): (i64,) = db
            .one(
                Q::new(
                    "SELECT COUNT(*) FROM users u JOIN members m ON m.id = u.member_id
                     WHERE m.org_path >= $1 AND m.org_path < $2 AND m.status = 'active'",
                )
                .bind(path.clone())
                .bind(subtree_end(path)),
            )
            .await?;
        reached += n;
    }
    let (read,): (i64,) = db
        .one(Q::new("SELECT COUNT(*) FROM announcement_reads WHERE announcement_id = $1").bind(id))
        .await?;
    Ok(Receipts {
        targets: targets.into_iter().map(|(name, _)| name).collect(),
        reached,
        read,
    })
}
