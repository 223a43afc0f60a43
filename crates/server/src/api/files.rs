//! Files over the API: uploads (a multipart `file` field or the raw body), downloads under the
//! file's own name, and the report of an import's rows.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Failure;
use crate::i18n::{field_error, Lang};
use crate::sheets;

pub(crate) fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Serialize, ToSchema)]
pub struct ImportProblem {
    pub(crate) line: usize,
    pub(crate) field: String,
    pub(crate) code: String,
    pub(crate) message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    pub(crate) rows: usize,
    pub(crate) good: usize,
    pub(crate) bad_lines: usize,
    pub(crate) problems: Vec<ImportProblem>,
    /// How many rows were written (0 for a preview or a refused all-or-nothing import).
    pub(crate) imported: usize,
}

/// Each bad row's problems in the caller's language; the code without the value a message quotes.
pub(crate) fn import_problems(lang: Lang, problems: &[store::import::RowProblem]) -> Vec<ImportProblem> {
    problems
        .iter()
        .map(|p| ImportProblem {
            line: p.line,
            field: p.field.clone(),
            code: p.code.split(':').next().unwrap_or_default().to_string(),
            message: field_error(lang, &p.field, &p.code),
        })
        .collect()
}

/// Reads the upload: a multipart form's `file` field, or the raw body.
pub(crate) async fn upload_bytes(req: Request) -> Result<Vec<u8>, Failure> {
    upload_named(req, None).await.map(|(_, bytes)| bytes)
}

/// How an import runs: `preview` checks only, `all` commits only if every row is good,
/// `good_only` commits the good rows.
pub(crate) const IMPORT_MODES: [&str; 3] = ["preview", "all", "good_only"];

/// An import's mode, or the validation error naming it.
pub(crate) fn check_mode(mode: &str) -> Result<(), Failure> {
    if IMPORT_MODES.contains(&mode) {
        return Ok(());
    }
    let mut f = Failure::new("validation");
    f.fields.push(("mode".into(), "invalid".into()));
    Err(f)
}

pub(crate) fn import_mode_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&IMPORT_MODES)
}

pub fn file_failure(e: sheets::members::FileError) -> Failure {
    Failure::new(&e.to_string())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileNameQuery {
    /// The file's name when the body is the raw file (a multipart upload carries its own).
    #[serde(default)]
    #[param(schema_with = domain::schema::text::<200>)]
    pub(crate) name: Option<String>,
}

/// The uploaded file and its name, from a multipart `file` field or the raw body.
pub(crate) async fn upload_named(req: Request, name: Option<String>) -> Result<(String, Vec<u8>), Failure> {
    upload_limited(req, name, crate::MAX_UPLOAD_BYTES).await
}

/// `upload_named` for a route that takes larger files (its own `DefaultBodyLimit` lets a multipart
/// body through).
pub(crate) async fn upload_limited(
    req: Request,
    name: Option<String>,
    limit: usize,
) -> Result<(String, Vec<u8>), Failure> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| Failure::new("file.too_large"))?;
        let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "file".into());
        return Ok((name, body.to_vec()));
    }
    let malformed = |e: axum::extract::multipart::MultipartError| Failure::bad_request(&e.body_text());
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| Failure::bad_request(&e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("file").to_string();
            return Ok((name, field.bytes().await.map_err(malformed)?.to_vec()));
        }
    }
    Err(Failure::new("file.empty"))
}

/// An uploaded file sent back under its own name (in ASCII for old clients, in UTF-8 for the rest).
pub(crate) fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                    crate::auth::urlencode(name)
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}
