//! Uploaded files (meeting minutes and photos, development documents): checked by structure and
//! size, encrypted with the field keys (SM4-GCM, bound to the record's id) and kept in the data
//! directory under that id, with the record in the database. The bytes are written before the
//! record commits and removed if it does not.

pub mod kinds;
pub mod zip;

use std::path::{Path, PathBuf};

use domain::{FieldError, Invalid};

use crate::crypto::Keys;
use crate::error::{Error, Result};

/// Files are at most this large.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// An upload that passed the checks.
pub struct Upload {
    /// The file's own name, without any folders or control characters, at most 100 characters,
    /// with the extension of the type detected.
    pub name: String,
    pub content_type: &'static str,
    /// SM3 of the plain bytes, so that a document can later be shown unchanged.
    pub digest: String,
}

/// Where uploaded files live and the keys that seal them.
#[derive(Clone, Copy)]
pub struct Vault<'a> {
    pub dir: &'a Path,
    pub keys: &'a Keys,
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
        match kinds::detect(bytes) {
            Ok(kind) => {
                return Ok(Upload {
                    name: kind.rename(&name),
                    content_type: kind.content_type(),
                    digest: crate::crypto::sm3_hex(bytes),
                })
            }
            Err(code) => code,
        }
    };
    Err(Invalid(vec![FieldError::new("file", code)]).into())
}

fn path(dir: &Path, id: i64) -> PathBuf {
    dir.join("attachments").join(id.to_string())
}

/// Sealed files begin with this, so that files written before encryption are still read.
const SEALED: &[u8] = b"HJF1";

fn context(id: i64) -> String {
    format!("file:{id}")
}

/// Writes the sealed bytes, then the record; if the record does not commit, the file is removed.
pub async fn save(
    vault: Vault<'_>,
    id: i64,
    bytes: &[u8],
    record: impl std::future::Future<Output = Result<()>>,
) -> Result<()> {
    let mut sealed = SEALED.to_vec();
    sealed.extend_from_slice(&vault.keys.seal(&context(id), bytes));
    write(vault.dir, id, &sealed).await?;
    if let Err(err) = record.await {
        let _ = tokio::fs::remove_file(path(vault.dir, id)).await;
        return Err(err);
    }
    Ok(())
}

async fn write(dir: &Path, id: i64, bytes: &[u8]) -> Result<()> {
    let path = path(dir, id);
    let folder = path.parent().expect("has a parent").to_path_buf();
    let bytes = bytes.to_vec();
    let written = tokio::task::spawn_blocking(move || {
        crate::private::create_dir_all(&folder)?;
        crate::private::write(&path, &bytes)
    });
    match written.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::error!(error = %err, "could not write an uploaded file");
            Err(Error::Refused("file.unwritable"))
        }
        Err(err) => {
            tracing::error!(error = %err, "writing an uploaded file stopped");
            Err(Error::Refused("file.unwritable"))
        }
    }
}

/// The plain bytes of a stored file; a file that fails to open under its id (moved, altered or
/// sealed with a key that is gone) is an error, never served.
pub async fn read(vault: Vault<'_>, id: i64) -> Result<Vec<u8>> {
    let stored = tokio::fs::read(path(vault.dir, id))
        .await
        .map_err(|_| Error::NotFound)?;
    match stored.strip_prefix(SEALED) {
        Some(sealed) => vault.keys.open(&context(id), sealed).ok_or_else(|| {
            tracing::error!(file = id, "an uploaded file does not open with the keys");
            Error::Refused("file.undecryptable")
        }),
        None => Ok(stored),
    }
}
