//! The dashboard page (数据看板): an organization's tiles, each a chart with its table, the day the
//! figures are of, the formula in words and a link to the rows behind it; then the organizations
//! directly below side by side, sorted as the reader chooses. Any past day can be chosen.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use store::dashboard::{self, Dashboard, DashboardQuery, Tile, INDICATORS};

use super::charts::{self, ChartData};
use super::{error_page, form_errors, render, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/orgs/{id}/dashboard", get(page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    as_of: Option<String>,
    /// An indicator of the organizations below (`members`, `-members` for the most first), or
    /// none for tree order.
    sort: Option<String>,
}

/// A tile as drawn: its chart, and the same numbers as a table.
struct TileView {
    id: &'static str,
    svg: String,
    /// The series' names (the table's columns after the category).
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
    total: String,
    link: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    d: Dashboard,
    tiles: Vec<TileView>,
    /// (indicator as an element id, its heading, the sort it links to).
    columns: Vec<(String, String, String)>,
    below: Vec<(i64, String, String, Vec<String>)>,
    as_of: String,
    today: String,
    errors: Vec<(String, String)>,
}

async fn page(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Query(q): Query<PageQuery>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/dashboard"), "dashboard.title");
    let text = q.as_of.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let as_of = match text.map(domain::member::parse_date) {
        Some(None) => {
            let e = store::Error::Invalid(domain::Invalid::one("as_of", "invalid_date"));
            return refused(c, e, &s, &w, id).await;
        }
        Some(day) => day,
        None => None,
    };
    let d = match dashboard::of_org(&s.store.db, &w.caller, id, &DashboardQuery { as_of }).await {
        Ok(d) => d,
        Err(e) => return refused(c, e, &s, &w, id).await,
    };
    draw(c, d, q.sort.as_deref(), Vec::new())
}

/// A day that cannot be shown draws today's dashboard with the day's problem named; anything else
/// is an error page.
async fn refused(c: Chrome, e: store::Error, s: &AppState, w: &WebCaller, id: i64) -> Response {
    let Some(errors) = form_errors(&c, &e) else {
        return error_page(c, e.into());
    };
    match dashboard::of_org(&s.store.db, &w.caller, id, &DashboardQuery::default()).await {
        Ok(d) => draw(c, d, None, errors),
        Err(e) => error_page(c, e.into()),
    }
}

fn draw(c: Chrome, d: Dashboard, sort: Option<&str>, errors: Vec<(String, String)>) -> Response {
    let tiles = d.tiles.iter().map(|t| tile_view(&c, t)).collect();
    let sort = sort.filter(|s| INDICATORS.contains(&s.trim_start_matches('-')));
    let columns = INDICATORS
        .iter()
        .map(|i| {
            let next = if sort == Some(*i) {
                format!("-{i}")
            } else {
                i.to_string()
            };
            (i.replace(':', "-"), c.tc("dashboard.indicator.", i), next)
        })
        .collect();
    let mut below: Vec<_> = d
        .below
        .iter()
        .map(|b| {
            let values = INDICATORS
                .iter()
                .map(|i| match (b.figures.get(*i), *i) {
                    (Some(v), "study_met_percent") => format!("{v}%"),
                    (Some(v), _) => v.to_string(),
                    (None, _) => "—".to_string(),
                })
                .collect();
            (b.org_id, b.name.clone(), c.tc("kind.", &b.kind), values)
        })
        .collect();
    if let Some(sort) = sort {
        let (key, most_first) = match sort.strip_prefix('-') {
            Some(k) => (k, true),
            None => (sort, false),
        };
        let value = |id: i64| {
            d.below
                .iter()
                .find(|b| b.org_id == id)
                .and_then(|b| b.figures.get(key).copied())
                .unwrap_or(-1)
        };
        below.sort_by_key(|(id, ..)| value(*id));
        if most_first {
            below.reverse();
        }
    }
    render(&DashboardPage {
        as_of: d.as_of.to_string(),
        today: store::clock::today().to_string(),
        c,
        d,
        tiles,
        columns,
        below,
        errors,
    })
}

/// Where a tile's category codes are translated.
pub(super) fn category_prefix(tile: &str) -> &'static str {
    match tile {
        "members_category" => "category.",
        "members_gender" => "gender.",
        "members_age" => "dashboard.age.",
        "members_party_age" => "dashboard.party_age.",
        "members_education" => "education.",
        "orgs_kind" => "kind.",
        "orgs_attention" => "dashboard.attention.",
        "life_kinds" => "meeting_kind.",
        "development_stages" => "development.stage.",
        "study_year" | "study_tasks" => "dashboard.study.",
        "warnings" => "todo.",
        // Months and ethnic groups are shown as they are.
        _ => "dashboard.raw.",
    }
}

/// A tile's chart. Stacked columns and bars stack the series after the first, which is their sum
/// (what was due: dues paid and outstanding, periods held and overdue); the table shows all three.
pub(super) fn svg(chart: &str, data: &ChartData) -> String {
    match chart {
        "donut" => charts::donut(data),
        "line" => charts::lines(data),
        "stacked" => charts::stacked(&ChartData {
            series: data.series.get(1..).unwrap_or_default(),
            ..*data
        }),
        "stacked_bar" => charts::stacked_bars(&ChartData {
            series: data.series.get(1..).unwrap_or_default(),
            ..*data
        }),
        _ => charts::bars(data),
    }
}

fn tile_view(c: &Chrome, t: &Tile) -> TileView {
    let fen = t.unit == "fen";
    let value_text = |v: i64| if fen { domain::dues::yuan(v) } else { v.to_string() };
    let categories: Vec<String> = t
        .categories
        .iter()
        .map(|code| c.tc(category_prefix(t.id), code))
        .collect();
    let names: Vec<String> = t.series.iter().map(|s| c.tc("dashboard.series.", &s.name)).collect();
    let series: Vec<(String, &[i64])> = names
        .iter()
        .zip(&t.series)
        .map(|(n, s)| (n.clone(), &s.values[..]))
        .collect();
    let data = ChartData {
        categories: &categories,
        series: &series,
        value_text: &value_text,
    };
    let svg = svg(t.chart, &data);
    let rows = categories
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let values = t
                .series
                .iter()
                .map(|s| value_text(s.values.get(i).copied().unwrap_or(0)))
                .collect();
            (label.clone(), values)
        })
        .collect();
    let mut head = names;
    let mut rows: Vec<(String, Vec<String>)> = rows;
    if t.id == "life_kinds" {
        // The compliance rate: of the periods ended, those in which the kind was held.
        head.push(c.t("dashboard.series.rate"));
        for (i, (_, values)) in rows.iter_mut().enumerate() {
            let of = |s: usize| t.series.get(s).and_then(|s| s.values.get(i)).copied().unwrap_or(0);
            values.push(domain::dashboard::percent(of(1), of(0)).map_or("—".into(), |p| format!("{p}%")));
        }
    }
    let total = match t.id {
        "members_flows" | "life_kinds" | "dues_months" => String::new(),
        _ => value_text(t.total(0)),
    };
    TileView {
        id: t.id,
        svg,
        head,
        rows,
        total,
        link: t.link.clone(),
    }
}
