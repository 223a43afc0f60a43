//! Documents: the application, the talk record, the 入党志愿书, the political review and the rest,
//! each filed under the step it belongs to.

use super::{file_row, writable};
use domain::Invalid;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::files;
use crate::scope::Caller;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Document {
    pub id: i64,
    pub file_id: i64,
    pub step: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_by: String,
    pub created_at: String,
}

const SELECT_DOCUMENT: &str = concat!(
    "SELECT id, file_id, step, name, content_type, size, ",
    person!("created_by"),
    " AS created_by, created_at FROM development_documents"
);

/// Files a document under a step of a development file: type and size checked (PDF, PNG, JPEG,
/// DOCX or XLSX up to 20 MB), by those who keep the file.
pub async fn attach_document(
    db: &Db,
    caller: &Caller,
    vault: files::Vault<'_>,
    id: i64,
    step: Option<i64>,
    name: &str,
    bytes: &[u8],
) -> Result<Document> {
    let step = match step {
        Some(s) if (1..=25).contains(&s) => s,
        _ => return Err(Invalid::one("step", "invalid").into()),
    };
    writable(db, caller, id, "development.document").await?;
    let upload = files::check(name, bytes)?;
    let doc_id = new_id();
    let record = async {
        let mut tx = db.begin().await?;
        tx.exec(
            Q::new(
                "INSERT INTO development_documents (id, file_id, step, name, content_type, size, digest, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(doc_id)
            .bind(id)
            .bind(step)
            .bind(upload.name.clone())
            .bind(upload.content_type)
            .bind(bytes.len() as i64)
            .bind(upload.digest.clone())
            .bind(caller.display_name.clone())
            .bind(now_text()),
        )
        .await?;
        audit::append(
            &mut tx,
            caller,
            Event::ok("development.document", "development", id).with_detail(format!("document={doc_id} step={step}")),
        )
        .await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    };
    files::save(vault, doc_id, bytes, record).await?;
    Ok(db
        .one(Q::new(&format!("{SELECT_DOCUMENT} WHERE id = $1")).bind(doc_id))
        .await?)
}

pub async fn documents(db: &Db, caller: &Caller, id: i64) -> Result<Vec<Document>> {
    file_row(db, caller, id).await?;
    Ok(db
        .all(
            Q::new(&format!(
                "{SELECT_DOCUMENT} WHERE file_id = $1 ORDER BY step, created_at"
            ))
            .bind(id),
        )
        .await?)
}

/// A document's record and bytes, for those who may see its file; audited (it is about a person).
pub async fn open_document(
    db: &Db,
    caller: &Caller,
    vault: files::Vault<'_>,
    doc_id: i64,
) -> Result<(Document, Vec<u8>)> {
    let doc: Document = db
        .opt(Q::new(&format!("{SELECT_DOCUMENT} WHERE id = $1")).bind(doc_id))
        .await?
        .ok_or(Error::NotFound)?;
    file_row(db, caller, doc.file_id).await?;
    let bytes = files::read(vault, doc_id).await?;
    audit::append_alone(
        db,
        caller,
        Event::ok("development.document_read", "development", doc.file_id).with_detail(format!("document={doc_id}")),
    )
    .await?;
    Ok((doc, bytes))
}
