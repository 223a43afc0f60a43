//! One mapping from errors to HTTP: the status and machine code here, the words from `i18n`.
//! Handlers return `Failure`; a middleware renders it as JSON (API) or a page (browser) in the
//! language of the request.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use store::Error;

use crate::i18n::{field_error, t, Lang};

/// What went wrong, before it is put into words.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    /// (field, code) pairs for validation errors.
    pub fields: Vec<(String, String)>,
}

impl Failure {
    pub fn new(status: StatusCode, code: &str) -> Failure {
        Failure {
            status,
            code: code.to_string(),
            fields: Vec::new(),
        }
    }

    /// Input that could not be read at all (malformed JSON, wrong types).
    pub fn bad_request(detail: &str) -> Failure {
        let mut f = Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "request.malformed");
        f.fields.push(("body".into(), detail.chars().take(200).collect()));
        f
    }

    pub fn message(&self, lang: Lang) -> String {
        if self.code == "validation" {
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
                let message = if self.code == "validation" {
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
        let status = match &e {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Refused(_) => StatusCode::CONFLICT,
            Error::BadCredentials | Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::Locked => StatusCode::LOCKED,
            Error::Db(db) => {
                // The message may quote SQL, never data: values travel as bound parameters.
                tracing::error!(error = %db, "database error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut f = Failure::new(status, e.code());
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
    let lang = req
        .headers()
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::parse)
        .unwrap_or(Lang::Zh);
    let res = next.run(req).await;
    match res.extensions().get::<Failure>() {
        Some(f) => (f.status, axum::Json(f.to_json(lang))).into_response(),
        None => res,
    }
}

pub type ApiResult<T> = Result<T, Failure>;
