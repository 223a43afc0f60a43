//! The library's import page (批量导入学习资料): a workbook and the files its rows name, previewed
//! with every problem by line, then written all at once or only the good rows.

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use store::orgs::Org;
use store::study::item_import::Attachment;

use super::study_orgs;
use crate::api::files::ImportReport;
use crate::auth::WebCaller;
use crate::web::{error_page, render, Chrome};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/study/items/import",
        get(form)
            .post(import)
            // Lecture videos come with the workbook.
            .layer(axum::extract::DefaultBodyLimit::max(store::study::media::MAX_BYTES)),
    )
}

#[derive(Template)]
#[template(path = "study_item_import.html")]
struct ImportPage {
    c: Chrome,
    orgs: Vec<Org>,
    org_id: Option<i64>,
    report: Option<ImportReport>,
    errors: Vec<(String, String)>,
}

impl ImportPage {
    fn chosen(&self, id: &i64) -> bool {
        self.org_id == Some(*id)
    }
}

async fn draw(
    s: &AppState,
    w: &WebCaller,
    org_id: Option<i64>,
    report: Option<ImportReport>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, "/study", "study.import_items");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    render(&ImportPage {
        c,
        orgs,
        org_id,
        report,
        errors,
    })
}

async fn form(State(s): State<AppState>, w: WebCaller) -> Response {
    draw(&s, &w, None, None, Vec::new()).await
}

async fn import(State(s): State<AppState>, w: WebCaller, req: Request) -> Response {
    let c = Chrome::for_caller(&w, "/study", "study.import_items");
    let form = match axum::extract::Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => return error_page(c, crate::error::Failure::bad_request("multipart")),
    };
    let parts = crate::or_error_page!(c, crate::web::read_parts(form).await);
    let text = |name: &str| parts.iter().find(|p| p.name == name).map(|p| p.text());
    let org_id = text("org_id").and_then(|t| t.parse().ok());
    let mode = text("mode").unwrap_or_else(|| "preview".into());
    let mut workbook = Vec::new();
    let mut attachments = Vec::new();
    for p in parts {
        match (p.name.as_str(), p.file_name) {
            ("file", _) => workbook = p.bytes.to_vec(),
            // A file input left empty sends a part with no name and no bytes.
            ("attachments", Some(name)) if !name.is_empty() && !p.bytes.is_empty() => attachments.push(Attachment {
                name,
                bytes: p.bytes.to_vec(),
            }),
            _ => {}
        }
    }
    match crate::api::study::import_items_upload(&s, &w.caller, c.lang, org_id, &mode, &workbook, attachments).await {
        Ok(report) => draw(&s, &w, org_id, Some(report), Vec::new()).await,
        Err(f) if f.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let message = f.message(c.lang);
            draw(&s, &w, org_id, None, vec![("file".into(), message)]).await
        }
        Err(f) => error_page(c, f),
    }
}
