//! Member records (党员管理): list, read, reveal (audited), create, edit, history, import and export.

use super::files::{attachment, file_failure, import_problems, upload_bytes, ImportReport, XLSX_TYPE};
use super::{ApiJson, ApiQuery, Id};
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Failure};
use crate::i18n::Lang;
use crate::sheets;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::members;
use store::members::{Member, MemberFilter, MemberPatch, Placement};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, create_member))
        .routes(routes!(export_csv))
        .routes(routes!(export_xlsx))
        .routes(routes!(import_members))
        .routes(routes!(get_member, update_member))
        .routes(routes!(reveal_member))
        .routes(routes!(member_history))
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    items: Vec<Member>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/members", params(MemberFilter), responses((status = 200, body = MemberList)))]
pub async fn list_members(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<MemberFilter>,
) -> ApiResult<Json<MemberList>> {
    let page = members::list(&s.store.db, &s.store.keys, &a.caller, &f).await?;
    Ok(Json(MemberList {
        items: page.items,
        total: page.total,
        page: f.page(),
        per_page: f.per_page(),
    }))
}

#[utoipa::path(post, path = "/api/v1/members", request_body = MemberPatch,
    responses((status = 201, body = Member), (status = 422, description = "names every bad field")))]
pub async fn create_member(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<MemberPatch>,
) -> ApiResult<Response> {
    let Some(org_id) = b.org_id else {
        let mut errors = b
            .fields
            .validate(store::clock::today())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        errors.push(domain::FieldError::new("org_id", "required"));
        return Err(store::Error::Invalid(domain::Invalid(errors)).into());
    };
    let m = members::create(
        &s.store.db,
        &s.store.keys,
        &a.caller,
        Placement {
            org_id,
            group_id: b.group_id,
        },
        &b.fields,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m)).into_response())
}

#[utoipa::path(get, path = "/api/v1/members/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Member), (status = 404, description = "absent or outside the caller's scope")))]
pub async fn get_member(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Member>> {
    Ok(Json(members::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/members/{id}", params(("id" = i64, Path, description = "the record's id")), request_body = MemberPatch, responses((status = 200, body = Member), (status = 422)))]
pub async fn update_member(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<MemberPatch>,
) -> ApiResult<Json<Member>> {
    Ok(Json(
        members::update(&s.store.db, &s.store.keys, &a.caller, id, &b).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/members/{id}/reveal", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = members::Revealed, description = "full values; audited")))]
pub async fn reveal_member(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<members::Revealed>> {
    Ok(Json(members::reveal(&s.store.db, &s.store.keys, &a.caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/members/{id}/history", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = MemberHistory)))]
pub async fn member_history(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<MemberHistory>> {
    let (changes, organizations) = members::history(&s.store.db, &a.caller, id).await?;
    Ok(Json(MemberHistory { changes, organizations }))
}

/// Every change of a member's record, and every organization they belonged to.
#[derive(Serialize, ToSchema)]
pub struct MemberHistory {
    changes: Vec<members::HistoryEntry>,
    organizations: Vec<members::Membership>,
}

#[utoipa::path(get, path = "/api/v1/members/export.csv", params(MemberFilter), responses((status = 200, description = "CSV with a UTF-8 BOM; audited")))]
pub async fn export_csv(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<MemberFilter>,
) -> ApiResult<Response> {
    let rows = members::export(&s.store.db, &s.store.keys, &a.caller, &f, "csv").await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        "members.csv",
        sheets::members::write_csv(&rows),
    ))
}

#[utoipa::path(get, path = "/api/v1/members/export.xlsx", params(MemberFilter), responses((status = 200, description = "XLSX, IDs and phones as text; audited")))]
pub async fn export_xlsx(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<MemberFilter>,
) -> ApiResult<Response> {
    let rows = members::export(&s.store.db, &s.store.keys, &a.caller, &f, "xlsx").await?;
    let bytes = sheets::members::write_xlsx(&rows).map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, "members.xlsx", bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `preview` (default: check only), `all` (commit only if every row is good) or `good_only`.
    #[serde(default)]
    #[param(schema_with = crate::api::files::import_mode_schema)]
    pub(crate) mode: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/members/import", params(ImportQuery),
    request_body(content = String, description = "an XLSX or CSV file (UTF-8 or GB18030), as the body or a multipart `file` field"),
    responses((status = 200, body = ImportReport), (status = 422, description = "the report (ImportReport) when mode=all and rows are bad, else the error format: mode=all and some rows are bad: nothing imported")))]
pub async fn import_members(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<Response> {
    let lang = Lang::of_request(req.headers());
    let mode = q.mode.as_deref().filter(|m| !m.is_empty()).unwrap_or("preview");
    super::files::check_mode(mode)?;
    // Asked before the upload is read: the gate decides and audits a refusal.
    a.caller
        .require_any(&s.store.db, store::Perm::WriteMembers, "member.import", ("org", &""))
        .await?;
    let bytes = upload_bytes(req).await?;
    let rows = sheets::members::read(&bytes).map_err(file_failure)?;
    let plan = store::import::plan(&s.store.db, &s.store.keys, &a.caller, rows).await?;
    let problems = import_problems(lang, &plan.problems);
    let refused = mode == "all" && !problems.is_empty();
    let imported = if mode == "preview" || refused {
        0
    } else {
        store::import::commit(&s.store.db, &s.store.keys, &a.caller, &plan.good, &|_, _| {}).await?
    };
    let report = ImportReport {
        rows: plan.rows,
        good: plan.good.len(),
        bad_lines: plan.bad_lines(),
        problems,
        imported,
    };
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}
