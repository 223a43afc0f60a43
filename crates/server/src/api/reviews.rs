//! Review chains (审核): the reviews waiting for the caller, deciding a level, and each
//! organization's chain per kind of request.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use store::reviews::{self, ChainLevel, DecisionInput, ReviewView};
use utoipa::ToSchema;

use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reviews/pending", get(pending_reviews))
        .route("/api/v1/reviews/{id}", get(get_review))
        .route("/api/v1/reviews/{id}/approve", post(approve_review))
        .route("/api/v1/reviews/{id}/return", post(return_review))
        .route("/api/v1/orgs/{id}/review-chains/{kind}", get(get_chain).put(set_chain))
}

#[utoipa::path(get, path = "/api/v1/reviews/pending",
    responses((status = 200, description = "`{\"items\": [Review]}`: waiting at a level the caller decides, across their subtree")))]
pub async fn pending_reviews(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(json!({"items": reviews::pending(&s.store.db, &a.caller).await?})))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}", responses((status = 200, body = ReviewView)))]
pub async fn get_review(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<ReviewView>> {
    Ok(Json(reviews::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/approve", request_body = DecisionInput,
    responses((status = 200, body = ReviewView, description = "on to the next level, or, at the last, applied"), (status = 409, description = "`review.decided` or `review.same_reviewer`")))]
pub async fn approve_review(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<DecisionInput>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::decide(&s.store.db, &s.store.keys, &a.caller, id, true, &b).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/return", request_body = DecisionInput,
    responses((status = 200, body = ReviewView, description = "back to the submitter with the comment (required)")))]
pub async fn return_review(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<DecisionInput>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::decide(&s.store.db, &s.store.keys, &a.caller, id, false, &b).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ChainBody {
    /// The reviewing organizations, level 1 first (the organization itself or ones above it); empty
    /// to fall back to the chain above.
    levels: Vec<i64>,
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/review-chains/{kind}", request_body = ChainBody,
    params(("id" = i64, Path), ("kind" = String, Path, description = "`transfer`, `notice` or `development`")),
    responses((status = 200, description = "`{\"items\": [ChainLevel]}`: the chain that now applies")))]
pub async fn set_chain(
    State(s): State<AppState>,
    a: ApiCaller,
    axum::extract::Path((id, kind)): axum::extract::Path<(i64, String)>,
    ApiJson(b): ApiJson<ChainBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let items: Vec<ChainLevel> = reviews::set_chain(&s.store.db, &a.caller, id, &kind, &b.levels).await?;
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/review-chains/{kind}",
    params(("id" = i64, Path), ("kind" = String, Path, description = "`transfer`, `notice`, `development` or `correction`")),
    responses((status = 200, description = "`{\"items\": [ChainLevel]}`: the chain that applies to submissions from this organization")))]
pub async fn get_chain(
    State(s): State<AppState>,
    a: ApiCaller,
    axum::extract::Path((id, kind)): axum::extract::Path<(i64, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let items: Vec<ChainLevel> = reviews::chain(&s.store.db, &a.caller, id, &kind).await?;
    Ok(Json(json!({ "items": items })))
}
