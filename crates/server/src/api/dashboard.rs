//! An organization's dashboard (决策辅助) on a day: its tiles and the organizations below.

use axum::extract::State;
use axum::Json;
use store::dashboard::{self, Dashboard, DashboardQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(org_dashboard))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dashboard", params(("id" = i64, Path, description = "the record's id"), DashboardQuery),
    responses((status = 200, body = Dashboard, description = "the figures of the organization's subtree on the day (today's evaluated again first where records changed), each tile's categories and series, and the same indicators for each organization directly below"),
        (status = 404, description = "absent or not managed by the caller"),
        (status = 422, description = "a day in the future, or before the first day figures were kept")))]
pub async fn org_dashboard(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(dashboard::of_org(&s.store.db, &a.caller, id, &q).await?))
}
