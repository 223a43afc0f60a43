//! The audit log, for the audit administrator.

use super::ApiQuery;
use super::Items;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use store::audit;
use store::audit::{AuditFilter, Entry};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_log))
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditFilter), responses((status = 200, body = Items<Entry>, description = "newest first; audit administrator only")))]
pub async fn audit_log(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> ApiResult<Json<Items<Entry>>> {
    Ok(Json(audit::list(&s.store.db, &a.caller, &f).await?.into()))
}
