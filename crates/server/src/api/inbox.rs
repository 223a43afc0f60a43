//! The caller's inbox (个人消息).

use super::Id;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/notices", get(my_notices))
        .route("/api/v1/me/notices/{id}/read", post(read_notice))
}

#[utoipa::path(get, path = "/api/v1/me/notices", responses((status = 200, description = "`{\"items\": [Notice]}`: the caller's notices, newest first")))]
pub async fn my_notices(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": store::inbox::mine(&s.store.db, &a.caller, false).await?}),
    ))
}

#[utoipa::path(post, path = "/api/v1/me/notices/{id}/read", responses((status = 204)))]
pub async fn read_notice(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    store::inbox::mark_read(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
