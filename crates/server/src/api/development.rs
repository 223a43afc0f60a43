//! Member development (发展党员) over the API: files, steps and the branch meetings' votes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use store::development::{self, ApplicantInput, DevelopmentFile, Document, StepInput, VoteInput, VoteResult};
use utoipa::ToSchema;

use super::Items;
use super::{ApiJson, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(board))
        .routes(routes!(apply))
        .routes(routes!(get_file))
        .routes(routes!(record_step))
        .routes(routes!(record_vote))
        .routes(routes!(list_documents, add_document))
        .routes(routes!(download_document))
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
    responses((status = 200, body = Board, description = "open files of the subtree with their next step and alerts, and everyone in it counted by stage")))]
pub async fn board(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> ApiResult<Json<Board>> {
    let items = development::board(&s.store.db, &a.caller, q.org_id).await?;
    let stages = development::stages(&s.store.db, &a.caller, q.org_id).await?;
    Ok(Json(Board { items, stages }))
}

#[derive(serde::Serialize, ToSchema)]
pub struct Board {
    items: Vec<DevelopmentFile>,
    /// How many are at each of the five stages: applicants, activists, candidates, probationary, done.
    stages: [i64; 5],
}

#[utoipa::path(get, path = "/api/v1/development/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = DevelopmentFile)))]
pub async fn get_file(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<DevelopmentFile>> {
    Ok(Json(development::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/development/{id}/steps", params(("id" = i64, Path, description = "the record's id")), request_body = StepInput,
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

#[utoipa::path(post, path = "/api/v1/development/{id}/votes", params(("id" = i64, Path, description = "the record's id")), request_body = VoteInput,
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
    #[param(minimum = 1, maximum = 25, required = true)]
    step: Option<i64>,
    /// The file's name when the body is the raw file (a multipart upload carries its own).
    #[serde(default)]
    #[param(schema_with = domain::schema::text::<200>)]
    name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/development/{id}/documents", params(("id" = i64, Path, description = "the record's id"), DocumentQuery),
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
    let doc = development::attach_document(&s.store.db, &a.caller, s.vault(), id, q.step, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

#[utoipa::path(get, path = "/api/v1/development/{id}/documents", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<Document>, description = "by step")))]
pub async fn list_documents(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Items<Document>>> {
    Ok(Json(Items::from(
        development::documents(&s.store.db, &a.caller, id).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/development/documents/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "the document's bytes; the read is audited")))]
pub async fn download_document(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Response> {
    let (doc, bytes) = development::open_document(&s.store.db, &a.caller, s.vault(), id).await?;
    Ok(crate::api::files::download(&doc.content_type, &doc.name, bytes))
}
