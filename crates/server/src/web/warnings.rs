//! The warnings page (预警): a subtree's warnings by state, oldest first, each linking to where it
//! is acted on; those the reader may act on are acknowledged together with one note; those who
//! manage the organization set the escalation days.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use store::warnings::acks::{self, AckInput, EscalationInput, WarningFilter, WarningPage, KINDS, STATES};

use super::{error_page, form_errors, form_urlencoded_pairs, posted, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs/{id}/warnings", get(page))
        .route("/orgs/{id}/warnings/ack", post(ack))
        .route("/orgs/{id}/warnings/settings", post(settings))
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct WarningsPage {
    c: Chrome,
    w: WarningPage,
    kind: String,
    pages: i64,
    states: [&'static str; 4],
    kinds: [&'static str; 14],
    errors: Vec<(String, String)>,
}

impl WarningsPage {
    /// Whether any row on the page may be acknowledged (the form is drawn then).
    fn any_ack(&self) -> bool {
        self.w.rows.iter().any(|r| r.can_ack && r.acked_at.is_none())
    }

    fn escalation_text(&self) -> String {
        self.c
            .tn("warnings.escalation_now", self.w.escalate_after_days as usize)
    }
}

async fn page(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(f): Query<WarningFilter>,
) -> Response {
    draw(&s, &w, id, f, Vec::new()).await
}

async fn draw(s: &AppState, w: &WebCaller, id: i64, f: WarningFilter, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/warnings"), "warnings.title");
    let kind = f.kind.clone().unwrap_or_default();
    let page = crate::or_error_page!(c, acks::list(&s.store.db, &w.caller, id, &f).await);
    let pages = (page.total + page.per_page - 1) / page.per_page;
    render(&WarningsPage {
        c,
        w: page,
        kind,
        pages,
        states: STATES,
        kinds: KINDS,
        errors,
    })
}

/// Acknowledges the ticked warnings with one note; back to the list with the count saved.
async fn ack(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let input = AckInput {
        note: Some(posted(&pairs, "note")),
    };
    let back = WarningFilter {
        state: Some(posted(&pairs, "state")).filter(|s| !s.is_empty()),
        kind: Some(posted(&pairs, "kind")).filter(|k| !k.is_empty()),
        page: None,
    };
    if ids.is_empty() {
        let c = Chrome::for_caller(&w, &format!("/orgs/{id}/warnings"), "warnings.title");
        return draw(&s, &w, id, back, vec![("ids".into(), c.t("warnings.choose"))]).await;
    }
    match acks::ack(&s.store.db, &w.caller, &ids, &input).await {
        Ok(_) => see_other(&format!("/orgs/{id}/warnings?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/warnings"), "warnings.title");
            match form_errors(&c, &e) {
                Some(errors) => draw(&s, &w, id, back, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn settings(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let days = posted(&pairs, "escalate_after_days");
    let input = EscalationInput {
        // A number that does not parse is refused as out of range, named on the form.
        escalate_after_days: (!days.is_empty()).then(|| days.parse().unwrap_or(0)),
    };
    match acks::set_escalation(&s.store.db, &w.caller, id, &input).await {
        Ok(_) => see_other(&format!("/orgs/{id}/warnings?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/warnings"), "warnings.title");
            match form_errors(&c, &e) {
                Some(errors) => draw(&s, &w, id, WarningFilter::default(), errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}
