//! A request id for every request: sent back as `x-request-id`, written on every log line of the
//! request, and shown on error pages, so a user's report and the server's log meet.

use axum::http::HeaderValue;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

pub async fn assign(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let id = store::crypto::new_token().chars().take(12).collect::<String>();
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req).instrument(span)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}
