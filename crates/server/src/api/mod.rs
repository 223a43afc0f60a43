//! The JSON API under `/api/v1`. Each handler: read input, call the store with the caller, shape
//! the answer. Scope, validation and audit happen below, in the store and the domain.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{render_api_failures, ApiResult, Failure};
use crate::AppState;

pub mod accounts;
pub mod activities;
pub mod audit;
pub mod corrections;
pub mod dashboard;
pub mod development;
pub mod displays;
pub mod dues;
pub mod files;
pub mod inbox;
pub mod life;
pub mod members;
pub mod mobile;
pub mod notices;
pub mod orgs;
pub mod pick;
pub mod quality;
pub mod reviews;
pub mod search;
pub mod security;
pub mod study;
pub mod todo;
pub mod transfers;
pub mod users;
pub mod warnings;

/// Every operation of the API with its documentation: each feature's handlers are registered
/// once, with their `#[utoipa::path]`, so the router and the OpenAPI document cannot disagree.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(accounts::routes())
        .merge(activities::routes())
        .merge(audit::routes())
        .merge(corrections::routes())
        .merge(development::routes())
        .merge(dues::routes())
        .merge(inbox::routes())
        .merge(life::routes())
        .merge(members::routes())
        .merge(mobile::routes())
        .merge(notices::routes())
        .merge(orgs::routes())
        .merge(reviews::routes())
        .merge(security::routes())
        .merge(pick::routes())
        .merge(search::routes())
        .merge(study::routes())
        .merge(todo::routes())
        .merge(transfers::routes())
        .merge(users::routes())
        .merge(warnings::routes())
        .merge(dashboard::routes())
        .merge(displays::routes())
        .merge(quality::routes())
}

pub fn routes() -> Router<AppState> {
    let (router, doc) = documented().split_for_parts();
    let doc = std::sync::Arc::new(crate::openapi::finish(doc));
    router
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(doc.as_ref().clone()) }),
        )
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/api/") {
                Failure::new("not_found").into_response()
            } else {
                (
                    StatusCode::NOT_FOUND,
                    axum::response::Html("<!doctype html><title>404</title><p>404 · <a href=\"/\">红基 Hongji</a></p>"),
                )
                    .into_response()
            }
        })
        .layer(axum::middleware::from_fn(render_api_failures))
}

/// A JSON object body. Syntax and type errors answer 422 in our error format, naming the field (its
/// path, e.g. `kinds[1]`) and what was expected there. An array is refused: serde would read one
/// into a struct field by field (`[null, null]` as a PATCH of nothing). Bodies that are lists use
/// `ApiList`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;
    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let json = json_body(req, state).await?;
        if json.is_array() {
            let e = <serde_json::Error as serde::de::Error>::invalid_type(serde::de::Unexpected::Seq, &"an object");
            return Err(Failure::malformed("", &e));
        }
        parse(json).map(ApiJson)
    }
}

/// A JSON body that is a list (attendance marks, who came).
pub struct ApiList<T>(pub Vec<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiList<T> {
    type Rejection = Failure;
    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        parse(json_body(req, state).await?).map(ApiList)
    }
}

/// The request's body as JSON, if it says it is JSON and is.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<serde_json::Value, Failure> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(Failure::new("request.not_json"));
    }
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|_| Failure::new("request.too_large"))?;
    let mut json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Failure::malformed("", &e))?;
    integral_numbers_as_integers(&mut json);
    Ok(json)
}

fn parse<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, Failure> {
    serde_path_to_error::deserialize(json).map_err(|e| Failure::malformed(&e.path().to_string(), e.inner()))
}

/// `12.0` is the integer 12 to JSON Schema (and to a client whose numbers are all floats), so an
/// integer field takes it; `12.5` still answers that an integer was expected.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Query parameters, with the same error format.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| Failure::query(&e.body_text()))
    }
}

/// Two parameters in the path (`/orgs/{id}/officers/{member_id}`); anything unreadable is not found.
pub struct Pair<A, B>(pub A, pub B);

impl<S: Send + Sync, A: DeserializeOwned + Send, B: DeserializeOwned + Send> FromRequestParts<S> for Pair<A, B> {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        Path::<(A, B)>::from_request_parts(parts, state)
            .await
            .map(|Path((a, b))| Pair(a, b))
            .map_err(|_| Failure::new("not_found"))
    }
}

/// A numeric id in the path; anything else is simply not found.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let Path(params) = Path::<Vec<String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| Failure::new("not_found"))?;
        params
            .first()
            .and_then(|p| p.parse().ok())
            .map(Id)
            .ok_or(Failure::new("not_found"))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    /// 2000–2200 (`domain::time::YEARS`); this year by default.
    #[param(minimum = 2000, maximum = 2200)]
    pub(crate) year: Option<i32>,
}

impl YearQuery {
    pub(crate) fn year(&self) -> ApiResult<i32> {
        let year = self
            .year
            .unwrap_or_else(|| chrono::Datelike::year(&store::clock::today()));
        if domain::time::YEARS.contains(&year) {
            Ok(year)
        } else {
            Err(store::Error::Invalid(domain::Invalid::one("year", "invalid")).into())
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// This organization's subtree only.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    org_id: Option<i64>,
}

/// A list answer: `{"items": [...]}`, so that a list can later carry its paging beside the items.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T, I: IntoIterator<Item = T>> From<I> for Items<T> {
    fn from(items: I) -> Items<T> {
        Items {
            items: items.into_iter().collect(),
        }
    }
}
