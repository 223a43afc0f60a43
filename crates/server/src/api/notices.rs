//! Notices to members (党务公开/通知公告) over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use store::notices::{self, Announcement, AnnouncementInput};
use store::reviews;

use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notices", get(list_notices).post(create_notice))
        .route("/api/v1/notices/{id}", get(get_notice))
}

#[utoipa::path(post, path = "/api/v1/notices", request_body = AnnouncementInput,
    responses((status = 201, body = Announcement, description = "drafted and submitted to the review chain; published when the last level approves")))]
pub async fn create_notice(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<AnnouncementInput>,
) -> ApiResult<Response> {
    let n = notices::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

#[utoipa::path(get, path = "/api/v1/notices",
    responses((status = 200, description = "`{\"items\": [Announcement], \"managed\": [Announcement]}`: published notices that reach the caller, and those of the organizations they publish for")))]
pub async fn list_notices(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    let items = notices::mine(&s.store.db, &a.caller).await?;
    let managed = notices::managed(&s.store.db, &a.caller).await?;
    Ok(Json(json!({"items": items, "managed": managed})))
}

#[utoipa::path(get, path = "/api/v1/notices/{id}",
    responses((status = 200, description = "`{\"notice\": Announcement, \"receipts\": Receipts?, \"review\": ReviewView?}`; opening it as a member it reached records the read")))]
pub async fn get_notice(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    let notice = notices::get(&s.store.db, &a.caller, id).await?;
    let receipts = notices::receipts(&s.store.db, &a.caller, id).await.ok();
    let review = match receipts {
        Some(_) => reviews::of_subject(&s.store.db, "notice", id).await?,
        None => None,
    };
    Ok(Json(json!({"notice": notice, "receipts": receipts, "review": review})))
}
