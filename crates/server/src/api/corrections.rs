//! Corrections a member asks for in their own record (reviewed like other requests).

use super::ApiJson;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(propose_correction))
}

#[utoipa::path(post, path = "/api/v1/me/corrections", request_body = store::corrections::CorrectionInput,
    responses((status = 201, body = store::corrections::Correction, description = "a correction of the caller's own record, to be reviewed by their branch")))]
pub async fn propose_correction(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<store::corrections::CorrectionInput>,
) -> ApiResult<Response> {
    let c = store::corrections::propose(&s.store.db, &s.store.keys, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}
