//! Member development (发展党员) over the API: files, steps and the branch meetings' votes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use store::development::{self, ApplicantInput, DevelopmentFile, Document, StepInput, VoteInput, VoteResult};

use super::{ApiJson, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/development", get(board))
        .route("/api/v1/development/applicants", post(apply))
        .route("/api/v1/development/{id}", get(get_file))
        .route("/api/v1/development/{id}/steps", post(record_step))
        .route("/api/v1/development/{id}/votes", post(record_vote))
        .route(
            "/api/v1/development/{id}/documents",
            get(list_documents).post(add_document),
        )
        .route("/api/v1/development/documents/{id}", get(download_document))
}

#[utoipa::path(post, path = "/api/v1/development/applicants", request_body = ApplicantInput,
    responses((status = 201, body = DevelopmentFile, description = "a file opened with the application (step 1)"), (status = 409, description = "`development.already_member` or `development.duplicate`")))]
pub async fn apply(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<ApplicantInput>,
) -> ApiResult<Response> {
    let f = development::apply(&s.store.db, &s.store.keys, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(f)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    org_id: i64,
}

#[utoipa::path(get, path = "/api/v1/development", params(BoardQuery),
    responses((status = 200, description = "`{\"items\": [DevelopmentFile]}`: open files of the subtree with their next step and alerts")))]
pub async fn board(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let items = development::board(&s.store.db, &a.caller, q.org_id).await?;
    let stages = development::stages(&s.store.db, &a.caller, q.org_id).await?;
    Ok(Json(json!({"items": items, "stages": stages})))
}

#[utoipa::path(get, path = "/api/v1/development/{id}", responses((status = 200, body = DevelopmentFile)))]
pub async fn get_file(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<DevelopmentFile>> {
    Ok(Json(development::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/development/{id}/steps", request_body = StepInput,
    responses((status = 200, body = DevelopmentFile, description = "recorded; steps 13, 17 and 24 (the higher committee's) go to the review chain and are recorded when it approves"), (status = 409, description = "a rule forbids it: `development.activist_under_a_year`, `development.introducers`, `development.approval_too_late`, `development.awaiting_review`, …")))]
pub async fn record_step(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<StepInput>,
) -> ApiResult<Json<DevelopmentFile>> {
    Ok(Json(
        development::record_step(&s.store.db, &a.caller, id, &input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/development/{id}/votes", request_body = VoteInput,
    responses((status = 200, body = VoteResult, description = "`quorum`, `passed` and the explanation; a passing vote completes the step")))]
pub async fn record_vote(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<VoteInput>,
) -> ApiResult<Json<VoteResult>> {
    Ok(Json(
        development::record_vote(&s.store.db, &a.caller, id, &input).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// The step (1–25) the document belongs to.
    #[serde(default)]
    step: Option<i64>,
    /// The file's name when the body is the raw file (a multipart upload carries its own).
    #[serde(default)]
    name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/development/{id}/documents", params(DocumentQuery),
    request_body(content = String, description = "PDF, PNG, JPEG, DOCX or XLSX up to 20 MB: the body or a multipart `file` field"),
    responses((status = 201, body = Document), (status = 422, description = "`file.type_not_allowed`, `file.too_large`, `step.invalid`")))]
pub async fn add_document(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<DocumentQuery>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let (name, bytes) = crate::api::files::upload_named(req, q.name).await?;
    let doc = development::attach_document(&s.store.db, &a.caller, &s.files_dir, id, q.step, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

#[utoipa::path(get, path = "/api/v1/development/{id}/documents", responses((status = 200, description = "`{\"items\": [Document]}`, by step")))]
pub async fn list_documents(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": development::documents(&s.store.db, &a.caller, id).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/development/documents/{id}", responses((status = 200, description = "the document's bytes; the read is audited")))]
pub async fn download_document(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Response> {
    let (doc, bytes) = development::open_document(&s.store.db, &a.caller, &s.files_dir, id).await?;
    Ok(crate::api::files::download(&doc.content_type, &doc.name, bytes))
}
