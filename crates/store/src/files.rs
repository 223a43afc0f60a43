//! Uploaded files (meeting minutes and photos, development documents): checked by type and size,
//! kept in the data directory under their record's id, with the record in the database. The
//! bytes are written before the record commits and removed if it does not.

use std::path::{Path, PathBuf};

use domain::{FieldError, Invalid};

use crate::error::{Error, Result};

/// Files are at most this large.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// An upload that passed the checks.
pub struct Upload {
    /// The file's own name, without any folders, control characters cut, at most 100 characters.
    pub name: String,
    pub content_type: &'static str,
    /// SM3, so that a document can later be shown unchanged.
    pub digest: String,
}

/// What a file is, from its first bytes and (for Office files, which are zip archives) its name;
/// anything else is refused.
fn sniff(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"PK\x03\x04") && lower.ends_with(".docx") {
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    } else if bytes.starts_with(b"PK\x03\x04") && lower.ends_with(".xlsx") {
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    } else {
        None
    }
}

/// Checks a file's name, size and type; every problem is reported under `file`.
pub fn check(name: &str, bytes: &[u8]) -> Result<Upload> {
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("file")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let code = if name.trim().is_empty() || bytes.is_empty() {
        "required"
    } else if bytes.len() > MAX_BYTES {
        "too_large"
    } else {
        match sniff(&name, bytes) {
            Some(content_type) => {
                return Ok(Upload {
                    name,
                    content_type,
                    digest: crate::crypto::sm3_hex(bytes),
                })
            }
            None => "type_not_allowed",
        }
    };
    Err(Invalid(vec![FieldError::new("file", code)]).into())
}

fn path(dir: &Path, id: i64) -> PathBuf {
    dir.join("attachments").join(id.to_string())
}

/// Writes the bytes, then the record; if the record does not commit, the bytes are removed again.
pub async fn save(
    dir: &Path,
    id: i64,
    bytes: &[u8],
    record: impl std::future::Future<Output = Result<()>>,
) -> Result<()> {
    write(dir, id, bytes).await?;
    if let Err(err) = record.await {
        let _ = tokio::fs::remove_file(path(dir, id)).await;
        return Err(err);
    }
    Ok(())
}

async fn write(dir: &Path, id: i64, bytes: &[u8]) -> Result<()> {
    let path = path(dir, id);
    let written = async {
        tokio::fs::create_dir_all(path.parent().expect("has a parent")).await?;
        tokio::fs::write(&path, bytes).await
    };
    written.await.map_err(|err| {
        tracing::error!(error = %err, "could not write an uploaded file");
        Error::Refused("file.unwritable")
    })
}

pub async fn read(dir: &Path, id: i64) -> Result<Vec<u8>> {
    tokio::fs::read(path(dir, id)).await.map_err(|_| Error::NotFound)
}
