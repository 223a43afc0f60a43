//! The data-quality page (数据质量): each check over the subtree with its share passing against
//! the threshold, the trend of the last 30 days and a masked sample linking to where each record
//! is corrected.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use store::quality::{self, QualityReport};

use super::charts::{self, ChartData};
use super::{render, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/orgs/{id}/data-quality", get(page))
}

#[derive(Template)]
#[template(path = "data_quality.html")]
struct QualityPage {
    c: Chrome,
    r: QualityReport,
    /// Each check's trend drawn (empty without a change in 30 days).
    trends: Vec<(&'static str, String)>,
}

impl QualityPage {
    fn trend(&self, check: &str) -> &str {
        self.trends.iter().find(|(c, _)| *c == check).map_or("", |(_, svg)| svg)
    }
}

async fn page(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/data-quality"), "quality.title");
    let r = crate::or_error_page!(c, quality::report(&s.store.db, &w.caller, id).await);
    let count = |v: i64| v.to_string();
    let trends = r
        .checks
        .iter()
        .map(|ch| {
            if ch.trend.len() < 2 {
                return (ch.check, String::new());
            }
            let days: Vec<String> = ch.trend.iter().map(|p| p.day.format("%m-%d").to_string()).collect();
            let values: Vec<i64> = ch.trend.iter().map(|p| p.failed).collect();
            let series = vec![(c.t("quality.failed"), &values[..])];
            let svg = charts::lines(&ChartData {
                categories: &days,
                series: &series,
                value_text: &count,
            });
            (ch.check, svg)
        })
        .collect();
    render(&QualityPage { c, r, trends })
}
