//! The organization tree (组织管理): create, rename, move, dissolve, officers, history.

use super::Items;
use super::{ApiJson, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Failure};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use store::orgs;
use store::orgs::{Org, OrgInput};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(dissolve_org))
        .routes(routes!(list_officers))
        .routes(routes!(set_officer, remove_officer))
        .routes(routes!(org_history))
}

#[derive(Serialize, ToSchema)]
pub struct OrgView {
    id: i64,
    parent_id: Option<i64>,
    name: String,
    /// `committee`, `general_branch`, `branch` or `party_group`.
    kind: String,
    /// `regular`, `joint` or `temporary`.
    branch_type: String,
    /// `general`, `village` or `community` (village and community terms are 5 years).
    sector: String,
    path: String,
    /// Active members in the whole subtree.
    member_count: i64,
    direct_members: i64,
    direct_full_members: i64,
    committee_size: i64,
    established_on: NaiveDate,
    dissolved_on: Option<NaiveDate>,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
    /// Structure warnings of 支部工作条例 (codes such as `branch_below_three_full`).
    warnings: Vec<&'static str>,
}

impl From<Org> for OrgView {
    fn from(o: Org) -> OrgView {
        let warnings = o.warnings();
        OrgView {
            id: o.id,
            parent_id: o.parent_id,
            name: o.name,
            kind: o.kind,
            branch_type: o.branch_type,
            sector: o.sector,
            path: o.path,
            member_count: o.subtree_members,
            direct_members: o.direct_members,
            direct_full_members: o.direct_full,
            committee_size: o.committee_size,
            established_on: o.established_on,
            dissolved_on: o.dissolved_on,
            term_start: o.term_start,
            term_end: o.term_end,
            warnings,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Only the children of this organization.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    parent_id: Option<i64>,
    /// At most this many (1–5,000; 1,000 by default).
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<i64>,
    /// Skip this many (paging on).
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<i64>,
}

/// A page of organizations and how many there are in all.
#[derive(Serialize, ToSchema)]
pub struct OrgPage {
    items: Vec<OrgView>,
    total: i64,
}

#[utoipa::path(get, path = "/api/v1/orgs", params(OrgQuery), responses((status = 200, body = OrgPage, description = "only what the caller may see, depth first (in path order), `limit` at a time, with the `total`")))]
pub async fn list_orgs(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<OrgPage>> {
    let limit = q.limit.unwrap_or(1000);
    let offset = q.offset.unwrap_or(0);
    if !(1..=5000).contains(&limit) {
        return Err(store::Error::Invalid(domain::Invalid::one("limit", "invalid")).into());
    }
    if !(0..=i64::from(i32::MAX)).contains(&offset) {
        return Err(store::Error::Invalid(domain::Invalid::one("offset", "invalid")).into());
    }
    let (items, total) = orgs::page(&s.store.db, &a.caller, q.parent_id, limit, offset).await?;
    Ok(Json(OrgPage {
        items: items.into_iter().map(OrgView::from).collect(),
        total,
    }))
}

#[utoipa::path(post, path = "/api/v1/orgs", request_body = OrgInput, responses((status = 201, body = OrgView), (status = 422)))]
pub async fn create_org(State(s): State<AppState>, a: ApiCaller, ApiJson(b): ApiJson<OrgInput>) -> ApiResult<Response> {
    let org = orgs::create(&s.store.db, &a.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(OrgView::from(org))).into_response())
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = OrgView), (status = 404)))]
pub async fn get_org(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<OrgView>> {
    Ok(Json(orgs::get(&s.store.db, &a.caller, id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/orgs/{id}", params(("id" = i64, Path, description = "the record's id")), request_body = OrgInput,
    responses((status = 200, body = OrgView, description = "renamed, edited, or moved when `parent_id` changes")))]
pub async fn update_org(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<OrgInput>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(orgs::update(&s.store.db, &a.caller, id, &b).await?.into()))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct DissolveRequest {
    #[serde(default)]
    dissolved_on: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/dissolve", params(("id" = i64, Path, description = "the record's id")), request_body = DissolveRequest,
    responses((status = 200, body = OrgView), (status = 409, description = "still has members or live sub-organizations")))]
pub async fn dissolve_org(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    body: axum::body::Bytes,
) -> ApiResult<Json<OrgView>> {
    // The body is optional: without one the organization is dissolved today.
    let on = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<DissolveRequest>(&body)
            .map_err(|e| Failure::bad_request(&e.to_string()))?
            .dissolved_on
    };
    Ok(Json(orgs::dissolve(&s.store.db, &a.caller, id, on).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/officers", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<orgs::Officer>)))]
pub async fn list_officers(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<Items<orgs::Officer>>> {
    Ok(Json(orgs::officers(&s.store.db, &a.caller, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct OfficerRequest {
    /// `secretary`, `deputy_secretary`, `organization`, `propaganda`, `discipline`, `committee_member`.
    #[schema(pattern = "^(secretary|deputy_secretary|organization|propaganda|discipline|committee_member)$")]
    post: String,
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/officers/{member_id}", params(("id" = i64, Path, description = "the record's id"), ("member_id" = i64, Path, description = "the member's id")), request_body = OfficerRequest, responses((status = 204)))]
pub async fn set_officer(
    State(s): State<AppState>,
    a: ApiCaller,
    super::Pair(id, member_id): super::Pair<i64, i64>,
    ApiJson(b): ApiJson<OfficerRequest>,
) -> ApiResult<StatusCode> {
    orgs::set_officer(&s.store.db, &a.caller, id, member_id, Some(&b.post)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/orgs/{id}/officers/{member_id}", params(("id" = i64, Path, description = "the record's id"), ("member_id" = i64, Path, description = "the member's id")), responses((status = 204)))]
pub async fn remove_officer(
    State(s): State<AppState>,
    a: ApiCaller,
    super::Pair(id, member_id): super::Pair<i64, i64>,
) -> ApiResult<StatusCode> {
    orgs::set_officer(&s.store.db, &a.caller, id, member_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/history", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<orgs::OrgEvent>)))]
pub async fn org_history(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<Items<orgs::OrgEvent>>> {
    Ok(Json(orgs::history(&s.store.db, &a.caller, id).await?.into()))
}
