//! Notices pages: the notices that reach the signed-in member, those of the organizations they
//! publish for (with a form to draft one), and one notice with its read receipts and review.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use store::notices::{self, Announcement, AnnouncementInput, Receipts};
use store::orgs::{self, Org};
use store::pick::{self, Purpose};
use store::reviews::{self, ReviewView};
use store::Perm;

use super::pick::{searching, Picker};
use super::{error_page, form_errors, form_urlencoded_pairs, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notices", get(list).post(create))
        .route("/notices/{id}", get(detail))
}

#[derive(Default)]
struct Draft {
    org_id: String,
    title: String,
    body: String,
    to_org_ids: Vec<String>,
    /// What was typed into the audience picker.
    to_org_ids_q: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage {
    c: Chrome,
    mine: Vec<Announcement>,
    managed: Vec<Announcement>,
    /// Organizations the user publishes for.
    publishers: Vec<Org>,
    /// The organizations below the publisher that the notice goes to (none: all of them).
    audience: Picker,
    f: Draft,
    errors: Vec<(String, String)>,
}

async fn list(State(s): State<AppState>, w: WebCaller) -> Response {
    draw_list(&s, &w, Draft::default(), Vec::new()).await
}

async fn draw_list(s: &AppState, w: &WebCaller, f: Draft, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/notices", "notice.title");
    let db = &s.store.db;
    let mine = crate::or_error_page!(c, notices::mine(db, &w.caller).await);
    let managed = crate::or_error_page!(c, notices::managed(db, &w.caller).await);
    let mut publishers = Vec::new();
    for g in w.caller.grants.iter() {
        let Some(org_id) = g.org_id.filter(|_| w.caller.can_at(Perm::PublishNotices, &g.path)) else {
            continue;
        };
        publishers.push(crate::or_error_page!(c, orgs::get(db, &w.caller, org_id).await));
    }
    let mut audience = Picker::many("to_org_ids", c.t("notice.to"), "/api/v1/pick/orgs?for=publish");
    if !publishers.is_empty() {
        let ids = pick::ids(&f.to_org_ids);
        let audiences = async {
            let found = pick::orgs(db, &w.caller, Purpose::Publish, None, &f.to_org_ids_q).await?;
            let chosen = pick::chosen_orgs(db, &w.caller, Purpose::Publish, &ids).await?;
            Ok::<_, store::Error>((chosen, found))
        };
        let (chosen, found) = crate::or_error_page!(c, audiences.await);
        audience = audience.with(&f.to_org_ids_q, chosen, found);
    }
    render(&ListPage {
        audience,
        c,
        mine,
        managed,
        publishers,
        f,
        errors,
    })
}

async fn create(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let f = Draft {
        org_id: get("org_id"),
        title: get("title"),
        body: get("body"),
        to_org_ids: pairs
            .iter()
            .filter(|(k, _)| k == "to_org_ids")
            .map(|(_, v)| v.clone())
            .collect(),
        to_org_ids_q: get("to_org_ids_q"),
    };
    if searching(&pairs) {
        return draw_list(&s, &w, f, Vec::new()).await;
    }
    let input = AnnouncementInput {
        org_id: f.org_id.parse().ok(),
        title: Some(f.title.clone()),
        body: Some(f.body.clone()),
        to_org_ids: pick::ids(&f.to_org_ids),
    };
    match notices::create(&s.store.db, &w.caller, &input).await {
        Ok(n) => see_other(&format!("/notices/{}?saved=1", n.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/notices", "notice.title");
            match form_errors(&c, &e) {
                Some(errors) => draw_list(&s, &w, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct DetailPage {
    c: Chrome,
    n: Announcement,
    receipts: Option<Receipts>,
    review: Option<ReviewView>,
}

async fn detail(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/notices/{id}"), "notice.title");
    let n = match notices::get(&s.store.db, &w.caller, id).await {
        Ok(n) => n,
        Err(e) => return error_page(c, e.into()),
    };
    // Receipts and the review are for those who manage or review the notice's organization.
    let (receipts, review) = if notices::manages(&w.caller, &n) {
        (
            Some(crate::or_error_page!(
                c,
                notices::receipts(&s.store.db, &w.caller, id).await
            )),
            crate::or_error_page!(c, reviews::of_subject(&s.store.db, "notice", id).await),
        )
    } else {
        (None, None)
    };
    render(&DetailPage { c, n, receipts, review })
}
