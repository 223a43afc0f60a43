//! The daily security reports, for the security administrator.

use super::{ApiJson, ApiQuery, Id, Items};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use store::security::{self, Report};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports))
        .routes(routes!(get_report))
        .routes(routes!(ack_report))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportFilter {
    /// Only the reports not yet acknowledged.
    #[serde(default)]
    unacknowledged: bool,
}

#[utoipa::path(get, path = "/api/v1/security/reports", params(ReportFilter),
    responses((status = 200, body = Items<Report>, description = "newest first, without their figures; security administrator only")))]
pub async fn list_reports(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<ReportFilter>,
) -> ApiResult<Json<Items<Report>>> {
    Ok(Json(
        security::list(&s.store.db, &a.caller, f.unacknowledged).await?.into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/security/reports/{id}", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Report, description = "with its figures; the read is audited"), (status = 404)))]
pub async fn get_report(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Report>> {
    Ok(Json(security::get(&s.store.db, &a.caller, id).await?))
}

/// What was looked into and done.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AckBody {
    #[serde(default)]
    #[schema(schema_with = domain::schema::text::<2000>)]
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/security/reports/{id}/ack", params(("id" = i64, Path, description = "the record's id")), request_body = AckBody,
    responses((status = 200, body = Report), (status = 404), (status = 409, description = "already acknowledged")))]
pub async fn ack_report(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<AckBody>,
) -> ApiResult<Json<Report>> {
    let note = b.note.unwrap_or_default();
    Ok(Json(security::acknowledge(&s.store.db, &a.caller, id, &note).await?))
}
