//! Review pages: the reviews waiting for the caller and their decisions, and an organization's
//! review settings (the chain per kind of request, how long transfer letters stay valid).

use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::reviews::{self, ChainLevel, DecisionInput, Review};
use store::transfers::{self, Validity};
use store::Perm;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs/{id}/review-settings", get(settings).post(save_settings))
        .route("/reviews", get(pending))
        .route("/reviews/{id}/decide", post(decide))
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct PendingPage {
    c: Chrome,
    items: Vec<Review>,
    errors: Vec<(String, String)>,
}

async fn pending(State(s): State<AppState>, w: WebCaller) -> Response {
    draw_pending(&s, &w, Vec::new()).await
}

async fn draw_pending(s: &AppState, w: &WebCaller, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/reviews", "review.title");
    match reviews::pending(&s.store.db, &w.caller).await {
        Ok(items) => render(&PendingPage { c, items, errors }),
        Err(e) => error_page(c, e.into()),
    }
}

#[derive(Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

async fn decide(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: DecideForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let input = DecisionInput {
        comment: Some(f.comment).filter(|c| !c.trim().is_empty()),
    };
    match reviews::decide(
        &s.store.db,
        &s.store.keys,
        &store::subjects::All,
        &w.caller,
        id,
        f.decision == "approve",
        &input,
    )
    .await
    {
        Ok(_) => see_other("/reviews?saved=1"),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/reviews", "review.title");
            match form_errors(&c, &e) {
                Some(errors) => draw_pending(&s, &w, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "review_settings.html")]
struct SettingsPage {
    c: Chrome,
    org: store::orgs::Org,
    /// Each kind of submission with the chain that applies to it from this organization.
    chains: Vec<(&'static str, Vec<ChainLevel>)>,
    /// This organization and those above it, which may review its submissions, root first.
    reviewers: Vec<(i64, String)>,
    validity: Validity,
    /// 1 to the most levels a chain may have.
    levels: Vec<i64>,
    can_manage: bool,
    errors: Vec<(String, String)>,
}

impl SettingsPage {
    /// Whether `reviewer` is the one set at a level (1-based) of a kind's chain.
    fn is_at(&self, kind: &str, level: &i64, reviewer: &i64) -> bool {
        self.chains
            .iter()
            .find(|(k, _)| *k == kind)
            .is_some_and(|(_, chain)| chain.iter().any(|l| l.level == *level && l.org_id == *reviewer))
    }

    /// Where the validity comes from: this organization, one above it, or the defaults.
    fn validity_source(&self) -> &'static str {
        match self.validity.set_by_org_id {
            Some(org) if org == self.org.id => "transfer.validity_here",
            Some(_) => "transfer.validity_above",
            None => "transfer.validity_default",
        }
    }
}

async fn settings(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_settings(&s, &w, id, Vec::new()).await
}

async fn draw_settings(s: &AppState, w: &WebCaller, id: i64, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/review-settings"), "review.settings");
    let page = async {
        let org = store::orgs::get(&s.store.db, &w.caller, id).await?;
        let mut chains = Vec::new();
        for kind in reviews::KINDS {
            chains.push((kind, reviews::chain(&s.store.db, &w.caller, id, kind).await?));
        }
        // The organization and those above it: at most the tree's depth, so a select (not a
        // picker) chooses among them. Those above the caller's reach are named from the chains
        // that include them (looked up without a refusal in the audit log: nothing was asked of
        // them).
        let mut reviewers = Vec::new();
        for ancestor in domain::org::path_ids(&org.path) {
            let name = match store::orgs::find(&s.store.db, &w.caller, ancestor).await? {
                Some(o) => Some(o.name),
                None => chains
                    .iter()
                    .flat_map(|(_, chain)| chain)
                    .find(|l| l.org_id == ancestor)
                    .map(|l| l.org_name.clone()),
            };
            reviewers.extend(name.map(|n| (ancestor, n)));
        }
        let validity = transfers::validity(&s.store.db, &w.caller, id).await?;
        let can_manage = w.caller.can_at(Perm::ManageOrgs, &org.path);
        Ok::<_, store::Error>(SettingsPage {
            c: c.clone(),
            org,
            chains,
            reviewers,
            validity,
            levels: (1..=reviews::MAX_LEVELS as i64).collect(),
            can_manage,
            errors,
        })
    };
    match page.await {
        Ok(p) => render(&p),
        Err(e) => error_page(c, e.into()),
    }
}

/// The settings form posts `days_in_city`, `days_elsewhere`, and `<kind>_<level>` for each level
/// of each kind's chain (blank levels are skipped). All of it is saved, or nothing and the refusal
/// shown.
async fn save_settings(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
    let days = |key: &str| value(key).and_then(|v| v.parse().ok()).unwrap_or(0);
    let validity = Validity {
        days_in_city: days("days_in_city"),
        days_elsewhere: days("days_elsewhere"),
        set_by_org_id: None,
    };
    let chains: Vec<(&str, Vec<i64>)> = reviews::KINDS
        .iter()
        .map(|kind| {
            let levels = (1..=reviews::MAX_LEVELS)
                .filter_map(|level| value(&format!("{kind}_{level}"))?.parse().ok())
                .collect();
            (*kind, levels)
        })
        .collect();
    let saved = transfers::save_settings(&s.store.db, &w.caller, id, &validity, &chains).await;
    match saved {
        Ok(()) => see_other(&format!("/orgs/{id}/review-settings?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/review-settings"), "review.settings");
            match form_errors(&c, &e) {
                Some(errors) => draw_settings(&s, &w, id, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}
