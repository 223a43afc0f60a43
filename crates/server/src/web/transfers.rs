//! Transfer pages: the letters from and to one's organizations (expired ones flagged), issuing a
//! letter, and the letter itself (print-ready) with where its review stands and the answers the
//! caller may give.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::pick;
use store::reviews::{self, ReviewView};
use store::transfers::{self, Incoming, Transfer, TransferFilter, TransferInput, Validity};
use store::Perm;

use super::pick::{Picker, Search};
use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(list).post(create))
        .route("/transfers/new", get(new_form))
        .route("/transfers/{id}", get(letter))
        .route("/transfers/{id}/accept", post(accept))
        .route("/transfers/{id}/reject", post(reject))
        .route("/transfers/{id}/receipt", post(receipt))
        .route("/transfers/{id}/print", post(print_full))
}

#[derive(Template)]
#[template(path = "transfers.html")]
struct ListPage {
    c: Chrome,
    items: Vec<Transfer>,
    incoming: Vec<Incoming>,
    can_issue: bool,
}

async fn list(State(s): State<AppState>, w: WebCaller, Query(f): Query<TransferFilter>) -> Response {
    let c = Chrome::for_caller(&w, "/transfers", "transfer.title");
    let lists = async {
        let items = transfers::list(&s.store.db, &w.caller, &f).await?;
        let incoming = transfers::incoming(&s.store.db, &w.caller, f.org_id).await?;
        Ok::<_, store::Error>((items, incoming))
    };
    match lists.await {
        Ok((items, incoming)) => render(&ListPage {
            c,
            items,
            incoming,
            can_issue: w.caller.can(Perm::WriteMembers),
        }),
        Err(e) => error_page(c, e.into()),
    }
}

/// What the letter form holds.
#[derive(Deserialize, Default)]
struct LetterForm {
    #[serde(default)]
    member_id: String,
    /// The receiving organization chosen from the picker: its number.
    #[serde(default)]
    to_org: String,
    /// What was typed into the picker: part of a name or a number; the name itself when the
    /// receiver is outside the platform.
    #[serde(default)]
    to_org_q: String,
    /// Ticked when the receiver is outside the platform.
    #[serde(default)]
    outside: Option<String>,
    #[serde(default)]
    reason: String,
    /// `1` in the same city, `0` elsewhere; blank lets the platform decide.
    #[serde(default)]
    in_city: String,
    #[serde(default)]
    valid_days: String,
}

#[derive(Template)]
#[template(path = "transfer_form.html")]
struct FormPage {
    c: Chrome,
    member: store::members::Member,
    f: LetterForm,
    picker: Picker,
    validity: Validity,
    errors: Vec<(String, String)>,
}

/// The receiver picker of a letter or a mobile member's registration: any branch but the member's
/// own (`home`).
pub(super) async fn receiver_picker(
    s: &AppState,
    w: &WebCaller,
    (field, label, action): (&'static str, String, &'static str),
    home: i64,
    q: &str,
    chosen: &str,
) -> store::Result<Picker> {
    let db = &s.store.db;
    let mut found = pick::receivers(db, &w.caller, q).await?;
    found.retain(|c| c.id != home);
    let chosen = pick::chosen_receivers(db, &w.caller, &pick::ids(&[chosen.to_string()])).await?;
    let search = Search::Reload(action.to_string());
    Ok(Picker::one(field, label, search, "/api/v1/transfers/receivers").with(q, chosen, found))
}

/// The receiver a submitted form names, if any (see `web::pick::key`).
pub(super) async fn chosen_receiver(
    s: &AppState,
    w: &WebCaller,
    field: &'static str,
    chosen: &str,
    q: &str,
) -> store::Result<Option<i64>> {
    match super::pick::key(chosen, q) {
        Some(key) => transfers::receiver(&s.store.db, &w.caller, field, key).await.map(Some),
        None => Ok(None),
    }
}

async fn new_form(State(s): State<AppState>, w: WebCaller, Query(f): Query<LetterForm>) -> Response {
    draw_form(&s, &w, f, Vec::new()).await
}

async fn draw_form(s: &AppState, w: &WebCaller, f: LetterForm, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/transfers/new", "transfer.new");
    let member = match f.member_id.parse() {
        Ok(id) => store::members::get(&s.store.db, &w.caller, id).await,
        Err(_) => Err(store::Error::NotFound),
    };
    let member = match member {
        Ok(member) => member,
        Err(e) => return error_page(c, e.into()),
    };
    let typed = if f.outside.is_some() { "" } else { f.to_org_q.as_str() };
    let parts = async {
        let validity = transfers::validity(&s.store.db, &w.caller, member.org_id).await?;
        let field = ("to_org", c.t("transfer.to"), "/transfers/new");
        let picker = receiver_picker(s, w, field, member.org_id, typed, &f.to_org).await?;
        Ok::<_, store::Error>((validity, picker))
    };
    match parts.await {
        Ok((validity, picker)) => render(&FormPage {
            c,
            member,
            f,
            picker,
            validity,
            errors,
        }),
        Err(e) => error_page(c, e.into()),
    }
}

async fn create(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let f: LetterForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let c = Chrome::for_caller(&w, "/transfers/new", "transfer.new");
    let outside = f.outside.is_some();
    let mut input = TransferInput {
        member_id: f.member_id.parse().ok(),
        reason: Some(f.reason.clone()),
        in_city: match f.in_city.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        valid_days: f.valid_days.trim().parse().ok(),
        ..Default::default()
    };
    if outside {
        input.to_name = Some(f.to_org_q.clone()).filter(|n| !n.trim().is_empty());
    } else {
        match chosen_receiver(&s, &w, "to_org_id", &f.to_org, &f.to_org_q).await {
            Ok(id) => input.to_org_id = id,
            Err(e) => match form_errors(&c, &e) {
                Some(errors) => return draw_form(&s, &w, f, errors).await,
                None => return error_page(c, e.into()),
            },
        }
    }
    match transfers::create(&s.store.db, &w.caller, &input).await {
        Ok(t) => see_other(&format!("/transfers/{}?saved=1", t.id)),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_form(&s, &w, f, errors).await,
            None => error_page(c, e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct LetterPage {
    c: Chrome,
    t: Transfer,
    review: Option<ReviewView>,
    /// The caller answers for the receiving organization.
    can_answer: bool,
    /// The caller keeps the sending branch (records the receipt of a letter outside).
    can_receipt: bool,
    /// The review waits at a level the caller decides.
    can_decide: bool,
    /// The caller may print the letter with the full ID number (the sending side, audited).
    can_print_full: bool,
    /// The full ID number and phone, when the letter is printed with them.
    revealed: Option<store::members::Revealed>,
    errors: Vec<(String, String)>,
}

async fn letter(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_letter(&s, &w, id, Vec::new(), None).await
}

/// The letter as it is printed for the member to carry: with the full ID number and phone, which
/// the letter states (组通字〔2006〕45号). Revealing them is audited.
async fn print_full(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/transfers/{id}"), "transfer.letter");
    match transfers::reveal_for_letter(&s.store.db, &s.store.keys, &w.caller, id).await {
        Ok(r) => draw_letter(&s, &w, id, Vec::new(), Some(r)).await,
        Err(e) => error_page(c, e.into()),
    }
}

async fn draw_letter(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    errors: Vec<(String, String)>,
    revealed: Option<store::members::Revealed>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/transfers/{id}"), "transfer.letter");
    let t = match transfers::get(&s.store.db, &w.caller, id).await {
        Ok(t) => t,
        Err(e) => return error_page(c, e.into()),
    };
    let review = crate::or_error_page!(c, reviews::of_subject(&s.store.db, "transfer", id).await);
    let paths = crate::or_error_page!(c, transfers::paths(&s.store.db, id).await);
    let may = transfers::actions(&w.caller, &t, &paths);
    let (can_answer, can_receipt, can_print_full) = (may.answer, may.receipt, may.print_full);
    let can_decide = review
        .as_ref()
        .is_some_and(|r| reviews::may_decide(&w.caller, &r.review));
    render(&LetterPage {
        c,
        t,
        review,
        can_answer,
        can_receipt,
        can_decide,
        can_print_full,
        revealed,
        errors,
    })
}

/// After an answer: back to the letter, or the letter with the form's errors, or an error page.
async fn after<T>(s: &AppState, w: &WebCaller, id: i64, result: store::Result<T>) -> Response {
    let c = Chrome::for_caller(w, &format!("/transfers/{id}"), "transfer.letter");
    match result {
        Ok(_) => see_other(&format!("/transfers/{id}?saved=1")),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_letter(s, w, id, errors, None).await,
            None => error_page(c, e.into()),
        },
    }
}

async fn accept(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let result = transfers::accept(&s.store.db, &w.caller, id).await;
    after(&s, &w, id, result).await
}

#[derive(Deserialize, Default)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    receipt_on: String,
}

async fn reject(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: ReasonForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let result = transfers::reject(&s.store.db, &w.caller, id, Some(&f.reason)).await;
    after(&s, &w, id, result).await
}

async fn receipt(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: ReasonForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let on = chrono::NaiveDate::parse_from_str(&f.receipt_on, "%Y-%m-%d").ok();
    let result = transfers::record_receipt(&s.store.db, &w.caller, id, on).await;
    after(&s, &w, id, result).await
}
