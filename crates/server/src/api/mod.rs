//! The JSON API under `/api/v1`. Each handler: read input, call the store with the caller, shape
//! the answer. Scope, validation and audit happen below, in the store and the domain.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::audit::{AuditFilter, Entry};
use store::members::{Member, MemberFilter, MemberPatch, Placement};
use store::orgs::{Org, OrgInput};
use store::{accounts, audit, life, members, orgs, Caller, Role};
use utoipa::ToSchema;

use crate::auth::{client_ip, ApiCaller};
use crate::error::{render_api_failures, ApiResult, Failure};
use crate::i18n::{field_error, Lang};
use crate::{roster, AppState};

pub mod development;
pub mod dues;
pub mod notices;
pub mod transfers;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/orgs/{id}", get(get_org).patch(update_org))
        .route("/api/v1/orgs/{id}/dissolve", post(dissolve_org))
        .route("/api/v1/orgs/{id}/officers", get(list_officers))
        .route(
            "/api/v1/orgs/{id}/officers/{member_id}",
            put(set_officer).delete(remove_officer),
        )
        .route("/api/v1/orgs/{id}/history", get(org_history))
        .route("/api/v1/members", get(list_members).post(create_member))
        .route("/api/v1/members/export.csv", get(export_csv))
        .route("/api/v1/members/export.xlsx", get(export_xlsx))
        .route("/api/v1/members/import", post(import_members))
        .route("/api/v1/members/{id}", get(get_member).patch(update_member))
        .route("/api/v1/members/{id}/reveal", post(reveal_member))
        .route("/api/v1/members/{id}/history", get(member_history))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}/grants", post(add_grant))
        .route("/api/v1/users/{id}/reset-password", post(reset_password))
        .route("/api/v1/users/{id}/unlock", post(unlock_user))
        .route("/api/v1/users/{id}/disable", post(disable_user))
        .route("/api/v1/users/{id}/enable", post(enable_user))
        .route("/api/v1/grants/{id}", delete(revoke_grant))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/meetings", get(list_meetings).post(create_meeting))
        .route("/api/v1/meetings/{id}", get(get_meeting).patch(update_meeting))
        .route(
            "/api/v1/meetings/{id}/attendance",
            get(get_attendance).put(put_attendance),
        )
        .route("/api/v1/meetings/{id}/check-in", post(check_in))
        .route("/api/v1/orgs/{id}/compliance", get(org_compliance))
        .route("/api/v1/orgs/{id}/overdue", get(org_overdue))
        .route("/api/v1/orgs/{id}/absence-flags", get(org_absence_flags))
        .route("/api/v1/orgs/{id}/life-settings", put(org_life_settings))
        .route("/api/v1/orgs/{id}/meetings.xlsx", get(org_ledger))
        .route("/api/v1/orgs/{id}/terms", get(org_terms))
        .route("/api/v1/members/{id}/life", get(member_life))
        .route("/api/v1/activities", get(list_activities).post(create_activity))
        .route("/api/v1/activities/{id}", get(get_activity))
        .route("/api/v1/activities/{id}/signup", post(sign_up))
        .route(
            "/api/v1/activities/{id}/attendance",
            get(activity_signups).put(activity_attendance),
        )
        .route(
            "/api/v1/meetings/{id}/attachments",
            get(list_attachments).post(add_attachment),
        )
        .route("/api/v1/attachments/{id}", get(download_attachment))
        .merge(dues::routes())
        .merge(transfers::routes())
        .merge(notices::routes())
        .merge(development::routes())
        .route("/api/v1/me/notices", get(my_notices))
        .route("/api/v1/me/corrections", post(propose_correction))
        .route("/api/v1/me/notices/{id}/read", post(read_notice))
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/api/") {
                Failure::new(StatusCode::NOT_FOUND, "not_found").into_response()
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

/// A JSON body whose syntax or type errors answer 422 in our error format.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;
    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e| Failure::bad_request(&e.body_text()))
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
            .map_err(|e| Failure::bad_request(&e.body_text()))
    }
}

/// A numeric id in the path; anything else is simply not found.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Failure;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let Path(params) = Path::<Vec<String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| Failure::new(StatusCode::NOT_FOUND, "not_found"))?;
        params
            .first()
            .and_then(|p| p.parse().ok())
            .map(Id)
            .ok_or(Failure::new(StatusCode::NOT_FOUND, "not_found"))
    }
}

// ---- accounts ----

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
    if !s.login_limiter.allow(&ip) {
        return Err(Failure::new(StatusCode::TOO_MANY_REQUESTS, "auth.rate_limited"));
    }
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
    name: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Vec<accounts::ApiToken>)))]
pub async fn list_tokens(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": accounts::list_tokens(&s.store.db, &a.caller).await?}),
    ))
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

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", responses((status = 204)))]
pub async fn revoke_token(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::revoke_token(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- organizations ----

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
}

#[utoipa::path(get, path = "/api/v1/orgs", params(OrgQuery), responses((status = 200, description = "`{\"items\": [OrgView]}`, only what the caller may see", body = Vec<OrgView>)))]
pub async fn list_orgs(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let items: Vec<OrgView> = orgs::list(&s.store.db, &a.caller, q.parent_id)
        .await?
        .into_iter()
        .map(OrgView::from)
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/orgs", request_body = OrgInput, responses((status = 201, body = OrgView), (status = 422)))]
pub async fn create_org(State(s): State<AppState>, a: ApiCaller, ApiJson(b): ApiJson<OrgInput>) -> ApiResult<Response> {
    let org = orgs::create(&s.store.db, &a.caller, &b).await?;
    Ok((StatusCode::CREATED, Json(OrgView::from(org))).into_response())
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}", responses((status = 200, body = OrgView), (status = 404)))]
pub async fn get_org(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<OrgView>> {
    Ok(Json(orgs::get(&s.store.db, &a.caller, id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/orgs/{id}", request_body = OrgInput,
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

#[utoipa::path(post, path = "/api/v1/orgs/{id}/dissolve", request_body = DissolveRequest,
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

#[utoipa::path(get, path = "/api/v1/orgs/{id}/officers", responses((status = 200, body = Vec<orgs::Officer>)))]
pub async fn list_officers(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": orgs::officers(&s.store.db, &a.caller, id).await?}),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct OfficerRequest {
    /// `secretary`, `deputy_secretary`, `organization`, `propaganda`, `discipline`, `committee_member`.
    post: String,
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/officers/{member_id}", request_body = OfficerRequest, responses((status = 204)))]
pub async fn set_officer(
    State(s): State<AppState>,
    a: ApiCaller,
    Path((id, member_id)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<OfficerRequest>,
) -> ApiResult<StatusCode> {
    orgs::set_officer(&s.store.db, &a.caller, id, member_id, Some(&b.post)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/orgs/{id}/officers/{member_id}", responses((status = 204)))]
pub async fn remove_officer(
    State(s): State<AppState>,
    a: ApiCaller,
    Path((id, member_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    orgs::set_officer(&s.store.db, &a.caller, id, member_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/history", responses((status = 200, body = Vec<orgs::OrgEvent>)))]
pub async fn org_history(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(json!({"items": orgs::history(&s.store.db, &a.caller, id).await?})))
}

// ---- members ----

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

#[utoipa::path(get, path = "/api/v1/members/{id}", responses((status = 200, body = Member), (status = 404, description = "absent or outside the caller's scope")))]
pub async fn get_member(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Member>> {
    Ok(Json(members::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/members/{id}", request_body = MemberPatch, responses((status = 200, body = Member), (status = 422)))]
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

#[utoipa::path(post, path = "/api/v1/members/{id}/reveal", responses((status = 200, body = members::Revealed, description = "full values; audited")))]
pub async fn reveal_member(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<members::Revealed>> {
    Ok(Json(members::reveal(&s.store.db, &s.store.keys, &a.caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/members/{id}/history", responses((status = 200, description = "`{\"changes\": [HistoryEntry], \"organizations\": [Membership]}`")))]
pub async fn member_history(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    let (changes, orgs) = members::history(&s.store.db, &a.caller, id).await?;
    Ok(Json(json!({"changes": changes, "organizations": orgs})))
}

pub(crate) fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
        roster::write_csv(&rows),
    ))
}

#[utoipa::path(get, path = "/api/v1/members/export.xlsx", params(MemberFilter), responses((status = 200, description = "XLSX, IDs and phones as text; audited")))]
pub async fn export_xlsx(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<MemberFilter>,
) -> ApiResult<Response> {
    let rows = members::export(&s.store.db, &s.store.keys, &a.caller, &f, "xlsx").await?;
    let bytes = roster::write_xlsx(&rows).map_err(|_| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))?;
    Ok(attachment(XLSX_TYPE, "members.xlsx", bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `preview` (default: check only), `all` (commit only if every row is good) or `good_only`.
    #[serde(default)]
    pub(crate) mode: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportProblem {
    pub(crate) line: usize,
    pub(crate) field: String,
    pub(crate) code: String,
    pub(crate) message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    pub(crate) rows: usize,
    pub(crate) good: usize,
    pub(crate) bad_lines: usize,
    pub(crate) problems: Vec<ImportProblem>,
    /// How many rows were written (0 for a preview or a refused all-or-nothing import).
    pub(crate) imported: usize,
}

/// Each bad row's problems in the caller's language; the code without the value a message quotes.
pub(crate) fn import_problems(lang: Lang, problems: &[store::import::RowProblem]) -> Vec<ImportProblem> {
    problems
        .iter()
        .map(|p| ImportProblem {
            line: p.line,
            field: p.field.clone(),
            code: p.code.split(':').next().unwrap_or_default().to_string(),
            message: field_error(lang, &p.field, &p.code),
        })
        .collect()
}

/// Reads the upload: a multipart form's `file` field, or the raw body.
pub(crate) async fn upload_bytes(req: Request) -> Result<Vec<u8>, Failure> {
    upload_named(req, None).await.map(|(_, bytes)| bytes)
}

pub fn file_failure(e: roster::FileError) -> Failure {
    Failure::new(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
}

#[utoipa::path(post, path = "/api/v1/members/import", params(ImportQuery),
    request_body(content = String, description = "an XLSX or CSV file (UTF-8 or GB18030), as the body or a multipart `file` field"),
    responses((status = 200, body = ImportReport), (status = 422, body = ImportReport, description = "mode=all and some rows are bad: nothing imported")))]
pub async fn import_members(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<Response> {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::parse)
        .unwrap_or(Lang::Zh);
    let mode = q.mode.as_deref().unwrap_or("preview");
    if !matches!(mode, "preview" | "all" | "good_only") {
        let mut f = Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        f.fields.push(("mode".into(), "invalid".into()));
        return Err(f);
    }
    if !a.caller.can(store::Perm::WriteMembers) {
        return Err(store::Error::Forbidden.into());
    }
    let bytes = upload_bytes(req).await?;
    let rows = roster::read(&bytes).map_err(file_failure)?;
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

// ---- users and grants (security administrator) ----

#[derive(Serialize, ToSchema)]
pub struct UserWithGrants {
    #[serde(flatten)]
    user: accounts::User,
    grants: Vec<store::scope::Grant>,
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = Vec<UserWithGrants>)))]
pub async fn list_users(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    let items: Vec<UserWithGrants> = accounts::list_users(&s.store.db, &a.caller)
        .await?
        .into_iter()
        .map(|(user, grants)| UserWithGrants { user, grants })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = accounts::NewUser, responses((status = 201, body = accounts::User)))]
pub async fn create_user(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(b): ApiJson<accounts::NewUser>,
) -> ApiResult<Response> {
    let u = accounts::create_user(&s.store.db, &s.store.keys, &a.caller, &b, true).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct GrantRequest {
    role: Role,
    #[serde(default)]
    org_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/grants", request_body = GrantRequest, responses((status = 201, body = store::scope::Grant), (status = 409, description = "separation of duties")))]
pub async fn add_grant(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<GrantRequest>,
) -> ApiResult<Response> {
    let g = accounts::grant(&s.store.db, &a.caller, id, b.role, b.org_id).await?;
    Ok((StatusCode::CREATED, Json(g)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/grants/{id}", responses((status = 204)))]
pub async fn revoke_grant(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::revoke(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// A temporary password meeting the policy; the user must change it at next sign-in.
    password: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", request_body = ResetRequest, responses((status = 204)))]
pub async fn reset_password(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    accounts::reset_password(&s.store.db, &a.caller, id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", responses((status = 204)))]
pub async fn unlock_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "unlock").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", responses((status = 204)))]
pub async fn disable_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "disable").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", responses((status = 204)))]
pub async fn enable_user(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    accounts::set_account_state(&s.store.db, &a.caller, id, "enable").await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- audit ----

#[utoipa::path(get, path = "/api/v1/audit", params(AuditFilter), responses((status = 200, body = Vec<Entry>, description = "newest first; audit administrator only")))]
pub async fn audit_log(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(json!({"items": audit::list(&s.store.db, &a.caller, &f).await?})))
}

// ---- organizational life ----

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

#[utoipa::path(get, path = "/api/v1/meetings", params(life::meetings::MeetingFilter), responses((status = 200, description = "`{\"items\": [MeetingView]}`, newest first")))]
pub async fn list_meetings(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<life::meetings::MeetingFilter>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": life::meetings::list(&s.store.db, &a.caller, &f).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}", responses((status = 200, body = life::meetings::MeetingView), (status = 404)))]
pub async fn get_meeting(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<life::meetings::MeetingView>> {
    Ok(Json(life::meetings::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/meetings/{id}", request_body = life::meetings::MeetingInput, responses((status = 200, body = life::meetings::MeetingView)))]
pub async fn update_meeting(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<life::meetings::MeetingInput>,
) -> ApiResult<Json<life::meetings::MeetingView>> {
    Ok(Json(life::meetings::update(&s.store.db, &a.caller, id, &b).await?))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}/attendance", responses((status = 200, body = life::attendance::AttendanceSheet)))]
pub async fn get_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<life::attendance::AttendanceSheet>> {
    Ok(Json(life::attendance::attendance(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance", request_body = Vec<life::attendance::AttendanceMark>,
    responses((status = 200, body = life::attendance::AttendanceSheet, description = "with the quorum")))]
pub async fn put_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<Vec<life::attendance::AttendanceMark>>,
) -> ApiResult<Json<life::attendance::AttendanceSheet>> {
    Ok(Json(
        life::attendance::record_attendance(&s.store.db, &a.caller, id, &b).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    code: String,
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/check-in", request_body = CheckInRequest,
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    pub(crate) year: Option<i32>,
}

impl YearQuery {
    pub(crate) fn year(&self) -> ApiResult<i32> {
        let year = self
            .year
            .unwrap_or_else(|| chrono::Datelike::year(&store::clock::today()));
        if (1921..=2200).contains(&year) {
            Ok(year)
        } else {
            Err(store::Error::Invalid(domain::Invalid::one("year", "invalid")).into())
        }
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/compliance", params(YearQuery),
    responses((status = 200, description = "`{\"items\": [ComplianceItem]}` for every branch and group of the subtree, kind and period")))]
pub async fn org_compliance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": life::compliance::compliance(&s.store.db, &a.caller, id, q.year()?, None).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/overdue", params(YearQuery),
    responses((status = 200, description = "`{\"items\": [ComplianceItem]}`: overdue items below the organization, worst first")))]
pub async fn org_overdue(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    // The worst organizations first; a province's list stops near 1,000 items, with the total given.
    let (items, total) = life::compliance::overdue(&s.store.db, &a.caller, id, q.year()?, 1000).await?;
    Ok(Json(json!({"items": items, "total": total})))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/absence-flags",
    responses((status = 200, description = "`{\"items\": [AbsenceFlag]}`: six consecutive months missed without reason (党章 Art. 9), a flag only")))]
pub async fn org_absence_flags(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": life::absence::absence_flags(&s.store.db, &a.caller, id).await?}),
    ))
}

#[utoipa::path(put, path = "/api/v1/orgs/{id}/life-settings", request_body = life::settings::LifeSettings, responses((status = 204)))]
pub async fn org_life_settings(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<life::settings::LifeSettings>,
) -> ApiResult<StatusCode> {
    life::settings::set_settings(&s.store.db, &a.caller, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/meetings.xlsx", params(YearQuery), responses((status = 200, description = "the meeting ledger (会议台账) for the year")))]
pub async fn org_ledger(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    let year = q.year()?;
    let rows = life::ledger::ledger(&s.store.db, &a.caller, id, year).await?;
    let bytes =
        roster::write_meeting_ledger(&rows).map_err(|_| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))?;
    Ok(attachment(XLSX_TYPE, &format!("meetings-{year}.xlsx"), bytes))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/terms", responses((status = 200, description = "`{\"items\": [TermItem]}`: committee terms below the organization, the most urgent first")))]
pub async fn org_terms(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": life::terms::terms(&s.store.db, &a.caller, id).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/members/{id}/life", params(YearQuery), responses((status = 200, body = life::year::YearRecord)))]
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

#[utoipa::path(post, path = "/api/v1/me/corrections", request_body = store::corrections::CorrectionInput,
    responses((status = 201, body = store::corrections::Correction, description = "a correction of the caller's own record, to be reviewed by their branch")))]
pub async fn propose_correction(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<store::corrections::CorrectionInput>,
) -> ApiResult<Response> {
    let c = store::corrections::propose(&s.store.db, &s.store.keys, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/notices", responses((status = 200, description = "`{\"items\": [Notice]}`: the caller's notices, newest first")))]
pub async fn my_notices(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": store::inbox::mine(&s.store.db, &a.caller, false).await?}),
    ))
}

#[utoipa::path(post, path = "/api/v1/me/notices/{id}/read", responses((status = 204)))]
pub async fn read_notice(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<StatusCode> {
    store::inbox::mark_read(&s.store.db, &a.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

use store::activities;

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

#[utoipa::path(get, path = "/api/v1/activities", params(ActivityQuery), responses((status = 200, description = "`{\"items\": [Activity]}`")))]
pub async fn list_activities(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": activities::list(&s.store.db, &a.caller, q.org_id).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", responses((status = 200, body = activities::Activity)))]
pub async fn get_activity(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<activities::Activity>> {
    Ok(Json(activities::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/signup", responses((status = 200, body = activities::Activity), (status = 409, description = "full or closed")))]
pub async fn sign_up(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<activities::Activity>> {
    Ok(Json(activities::sign_up(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}/attendance", responses((status = 200, description = "`{\"items\": [Signup]}`")))]
pub async fn activity_signups(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": activities::signups(&s.store.db, &a.caller, id).await?}),
    ))
}

#[utoipa::path(put, path = "/api/v1/activities/{id}/attendance", request_body = Vec<i64>,
    responses((status = 200, description = "the member ids who attended; each is credited the activity's volunteer time")))]
pub async fn activity_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<Vec<i64>>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": activities::record_attendance(&s.store.db, &a.caller, id, &b).await?}),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileNameQuery {
    /// The file's name when the body is the raw file (a multipart upload carries its own).
    #[serde(default)]
    name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/attachments", params(FileNameQuery),
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
    let att = life::attachments::attach(&s.store.db, &a.caller, &s.files_dir, id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(att)).into_response())
}

/// The uploaded file and its name, from a multipart `file` field or the raw body.
pub(crate) async fn upload_named(req: Request, name: Option<String>) -> Result<(String, Vec<u8>), Failure> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let body = axum::body::to_bytes(req.into_body(), crate::MAX_UPLOAD_BYTES)
            .await
            .map_err(|_| Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "file.too_large"))?;
        return Ok((name.unwrap_or_else(|| "file".into()), body.to_vec()));
    }
    let malformed = |e: axum::extract::multipart::MultipartError| Failure::bad_request(&e.body_text());
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| Failure::bad_request(&e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("file").to_string();
            return Ok((name, field.bytes().await.map_err(malformed)?.to_vec()));
        }
    }
    Err(Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "file.empty"))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}/attachments", responses((status = 200, description = "`{\"items\": [Attachment]}`")))]
pub async fn list_attachments(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({"items": life::attachments::attachments(&s.store.db, &a.caller, id).await?}),
    ))
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", responses((status = 200, description = "the file; audited")))]
pub async fn download_attachment(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Response> {
    let (att, bytes) = life::attachments::open_attachment(&s.store.db, &a.caller, &s.files_dir, id).await?;
    Ok(download(&att.content_type, &att.name, bytes))
}

/// An uploaded file sent back under its own name (in ASCII for old clients, in UTF-8 for the rest).
pub(crate) fn download(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                    crate::auth::urlencode(name)
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}
