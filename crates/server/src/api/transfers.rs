//! Organizational transfers (组织关系转接) over the API: letters, their validity, arrivals from outside.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use store::reviews::{self};
use store::transfers::{self, Incoming, IncomingInput, Transfer, TransferFilter, TransferInput, Validity};
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery, Id, OrgQuery};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/transfers", get(list_transfers).post(create_transfer))
        .route("/api/v1/transfers/{id}", get(get_transfer))
        .route("/api/v1/transfers/{id}/accept", post(accept_transfer))
        .route("/api/v1/transfers/{id}/reject", post(reject_transfer))
        .route("/api/v1/transfers/{id}/receipt", post(transfer_receipt))
        .route(
            "/api/v1/orgs/{id}/transfer-validity",
            get(get_validity).put(set_validity),
        )
        .route("/api/v1/transfers/incoming", get(list_incoming).post(register_incoming))
}

#[utoipa::path(post, path = "/api/v1/transfers", request_body = TransferInput,
    responses((status = 201, body = Transfer, description = "the letter, now with the review chain"), (status = 409, description = "`transfer.open`: the member already has a letter under way")))]
pub async fn create_transfer(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<TransferInput>,
) -> ApiResult<Response> {
    let t = transfers::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

#[utoipa::path(get, path = "/api/v1/transfers", params(TransferFilter),
    responses((status = 200, description = "`{\"items\": [Transfer]}`: letters from or to the organizations in reach, newest first")))]
pub async fn list_transfers(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<TransferFilter>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": transfers::list(&s.store.db, &a.caller, &f).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/transfers/{id}", responses((status = 200, description = "`{\"transfer\": Transfer, \"review\": ReviewView}`")))]
pub async fn get_transfer(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    let t = transfers::get(&s.store.db, &a.caller, id).await?;
    let review = reviews::of_subject(&s.store.db, "transfer", id).await?;
    Ok(Json(json!({"transfer": t, "review": review})))
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/accept",
    responses((status = 200, body = Transfer, description = "accepted: the member now belongs to the receiving organization"), (status = 409, description = "`transfer.expired` or `transfer.not_open`")))]
pub async fn accept_transfer(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Transfer>> {
    Ok(Json(transfers::accept(&s.store.db, &a.caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonBody {
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/reject", request_body = ReasonBody, responses((status = 200, body = Transfer)))]
pub async fn reject_transfer(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult<Json<Transfer>> {
    Ok(Json(
        transfers::reject(&s.store.db, &a.caller, id, b.reason.as_deref()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReceiptBody {
    receipt_on: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/receipt", request_body = ReceiptBody,
    responses((status = 200, body = Transfer, description = "a letter outside the platform came back receipted; the member is transferred out")))]
pub async fn transfer_receipt(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ReceiptBody>,
) -> ApiResult<Json<Transfer>> {
    Ok(Json(
        transfers::record_receipt(&s.store.db, &a.caller, id, b.receipt_on).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/transfer-validity",
    responses((status = 200, body = Validity, description = "the days letters from this organization stay valid: its own setting, the nearest above, or 30 / 90")))]
pub async fn get_validity(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Validity>> {
    Ok(Json(transfers::validity(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/transfer-validity", request_body = Validity,
    responses((status = 200, body = Validity), (status = 422, description = "days outside 1–90")))]
pub async fn set_validity(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(v): ApiJson<Validity>,
) -> ApiResult<Json<Validity>> {
    Ok(Json(transfers::set_validity(&s.store.db, &a.caller, id, &v).await?))
}

#[utoipa::path(post, path = "/api/v1/transfers/incoming", request_body = IncomingInput,
    responses((status = 201, body = Incoming, description = "the member is on the roll of the receiving branch, with their letter"), (status = 422, description = "the member's and the letter's problems together")))]
pub async fn register_incoming(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<IncomingInput>,
) -> ApiResult<Response> {
    let i = transfers::register_incoming(&s.store.db, &s.store.keys, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(i)).into_response())
}

#[utoipa::path(get, path = "/api/v1/transfers/incoming", params(OrgQuery),
    responses((status = 200, description = "`{\"items\": [Incoming]}`: letters from outside the platform, newest first")))]
pub async fn list_incoming(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": transfers::incoming(&s.store.db, &a.caller, q.org_id).await?}),
    ))
}
