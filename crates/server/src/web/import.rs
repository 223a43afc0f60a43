//! The import page: upload, a preview listing every bad row, the user's choice, and progress.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use store::Perm;

use super::{error_page, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::error::Failure;
use crate::imports::{JobView, Stage};
use crate::sheets;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/import", get(upload_form).post(upload))
        .route("/import/template.csv", get(template))
        .route("/import/{job}", get(job_page).post(commit))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    job: Option<JobView>,
    error: Option<String>,
    /// Progress in percent while committing.
    percent: usize,
}

fn page(w: &WebCaller, here: &str, job: Option<JobView>, error: Option<String>) -> Response {
    let c = Chrome::for_caller(w, here, "import.title");
    let percent = match job.as_ref().map(|j| &j.stage) {
        Some(Stage::Running { done, total }) if *total > 0 => done * 100 / total,
        Some(Stage::Done { .. }) => 100,
        _ => 0,
    };
    render(&ImportPage { c, job, error, percent })
}

/// Uploading needs the right to write members, asked of the gate (a refusal is audited); a job
/// stays visible to the user who started it.
async fn may_upload(s: &AppState, w: &WebCaller) -> Result<(), Response> {
    w.caller
        .require_any(&s.store.db, Perm::WriteMembers, "member.import", ("members", &""))
        .await
        .map_err(|e| error_page(Chrome::for_caller(w, "/import", "import.title"), e.into()))
}

async fn upload_form(State(s): State<AppState>, w: WebCaller) -> Response {
    if let Err(refused) = may_upload(&s, &w).await {
        return refused;
    }
    page(&w, "/import", None, None)
}

async fn template() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"members-template.csv\"",
            ),
        ],
        sheets::members::template_csv(),
    )
        .into_response()
}

async fn upload(State(s): State<AppState>, w: WebCaller, mut form: Multipart) -> Response {
    if let Err(refused) = may_upload(&s, &w).await {
        return refused;
    }
    let c = Chrome::for_caller(&w, "/import", "import.title");
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_string();
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => return page(&w, "/import", None, Some(c.t("err.file.too_large"))),
                }
            }
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(_) => return page(&w, "/import", None, Some(c.t("err.file.too_large"))),
        }
    }
    let Some((name, bytes)) = file else {
        return page(&w, "/import", None, Some(c.t("err.file.empty")));
    };
    let rows = match sheets::members::read(&bytes) {
        Ok(r) => r,
        Err(e) => return page(&w, "/import", None, Some(c.t(&format!("err.{e}")))),
    };
    match store::import::plan(&s.store.db, &s.store.keys, &w.caller, rows).await {
        Ok(plan) => {
            let id = s.imports.add_preview(w.caller.user_id, &name, plan);
            see_other(&format!("/import/{id}"))
        }
        Err(e) => error_page(c, e.into()),
    }
}

async fn job_page(State(s): State<AppState>, w: WebCaller, Path(job): Path<String>) -> Response {
    match s.imports.view(w.caller.user_id, &job) {
        Some(j) => {
            let running = matches!(j.stage, Stage::Running { .. });
            let mut res = page(&w, &format!("/import/{job}"), Some(j), None);
            if running {
                // The page refreshes itself while the import runs, without JavaScript.
                res.headers_mut().insert(header::REFRESH, "1".parse().unwrap());
            }
            res
        }
        None => error_page(
            Chrome::for_caller(&w, "/import", "import.title"),
            Failure::from(store::Error::NotFound),
        ),
    }
}

#[derive(Deserialize)]
struct CommitForm {
    /// `all` (only if every row is good) or `good_only`.
    mode: String,
}

async fn commit(
    State(s): State<AppState>,
    w: WebCaller,
    Path(job): Path<String>,
    Form(f): Form<CommitForm>,
) -> Response {
    let all_or_nothing = f.mode != "good_only";
    match s
        .imports
        .start_commit(s.store.clone(), w.caller.clone(), &job, all_or_nothing)
    {
        Ok(()) => see_other(&format!("/import/{job}")),
        Err(code) => {
            let c = Chrome::for_caller(&w, "/import", "import.title");
            let view = s.imports.view(w.caller.user_id, &job);
            page(&w, &format!("/import/{job}"), view, Some(c.t(&format!("err.{code}"))))
        }
    }
}
