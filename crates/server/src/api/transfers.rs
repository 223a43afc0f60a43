//! Organizational transfers (组织关系转接) over the API: letters, their validity, arrivals from outside.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use store::reviews::{self};
use store::transfers::{self, Incoming, IncomingInput, Transfer, TransferFilter, TransferInput, Validity};
use utoipa::ToSchema;

use super::Items;
use super::{ApiJson, ApiQuery, Id, OrgQuery};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_transfers, create_transfer))
        .routes(routes!(get_transfer))
        .routes(routes!(accept_transfer))
        .routes(routes!(reject_transfer))
        .routes(routes!(transfer_receipt))
        .routes(routes!(get_validity, set_validity))
        .routes(routes!(list_incoming, register_incoming))
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
    responses((status = 200, body = Items<Transfer>, description = "letters from or to the organizations in reach, newest first")))]
pub async fn list_transfers(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<TransferFilter>,
) -> ApiResult<Json<Items<Transfer>>> {
    Ok(Json(Items::from(transfers::list(&s.store.db, &a.caller, &f).await?)))
}

#[utoipa::path(get, path = "/api/v1/transfers/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Letter)))]
pub async fn get_transfer(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Letter>> {
    let transfer = transfers::get(&s.store.db, &a.caller, id).await?;
    let review = reviews::of_subject(&s.store.db, "transfer", id).await?;
    Ok(Json(Letter { transfer, review }))
}

/// A transfer letter and its review, if it has one.
#[derive(serde::Serialize, ToSchema)]
pub struct Letter {
    transfer: Transfer,
    review: Option<store::reviews::ReviewView>,
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/accept", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Transfer, description = "accepted: the member now belongs to the receiving organization"), (status = 409, description = "`transfer.expired` or `transfer.not_open`")))]
pub async fn accept_transfer(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Transfer>> {
    Ok(Json(transfers::accept(&s.store.db, &a.caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonBody {
    #[schema(schema_with = domain::schema::required_text::<500>)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/reject", params(("id" = i64, Path, description = "the record's id")), request_body = ReasonBody, responses((status = 200, body = Transfer)))]
pub async fn reject_transfer(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult<Json<Transfer>> {
    Ok(Json(
        transfers::reject(&s.store.db, &a.caller, id, Some(&b.reason)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReceiptBody {
    receipt_on: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/transfers/{id}/receipt", params(("id" = i64, Path, description = "the record's id")), request_body = ReceiptBody,
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

#[utoipa::path(get, path = "/api/v1/orgs/{id}/transfer-validity", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Validity, description = "the days letters from this organization stay valid: its own setting, the nearest above, or 30 / 90")))]
pub async fn get_validity(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Validity>> {
    Ok(Json(transfers::validity(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/transfer-validity", params(("id" = i64, Path, description = "the record's id")), request_body = Validity,
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
    responses((status = 200, body = Items<Incoming>, description = "letters from outside the platform, newest first")))]
pub async fn list_incoming(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<Items<Incoming>>> {
    Ok(Json(Items::from(
        transfers::incoming(&s.store.db, &a.caller, q.org_id).await?,
    )))
}
