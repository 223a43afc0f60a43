//! Metrics for operators (Prometheus text format at `/metrics`): requests by route and status
//! class, their latency, the scheduled jobs' runs and the database pool's use. Routes are counted
//! by their template (`/api/v1/members/{id}`), never by the record or the person: there is no
//! per-person metric. The page answers only the bearer of the configured token
//! (`HONGJI_METRICS_TOKEN`); without one it does not exist.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Latency {
    /// Cumulative counts per bucket, then the count and the sum.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status class) → requests.
    requests: Mutex<BTreeMap<(String, String, &'static str), u64>>,
    /// route → latency.
    latency: Mutex<BTreeMap<String, Latency>>,
    /// (job, `ok` or `error`) → runs.
    jobs: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    fn request(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_string(), route.to_string(), class))
            .or_default() += 1;
        let mut latency = self.latency.lock().expect("metrics lock");
        let l = latency.entry(route.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                l.buckets[i] += 1;
            }
        }
        l.count += 1;
        l.sum += seconds;
    }

    /// A scheduled job ran, well or not.
    pub fn job(&self, job: &'static str, ok: bool) {
        *self
            .jobs
            .lock()
            .expect("metrics lock")
            .entry((job, if ok { "ok" } else { "error" }))
            .or_default() += 1;
    }

    /// The exposition text.
    pub fn render(&self, pool: store::db::PoolUse) -> String {
        let mut out = String::new();
        out.push_str("# HELP hongji_requests_total HTTP requests answered, by route template and status class.\n");
        out.push_str("# TYPE hongji_requests_total counter\n");
        for ((method, route, class), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "hongji_requests_total{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {n}",
                label(route)
            );
        }
        out.push_str("# HELP hongji_request_seconds Time to answer, by route template.\n");
        out.push_str("# TYPE hongji_request_seconds histogram\n");
        for (route, l) in self.latency.lock().expect("metrics lock").iter() {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                let _ = writeln!(
                    out,
                    "hongji_request_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "hongji_request_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                l.count
            );
            let _ = writeln!(out, "hongji_request_seconds_sum{{route=\"{route}\"}} {:.6}", l.sum);
            let _ = writeln!(out, "hongji_request_seconds_count{{route=\"{route}\"}} {}", l.count);
        }
        out.push_str("# HELP hongji_job_runs_total Scheduled job runs by this server, by result.\n");
        out.push_str("# TYPE hongji_job_runs_total counter\n");
        for ((job, result), n) in self.jobs.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "hongji_job_runs_total{{job=\"{job}\",result=\"{result}\"}} {n}");
        }
        out.push_str("# HELP hongji_db_connections Database connections held by the pool, by state.\n");
        out.push_str("# TYPE hongji_db_connections gauge\n");
        let _ = writeln!(out, "hongji_db_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(
            out,
            "hongji_db_connections{{state=\"in_use\"}} {}",
            pool.size - pool.idle
        );
        let _ = writeln!(out, "hongji_db_connections_max {}", pool.max);
        out
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A label value as the format wants it (a route template holds no quote, but be sure).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Counts every request by its route template once it is answered.
pub async fn record(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    s.metrics
        .request(&method, &route, res.status(), started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`: for the bearer of the configured token only; absent without one.
pub async fn page(State(s): State<AppState>, req: Request) -> Response {
    let Some(token) = s.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same(given.as_bytes(), token.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")]).into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        s.metrics.render(s.store.db.pool_use()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_with_cumulative_buckets() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/members/{id}", StatusCode::OK, 0.003);
        m.request("GET", "/api/v1/members/{id}", StatusCode::NOT_FOUND, 0.2);
        m.job("daily", true);
        let text = m.render(store::db::PoolUse {
            size: 3,
            idle: 1,
            max: 16,
        });
        assert!(text.contains("hongji_requests_total{method=\"GET\",route=\"/api/v1/members/{id}\",status=\"2xx\"} 1"));
        assert!(text.contains("status=\"4xx\"} 1"));
        assert!(text.contains("hongji_request_seconds_bucket{route=\"/api/v1/members/{id}\",le=\"0.005\"} 1"));
        assert!(text.contains("hongji_request_seconds_bucket{route=\"/api/v1/members/{id}\",le=\"0.25\"} 2"));
        assert!(text.contains("hongji_request_seconds_count{route=\"/api/v1/members/{id}\"} 2"));
        assert!(text.contains("hongji_job_runs_total{job=\"daily\",result=\"ok\"} 1"));
        assert!(text.contains("hongji_db_connections{state=\"in_use\"} 2"));
    }
}
