//! Mobile members (流动党员): the registrations from and at one's organizations, registering a
//! member at a host branch, and ending a registration.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::mobile::{self, Mobile, MobileInput};
use store::Perm;

use super::pick::Picker;
use super::transfers::{chosen_receiver, receiver_picker};
use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mobile", get(list).post(register))
        .route("/mobile/{id}/end", post(end))
}

/// What the registration form holds.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RegisterForm {
    member_id: String,
    /// The host branch chosen from the picker: its number.
    host: String,
    /// What was typed into the picker.
    host_q: String,
    since: String,
    until: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "mobile.html")]
struct ListPage {
    c: Chrome,
    /// Each registration, and whether the caller may end it.
    items: Vec<(Mobile, bool)>,
    /// The member being registered, when the form is open.
    member: Option<store::members::Member>,
    f: RegisterForm,
    picker: Option<Picker>,
    can_write: bool,
    errors: Vec<(String, String)>,
}

async fn list(State(s): State<AppState>, w: WebCaller, Query(f): Query<RegisterForm>) -> Response {
    draw(&s, &w, f, Vec::new()).await
}

async fn draw(s: &AppState, w: &WebCaller, f: RegisterForm, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/mobile", "mobile.title");
    let member = match f.member_id.parse() {
        Ok(id) => match store::members::get(&s.store.db, &w.caller, id).await {
            Ok(m) => Some(m),
            Err(e) => return error_page(c, e.into()),
        },
        Err(_) => None,
    };
    let picker = match &member {
        Some(m) => {
            let field = ("host", c.t("field.host_org_id"), "/mobile");
            match receiver_picker(s, w, field, m.org_id, &f.host_q, &f.host).await {
                Ok(p) => Some(p),
                Err(e) => return error_page(c, e.into()),
            }
        }
        None => None,
    };
    match mobile::list(&s.store.db, &w.caller, None).await {
        Ok(items) => render(&ListPage {
            picker,
            c,
            items: items
                .into_iter()
                .map(|x| {
                    let can_end = x.can_end(&w.caller);
                    (x, can_end)
                })
                .collect(),
            member,
            f,
            can_write: w.caller.can(Perm::WriteMembers),
            errors,
        }),
        Err(e) => error_page(c, e.into()),
    }
}

async fn register(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let f: RegisterForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let c = Chrome::for_caller(&w, "/mobile", "mobile.title");
    let mut input = MobileInput {
        member_id: f.member_id.parse().ok(),
        since: Some(f.since.clone()),
        until: Some(f.until.clone()),
        reason: Some(f.reason.clone()),
        ..Default::default()
    };
    match chosen_receiver(&s, &w, "host_org_id", &f.host, &f.host_q).await {
        Ok(id) => input.host_org_id = id,
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => return draw(&s, &w, f, errors).await,
            None => return error_page(c, e.into()),
        },
    }
    match mobile::register(&s.store.db, &w.caller, &input).await {
        Ok(_) => see_other("/mobile?saved=1"),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw(&s, &w, f, errors).await,
            None => error_page(c, e.into()),
        },
    }
}

async fn end(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match mobile::end(&s.store.db, &w.caller, id, None).await {
        Ok(_) => see_other("/mobile?saved=1"),
        Err(e) => error_page(Chrome::for_caller(&w, "/mobile", "mobile.title"), e.into()),
    }
}
