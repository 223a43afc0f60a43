//! Data quality (数据质量) over a subtree: each check's counts against the threshold, a masked
//! sample and the trend.

use axum::extract::State;
use axum::Json;
use store::quality::{self, QualityReport};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::Id;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(org_quality))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/data-quality", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = QualityReport, description = "each check over the subtree: records checked and failing, the share passing against the threshold, a masked sample linking to the record, the last 30 days' trend"),
        (status = 404, description = "absent or outside the caller's reach")))]
pub async fn org_quality(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<QualityReport>> {
    Ok(Json(quality::report(&s.store.db, &a.caller, id).await?))
}
