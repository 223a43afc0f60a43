//! Big screens (大屏): an organization's displays, created with a token shown once, and revoked.
//! The screen itself is a page, `GET /display/{token}` (web::displays).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use store::displays::{self, Created, Display, DisplayInput};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(org_displays, create_display))
        .routes(routes!(revoke_display))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/displays", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Vec<Display>, description = "the organization's displays, revoked ones last (for those who manage it)")))]
pub async fn org_displays(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Vec<Display>>> {
    Ok(Json(displays::list(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/displays", params(("id" = i64, Path, description = "the record's id")), request_body = DisplayInput,
    responses((status = 201, body = Created, description = "created (audited); the token is shown this once and opens `/display/{token}`")))]
pub async fn create_display(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<DisplayInput>,
) -> ApiResult<Response> {
    let created = displays::create(&s.store.db, &a.caller, id, &input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/displays/{id}", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Display, description = "revoked (audited): the screen closes at its next refresh")))]
pub async fn revoke_display(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Display>> {
    Ok(Json(displays::revoke(&s.store.db, &a.caller, id).await?))
}
