//! Review chains (审核): the reviews waiting for the caller, deciding a level, and each
//! organization's chain per kind of request.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use store::reviews::{self, ChainLevel, DecisionInput, ReviewView};
use utoipa::ToSchema;

use super::Items;
use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use store::reviews::Review;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pending_reviews))
        .routes(routes!(get_review))
        .routes(routes!(approve_review))
        .routes(routes!(return_review))
        .routes(routes!(get_chain, set_chain))
}

#[utoipa::path(get, path = "/api/v1/reviews/pending",
    responses((status = 200, body = Items<Review>, description = "waiting at a level the caller decides, across their subtree")))]
pub async fn pending_reviews(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<Items<Review>>> {
    Ok(Json(Items::from(reviews::pending(&s.store.db, &a.caller).await?)))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = ReviewView)))]
pub async fn get_review(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<ReviewView>> {
    Ok(Json(reviews::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/approve", params(("id" = i64, Path, description = "the record's id")), request_body = DecisionInput,
    responses((status = 200, body = ReviewView, description = "on to the next level, or, at the last, applied"), (status = 409, description = "`review.decided` or `review.same_reviewer`")))]
pub async fn approve_review(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<DecisionInput>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::decide(
            &s.store.db,
            &s.store.keys,
            &store::subjects::All,
            &a.caller,
            id,
            true,
            &b,
        )
        .await?,
    ))
}

/// Returning a submission says what to fix.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnBody {
    #[schema(schema_with = domain::schema::required_text::<1000>)]
    comment: String,
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/return", params(("id" = i64, Path, description = "the record's id")), request_body = ReturnBody,
    responses((status = 200, body = ReviewView, description = "back to the submitter with the comment (required)")))]
pub async fn return_review(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ReturnBody>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::decide(
            &s.store.db,
            &s.store.keys,
            &store::subjects::All,
            &a.caller,
            id,
            false,
            &DecisionInput {
                comment: Some(b.comment),
            },
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ChainBody {
    /// The reviewing organizations, level 1 first (the organization itself or ones above it); empty
    /// to fall back to the chain above.
    levels: Vec<i64>,
}

/// A kind of submission reviewed in a chain (`store::reviews::KINDS`), as the path names it.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ChainKind {
    Transfer,
    Notice,
    Development,
    Correction,
    Grant,
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/review-chains/{kind}", request_body = ChainBody,
    params(("id" = i64, Path), ("kind" = inline(ChainKind), Path, description = "whose chain: `transfer`, `notice` or `development` are set here")),
    responses((status = 200, body = Items<ChainLevel>, description = "the chain that now applies")))]
pub async fn set_chain(
    State(s): State<AppState>,
    a: ApiCaller,
    super::Pair(id, kind): super::Pair<i64, String>,
    ApiJson(b): ApiJson<ChainBody>,
) -> ApiResult<Json<Items<ChainLevel>>> {
    let items: Vec<ChainLevel> = reviews::set_chain(&s.store.db, &a.caller, id, &kind, &b.levels).await?;
    Ok(Json(Items::from(items)))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/review-chains/{kind}",
    params(("id" = i64, Path), ("kind" = inline(ChainKind), Path, description = "whose chain")),
    responses((status = 200, body = Items<ChainLevel>, description = "the chain that applies to submissions from this organization")))]
pub async fn get_chain(
    State(s): State<AppState>,
    a: ApiCaller,
    super::Pair(id, kind): super::Pair<i64, String>,
) -> ApiResult<Json<Items<ChainLevel>>> {
    let items: Vec<ChainLevel> = reviews::chain(&s.store.db, &a.caller, id, &kind).await?;
    Ok(Json(Items::from(items)))
}
