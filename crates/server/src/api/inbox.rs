//! The caller's inbox (个人消息).

use super::Id;
use super::Items;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use store::inbox::Notice;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_notices))
        .routes(routes!(read_notice))
}

#[utoipa::path(get, path = "/api/v1/me/notices", responses((status = 200, body = Items<Notice>, description = "the caller's notices, newest first")))]
pub async fn my_notices(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<Items<Notice>>> {
    Ok(Json(Items::from(
        store::inbox::mine(&s.store.db, &a.caller, false).await?,
    )))
}

#[utoipa::path(post, path = "/api/v1/me/notices/{id}/read", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn read_notice(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    store::inbox::mark_read(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
