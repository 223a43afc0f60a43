//! Warnings (预警) over a subtree by state, acknowledged with a note, and the escalation days.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use store::warnings::acks::{self, AckInput, EscalationInput, WarningFilter, WarningPage};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiJson, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(org_warnings))
        .routes(routes!(ack_warning))
        .routes(routes!(set_escalation))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/warnings", params(("id" = i64, Path, description = "the record's id"), WarningFilter),
    responses((status = 200, body = WarningPage, description = "the subtree's warnings the caller may see (those of the lists their permissions open), oldest first, with counts by state; evaluated again first where records changed")))]
pub async fn org_warnings(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(f): ApiQuery<WarningFilter>,
) -> ApiResult<Json<WarningPage>> {
    Ok(Json(acks::list(&s.store.db, &a.caller, id, &f).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Acked {
    /// 1 when acknowledged now, 0 when it already was.
    acked: usize,
}

#[utoipa::path(post, path = "/api/v1/warnings/{id}/ack", params(("id" = i64, Path, description = "the record's id")), request_body = AckInput,
    responses((status = 200, body = Acked, description = "acknowledged with the note (audited); it stays open until the data resolves it")))]
pub async fn ack_warning(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<AckInput>,
) -> ApiResult<Json<Acked>> {
    let acked = acks::ack(&s.store.db, &a.caller, &[id], &input).await?;
    Ok(Json(Acked { acked }))
}

#[derive(Serialize, ToSchema)]
pub struct Escalation {
    escalate_after_days: i64,
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/warning-settings", params(("id" = i64, Path, description = "the record's id")), request_body = EscalationInput,
    responses((status = 200, body = Escalation, description = "set for the organization's subtree (audited)")))]
pub async fn set_escalation(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<EscalationInput>,
) -> ApiResult<Json<Escalation>> {
    let escalate_after_days = acks::set_escalation(&s.store.db, &a.caller, id, &input).await?;
    Ok(Json(Escalation { escalate_after_days }))
}
