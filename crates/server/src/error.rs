//! One mapping from errors to HTTP: every code's status and words are in the error table
//! (`i18n/errors.txt`, read by `i18n`).
//! Handlers return `Failure`; a middleware renders it as JSON (API) or a page (browser) in the
//! language of the request.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use store::Error;

use crate::i18n::{error_status, field_error, t, Lang};

/// What went wrong, before it is put into words.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    /// (field, code) pairs for validation errors.
    pub fields: Vec<(String, String)>,
}

impl Failure {
    /// A failure with its status from the error table.
    pub fn new(code: &str) -> Failure {
        Failure {
            status: error_status(code),
            code: code.to_string(),
            fields: Vec::new(),
        }
    }

    /// Input that could not be read at all (a query string of the wrong shape, a broken upload).
    pub fn bad_request(detail: &str) -> Failure {
        let mut f = Failure::new("request.malformed");
        f.fields.push((
            "body".into(),
            format!("unreadable:{}", detail.chars().take(200).collect::<String>()),
        ));
        f
    }

    /// A query string that does not fit, from the extractor's text
    /// (`Failed to deserialize query string: year: invalid digit found in string`).
    pub fn query(text: &str) -> Failure {
        let detail = text.split_once(": ").map_or(text, |(_, d)| d);
        let (field, what) = detail.split_once(": ").unwrap_or(("query", detail));
        let mut f = Failure::new("request.malformed");
        f.fields.push((
            field.to_string(),
            format!("invalid_value:{}", what.chars().take(120).collect::<String>()),
        ));
        f
    }

    /// A JSON body that does not fit: the field's path (`kinds[1]`, or `body` for the whole) and
    /// what went wrong there, as a code the message is made from (`required`, `type:a string`,
    /// `one_of:a, b`, `unknown`, `syntax`).
    pub fn malformed(path: &str, e: &serde_json::Error) -> Failure {
        let field = if path.is_empty() || path == "." {
            "body".to_string()
        } else {
            path.to_string()
        };
        // serde_json's message without its position ("… at line 1 column 9").
        let text = e.to_string();
        let text = text.rsplit_once(" at line ").map_or(text.as_str(), |(t, _)| t);
        let quoted = |s: &str| s.split('`').nth(1).unwrap_or_default().to_string();
        let (field, code) = if e.is_syntax() || e.is_eof() {
            ("body".to_string(), "syntax".to_string())
        } else if let Some(rest) = text.strip_prefix("missing field ") {
            let missing = quoted(rest);
            let field = if field == "body" {
                missing
            } else {
                format!("{field}.{missing}")
            };
            (field, "required".to_string())
        } else if let Some((_, expected)) = text.split_once(", expected one of ") {
            (field, format!("one_of:{}", expected.replace('`', "")))
        } else if let Some((_, expected)) = text.split_once(", expected ") {
            (field, format!("type:{expected}"))
        } else if text.starts_with("unknown field") {
            (
                format!("{field}.{}", quoted(text))
                    .trim_start_matches("body.")
                    .to_string(),
                "unknown".to_string(),
            )
        } else {
            (
                field,
                format!("invalid_value:{}", text.chars().take(120).collect::<String>()),
            )
        };
        let mut f = Failure::new("request.malformed");
        f.fields.push((field, code));
        f
    }

    pub fn message(&self, lang: Lang) -> String {
        if self.code == "validation" || self.code == "request.malformed" {
            let parts: Vec<String> = self.fields.iter().map(|(f, c)| field_error(lang, f, c)).collect();
            return parts.join(if lang == Lang::Zh { "；" } else { "; " });
        }
        let key = format!("err.{}", self.code);
        let text = t(lang, &key);
        if text == key {
            t(lang, "err.generic")
        } else {
            text
        }
    }

    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let fields: serde_json::Map<String, serde_json::Value> = self
            .fields
            .iter()
            .map(|(f, c)| {
                let message = if self.code == "validation" || self.code == "request.malformed" {
                    field_error(lang, f, c)
                } else {
                    c.clone()
                };
                let code = c.split(':').next().unwrap_or_default();
                (f.clone(), json!({"code": format!("{f}.{code}"), "message": message}))
            })
            .collect();
        json!({"error": {"code": self.code, "message": self.message(lang), "fields": fields}})
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        if let Error::Db(db) = &e {
            // The message may quote SQL, never data: values travel as bound parameters.
            tracing::error!(error = %db, "database error");
        }
        let mut f = Failure::new(e.code());
        if let Error::Invalid(inv) = &e {
            f.fields = inv
                .0
                .iter()
                .map(|fe| (fe.field.to_string(), fe.code.to_string()))
                .collect();
        }
        f
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders API failures as `{"error":{"code","message","fields"}}` in the caller's language.
pub async fn render_api_failures(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = Lang::of_request(req.headers());
    let res = next.run(req).await;
    match res.extensions().get::<Failure>() {
        Some(f) => (f.status, axum::Json(f.to_json(lang))).into_response(),
        None => res,
    }
}

pub type ApiResult<T> = Result<T, Failure>;

/// Every API error: `{"error": {"code", "message", "fields"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code, e.g. `validation`, `not_found`, `transfer.expired`; each is a row of the
    /// error table (`crates/server/i18n/errors.txt`) with its status and texts.
    pub code: String,
    /// The code in words, in the request's language (Accept-Language).
    pub message: String,
    /// For invalid input: each bad field (a JSON path for a body that did not fit) with its code
    /// (`<field>.<code>`) and message.
    pub fields: std::collections::BTreeMap<String, FieldDetail>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FieldDetail {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's errors answer with the statuses clients were promised, now read from the table.
    #[test]
    fn store_errors_keep_their_statuses() {
        let cases = [
            (Error::NotFound, 404),
            (Error::Forbidden, 403),
            (Error::Invalid(domain::Invalid::one("name", "required")), 422),
            (Error::Refused("org.dissolve.has_members"), 409),
            (Error::BadCredentials, 401),
            (Error::Locked, 423),
            (Error::Unauthenticated, 401),
        ];
        for (e, status) in cases {
            let code = e.code();
            assert_eq!(Failure::from(e).status.as_u16(), status, "{code}");
        }
        assert_eq!(Failure::new("request.too_large").status.as_u16(), 413);
        assert_eq!(Failure::new("rate_limited").status.as_u16(), 429);
    }
}
