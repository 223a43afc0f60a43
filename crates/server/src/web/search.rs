//! The search page: one box, filters, hits best first with the words found marked — only what the
//! reader may open. Works without JavaScript.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use store::search::{self, Results, SearchQuery};

use super::{error_page, render, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(page))
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: SearchQuery,
    results: Option<Results>,
    categories: Vec<(&'static str, &'static str)>,
}

impl SearchPage {
    fn text<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

async fn page(State(s): State<AppState>, w: WebCaller, Query(q): Query<SearchQuery>) -> Response {
    let c = Chrome::for_caller(&w, "/search", "search.title");
    let asked = !q.q.trim().is_empty();
    let results = if asked {
        match search::search(&s.store.db, &s.search, &w.caller, &q).await {
            Ok(r) => Some(r),
            Err(e) => return error_page(c, e.into()),
        }
    } else {
        None
    };
    let categories = domain::study::Category::ALL
        .iter()
        .map(|k| (k.as_str(), k.zh()))
        .collect();
    render(&SearchPage {
        c,
        q,
        results,
        categories,
    })
}
