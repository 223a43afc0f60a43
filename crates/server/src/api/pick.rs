//! Pickers over the API (选择器): organizations and members found by part of a name or by number,
//! for forms that choose one (the pages' search boxes call these as one types).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use store::pick::{self, Among, Choice, Purpose};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, Items};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pick_orgs))
        .routes(routes!(pick_members))
        .routes(routes!(list_receivers))
}

/// A blank `for=` is the default, as any optional query parameter may be blank.
fn blank_is_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    use serde::de::IntoDeserializer;
    let text = String::deserialize(d)?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    T::deserialize(text.into_deserializer())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgsQuery {
    /// Part of the organization's name, or its number.
    #[param(max_length = 100)]
    #[serde(default)]
    q: String,
    /// Only within this organization's subtree.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    within: Option<i64>,
    #[serde(default, rename = "for", deserialize_with = "blank_is_default")]
    #[param(inline)]
    purpose: Purpose,
    /// Only organizations this one may be moved under (its new parent; `for` is then `manage`).
    #[serde(default, deserialize_with = "store::empty_as_none")]
    parent_of: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/pick/orgs", params(OrgsQuery),
    responses((status = 200, body = Items<Choice>, description = "live organizations that fit `for` (the caller holds its right there; its kinds), whose name contains `q` (or whose number it is), at most 20, with the organizations above them"),
        (status = 404, description = "`within` is out of scope")))]
pub async fn pick_orgs(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<OrgsQuery>,
) -> ApiResult<Json<Items<Choice>>> {
    let found = match f.parent_of {
        Some(org) => pick::parents(&s.store.db, &a.caller, org, &f.q).await?,
        None => pick::orgs(&s.store.db, &a.caller, f.purpose, f.within, &f.q).await?,
    };
    Ok(Json(Items::from(found)))
}

/// Whom a person search looks among.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembersFor {
    /// Active members the caller may read.
    #[default]
    Read,
    /// Active members with no account yet, for the security administrator linking one (audited).
    Account,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Part of the member's name, or their number.
    #[param(max_length = 100)]
    #[serde(default)]
    q: String,
    /// Only within this organization's subtree.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    within: Option<i64>,
    /// Only full members (正式党员).
    #[serde(default, deserialize_with = "store::empty_as_none")]
    full: Option<bool>,
    #[serde(default, rename = "for", deserialize_with = "blank_is_default")]
    #[param(inline)]
    purpose: MembersFor,
}

#[utoipa::path(get, path = "/api/v1/pick/members", params(MembersQuery),
    responses((status = 200, body = Items<Choice>, description = "active members whose name contains `q` (or whose number it is), at most 20, by name, each with their branch and the organizations above it"),
        (status = 404, description = "`within` is out of scope")))]
pub async fn pick_members(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<MembersQuery>,
) -> ApiResult<Json<Items<Choice>>> {
    let among = match f.purpose {
        MembersFor::Read => Among::Readable {
            within: f.within,
            full_only: f.full.unwrap_or(false),
        },
        MembersFor::Account => Among::Unlinked,
    };
    let found = pick::members(&s.store.db, &a.caller, among, &f.q).await?;
    Ok(Json(Items::from(found)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiverQuery {
    /// Part of the organization's name, or its number.
    #[param(max_length = 100)]
    #[serde(default)]
    q: String,
}

#[utoipa::path(get, path = "/api/v1/transfers/receivers", params(ReceiverQuery),
    responses((status = 200, body = Items<Choice>, description = "live organizations holding members whose name contains `q` (or whose number it is), at most 20, with the organizations above them: where a letter or a mobile member can go")))]
pub async fn list_receivers(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<ReceiverQuery>,
) -> ApiResult<Json<Items<Choice>>> {
    Ok(Json(Items::from(pick::receivers(&s.store.db, &a.caller, &f.q).await?)))
}
