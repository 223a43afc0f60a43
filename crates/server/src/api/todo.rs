//! What the caller must act on (待办), worst first: the home page's list.

use super::Items;
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use store::todo::TodoItem;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_todo))
}

#[utoipa::path(get, path = "/api/v1/me/todo", responses((status = 200, body = Items<TodoItem>, description = "what the caller must act on, worst first, each with a link to where it is done")))]
pub async fn my_todo(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<Items<TodoItem>>> {
    Ok(Json(Items::from(
        store::todo::for_caller(&s.store.db, &a.caller).await?,
    )))
}
