//! Party dues over the API: calculation, yearly bases, payments and reversals, a member's year,
//! and an organization's reports.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::dues::Month;
use serde::Deserialize;
use store::dues::{
    self, bases::Profile, bases::ProfileInput, member::MemberDues, payments::Payment, payments::PaymentInput,
    reports::OrgDues, statements::Statement,
};
use utoipa::ToSchema;

use super::files::{attachment, file_failure, import_problems, upload_bytes, ImportReport, XLSX_TYPE};
use super::Items;
use super::{ApiJson, ApiQuery, Id, YearQuery};
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Failure};
use crate::i18n::Lang;
use crate::sheets;
use crate::AppState;
use store::dues::reports::{ArrearsItem, BookLine};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The most rows a book or an arrears list shows at once; reports over larger subtrees are totals.
pub const BOOK_LIMIT: i64 = 10_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calculate_dues))
        .routes(routes!(record_payment))
        .routes(routes!(reverse_payment))
        .routes(routes!(import_bases))
        .routes(routes!(set_profile))
        .routes(routes!(member_dues))
        .routes(routes!(excuse))
        .routes(routes!(org_dues))
        .routes(routes!(org_arrears))
        .routes(routes!(org_book))
        .routes(routes!(org_payments))
        .routes(routes!(org_workbook))
        .routes(routes!(statements, publish_statement))
        .routes(routes!(get_sheet, record_sheet))
}

/// The month of a dues sheet; this month if left out.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    #[serde(default)]
    #[param(schema_with = domain::schema::month)]
    month: Option<String>,
}

fn sheet_month(month: Option<&str>) -> Result<Month, Failure> {
    match month.map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(Month::of(store::clock::today())),
        Some(m) => Month::parse(m).ok_or_else(|| store::Error::from(domain::Invalid::one("month", "invalid")).into()),
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues/sheet", params(("id" = i64, Path, description = "the record's id"), SheetQuery),
    responses((status = 200, body = Items<dues::sheet::SheetLine>, description = "the organization's own members who owe anything up to the month, by name"), (status = 404)))]
pub async fn get_sheet(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<SheetQuery>,
) -> ApiResult<Json<Items<dues::sheet::SheetLine>>> {
    let month = sheet_month(q.month.as_deref())?;
    Ok(Json(
        dues::sheet::sheet(&s.store.db, &a.caller, id, month, store::clock::today())
            .await?
            .into(),
    ))
}

/// Who paid, each in full for the months owed up to `month`, on `paid_on`.
#[derive(Deserialize, ToSchema)]
pub struct SheetBody {
    #[schema(schema_with = domain::schema::month)]
    month: Option<String>,
    #[schema(required = true)]
    paid_on: Option<chrono::NaiveDate>,
    #[schema(min_items = 1, max_items = 2000)]
    payments: Vec<dues::sheet::SheetPayment>,
}

/// How many payments a sheet recorded.
#[derive(serde::Serialize, ToSchema)]
pub struct SheetRecorded {
    recorded: usize,
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/dues/sheet", params(("id" = i64, Path, description = "the record's id")), request_body = SheetBody,
    responses((status = 200, body = SheetRecorded, description = "each ticked member's payment, all in one transaction"), (status = 422, description = "nothing written; each refused member named"), (status = 404)))]
pub async fn record_sheet(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<SheetBody>,
) -> ApiResult<Json<SheetRecorded>> {
    let month = sheet_month(b.month.as_deref())?;
    let paid_on = b
        .paid_on
        .ok_or_else(|| store::Error::from(domain::Invalid::one("paid_on", "required")))?;
    let recorded = dues::sheet::record(&s.store.db, &a.caller, id, month, paid_on, &b.payments).await?;
    Ok(Json(SheetRecorded { recorded }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuesQuery {
    /// `employed`, `retired`, `annual_salary`, `self_employed`, `rural`, `student`, `unemployed`,
    /// `relief`, `reduced` or `exempt`.
    #[param(value_type = domain::dues::DuesCategory, inline)]
    category: String,
    /// The monthly base in fen (for `rural` and `reduced`, the set amount).
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 0, maximum = 100_000_000)]
    base_fen: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/dues/calculate", params(DuesQuery),
    responses((status = 200, body = Calculated, description = "the official band, one rate on the whole base, rounded half up")))]
pub async fn calculate_dues(
    State(s): State<AppState>,
    _: ApiCaller,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<DuesQuery>,
) -> ApiResult<Json<Calculated>> {
    use domain::dues::{monthly, DuesCategory};
    let invalid = |e: domain::FieldError| Failure::from(store::Error::Invalid(domain::Invalid(vec![e])));
    let category =
        DuesCategory::parse(&q.category).ok_or_else(|| invalid(domain::FieldError::new("category", "invalid")))?;
    let dues = monthly(category, q.base_fen.unwrap_or(0), s.dues_rounding).map_err(|e| invalid(e.into()))?;
    let english = Lang::of_request(&headers) == Lang::En;
    let explanation = if english {
        dues.explanation_en
    } else {
        dues.explanation_zh
    };
    Ok(Json(Calculated {
        monthly_fen: dues.monthly_fen,
        rate_bp: dues.rate_bp,
        explanation,
    }))
}

/// A month's dues for a category and base.
#[derive(serde::Serialize, ToSchema)]
pub struct Calculated {
    monthly_fen: i64,
    /// The rate in basis points (150 = 1.5%) where the category has one.
    rate_bp: Option<i64>,
    /// How the amount was reached, in words.
    explanation: String,
}

#[utoipa::path(put, path = "/api/v1/members/{id}/dues-profile", params(("id" = i64, Path, description = "the record's id")), request_body = ProfileInput,
    responses((status = 200, body = Profile), (status = 422, description = "a field is wrong: e.g. `base_fen.rural_amount`, `approved_on.required` for a reduction")))]
pub async fn set_profile(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<Profile>> {
    Ok(Json(
        dues::bases::set_profile(&s.store.db, &a.caller, id, &input, s.dues_rounding).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/members/{id}/dues", params(("id" = i64, Path, description = "the record's id"), YearQuery), responses((status = 200, body = MemberDues)))]
pub async fn member_dues(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<MemberDues>> {
    Ok(Json(
        dues::member::member_dues(&s.store.db, &a.caller, id, q.year()?).await?,
    ))
}

/// One or more months, `YYYY-MM`.
fn months_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .pattern(Some(domain::schema::MONTH)),
        )
        .min_items(Some(1))
        .build()
}

/// Unpaid months (`YYYY-MM`) given a reason why the member did not pay; an empty reason clears it.
#[derive(Deserialize, ToSchema)]
pub struct ExcuseBody {
    /// `YYYY-MM`.
    #[schema(schema_with = months_schema)]
    months: Vec<String>,
    /// Why the member did not pay; empty to clear.
    #[schema(schema_with = domain::schema::text::<500>)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/members/{id}/dues/excuse", params(("id" = i64, Path, description = "the record's id")), request_body = ExcuseBody,
    responses((status = 200, body = Excused, description = "unpaid months given (or cleared of) a reason; they no longer count towards the six-month flag")))]
pub async fn excuse(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ExcuseBody>,
) -> ApiResult<Json<Excused>> {
    let changed = dues::payments::excuse(&s.store.db, &a.caller, id, &b.months, b.reason.as_deref()).await?;
    Ok(Json(Excused { changed }))
}

#[derive(serde::Serialize, ToSchema)]
pub struct Excused {
    /// How many months changed.
    changed: u64,
}

#[utoipa::path(post, path = "/api/v1/dues/payments", request_body = PaymentInput,
    responses((status = 201, body = Payment),
        (status = 422, description = "e.g. `amount_fen.amount_mismatch` (the message names the amount owed), `months.already_paid`, `reason.back_payment_needs_reason`")))]
pub async fn record_payment(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<PaymentInput>,
) -> ApiResult<Response> {
    let p = dues::payments::record_payment(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ReverseBody {
    #[schema(schema_with = domain::schema::required_text::<500>)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/dues/payments/{id}/reverse", params(("id" = i64, Path, description = "the record's id")), request_body = ReverseBody,
    responses((status = 201, body = Payment, description = "the reversing entry"), (status = 409, description = "already reversed, or itself a reversal")))]
pub async fn reverse_payment(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<ReverseBody>,
) -> ApiResult<Response> {
    let p = dues::payments::reverse_payment(&s.store.db, &a.caller, id, Some(&b.reason)).await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 2000, maximum = 2200)]
    year: Option<i32>,
    /// 1–12; without it, the whole year.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 1, maximum = 12)]
    month: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues", params(("id" = i64, Path, description = "the record's id"), ReportQuery), responses((status = 200, body = OrgDues)))]
pub async fn org_dues(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Json<OrgDues>> {
    let year = YearQuery { year: q.year }.year()?;
    Ok(Json(
        dues::reports::report(&s.store.db, &a.caller, id, year, q.month).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArrearsQuery {
    /// `YYYY-MM`: arrears as at the end of that month; by default the last complete month.
    #[serde(default)]
    #[param(schema_with = domain::schema::month)]
    as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues/arrears", params(("id" = i64, Path, description = "the record's id"), ArrearsQuery),
    responses((status = 200, body = Items<ArrearsItem>, description = "members with consecutive unpaid months, flags first, then the longest runs; above 20,000 members, for the last complete month, those three or more months behind")))]
pub async fn org_arrears(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ArrearsQuery>,
) -> ApiResult<Json<Items<ArrearsItem>>> {
    // Only an empty value is "none": anything else, a lone non-breaking space included, must be a month.
    let as_of = match q.as_of.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(
            Month::parse(m)
                .ok_or_else(|| Failure::from(store::Error::Invalid(domain::Invalid::one("as_of", "invalid"))))?,
        ),
        None => None,
    };
    let items = store::warnings::arrears(&s.store.db, &a.caller, id, as_of, BOOK_LIMIT as usize).await?;
    Ok(Json(Items::from(items)))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues/book", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, body = Items<BookLine>, description = "each active member's year (at most 10,000)")))]
pub async fn org_book(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Items<BookLine>>> {
    let items = dues::reports::book(&s.store.db, &a.caller, id, q.year()?, BOOK_LIMIT).await?;
    Ok(Json(Items::from(items)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentsQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 2000, maximum = 2200)]
    year: Option<i32>,
    /// Only payments with a voluntary part.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    voluntary: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues/payments", params(("id" = i64, Path, description = "the record's id"), PaymentsQuery),
    responses((status = 200, body = Items<Payment>, description = "newest first (at most 10,000)")))]
pub async fn org_payments(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<PaymentsQuery>,
) -> ApiResult<Json<Items<Payment>>> {
    let year = YearQuery { year: q.year }.year()?;
    let items = dues::reports::org_payments(
        &s.store.db,
        &a.caller,
        id,
        year,
        q.voluntary.unwrap_or(false),
        BOOK_LIMIT,
    )
    .await?;
    Ok(Json(Items::from(items)))
}

/// The organization's dues workbook for a year.
pub async fn workbook(s: &AppState, caller: &store::Caller, id: i64, year: i32) -> ApiResult<Vec<u8>> {
    let db = &s.store.db;
    let report = dues::reports::report(db, caller, id, year, None).await?;
    let book = dues::reports::book(db, caller, id, year, BOOK_LIMIT).await?;
    let arrears = dues::reports::arrears(db, caller, id, None, BOOK_LIMIT as usize).await?;
    let voluntary = dues::reports::org_payments(db, caller, id, year, true, BOOK_LIMIT).await?;
    store::audit::append_alone(
        db,
        caller,
        store::audit::Event::ok("dues.export", "org", id).with_detail(format!("{year} xlsx")),
    )
    .await?;
    sheets::dues::write_workbook(&report, &book, &arrears, &voluntary).map_err(|_| Failure::new("internal"))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues.xlsx", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, description = "XLSX: summary by month, each member's year, arrears, voluntary payments; audited")))]
pub async fn org_workbook(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    let year = q.year()?;
    let bytes = workbook(&s, &a.caller, id, year).await?;
    Ok(attachment(XLSX_TYPE, &format!("dues-{year}.xlsx"), bytes))
}

/// The yearly statement to members: `note` says how the dues were used and passed up.
#[derive(Deserialize, ToSchema)]
pub struct StatementBody {
    #[schema(minimum = 2000, maximum = 2200)]
    year: i32,
    /// How the dues were used and passed up.
    #[schema(schema_with = domain::schema::lines::<2000>)]
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/dues/statements", params(("id" = i64, Path, description = "the record's id")), request_body = StatementBody,
    responses((status = 201, body = Statement, description = "the yearly statement (收缴使用情况公示), figures kept as published")))]
pub async fn publish_statement(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(b): ApiJson<StatementBody>,
) -> ApiResult<Response> {
    let st = dues::statements::publish_statement(&s.store.db, &a.caller, id, b.year, b.note.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(st)).into_response())
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/dues/statements", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Items<Statement>, description = "for the organization's members and those who may read it")))]
pub async fn statements(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Items<Statement>>> {
    Ok(Json(Items::from(
        dues::statements::statements(&s.store.db, &a.caller, id).await?,
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BasesImportQuery {
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 2000, maximum = 2200)]
    year: Option<i32>,
    /// `preview` (default), `all` (only if every row is good) or `good_only`.
    #[serde(default)]
    #[param(schema_with = crate::api::files::import_mode_schema)]
    mode: Option<String>,
}

/// Checks a bases file and, unless previewing, writes it: the report the API and the page share.
pub async fn import_bases_file(
    s: &AppState,
    caller: &store::Caller,
    lang: Lang,
    year: i32,
    mode: &str,
    bytes: &[u8],
) -> ApiResult<ImportReport> {
    super::files::check_mode(mode)?;
    // Asked before the file is read: the gate decides and audits a refusal.
    caller
        .require_any(&s.store.db, store::Perm::ManageDues, "dues.bases.import", ("org", &""))
        .await?;
    let rows = sheets::dues::read_bases(bytes).map_err(file_failure)?;
    let plan = dues::bases_import::plan_bases(&s.store.db, &s.store.keys, caller, year, rows, s.dues_rounding).await?;
    let problems = import_problems(lang, &plan.problems);
    let refused = mode == "all" && !problems.is_empty();
    let imported = if mode == "preview" || refused {
        0
    } else {
        dues::bases_import::commit_bases(&s.store.db, caller, &plan.good).await?
    };
    Ok(ImportReport {
        rows: plan.rows,
        good: plan.good.len(),
        bad_lines: plan.bad_lines(),
        problems,
        imported,
    })
}

#[utoipa::path(post, path = "/api/v1/dues/bases/import", params(BasesImportQuery),
    request_body(content = String, description = "XLSX or CSV with 姓名, 公民身份号码, 党费类别, 缴费基数（元）, 起始月份 (and for reductions 支部决定日期, 上级批准日期, 批准文号)"),
    responses((status = 200, body = ImportReport), (status = 422, description = "the report (ImportReport) when mode=all and rows are bad, else the error format: mode=all and some rows are bad: nothing written")))]
pub async fn import_bases(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<BasesImportQuery>,
    req: Request,
) -> ApiResult<Response> {
    let lang = Lang::of_request(req.headers());
    let year = YearQuery { year: q.year }.year()?;
    let mode = q.mode.filter(|m| !m.is_empty()).unwrap_or_else(|| "preview".into());
    let bytes = upload_bytes(req).await?;
    let report = import_bases_file(&s, &a.caller, lang, year, &mode, &bytes).await?;
    let status = if mode == "all" && !report.problems.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}
