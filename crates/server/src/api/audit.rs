//! The audit log, for the audit administrator.

use super::ApiQuery;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use store::audit;
use store::audit::{AuditFilter, Entry};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(audit_log))
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditFilter), responses((status = 200, body = Vec<Entry>, description = "newest first; audit administrator only")))]
pub async fn audit_log(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(json!({"items": audit::list(&s.store.db, &a.caller, &f).await?})))
}
