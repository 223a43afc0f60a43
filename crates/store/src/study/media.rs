//! Study files: documents (PDF, or DOCX shown as its text), video and audio. Learning content is
//! public material, not personal data, so its files are kept unsealed in the data directory and a
//! player can fetch them by range. A file's type comes from its bytes, never its name.
//!
//! A member completes a video or audio item by playing 95% of it: the player reports the ranges it
//! played, and the server merges them (`domain::study::media`). Completion credits the item's
//! declared 学时 as reading does; no time online is kept or shown.

use std::path::{Path, PathBuf};

use domain::study::media::{self as rules, Ranges};
use domain::study::ItemKind;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, parse_instant, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::files::{kinds, zip};
use crate::scope::{Caller, Perm};

/// The largest study file: a lecture video of an hour or two.
pub const MAX_BYTES: usize = 512 * 1024 * 1024;

/// What a study file is, from its first bytes: its content type, extension and the item kind it
/// serves.
fn detect(bytes: &[u8]) -> Option<(&'static str, &'static str, ItemKind)> {
    let at = |i: usize, magic: &[u8]| bytes.get(i..i + magic.len()) == Some(magic);
    if at(4, b"ftyp") {
        // ISO media: the brand tells audio (M4A) from video.
        return Some(if at(8, b"M4A ") {
            ("audio/mp4", "m4a", ItemKind::Audio)
        } else {
            ("video/mp4", "mp4", ItemKind::Video)
        });
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(("video/webm", "webm", ItemKind::Video));
    }
    if at(0, b"OggS") {
        return Some(("audio/ogg", "ogg", ItemKind::Audio));
    }
    if at(0, b"ID3") || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        return Some(("audio/mpeg", "mp3", ItemKind::Audio));
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some(("audio/wav", "wav", ItemKind::Audio));
    }
    match kinds::detect(bytes) {
        Ok(kinds::Kind::Pdf) => Some(("application/pdf", "pdf", ItemKind::Document)),
        Ok(k @ kinds::Kind::Docx) => Some((k.content_type(), "docx", ItemKind::Document)),
        _ => None,
    }
}

/// A DOCX's paragraphs as plain text (what the browser shows of it): the text runs of each
/// paragraph of the main part, entities decoded, markup dropped.
fn docx_text(bytes: &[u8]) -> String {
    let Some(xml) = zip::small_entry(bytes, "word/document.xml", 32 * 1024 * 1024) else {
        return String::new();
    };
    let xml = String::from_utf8_lossy(&xml);
    let mut out = Vec::new();
    for paragraph in xml.split("</w:p>") {
        let mut text = String::new();
        let mut rest = paragraph;
        while let Some(start) = rest.find("<w:t") {
            let after = &rest[start + 4..];
            // `<w:t>` or `<w:t xml:space="preserve">`, not `<w:tab/>` or `<w:tbl>`.
            if !(after.starts_with('>') || after.starts_with(' ')) {
                rest = after;
                continue;
            }
            let Some(open_end) = after.find('>') else { break };
            let body = &after[open_end + 1..];
            let Some(close) = body.find("</w:t>") else { break };
            text.push_str(&body[..close]);
            rest = &body[close..];
        }
        let text = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        if !text.trim().is_empty() {
            out.push(text.trim().to_string());
        }
    }
    out.join("\n")
}

/// A stored study file.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StudyFile {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// The item kind it serves: `document`, `video` or `audio`.
    #[sqlx(skip)]
    pub kind: String,
}

pub fn path(dir: &Path, id: i64) -> PathBuf {
    dir.join("study").join(id.to_string())
}

/// A study file checked and named from its bytes, not yet kept.
pub(crate) struct Checked {
    pub(crate) name: String,
    pub(crate) content_type: &'static str,
    pub(crate) kind: ItemKind,
    /// A DOCX's paragraphs, which an item with no body of its own shows.
    pub(crate) text: String,
}

/// Checks a file's bytes (its type from them, never its name) and names it after its stem; the
/// refusal is a code under `file`.
pub(crate) fn check(name: &str, bytes: &[u8]) -> std::result::Result<Checked, &'static str> {
    if bytes.is_empty() {
        return Err("required");
    }
    if bytes.len() > MAX_BYTES {
        return Err("too_large");
    }
    let (content_type, extension, kind) = detect(bytes).ok_or("not_study_media")?;
    let stem: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("file")
        .rsplit_once('.')
        .map_or(name, |(s, _)| s)
        .chars()
        .filter(|c| !c.is_control())
        .take(90)
        .collect();
    let name = format!(
        "{}.{extension}",
        if stem.trim().is_empty() { "file" } else { stem.trim() }
    );
    let text = if extension == "docx" {
        docx_text(bytes)
    } else {
        String::new()
    };
    Ok(Checked {
        name,
        content_type,
        kind,
        text,
    })
}

/// Writes a file's bytes under its id, off the async threads. Files are written before the rows
/// that name them: a failed transaction leaves a file nobody names, removed by `forget`.
pub(crate) async fn keep(dir: &Path, id: i64, bytes: Vec<u8>) -> Result<()> {
    let target = path(dir, id);
    let folder = target.parent().expect("has a parent").to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        crate::private::create_dir_all(&folder)?;
        crate::private::write(&target, &bytes)
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        tracing::error!("could not write a study file");
        return Err(Error::Refused("file.unwritable"));
    }
    Ok(())
}

/// Removes files whose rows were not written.
pub(crate) async fn forget(dir: &Path, ids: &[i64]) {
    for id in ids {
        let _ = tokio::fs::remove_file(path(dir, *id)).await;
    }
}

/// The row of a kept file.
pub(crate) async fn record(tx: &mut Tx, caller: &Caller, id: i64, file: &Checked, size: usize) -> Result<()> {
    tx.exec(
        Q::new(
            "INSERT INTO study_files (id, name, content_type, size, text, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(file.name.clone())
        .bind(file.content_type)
        .bind(size as i64)
        .bind(file.text.clone())
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    Ok(())
}

/// Keeps an uploaded study file, for someone who manages study; its id then goes on an item.
pub async fn upload(db: &Db, dir: &Path, caller: &Caller, name: &str, bytes: &[u8]) -> Result<StudyFile> {
    caller
        .require_any(db, Perm::ManageStudy, "study.file.upload", ("study_file", &""))
        .await?;
    let file = check(name, bytes).map_err(|code| Error::Invalid(domain::Invalid::one("file", code)))?;
    let id = new_id();
    keep(dir, id, bytes.to_vec()).await?;
    let mut tx = db.begin().await?;
    record(&mut tx, caller, id, &file, bytes.len()).await?;
    audit::append(&mut tx, caller, Event::ok("study.file.upload", "study_file", id)).await?;
    if let Err(e) = tx.commit().await {
        forget(dir, &[id]).await;
        return Err(e.into());
    }
    Ok(StudyFile {
        id,
        name: file.name,
        content_type: file.content_type.into(),
        size: bytes.len() as i64,
        kind: file.kind.as_str().into(),
    })
}

/// The file of an item the caller may read (opening it as they would the item): its path, type
/// and name, for a player or viewer to fetch by range.
pub async fn item_file(db: &Db, dir: &Path, caller: &Caller, item_id: i64) -> Result<(PathBuf, String, String)> {
    let item = super::items::get(db, caller, item_id).await?;
    let Some(file_id) = item.file_id else {
        return Err(Error::NotFound);
    };
    let (name, content_type): (String, String) = db
        .one(Q::new("SELECT name, content_type FROM study_files WHERE id = $1").bind(file_id))
        .await?;
    Ok((path(dir, file_id), content_type, name))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProgressInput {
    /// The ranges played, in seconds from the start: `[[from_s, to_s], …]` (at most 1,000).
    #[schema(schema_with = ranges_schema)]
    pub ranges: Vec<(f64, f64)>,
}

/// `[[from_s, to_s], …]`: pairs of numbers, at most 1,000.
fn ranges_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Number))
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(pair).max_items(Some(1000)).build()
}

/// Where a member stands on a video or audio item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Watched {
    /// The merged ranges played, in whole seconds.
    #[schema(value_type = Vec<Vec<i64>>)]
    pub ranges: Ranges,
    pub watched_seconds: i64,
    pub duration_seconds: i64,
    /// Played over the length, in whole percent.
    pub percent: i64,
    /// Whether the item is completed (95% played) and its 学时 credited.
    pub completed: bool,
}

/// A member's ranges on an item and when they were last reported.
async fn kept(db: &Db, member_id: i64, item_id: i64) -> Result<Option<(Ranges, String)>> {
    let row: Option<(String, String)> = db
        .opt(
            Q::new("SELECT ranges, reported_at FROM study_watch WHERE member_id = $1 AND item_id = $2")
                .bind(member_id)
                .bind(item_id),
        )
        .await?;
    Ok(row.map(|(r, at)| (serde_json::from_str(&r).unwrap_or_default(), at)))
}

/// What a member has played of an item (nothing yet: empty).
pub async fn watched(db: &Db, member_id: i64, item_id: i64, duration: i64) -> Result<Watched> {
    let ranges = kept(db, member_id, item_id).await?.map(|k| k.0).unwrap_or_default();
    let seconds = rules::covered(&ranges);
    Ok(Watched {
        percent: if duration > 0 { seconds * 100 / duration } else { 0 },
        completed: rules::complete(seconds, duration),
        watched_seconds: seconds,
        duration_seconds: duration,
        ranges,
    })
}

/// Merges what a member's player reports into what they played; at 95% the item is completed and
/// its 学时 credited once. A report may add no more new ground than double speed over the time
/// since the last (or since the item was opened) allows.
pub async fn progress(db: &Db, caller: &Caller, item_id: i64, input: &ProgressInput) -> Result<Watched> {
    let Some(member_id) = caller.member_id else {
        return caller
            .refuse(db, Error::Forbidden, "study.item.progress", ("study_item", &item_id))
            .await;
    };
    if input.ranges.len() > 1000 {
        return Err(domain::Invalid::one("ranges", "too_many_items:1000").into());
    }
    let item = super::items::get(db, caller, item_id).await?;
    let duration = match (ItemKind::parse(&item.kind), item.duration_seconds) {
        (Some(ItemKind::Video | ItemKind::Audio), Some(d)) if d > 0 => d,
        _ => return Err(Error::Refused("study.item.not_media")),
    };
    if item.status != "published" {
        return Err(Error::Refused("study.item.not_published"));
    }
    let now = crate::clock::now();
    let (before, since) = match kept(db, member_id, item_id).await? {
        Some((ranges, at)) => (ranges, parse_instant(&at)),
        None => {
            let (opened,): (Option<String>,) = db
                .one(
                    Q::new("SELECT MAX(opened_at) FROM study_opens WHERE member_id = $1 AND item_id = $2")
                        .bind(member_id)
                        .bind(item_id),
                )
                .await?;
            (Vec::new(), opened.as_deref().and_then(parse_instant))
        }
    };
    let elapsed = since.map_or(0, |t| (now - t).num_seconds());
    let ranges = rules::add(&before, rules::clip(&input.ranges, duration), rules::allowance(elapsed));
    let seconds = rules::covered(&ranges);
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_watch (member_id, item_id, ranges, watched_seconds, reported_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (member_id, item_id) DO UPDATE SET ranges = excluded.ranges,
             watched_seconds = excluded.watched_seconds, reported_at = excluded.reported_at",
        )
        .bind(member_id)
        .bind(item_id)
        .bind(serde_json::to_string(&ranges).unwrap_or_else(|_| "[]".into()))
        .bind(seconds)
        .bind(now_text()),
    )
    .await?;
    if rules::complete(seconds, duration) {
        let credited = super::credits::credit_item(
            &mut tx,
            caller,
            &[member_id],
            item.earned(),
            domain::study::Form::Online,
            crate::clock::today(),
        )
        .await?;
        if credited > 0 {
            audit::append(&mut tx, caller, Event::ok("study.item.complete", "study_item", item_id)).await?;
        }
    }
    tx.commit().await?;
    watched(db, member_id, item_id, duration).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_their_bytes() {
        assert_eq!(detect(b"\0\0\0\x18ftypisom\0\0").map(|d| d.2), Some(ItemKind::Video));
        assert_eq!(detect(b"\0\0\0\x18ftypM4A \0\0").map(|d| d.1), Some("m4a"));
        assert_eq!(detect(b"ID3\x04\0\0").map(|d| d.2), Some(ItemKind::Audio));
        assert_eq!(detect(b"OggS\0\x02").map(|d| d.0), Some("audio/ogg"));
        assert_eq!(detect(b"<html><script>"), None);
        assert_eq!(detect(&kinds::samples::pdf()).map(|d| d.2), Some(ItemKind::Document));
    }

    #[test]
    fn a_docx_shows_as_its_paragraphs() {
        let xml = r#"<w:document><w:body><w:p><w:r><w:t>第一段</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">继续 &amp; 完</w:t></w:r></w:p><w:p></w:p><w:p><w:r><w:t>第二段&lt;b&gt;</w:t></w:r></w:p></w:body></w:document>"#;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = ::zip::ZipWriter::new(&mut buf);
            w.start_file("word/document.xml", ::zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut w, xml.as_bytes()).unwrap();
            w.finish().unwrap();
        }
        assert_eq!(docx_text(buf.get_ref()), "第一段继续 & 完\n第二段<b>");
    }
}
