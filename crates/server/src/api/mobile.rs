//! Mobile members (流动党员): registered with a host organization whose meetings they attend.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use store::mobile::{self, Mobile, MobileInput};
use utoipa::ToSchema;

use super::Items;
use super::{ApiJson, ApiQuery, Id, OrgQuery};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mobile, register_mobile))
        .routes(routes!(end_mobile))
}

#[utoipa::path(post, path = "/api/v1/mobile-members", request_body = MobileInput,
    responses((status = 201, body = Mobile, description = "registered at the host; the member stays on the home roll"), (status = 409, description = "`mobile.open`: already registered somewhere")))]
pub async fn register_mobile(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<MobileInput>,
) -> ApiResult<Response> {
    let m = mobile::register(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(m)).into_response())
}

#[utoipa::path(get, path = "/api/v1/mobile-members", params(OrgQuery),
    responses((status = 200, body = Items<Mobile>, description = "members away from, or hosted in, the organizations in reach; open ones first")))]
pub async fn list_mobile(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<Items<Mobile>>> {
    Ok(Json(Items::from(mobile::list(&s.store.db, &a.caller, q.org_id).await?)))
}

/// The end of a mobile registration: `ended_on`, today when left out.
#[derive(Deserialize, ToSchema)]
pub struct EndBody {
    /// `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    #[schema(schema_with = domain::schema::date)]
    ended_on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/mobile-members/{id}/end", params(("id" = i64, Path, description = "the record's id")), request_body = EndBody,
    responses((status = 200, body = Mobile), (status = 409, description = "`mobile.ended`")))]
pub async fn end_mobile(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<EndBody>,
) -> ApiResult<Json<Mobile>> {
    Ok(Json(
        mobile::end(&s.store.db, &a.caller, id, b.ended_on.as_deref()).await?,
    ))
}
