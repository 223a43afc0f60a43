//! Notices to members (党务公开/通知公告) over the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use store::notices::{self, Announcement, AnnouncementInput};
use store::reviews;
use utoipa::ToSchema;

use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notices, create_notice))
        .routes(routes!(get_notice))
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
    responses((status = 200, body = NoticeLists, description = "published notices that reach the caller, and those of the organizations they publish for")))]
pub async fn list_notices(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<NoticeLists>> {
    let items = notices::mine(&s.store.db, &a.caller).await?;
    let managed = notices::managed(&s.store.db, &a.caller).await?;
    Ok(Json(NoticeLists { items, managed }))
}

#[derive(serde::Serialize, ToSchema)]
pub struct NoticeLists {
    items: Vec<notices::Announcement>,
    managed: Vec<notices::Announcement>,
}

#[utoipa::path(get, path = "/api/v1/notices/{id}", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = NoticeView, description = "opening it as a member it reached records the read")))]
pub async fn get_notice(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<NoticeView>> {
    let notice = notices::get(&s.store.db, &a.caller, id).await?;
    // Receipts and the review are for those who manage or review the notice's organization.
    let (receipts, review) = if notices::manages(&a.caller, &notice) {
        (
            Some(notices::receipts(&s.store.db, &a.caller, id).await?),
            reviews::of_subject(&s.store.db, "notice", id).await?,
        )
    } else {
        (None, None)
    };
    Ok(Json(NoticeView {
        notice,
        receipts,
        review,
    }))
}

#[derive(serde::Serialize, ToSchema)]
pub struct NoticeView {
    notice: notices::Announcement,
    receipts: Option<notices::Receipts>,
    review: Option<reviews::ReviewView>,
}
