//! Hongji's HTTP server: the HTML pages (server-rendered, working without JavaScript) and the JSON
//! API under `/api/v1`. Handlers parse and authorize; the domain decides; the store persists and audits.

pub mod api;
pub mod auth;

pub mod error;
pub mod i18n;
pub mod imports;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod qr;
pub mod request_id;
pub mod sheets;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Demo mode prints the demo accounts on the login page.
    pub demo: bool,
    /// Set the `Secure` flag on the session cookie (behind HTTPS).
    pub secure_cookies: bool,
    pub imports: imports::Jobs,
    pub limits: limits::Shared,
    /// Run the scheduled jobs (daily reminders) in this process; tests turn them off.
    pub scheduled_jobs: bool,
    /// Where uploaded files are kept (in the data directory).
    pub files_dir: std::path::PathBuf,
    /// How computed dues are rounded to the fen (half up unless configured).
    pub dues_rounding: domain::dues::Rounding,
    /// Audit entries older than this many days are removed daily; `None` keeps them all.
    pub audit_retention_days: Option<i64>,
    /// This server's search index (in the data directory; in memory for tests), kept current from
    /// the database's change log.
    pub search: Arc<store::search::SearchIndex>,
    pub metrics: Arc<metrics::Metrics>,
    /// The bearer token that opens `/metrics`; without one the page does not exist.
    pub metrics_token: Option<String>,
}

impl AppState {
    pub fn new(store: Store, demo: bool) -> AppState {
        AppState {
            store,
            demo,
            secure_cookies: false,
            imports: imports::Jobs::default(),
            limits: Arc::new(limits::Limits::new(limits::Settings::default())),
            scheduled_jobs: true,
            files_dir: std::path::PathBuf::from("hongji-data/files"),
            dues_rounding: domain::dues::Rounding::HalfUp,
            audit_retention_days: None,
            search: Arc::new(store::search::SearchIndex::in_memory()),
            metrics: Default::default(),
            metrics_token: None,
        }
    }
}

impl AppState {
    /// Where uploaded files are kept, with the keys that seal them.
    pub fn vault(&self) -> store::files::Vault<'_> {
        store::files::Vault {
            dir: &self.files_dir,
            keys: &self.store.keys,
        }
    }
}

/// Uploads above this are refused before they are read (an import of 100,000 rows is ~15 MB).
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    // Served over HTTPS (secure cookies): browsers are told to stay on HTTPS for a year.
    let hsts = state.secure_cookies;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::page))
        .route("/static/app.css", get(static_css))
        .route("/static/app.js", get(static_js))
        .route("/favicon.ico", get(favicon))
        .route("/static/favicon.svg", get(favicon))
        .merge(api::routes())
        .merge(web::routes())
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(axum::middleware::from_fn(move |req, next| {
            security_headers(hsts, req, next)
        }))
        .layer(axum::middleware::from_fn(request_id::assign))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .with_state(state)
}

/// A bug that panics in one request answers 500 in the error format; the server stays up and
/// the other requests go on. The panic's message is logged, never sent.
fn on_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request panicked");
    axum::response::IntoResponse::into_response(error::Failure::new("internal"))
}

async fn static_css() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}

/// The icon browsers ask for at `/favicon.ico` (an SVG: every current browser reads it there).
async fn favicon() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
}

async fn static_js() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}

async fn security_headers(
    hsts: bool,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages and API answers hold personal data: never cache them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves until the process is stopped (Ctrl-C or SIGTERM).
/// The audit log is anchored when the server starts and when it stops (and daily, with the jobs).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let store = state.store.clone();
    anchor_audit(&store, "start").await;
    if state.scheduled_jobs {
        tokio::spawn(daily_jobs(
            state.store.clone(),
            state.audit_retention_days,
            state.metrics.clone(),
        ));
        tokio::spawn(settle_marks(state.store.clone(), state.metrics.clone()));
    }
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    anchor_audit(&store, "shutdown").await;
    served
}

async fn anchor_audit(store: &Store, when: &str) {
    match store::audit::checkpoint(&store.db).await {
        Ok(c) => tracing::info!(entries = c.seq, when, "audit checkpoint written"),
        Err(e) => tracing::error!(error = %e, when, "audit checkpoint failed"),
    }
}

/// The daily reminders, on a month's first run its dues ledger, and after 22:00 the security
/// report; checked every ten minutes: the leases let one server run each once per local
/// (Asia/Shanghai) date.
async fn daily_jobs(store: Store, audit_retention_days: Option<i64>, metrics: Arc<metrics::Metrics>) {
    let holder = format!(
        "{}:{}",
        std::process::id(),
        store::crypto::new_token().get(..8).unwrap_or_default()
    );
    // Every server anchors its own checkpoint file once a day (the lease is for shared work).
    let mut anchored_on = domain::time::local_date(store::clock::now());
    loop {
        let today = domain::time::local_date(store::clock::now());
        if today != anchored_on {
            anchor_audit(&store, "daily").await;
            anchored_on = today;
        }
        match store::jobs::run_daily(&store.db, &store.keys, &holder, audit_retention_days).await {
            Ok(Some(run)) => {
                metrics.job("reminders", run.reminders.is_ok());
                metrics.job("dues_month", run.dues.is_ok());
                metrics.job("warnings_day", run.warnings.is_ok());
                metrics.job("quality", run.quality.is_ok());
                metrics.job("login_failures", run.login_failures.is_ok());
                if let Some(pruned) = &run.audit_pruned {
                    metrics.job("audit_retention", pruned.is_ok());
                }
                match run.reminders {
                    Ok(n) => tracing::info!(notices = n, "daily reminders sent"),
                    Err(e) => tracing::error!(error = %e, "daily reminders failed"),
                }
                match run.dues {
                    Ok(Some(rows)) => tracing::info!(rows, "this month's dues written"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "writing this month's dues failed"),
                }
                match &run.quality {
                    Ok(r) => tracing::info!(
                        checked = r.checked,
                        failures = r.failures,
                        duplicates = r.duplicates,
                        "records checked"
                    ),
                    Err(e) => tracing::error!(error = %e, "checking the records failed"),
                }
                match run.warnings {
                    Ok(orgs) => tracing::info!(orgs, "warnings evaluated for the day"),
                    Err(e) => tracing::error!(error = %e, "evaluating the day's warnings failed"),
                }
                if let Err(e) = run.login_failures {
                    tracing::error!(error = %e, "forgetting old failed sign-ins failed");
                }
                match run.audit_pruned {
                    Some(Ok(removed)) => tracing::info!(removed, "audit entries past the retention removed"),
                    Some(Err(e)) => tracing::error!(error = %e, "removing audit entries past the retention failed"),
                    None => {}
                }
            }
            Ok(None) => {}
            Err(e) => {
                metrics.job("daily_lease", false);
                tracing::warn!(error = %e, "could not take the daily jobs' lease")
            }
        }
        match store::security::run_nightly(&store.db, &holder, store::clock::now()).await {
            Ok(Some(r)) => {
                metrics.job("security_report", true);
                tracing::info!(incidents = r.incidents, "security report written")
            }
            Ok(None) => {}
            Err(e) => {
                metrics.job("security_report", false);
                tracing::error!(error = %e, "the security report failed")
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

/// How often the server evaluates again what writes marked stale (`store::warnings::settle`).
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the warnings and the dashboards' figures counted in the background, a few seconds behind
/// the writes, so that readers rarely count them first.
async fn settle_marks(store: Store, metrics: Arc<metrics::Metrics>) {
    loop {
        tokio::time::sleep(SETTLE_EVERY).await;
        match store::warnings::settle(&store.db).await {
            Ok(0) => {}
            Ok(orgs) => {
                metrics.job("warnings_settle", true);
                tracing::info!(orgs, "marked organizations evaluated again")
            }
            Err(e) => {
                metrics.job("warnings_settle", false);
                tracing::error!(error = %e, "evaluating marked organizations failed")
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_answers_500_in_the_error_format() {
        let res = super::on_panic(Box::new("index out of bounds"));
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let res = super::on_panic(Box::new(String::from("called unwrap on None")));
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    }
}
