//! Meeting attachments (minutes, photos, documents), checked by content and kept in the data directory.

use super::meetings::{get, managed_org};
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::files;
use crate::scope::Caller;
use serde::Serialize;

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
    vault: files::Vault<'_>,
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
    files::save(vault, id, bytes, record).await?;
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
    vault: files::Vault<'_>,
    id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    let a: Attachment = db
        .opt(
            Q::new("SELECT id, meeting_id, name, content_type, size, created_at FROM attachments WHERE id = $1")
                .bind(id),
        )
        .await?
        .ok_or(Error::NotFound)?;
    // The meeting's own lookup decides (and audits) whether the caller reaches it.
    get(db, caller, a.meeting_id).await?;
    let bytes = files::read(vault, id).await?;
    audit::append_alone(db, caller, Event::ok("meeting.attachment_read", "attachment", id)).await?;
    Ok((a, bytes))
}
