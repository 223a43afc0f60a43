//! Big screens (大屏): the page where an organization's managers create and revoke displays, and
//! the screen a display shows — 1920×1080, dark, reloading itself every five minutes, opened by
//! its token alone (no session), aggregates only.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use store::dashboard::Dashboard;
use store::displays::{self, Created, Display, DisplayInput};

use super::charts::ChartData;
use super::{error_page, form_errors, form_urlencoded_pairs, posted, render, see_other, Chrome};
use crate::auth::{Prefs, WebCaller};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs/{id}/displays", get(page).post(create))
        .route("/displays/{id}/revoke", post(revoke))
        .route("/display/{token}", get(screen))
}

#[derive(Template)]
#[template(path = "displays.html")]
struct DisplaysPage {
    c: Chrome,
    org_id: i64,
    displays: Vec<Display>,
    created: Option<Created>,
    errors: Vec<(String, String)>,
}

async fn page(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw(&s, &w, id, None, Vec::new()).await
}

async fn draw(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    created: Option<Created>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/displays"), "displays.title");
    let displays = crate::or_error_page!(c, displays::list(&s.store.db, &w.caller, id).await);
    render(&DisplaysPage {
        c,
        org_id: id,
        displays,
        created,
        errors,
    })
}

/// Creates a display and shows its address this once (the token is kept only as its hash).
async fn create(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let input = DisplayInput {
        name: Some(posted(&pairs, "name")),
    };
    match displays::create(&s.store.db, &w.caller, id, &input).await {
        Ok(created) => draw(&s, &w, id, Some(created), Vec::new()).await,
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/displays"), "displays.title");
            match form_errors(&c, &e) {
                Some(errors) => draw(&s, &w, id, None, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn revoke(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match displays::revoke(&s.store.db, &w.caller, id).await {
        Ok(d) => see_other(&format!("/orgs/{}/displays?saved=1", d.org_id)),
        Err(e) => error_page(Chrome::for_caller(&w, "/", "displays.title"), e.into()),
    }
}

/// A tile on the screen: its title and chart.
struct ScreenTile {
    id: &'static str,
    svg: String,
}

#[derive(Template)]
#[template(path = "screen.html")]
struct Screen {
    c: Chrome,
    d: Dashboard,
    /// (label, value as shown).
    headline: Vec<(String, String)>,
    tiles: Vec<ScreenTile>,
    /// (organization, members as shown, meetings overdue as shown): one page of the units below.
    below: Vec<(String, String, String)>,
    /// This page of the units below and how many there are; the next reload shows `next`.
    page: usize,
    pages: usize,
    next: usize,
    at: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ScreenQuery {
    page: Option<usize>,
}

/// Units below listed on a screen at once; each reload shows the next ten.
const SCREEN_ROWS: usize = 10;

/// The screen: the token is the only key. A wrong or revoked one is a plain 404 page.
async fn screen(
    State(s): State<AppState>,
    prefs: Prefs,
    parts: Parts,
    Path(token): Path<String>,
    Query(q): Query<ScreenQuery>,
) -> Response {
    let ip = crate::auth::client_ip(&parts);
    let c = Chrome::new(prefs, None, "/", "displays.screen");
    let (_, d) = match displays::show(&s.store.db, &token, &ip).await {
        Ok(shown) => shown,
        Err(e) => return error_page(c, e.into()),
    };
    let text = |v: i64| domain::dashboard::suppressed(v);
    let tile = |id: &str| d.tiles.iter().find(|t| t.id == id);
    let sum = |id: &str| tile(id).map_or(0, |t| t.series[0].values.iter().map(|v| (*v).max(0)).sum::<i64>());
    let hidden_cells = |id: &str| {
        tile(id).map_or(0, |t| {
            t.series[0]
                .values
                .iter()
                .filter(|v| **v == domain::dashboard::HIDDEN)
                .count()
        })
    };
    // A total beside one withheld cell would give it away by difference: it is withheld too.
    let total = |id: &str| {
        if hidden_cells(id) == 1 {
            text(domain::dashboard::HIDDEN)
        } else {
            text(sum(id))
        }
    };
    let headline = vec![
        (c.t("dashboard.indicator.members"), total("members_category")),
        (c.t("displays.orgs"), total("orgs_kind")),
        (c.t("displays.meetings_12_months"), text(sum("life_months"))),
        (c.t("dashboard.tile.warnings"), total("warnings")),
    ];
    let tiles = [
        "members_category",
        "members_age",
        "members_party_age",
        "members_flows",
        "life_kinds",
        "life_months",
        "development_stages",
        "study_year",
    ]
    .iter()
    .filter_map(|id| tile(id))
    .map(|t| {
        let categories: Vec<String> = t
            .categories
            .iter()
            .map(|code| c.tc(super::dashboard::category_prefix(t.id), code))
            .collect();
        let names: Vec<String> = t.series.iter().map(|s| c.tc("dashboard.series.", &s.name)).collect();
        let series: Vec<(String, &[i64])> = names
            .iter()
            .cloned()
            .zip(t.series.iter().map(|s| &s.values[..]))
            .collect();
        let data = ChartData {
            categories: &categories,
            series: &series,
            value_text: &text,
        };
        ScreenTile {
            id: t.id,
            svg: super::dashboard::svg(t.chart, &data),
        }
    })
    .collect();
    // As many units below as a screen holds, in tree order, the next ones at each reload (the
    // manager's dashboard has them all).
    let pages = d.below.len().div_ceil(SCREEN_ROWS).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let below = d
        .below
        .iter()
        .skip((page - 1) * SCREEN_ROWS)
        .take(SCREEN_ROWS)
        .map(|b| {
            let of = |k: &str| text(b.figures.get(k).copied().unwrap_or(0));
            (b.name.clone(), of("members"), of("warnings:meetings_overdue"))
        })
        .collect();
    let at = domain::time::local_datetime(store::clock::now())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let mut res = render(&Screen {
        c,
        d,
        headline,
        tiles,
        below,
        page,
        pages,
        next: page % pages + 1,
        at,
    });
    // Not kept by the browser or a proxy: a revoked display must not go on showing a copy.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res.into_response()
}
