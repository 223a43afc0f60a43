//! Sign-in, the caller's own account and API tokens.

use super::Items;
use super::{ApiJson, Id};
use crate::auth::{client_ip, ApiCaller};
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::{request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{accounts, Caller};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username or mobile phone number.
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: i64,
    username: String,
    display_name: String,
    member_id: Option<i64>,
    must_change_password: bool,
    grants: Vec<store::scope::Grant>,
}

impl From<&Caller> for UserView {
    fn from(c: &Caller) -> UserView {
        UserView {
            id: c.user_id,
            username: c.username.clone(),
            display_name: c.display_name.clone(),
            member_id: c.member_id,
            must_change_password: c.must_change_password,
            grants: c.grants.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A Bearer token; it ends after 30 idle minutes or at logout.
    token: String,
    user: UserView,
}

#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "wrong username or password"), (status = 423, description = "locked for 15 minutes after 5 failures"), (status = 429)))]
pub async fn login(
    State(s): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ip = client_ip(&parts);
    let (token, caller) = accounts::login(&s.store.db, &s.store.keys, &req.username, &req.password, &ip).await?;
    Ok(Json(LoginResponse {
        token,
        user: UserView::from(&caller),
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, a: ApiCaller) -> ApiResult<StatusCode> {
    accounts::logout(&s.store.db, &a.caller, &a.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = UserView)))]
pub async fn me(a: ApiCaller) -> Json<UserView> {
    Json(UserView::from(&a.caller))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordChange, responses((status = 204), (status = 422)))]
pub async fn change_password(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    accounts::change_password(
        &s.store.db,
        &a.caller,
        &b.current_password,
        &b.new_password,
        Some(&a.token),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(schema_with = domain::schema::required_text::<50>)]
    name: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Items<accounts::ApiToken>)))]
pub async fn list_tokens(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<Items<accounts::ApiToken>>> {
    Ok(Json(accounts::list_tokens(&s.store.db, &a.caller).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest,
    responses((status = 201, description = "the secret `token` is shown this once")))]
pub async fn create_token(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<TokenRequest>,
) -> ApiResult<Response> {
    let (token, secret) = accounts::create_token(&s.store.db, &a.caller, &b.name).await?;
    Ok((StatusCode::CREATED, Json(json!({"token": secret, "item": token}))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 204)))]
pub async fn revoke_token(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::revoke_token(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
