//! Activities and volunteer services (志愿服务): publish, sign up, credit attendance.

use super::Items;
use super::{ApiJson, ApiList, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use store::activities;
use store::activities::{Activity, Signup};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_activities, create_activity))
        .routes(routes!(get_activity))
        .routes(routes!(sign_up))
        .routes(routes!(activity_signups, activity_attendance))
}

#[utoipa::path(post, path = "/api/v1/activities", request_body = activities::ActivityInput, responses((status = 201, body = activities::Activity), (status = 422)))]
pub async fn create_activity(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<activities::ActivityInput>,
) -> ApiResult<Response> {
    let act = activities::create(&s.store.db, &a.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(act)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    org_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/activities", params(ActivityQuery), responses((status = 200, body = Items<Activity>)))]
pub async fn list_activities(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<Items<Activity>>> {
    Ok(Json(Items::from(
        activities::list(&s.store.db, &a.caller, q.org_id).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = activities::Activity)))]
pub async fn get_activity(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<activities::Activity>> {
    Ok(Json(activities::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/signup", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = activities::Activity), (status = 409, description = "full or closed")))]
pub async fn sign_up(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<activities::Activity>> {
    Ok(Json(activities::sign_up(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}/attendance", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<Signup>)))]
pub async fn activity_signups(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Items<Signup>>> {
    Ok(Json(Items::from(
        activities::signups(&s.store.db, &a.caller, id).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/activities/{id}/attendance", params(("id" = i64, Path, description = "the record's id")), request_body = Vec<i64>,
    responses((status = 200, body = Items<Signup>, description = "everyone signed up, those who attended credited the activity's volunteer time")))]
pub async fn activity_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiList(b): ApiList<i64>,
) -> ApiResult<Json<Items<Signup>>> {
    Ok(Json(
        activities::record_attendance(&s.store.db, &a.caller, id, &b)
            .await?
            .into(),
    ))
}
