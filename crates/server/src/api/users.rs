//! Accounts and grants, for the security administrator.

use super::Items;
use super::{ApiJson, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::{accounts, Role};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(add_grant))
        .routes(routes!(reset_password))
        .routes(routes!(unlock_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(revoke_grant))
}

#[derive(Serialize, ToSchema)]
pub struct UserWithGrants {
    #[serde(flatten)]
    user: accounts::User,
    grants: Vec<store::scope::Grant>,
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = Items<UserWithGrants>)))]
pub async fn list_users(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<Items<UserWithGrants>>> {
    let users = accounts::list_users(&s.store.db, &a.caller).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|(user, grants)| UserWithGrants { user, grants })
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = accounts::NewUser, responses((status = 201, body = accounts::User)))]
pub async fn create_user(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<accounts::NewUser>,
) -> ApiResult<Response> {
    let u = accounts::create_user(&s.store.db, &s.store.keys, &a.caller, &b, true).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct GrantRequest {
    role: Role,
    #[serde(default)]
    org_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/grants", params(("id" = i64, Path, description = "the record's id")), request_body = GrantRequest, responses((status = 201, body = store::scope::Grant), (status = 409, description = "separation of duties")))]
pub async fn add_grant(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<GrantRequest>,
) -> ApiResult<Response> {
    let g = accounts::grant(&s.store.db, &a.caller, id, b.role, b.org_id).await?;
    Ok((StatusCode::CREATED, Json(g)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/grants/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn revoke_grant(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::revoke(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// A temporary password meeting the policy; the user must change it at next sign-in.
    password: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", params(("id" = i64, Path, description = "the record's id")), request_body = ResetRequest, responses((status = 204)))]
pub async fn reset_password(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    accounts::reset_password(&s.store.db, &a.caller, id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn unlock_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "unlock").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn disable_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "disable").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn enable_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "enable").await?;
    Ok(StatusCode::NO_CONTENT)
}
