//! Search over the API: the library, notices and meeting topics the caller may read.

use axum::extract::State;
use axum::Json;
use store::search::{self, Results, SearchQuery};

use super::ApiQuery;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_all))
}

#[utoipa::path(get, path = "/api/v1/search", params(SearchQuery),
    responses((status = 200, body = Results, description = "best first, the words found marked; only what the caller may read (at most 30 shown)")))]
pub async fn search_all(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Results>> {
    Ok(Json(search::search(&s.store.db, &s.search, &a.caller, &q).await?))
}
