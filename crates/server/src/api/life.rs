//! Organizational life (组织生活): meetings, attendance, check-in, compliance, settings, the ledger,
//! terms, a member's year and meeting attachments.

use super::files::{attachment, download, upload_named, FileNameQuery, XLSX_TYPE};
use super::Items;
use super::{ApiJson, ApiList, ApiQuery, Id, YearQuery};
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Failure};
use crate::sheets;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde::Serialize;
use store::life;
use store::life::absence::AbsenceFlag;
use store::life::attachments::Attachment;
use store::life::compliance::ComplianceItem;
use store::life::meetings::MeetingView;
use store::life::terms::TermItem;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting, update_meeting))
        .routes(routes!(get_attendance, put_attendance))
        .routes(routes!(check_in))
        .routes(routes!(org_compliance))
        .routes(routes!(org_overdue))
        .routes(routes!(org_absence_flags))
        .routes(routes!(org_life_settings))
        .routes(routes!(org_ledger))
        .routes(routes!(org_terms))
        .routes(routes!(member_life))
        .routes(routes!(list_attachments, add_attachment))
        .routes(routes!(download_attachment))
}

#[utoipa::path(post, path = "/api/v1/meetings", request_body = life::meetings::MeetingInput,
    responses((status = 201, body = life::meetings::MeetingView), (status = 422)))]
pub async fn create_meeting(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<life::meetings::MeetingInput>,
) -> ApiResult<Response> {
    let m = life::meetings::create(&s.store.db, &a.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(m)).into_response())
}

#[utoipa::path(get, path = "/api/v1/meetings", params(life::meetings::MeetingFilter), responses((status = 200, body = Items<MeetingView>, description = "newest first")))]
pub async fn list_meetings(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<life::meetings::MeetingFilter>,
) -> ApiResult<Json<Items<MeetingView>>> {
    Ok(Json(Items::from(
        life::meetings::list(&s.store.db, &a.caller, &f).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = life::meetings::MeetingView), (status = 404)))]
pub async fn get_meeting(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<life::meetings::MeetingView>> {
    Ok(Json(life::meetings::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/meetings/{id}", params(("id" = i64, Path, description = "the record's id")), request_body = life::meetings::MeetingInput, responses((status = 200, body = life::meetings::MeetingView)))]
pub async fn update_meeting(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<life::meetings::MeetingInput>,
) -> ApiResult<Json<life::meetings::MeetingView>> {
    Ok(Json(life::meetings::update(&s.store.db, &a.caller, id, &b).await?))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}/attendance", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = life::attendance::AttendanceSheet)))]
pub async fn get_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<life::attendance::AttendanceSheet>> {
    Ok(Json(life::attendance::attendance(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance", params(("id" = i64, Path, description = "the record's id")), request_body = Vec<life::attendance::AttendanceMark>,
    responses((status = 200, body = life::attendance::AttendanceSheet, description = "with the quorum")))]
pub async fn put_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiList(b): ApiList<life::attendance::AttendanceMark>,
) -> ApiResult<Json<life::attendance::AttendanceSheet>> {
    Ok(Json(
        life::attendance::record_attendance(&s.store.db, &a.caller, id, &b).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    code: String,
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/check-in", params(("id" = i64, Path, description = "the record's id")), request_body = CheckInRequest,
    responses((status = 204), (status = 409, description = "check-in off, outside the window, or a wrong code")))]
pub async fn check_in(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<CheckInRequest>,
) -> ApiResult<StatusCode> {
    life::checkin::check_in(&s.store.db, &a.caller, id, &b.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/compliance", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, body = Items<ComplianceItem>, description = "for every branch and group of the subtree, kind and period")))]
pub async fn org_compliance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Items<ComplianceItem>>> {
    Ok(Json(Items::from(
        life::compliance::compliance(&s.store.db, &a.caller, id, q.year()?, None).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/overdue", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, body = Overdue, description = "overdue items below the organization, worst first")))]
pub async fn org_overdue(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Overdue>> {
    // The worst organizations first; a province's list stops near 1,000 items, with the total given.
    let (items, total) = store::warnings::meetings(
        &s.store.db,
        &a.caller,
        id,
        q.year()?,
        domain::life::ComplianceStatus::Overdue,
        1000,
    )
    .await?;
    Ok(Json(Overdue { items, total }))
}

/// The subtree's overdue items, the worst first (at most about 1,000), and how many there are.
#[derive(Serialize, ToSchema)]
pub struct Overdue {
    items: Vec<ComplianceItem>,
    total: usize,
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/absence-flags", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Items<AbsenceFlag>, description = "six consecutive months missed without reason (党章 Art. 9), a flag only")))]
pub async fn org_absence_flags(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<Items<AbsenceFlag>>> {
    Ok(Json(Items::from(
        life::absence::absence_flags(&s.store.db, &a.caller, id).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/life-settings", params(("id" = i64, Path, description = "the record's id")), request_body = life::settings::LifeSettings, responses((status = 204)))]
pub async fn org_life_settings(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<life::settings::LifeSettings>,
) -> ApiResult<StatusCode> {
    life::settings::set_settings(&s.store.db, &a.caller, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/meetings.xlsx", params(("id" = i64, Path, description = "the record's id"), YearQuery), responses((status = 200, description = "the meeting ledger (会议台账) for the year")))]
pub async fn org_ledger(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    let year = q.year()?;
    let rows = life::ledger::ledger(&s.store.db, &a.caller, id, year).await?;
    let bytes = sheets::members::write_meeting_ledger(&rows).map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, &format!("meetings-{year}.xlsx"), bytes))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/terms", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<TermItem>, description = "committee terms below the organization, the most urgent first")))]
pub async fn org_terms(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Items<TermItem>>> {
    Ok(Json(Items::from(life::terms::terms(&s.store.db, &a.caller, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/members/{id}/life", params(("id" = i64, Path, description = "the record's id"), YearQuery), responses((status = 200, body = life::year::YearRecord)))]
pub async fn member_life(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<life::year::YearRecord>> {
    Ok(Json(
        life::year::year_record(&s.store.db, &a.caller, id, q.year()?).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/attachments", params(("id" = i64, Path, description = "the record's id"), FileNameQuery),
    request_body(content = String, description = "PDF, PNG, JPEG, DOCX or XLSX up to 20 MB: the body or a multipart `file` field"),
    responses((status = 201, body = life::attachments::Attachment), (status = 422, description = "type or size refused")))]
pub async fn add_attachment(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<FileNameQuery>,
    req: Request,
) -> ApiResult<Response> {
    let (name, bytes) = upload_named(req, q.name).await?;
    let att = life::attachments::attach(&s.store.db, &a.caller, s.vault(), id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(att)).into_response())
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}/attachments", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Items<Attachment>)))]
pub async fn list_attachments(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<Items<Attachment>>> {
    Ok(Json(Items::from(
        life::attachments::attachments(&s.store.db, &a.caller, id).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "the file; audited")))]
pub async fn download_attachment(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Response> {
    let (att, bytes) = life::attachments::open_attachment(&s.store.db, &a.caller, s.vault(), id).await?;
    Ok(download(&att.content_type, &att.name, bytes))
}
