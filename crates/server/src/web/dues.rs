//! Party dues pages: an organization's year (months, arrears, each member's book, the bases file,
//! the workbook and the published statement) and a member's year (how the amount was computed,
//! each month, payments; for the branch, setting the base and recording payments).

use askama::Template;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use domain::dues::{yuan, DuesCategory};
use serde::Deserialize;
use store::dues::{
    self, bases::ProfileInput, member::MemberDues, payments::Payment, payments::PaymentInput, reports::ArrearsItem,
    reports::BookLine, reports::OrgDues, statements::Statement,
};
use store::orgs::{self, Org};
use store::Perm;

use super::{error_page, form_errors, form_urlencoded_pairs, render, see_other, Chrome};
use crate::api::dues::import_bases_file;
use crate::api::files::ImportReport;
use crate::auth::WebCaller;
use crate::sheets::dues::parse_yuan;
use crate::AppState;

#[derive(Template)]
#[template(path = "dues_sheet.html")]
struct SheetPage {
    c: Chrome,
    org: Org,
    month: String,
    today: NaiveDate,
    lines: Vec<dues::sheet::SheetLine>,
    methods: [&'static str; 3],
    notice: Option<String>,
    errors: Vec<(String, String)>,
}

impl SheetPage {
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }
}

#[derive(Deserialize)]
struct SheetQuery {
    month: Option<String>,
    /// How many payments the last submit recorded.
    recorded: Option<usize>,
}

fn sheet_month(month: Option<&str>) -> domain::dues::Month {
    month
        .and_then(domain::dues::Month::parse)
        .unwrap_or_else(|| domain::dues::Month::of(store::clock::today()))
}

async fn draw_sheet(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    month: domain::dues::Month,
    notice: Option<String>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/dues/sheet"), "dues.sheet");
    let org = crate::or_error_page!(c, orgs::get(&s.store.db, &w.caller, id).await);
    let today = store::clock::today();
    let lines = crate::or_error_page!(c, dues::sheet::sheet(&s.store.db, &w.caller, id, month, today).await);
    render(&SheetPage {
        c,
        org,
        month: month.to_string(),
        today,
        lines,
        methods: dues::payers::METHODS,
        notice,
        errors,
    })
}

async fn sheet_page(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<SheetQuery>,
) -> Response {
    let notice = q.recorded.map(|n| {
        format!(
            "{} {n} {}",
            crate::i18n::t(w.prefs.lang, "dues.sheet_saved"),
            crate::i18n::t(w.prefs.lang, "dues.sheet_saved_people")
        )
    });
    draw_sheet(&s, &w, id, sheet_month(q.month.as_deref()), notice, Vec::new()).await
}

/// The sheet posts `paid` for each member ticked, `method` for the sheet and `method_<member>`
/// where one paid otherwise, `paid_on` and `month`.
async fn record_sheet(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let month = sheet_month(value("month").as_deref());
    let method = value("method").unwrap_or_default();
    let payments: Vec<dues::sheet::SheetPayment> = pairs
        .iter()
        .filter(|(k, _)| k == "paid")
        .filter_map(|(_, v)| v.parse::<i64>().ok())
        .map(|member_id| dues::sheet::SheetPayment {
            member_id,
            method: value(&format!("method_{member_id}"))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| method.clone()),
        })
        .collect();
    let paid_on = value("paid_on").and_then(|d| domain::member::parse_date(&d));
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/dues/sheet"), "dues.sheet");
    let Some(paid_on) = paid_on else {
        let errors = vec![("paid_on".into(), c.field_error("paid_on", "required"))];
        return draw_sheet(&s, &w, id, month, None, errors).await;
    };
    match dues::sheet::record(&s.store.db, &w.caller, id, month, paid_on, &payments).await {
        Ok(n) => see_other(&format!("/orgs/{id}/dues/sheet?month={month}&recorded={n}")),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_sheet(&s, &w, id, month, None, errors).await,
            None => error_page(c, e.into()),
        },
    }
}

/// A branch page lists each member's year; larger subtrees show totals and link to the workbook.
const PAGE_BOOK_LIMIT: i64 = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dues", get(start))
        .route("/orgs/{id}/dues", get(org_page))
        .route("/orgs/{id}/dues/sheet", get(sheet_page).post(record_sheet))
        .route("/orgs/{id}/dues/bases", post(import_bases))
        .route("/orgs/{id}/dues/statements", post(publish))
        .route("/dues/statements/{org_id}/{id}", get(statement_page))
        .route("/members/{id}/dues", get(member_page))
        .route("/members/{id}/dues/profile", post(set_profile))
        .route("/members/{id}/dues/payments", post(record_payment))
        .route("/members/{id}/dues/excuse", post(excuse))
        .route("/dues/payments/{id}/reverse", post(reverse))
        .route("/dues/bases-template.csv", get(bases_template))
}

async fn bases_template() -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"dues-bases.csv\""),
        ],
        crate::sheets::dues::bases_template(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<i32>,
    /// What was just done, for the confirmation line.
    done: Option<String>,
    /// The book's search (a flattened struct would read `year` as text).
    #[serde(default)]
    q: String,
    #[serde(default)]
    show: String,
}

/// The branch book's search: part of a name, and who to show (`owing`: behind this year;
/// `no_base`: without a base for the year).
#[derive(Default)]
struct BookFilter {
    q: String,
    show: String,
}

impl BookFilter {
    /// Whether a line is shown; `closed` is how many months of the year are over (behind means
    /// owing for one of those: the month under way is not late).
    fn keeps(&self, line: &BookLine, closed: usize) -> bool {
        let q = self.q.trim();
        (q.is_empty() || line.name.contains(q))
            && match self.show.as_str() {
                "owing" => line
                    .months
                    .iter()
                    .take(closed)
                    .any(|m| m.is_some_and(|(due, paid)| paid < due)),
                "no_base" => line.category.is_none(),
                _ => true,
            }
    }
}

fn year_of(year: Option<i32>) -> i32 {
    year.filter(|y| (2000..=2200).contains(y))
        .unwrap_or_else(|| store::clock::today().year())
}

/// Where dues start: the first organization the user looks after, else their own year.
async fn start(State(s): State<AppState>, w: WebCaller) -> Response {
    for g in w.caller.grants.iter() {
        if let Some(org_id) = g.org_id.filter(|_| w.caller.can_at(Perm::ReadMembers, &g.path)) {
            return see_other(&format!("/orgs/{org_id}/dues"));
        }
    }
    if w.caller.can(Perm::ReadMembers) {
        // A whole-tree grant: the top organizations.
        let c = Chrome::for_caller(&w, "/dues", "dues.title");
        // A whole-tree grant: the first organization in path order is a top one.
        let (first, _) = crate::or_error_page!(c, orgs::page(&s.store.db, &w.caller, None, 1, 0).await);
        if let Some(top) = first.first() {
            return see_other(&format!("/orgs/{}/dues", top.id));
        }
    }
    match w.caller.member_id {
        Some(id) => see_other(&format!("/members/{id}/dues")),
        None => error_page(
            Chrome::for_caller(&w, "/dues", "dues.title"),
            store::Error::Forbidden.into(),
        ),
    }
}

/// Fen as yuan for the pages: `7800` → `78.00`.
pub fn money(fen: &i64) -> String {
    yuan(*fen)
}

#[derive(Template)]
#[template(path = "dues_org.html")]
struct OrgPage {
    c: Chrome,
    org: Org,
    year: i32,
    report: OrgDues,
    arrears: Vec<ArrearsItem>,
    voluntary: Vec<Payment>,
    book: Vec<BookLine>,
    book_complete: bool,
    /// The book's search, and how many lines it holds before the search.
    filter: BookFilter,
    book_all: usize,
    children: Vec<Org>,
    statements: Vec<Statement>,
    can_manage: bool,
    import: Option<ImportReport>,
    errors: Vec<(String, String)>,
}

impl OrgPage {
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }

    fn category(&self, code: &str) -> String {
        self.c.tc("dues_category.", code)
    }

    /// A province's list holds those three or more months behind (`warnings::arrears`).
    fn arrears_from_warnings(&self) -> bool {
        self.org.subtree_members > store::warnings::ARREARS_FROM_LEDGER_LIMIT
    }
}

async fn org_page(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let filter = BookFilter { q: q.q, show: q.show };
    draw_org(&s, &w, id, year_of(q.year), filter, None, Vec::new()).await
}

async fn draw_org(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    year: i32,
    filter: BookFilter,
    import: Option<ImportReport>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/dues"), "dues.title");
    let db = &s.store.db;
    let report = match dues::reports::report(db, &w.caller, id, year, None).await {
        Ok(r) => r,
        Err(e) => return error_page(c, e.into()),
    };
    let org = match orgs::get(db, &w.caller, id).await {
        Ok(o) => o,
        Err(e) => return error_page(c, e.into()),
    };
    let arrears = crate::or_error_page!(c, store::warnings::arrears(db, &w.caller, id, None, 200).await);
    let voluntary = crate::or_error_page!(c, dues::reports::org_payments(db, &w.caller, id, year, true, 50).await);
    let book = crate::or_error_page!(
        c,
        dues::reports::book(db, &w.caller, id, year, PAGE_BOOK_LIMIT + 1).await
    );
    let book_complete = book.len() as i64 <= PAGE_BOOK_LIMIT;
    let book = if book_complete { book } else { Vec::new() };
    let book_all = book.len();
    let today = store::clock::today();
    let closed = match year.cmp(&today.year()) {
        std::cmp::Ordering::Less => 12,
        std::cmp::Ordering::Equal => today.month0() as usize,
        std::cmp::Ordering::Greater => 0,
    };
    let book = book.into_iter().filter(|l| filter.keeps(l, closed)).collect();
    let children = crate::or_error_page!(c, orgs::list(db, &w.caller, Some(id)).await)
        .into_iter()
        .filter(|o| o.dissolved_on.is_none() && o.kind != "party_group")
        .collect();
    let statements = crate::or_error_page!(c, dues::statements::statements(db, &w.caller, id).await);
    let can_manage = dues::payers::may_manage(&w.caller, &org);
    render(&OrgPage {
        c,
        org,
        year,
        report,
        arrears,
        voluntary,
        book,
        book_complete,
        filter,
        book_all,
        children,
        statements,
        can_manage,
        import,
        errors,
    })
}

async fn import_bases(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, req: Request) -> Response {
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/dues"), "dues.title");
    let form = match axum::extract::Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => return error_page(c, crate::error::Failure::bad_request("multipart")),
    };
    let parts = crate::or_error_page!(c, super::read_parts(form).await);
    let part = |name: &str| parts.iter().find(|p| p.name == name);
    let bytes = part("file").map(|p| p.bytes.to_vec()).unwrap_or_default();
    let year = part("year").and_then(|p| p.text().parse().ok());
    let mode = part("mode").map_or_else(|| "preview".to_string(), |p| p.text());
    let year = year_of(year);
    match import_bases_file(&s, &w.caller, c.lang, year, &mode, &bytes).await {
        Ok(report) => draw_org(&s, &w, id, year, BookFilter::default(), Some(report), Vec::new()).await,
        Err(f) if f.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let message = f.message(c.lang);
            draw_org(
                &s,
                &w,
                id,
                year,
                BookFilter::default(),
                None,
                vec![("file".into(), message)],
            )
            .await
        }
        Err(f) => error_page(c, f),
    }
}

#[derive(Deserialize)]
struct StatementForm {
    year: Option<i32>,
    note: Option<String>,
}

async fn publish(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: StatementForm = serde_urlencoded::from_str(&body).unwrap_or(StatementForm { year: None, note: None });
    let year = year_of(f.year);
    match dues::statements::publish_statement(&s.store.db, &w.caller, id, year, f.note.as_deref()).await {
        Ok(st) => see_other(&format!("/dues/statements/{id}/{}?saved=1", st.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/dues"), "dues.title");
            match form_errors(&c, &e) {
                Some(errors) => draw_org(&s, &w, id, year, BookFilter::default(), None, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "dues_statement.html")]
struct StatementPage {
    c: Chrome,
    st: Statement,
}

impl StatementPage {
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }
}

async fn statement_page(State(s): State<AppState>, w: WebCaller, Path((org_id, id)): Path<(i64, i64)>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/dues/statements/{org_id}/{id}"), "dues.statement");
    match dues::statements::statements(&s.store.db, &w.caller, org_id).await {
        Ok(list) => match list.into_iter().find(|st| st.id == id) {
            Some(st) => render(&StatementPage { c, st }),
            None => error_page(c, store::Error::NotFound.into()),
        },
        Err(e) => error_page(c, e.into()),
    }
}

/// What the member forms held when they come back with errors.
#[derive(Default, Clone)]
struct Drafts {
    category: String,
    base: String,
    effective_month: String,
    decided_on: String,
    approved_on: String,
    approval_ref: String,
    months: Vec<String>,
    extra: String,
    method: String,
    paid_on: String,
    payer: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "dues_member.html")]
struct MemberPage {
    c: Chrome,
    d: MemberDues,
    org_id: i64,
    statements: Vec<Statement>,
    categories: Vec<&'static str>,
    methods: [&'static str; 3],
    /// Months a payment can be recorded for: owed and unpaid, or the rest of the year ahead.
    payable: Vec<(String, i64)>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    f: Drafts,
    today: NaiveDate,
}

impl MemberPage {
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }

    fn category(&self, code: &str) -> String {
        self.c.tc("dues_category.", code)
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

async fn member_page(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let key = format!("dues.done.{}", q.done.unwrap_or_default());
    let notice = crate::i18n::has(w.prefs.lang, &key).then(|| crate::i18n::t(w.prefs.lang, &key));
    draw_member(&s, &w, id, year_of(q.year), Vec::new(), notice, Drafts::default()).await
}

async fn draw_member(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    year: i32,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    f: Drafts,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/members/{id}/dues"), "dues.member_title");
    let d = match dues::member::member_dues(&s.store.db, &w.caller, id, year).await {
        Ok(d) => d,
        Err(e) => return error_page(c, e.into()),
    };
    let org_id = match store::members::get(&s.store.db, &w.caller, id).await {
        Ok(m) => m.org_id,
        Err(e) => return error_page(c, e.into()),
    };
    let statements = crate::or_error_page!(c, dues::statements::statements(&s.store.db, &w.caller, org_id).await);
    let payable = crate::or_error_page!(c, payable_months(s, w, &d).await);
    let f = Drafts {
        paid_on: if f.paid_on.is_empty() {
            store::clock::today().to_string()
        } else {
            f.paid_on
        },
        ..f
    };
    render(&MemberPage {
        c,
        d,
        org_id,
        statements,
        categories: DuesCategory::ALL.iter().map(|c| c.as_str()).collect(),
        methods: dues::payers::METHODS,
        payable,
        errors,
        notice,
        f,
        today: store::clock::today(),
    })
}

/// The months with something still owed, from earlier years too, and this year's months ahead.
async fn payable_months(s: &AppState, w: &WebCaller, d: &MemberDues) -> store::Result<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = dues::member::unpaid_months(&s.store.db, &w.caller, d.member_id)
        .await?
        .into_iter()
        .map(|(m, owed)| (m.to_string(), owed))
        .collect();
    for l in d.months.iter().filter(|l| l.status == "upcoming") {
        out.push((l.month.to_string(), l.due_fen));
    }
    Ok(out)
}

fn drafts(pairs: &[(String, String)]) -> Drafts {
    let get = |k: &str| super::posted(pairs, k);
    Drafts {
        category: get("category"),
        base: get("base"),
        effective_month: get("effective_month"),
        decided_on: get("decided_on"),
        approved_on: get("approved_on"),
        approval_ref: get("approval_ref"),
        months: pairs
            .iter()
            .filter(|(k, _)| k == "months")
            .map(|(_, v)| v.clone())
            .collect(),
        extra: get("extra"),
        method: get("method"),
        paid_on: get("paid_on"),
        payer: get("payer"),
        reason: get("reason"),
    }
}

fn year_field(pairs: &[(String, String)]) -> i32 {
    year_of(
        pairs
            .iter()
            .find(|(k, _)| k == "year")
            .and_then(|(_, v)| v.parse().ok()),
    )
}

/// A yuan amount typed in a form: blank is `None`, anything unreadable a negative sentinel that
/// validation reports as invalid.
fn yuan_field(s: &str) -> Option<i64> {
    (!s.is_empty()).then(|| parse_yuan(s).unwrap_or(-1))
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

async fn set_profile(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let f = drafts(&pairs);
    let year = year_field(&pairs);
    let input = ProfileInput {
        year: Some(year),
        category: none_if_empty(&f.category),
        base_fen: yuan_field(&f.base),
        effective_month: f.effective_month.parse().ok(),
        decided_on: NaiveDate::parse_from_str(&f.decided_on, "%Y-%m-%d").ok(),
        approved_on: NaiveDate::parse_from_str(&f.approved_on, "%Y-%m-%d").ok(),
        approval_ref: none_if_empty(&f.approval_ref),
    };
    let result = dues::bases::set_profile(&s.store.db, &w.caller, id, &input, s.dues_rounding).await;
    after(&s, &w, id, year, result.map(|_| "base_saved"), f).await
}

async fn record_payment(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let f = drafts(&pairs);
    let year = year_field(&pairs);
    // The page asks only for the voluntary extra: the dues part is what the chosen months owe.
    let payable = match dues::member::member_dues(&s.store.db, &w.caller, id, year).await {
        Ok(d) => payable_months(&s, &w, &d).await,
        Err(e) => Err(e),
    };
    let owed: i64 = match payable {
        Ok(months) => months
            .iter()
            .filter(|(m, _)| f.months.contains(m))
            .map(|(_, fen)| *fen)
            .sum(),
        Err(e) => return after(&s, &w, id, year, Err(e), f).await,
    };
    let extra = yuan_field(&f.extra).unwrap_or(0);
    if extra < 0 {
        let e = store::Error::Invalid(domain::Invalid::one("extra", "invalid"));
        return after(&s, &w, id, year, Err(e), f).await;
    }
    let input = PaymentInput {
        member_id: Some(id),
        months: f.months.clone(),
        amount_fen: Some(owed + extra),
        method: none_if_empty(&f.method),
        paid_on: NaiveDate::parse_from_str(&f.paid_on, "%Y-%m-%d").ok(),
        payer: none_if_empty(&f.payer),
        voluntary: extra > 0,
        reason: none_if_empty(&f.reason),
        note: None,
    };
    let result = dues::payments::record_payment(&s.store.db, &w.caller, &input).await;
    after(&s, &w, id, year, result.map(|_| "payment_recorded"), f).await
}

async fn excuse(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let f = drafts(&pairs);
    let year = year_field(&pairs);
    let result = dues::payments::excuse(&s.store.db, &w.caller, id, &f.months, Some(&f.reason)).await;
    after(&s, &w, id, year, result.map(|_| "reason_saved"), f).await
}

#[derive(Deserialize)]
struct ReverseForm {
    member_id: i64,
    year: Option<i32>,
    reason: Option<String>,
}

async fn reverse(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let Ok(f) = serde_urlencoded::from_str::<ReverseForm>(&body) else {
        return error_page(
            Chrome::for_caller(&w, "/dues", "dues.title"),
            crate::error::Failure::bad_request("form"),
        );
    };
    let result = dues::payments::reverse_payment(&s.store.db, &w.caller, id, f.reason.as_deref()).await;
    after(
        &s,
        &w,
        f.member_id,
        year_of(f.year),
        result.map(|_| "payment_reversed"),
        Drafts::default(),
    )
    .await
}

/// After a change: back to the member's page with a confirmation (redirect, so that reloading does
/// not post again), or the page redrawn with the form's errors, or an error page.
async fn after(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    year: i32,
    result: store::Result<&'static str>,
    f: Drafts,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/members/{id}/dues"), "dues.member_title");
    match result {
        Ok(done) => see_other(&format!("/members/{id}/dues?year={year}&done={done}")),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_member(s, w, id, year, errors, None, f).await,
            None => error_page(c, e.into()),
        },
    }
}
