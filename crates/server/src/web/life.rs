//! Organizational life pages: an organization's meetings and compliance, planning a meeting,
//! recording attendance, the subtree's overdue list, and a member's own meetings with check-in.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Datelike;
use domain::life::ComplianceStatus;
use serde::Deserialize;
use store::life::{
    self, attendance::AttendanceMark, attendance::AttendanceSheet, compliance::ComplianceItem, meetings::MeetingFilter,
    meetings::MeetingInput, meetings::MeetingView,
};
use store::orgs::{self, Org};
use store::pick::Purpose;
use store::Perm;

use super::pick::{chosen_org, OrgField, Picker, Search};
use super::{error_page, form_errors, form_urlencoded_pairs, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/life", get(start))
        .route("/orgs/{id}/meetings", get(org_meetings))
        .route("/orgs/{id}/compliance", get(subtree_compliance))
        .route("/orgs/{id}/life-settings", post(save_settings))
        .route("/meetings/new", get(new_form))
        .route("/meetings", post(create))
        .route("/meetings/{id}", get(detail).post(update))
        .route("/meetings/{id}/attendance", post(record))
        .route("/meetings/{id}/check-in", post(check_in))
        .route("/meetings/{id}/attachments", post(attach))
        .route("/activities/new", get(activity_form))
        .route("/activities", post(create_activity))
        .route("/activities/{id}", get(activity_detail))
        .route("/activities/{id}/signup", post(activity_sign_up))
        .route("/activities/{id}/attendance", post(activity_attendance))
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<i32>,
    /// `YYYY-MM` shows that month as a calendar.
    month: Option<String>,
    /// The page of the year's list.
    page: Option<i64>,
}

/// Meetings on one page of an organization's list.
const MEETINGS_PER_PAGE: i64 = 100;

/// A month as weeks of days (Monday first), each day with its meetings; `None` pads the weeks.
type Calendar = Vec<Vec<Option<(u32, Vec<MeetingView>)>>>;

fn calendar(year: i32, month: u32, meetings: &[MeetingView]) -> Option<Calendar> {
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1)?;
    let days = (first + chrono::Months::new(1) - first).num_days() as u32;
    let mut cells: Vec<Option<(u32, Vec<MeetingView>)>> = vec![None; first.weekday().num_days_from_monday() as usize];
    for d in 1..=days {
        let date = first.with_day(d)?;
        cells.push(Some((
            d,
            meetings
                .iter()
                .filter(|m| m.meeting.local_date == date)
                .cloned()
                .collect(),
        )));
    }
    while cells.len() % 7 != 0 {
        cells.push(None);
    }
    Some(cells.chunks(7).map(|w| w.to_vec()).collect())
}

fn year_of(q: &YearQuery) -> i32 {
    q.year
        .filter(|y| domain::time::YEARS.contains(y))
        .unwrap_or_else(|| store::clock::today().year())
}

#[derive(Template)]
#[template(path = "life.html")]
struct StartPage {
    c: Chrome,
    orgs: Vec<Org>,
    mine: Vec<MeetingView>,
    activities: Vec<store::activities::Activity>,
    can_publish: bool,
}

/// Where organizational life starts: the organizations the user looks after, and their own meetings.
async fn start(State(s): State<AppState>, w: WebCaller) -> Response {
    let c = Chrome::for_caller(&w, "/life", "life.title");
    let mut orgs = Vec::new();
    for org_id in w.caller.grants.iter().filter_map(|g| g.org_id) {
        if let Some(o) = crate::or_error_page!(c, orgs::find(&s.store.db, &w.caller, org_id).await) {
            orgs.push(o);
        }
    }
    let mine = if w.caller.member_id.is_some() {
        let f = MeetingFilter {
            from: Some((store::clock::today() - chrono::Duration::days(60)).to_string()),
            limit: Some(30),
            ..Default::default()
        };
        crate::or_error_page!(c, life::meetings::list(&s.store.db, &w.caller, &f).await)
    } else {
        Vec::new()
    };
    let activities = crate::or_error_page!(c, store::activities::list(&s.store.db, &w.caller, None).await);
    let can_publish = w.caller.can(Perm::ManageMeetings);
    render(&StartPage {
        c,
        orgs,
        mine,
        activities,
        can_publish,
    })
}

/// One row of the compliance grid: a kind and its periods' statuses.
struct GridRow {
    kind: String,
    cells: Vec<ComplianceItem>,
}

#[derive(Template)]
#[template(path = "meetings.html")]
struct OrgMeetingsPage {
    c: Chrome,
    org: Org,
    year: i32,
    meetings: Vec<MeetingView>,
    /// All the year's meetings in the subtree, and the page of them shown.
    total: i64,
    page: i64,
    pages: i64,
    grid: Vec<GridRow>,
    can_manage: bool,
    /// The month shown as a calendar, with the months before and after.
    month: Option<(String, Calendar, String, String)>,
    /// The month the calendar link opens: this month in the current year, else January.
    calendar_link: String,
    checkin_enabled: bool,
    /// Each kind with its frequency (the regulations' default or this organization's setting).
    frequencies: Vec<(&'static str, String, bool)>,
}

async fn org_meetings(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/meetings"), "life.meetings");
    let year = q
        .month
        .as_deref()
        .and_then(|m| m.get(..4)?.parse().ok())
        .unwrap_or_else(|| year_of(&q));
    let org = match orgs::get(&s.store.db, &w.caller, id).await {
        Ok(o) => o,
        Err(e) => return error_page(c, e.into()),
    };
    // The year's list goes page by page with its total; a month's calendar shows all of its days.
    let month_days = q.month.as_deref().and_then(|m| {
        let first = chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok()?;
        Some((first, first + chrono::Months::new(1) - chrono::Days::new(1)))
    });
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let mut f = MeetingFilter {
        org_id: Some(id),
        from: Some(format!("{year}-01-01")),
        to: Some(format!("{year}-12-31")),
        limit: Some(MEETINGS_PER_PAGE),
        offset: Some((page - 1) * MEETINGS_PER_PAGE),
        ..Default::default()
    };
    if let Some((from, to)) = month_days {
        f = MeetingFilter {
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            limit: Some(2000),
            offset: None,
            ..f
        };
    }
    let total = crate::or_error_page!(c, life::meetings::count(&s.store.db, &w.caller, &f).await);
    let list = crate::or_error_page!(c, life::meetings::list(&s.store.db, &w.caller, &f).await);
    // The grid covers this organization only; the subtree's view is the overdue list.
    let items: Vec<ComplianceItem> = crate::or_error_page!(
        c,
        life::compliance::compliance(&s.store.db, &w.caller, id, year, None).await
    )
    .into_iter()
    .filter(|i| i.org_id == id)
    .collect();
    let mut grid: Vec<GridRow> = Vec::new();
    for i in items {
        match grid.iter_mut().find(|r| r.kind == i.kind) {
            Some(r) => r.cells.push(i),
            None => grid.push(GridRow {
                kind: i.kind.clone(),
                cells: vec![i],
            }),
        }
    }
    let can_manage = life::meetings::may_plan(&w.caller, &org);
    let month = q.month.as_deref().and_then(|m| {
        let first = chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok()?;
        let cal = calendar(first.year(), first.month(), &list)?;
        let label = |d: chrono::NaiveDate| format!("{}-{:02}", d.year(), d.month());
        Some((
            label(first),
            cal,
            label(first - chrono::Months::new(1)),
            label(first + chrono::Months::new(1)),
        ))
    });
    let today = store::clock::today();
    let calendar_link = if year == today.year() {
        format!("{}-{:02}", year, today.month())
    } else {
        format!("{year}-01")
    };
    let settings = crate::or_error_page!(c, life::settings::settings(&s.store.db, &w.caller, id).await);
    let frequencies = domain::life::MeetingKind::ALL
        .iter()
        .filter_map(|k| {
            let default = domain::life::default_frequency(*k)?;
            let own = settings.frequencies.get(k.as_str());
            Some((
                k.as_str(),
                own.cloned().unwrap_or_else(|| default.as_str().to_string()),
                own.is_some(),
            ))
        })
        .collect();
    let checkin_enabled = settings.checkin_enabled.unwrap_or(false);
    render(&OrgMeetingsPage {
        c,
        org,
        year,
        meetings: list,
        total,
        page,
        pages: ((total + f.limit.unwrap_or(MEETINGS_PER_PAGE) - 1) / f.limit.unwrap_or(MEETINGS_PER_PAGE)).max(1),
        grid,
        can_manage,
        month,
        calendar_link,
        checkin_enabled,
        frequencies,
    })
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    c: Chrome,
    org: Org,
    year: i32,
    /// Each list's first items (a province's would be hundreds of thousands) and how many in all.
    overdue: Vec<ComplianceItem>,
    overdue_total: usize,
    due_soon: Vec<ComplianceItem>,
    due_soon_total: usize,
    flags: Vec<life::absence::AbsenceFlag>,
    terms: Vec<life::terms::TermItem>,
    terms_total: usize,
}

async fn subtree_compliance(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let c = Chrome::for_caller(&w, &format!("/orgs/{id}/compliance"), "life.compliance");
    let year = year_of(&q);
    let org = match orgs::get(&s.store.db, &w.caller, id).await {
        Ok(o) => o,
        Err(e) => return error_page(c, e.into()),
    };
    let listed = |status| store::warnings::meetings(&s.store.db, &w.caller, id, year, status, 500);
    let (overdue, overdue_total) = crate::or_error_page!(c, listed(ComplianceStatus::Overdue).await);
    let (due_soon, due_soon_total) = crate::or_error_page!(c, listed(ComplianceStatus::DueSoon).await);
    let flags = crate::or_error_page!(c, life::absence::absence_flags(&s.store.db, &w.caller, id).await);
    let (terms, terms_total) = crate::or_error_page!(c, life::terms::due(&s.store.db, &w.caller, id, 200).await);
    render(&CompliancePage {
        c,
        org,
        year,
        overdue,
        overdue_total,
        due_soon,
        due_soon_total,
        flags,
        terms,
        terms_total,
    })
}

#[derive(Template)]
#[template(path = "meeting_form.html")]
struct FormPage {
    c: Chrome,
    /// The branch or party group whose meeting it is.
    org: Picker,
    v: MeetingValues,
    errors: Vec<(String, String)>,
    kinds: Vec<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MeetingValues {
    org_id: String,
    kinds: Vec<String>,
    title: String,
    starts_at: String,
    ends_at: String,
    location: String,
    online_link: String,
    study_hours: String,
    topic: String,
    agenda: String,
    status: String,
    /// What was typed into the organization's search.
    org_id_q: String,
    /// Set when that search was pressed: the form is drawn again, nothing saved.
    pick: String,
}

async fn form_page(s: &AppState, w: &WebCaller, v: MeetingValues, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/meetings/new", "life.new");
    let field = OrgField {
        field: "org_id",
        label: c.t("field.org_id"),
        purpose: Purpose::Meetings,
        search: Search::Post,
        blank: None,
    };
    let org = crate::or_error_page!(c, field.picker(s, w, &v.org_id, &v.org_id_q).await);
    if org.listed && org.rows.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    let kinds = domain::life::MeetingKind::ALL.iter().map(|k| k.as_str()).collect();
    render(&FormPage {
        c,
        org,
        v,
        errors,
        kinds,
    })
}

#[derive(Deserialize)]
struct NewQuery {
    org_id: Option<String>,
    /// A kind to start ticked (a link from what is due); otherwise none is: a meeting counts
    /// only as what the secretary chooses (a 支部党员大会 is not also a 主题党日 by default).
    kind: Option<String>,
}

async fn new_form(State(s): State<AppState>, w: WebCaller, Query(q): Query<NewQuery>) -> Response {
    let today = store::clock::today();
    let v = MeetingValues {
        org_id: q.org_id.unwrap_or_default(),
        kinds: q
            .kind
            .as_deref()
            .and_then(domain::life::MeetingKind::parse)
            .map(|k| vec![k.as_str().to_string()])
            .unwrap_or_default(),
        starts_at: format!("{today}T14:30"),
        ends_at: format!("{today}T16:30"),
        status: "planned".into(),
        ..Default::default()
    };
    form_page(&s, &w, v, Vec::new()).await
}

/// Reads the form with repeated `kinds` fields (several checkboxes), which serde_urlencoded cannot.
fn meeting_values(body: &str) -> MeetingValues {
    let mut v = MeetingValues::default();
    for (k, val) in form_urlencoded_pairs(body) {
        match k.as_str() {
            "org_id" => v.org_id = val,
            "kinds" => v.kinds.push(val),
            "title" => v.title = val,
            "starts_at" => v.starts_at = val,
            "ends_at" => v.ends_at = val,
            "location" => v.location = val,
            "online_link" => v.online_link = val,
            "study_hours" => v.study_hours = val,
            "topic" => v.topic = val,
            "agenda" => v.agenda = val,
            "status" => v.status = val,
            "org_id_q" => v.org_id_q = val,
            "pick" => v.pick = val,
            _ => {}
        }
    }
    v
}

async fn create(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let v = meeting_values(&body);
    if !v.pick.is_empty() {
        return form_page(&s, &w, v, Vec::new()).await;
    }
    let c = Chrome::for_caller(&w, "/meetings/new", "life.new");
    let org_id = match chosen_org(&s, &w, Purpose::Meetings, "org_id", &v.org_id, &v.org_id_q).await {
        Ok(id) => id,
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => return form_page(&s, &w, v, errors).await,
            None => return error_page(c, e.into()),
        },
    };
    let input = MeetingInput {
        org_id,
        kinds: Some(v.kinds.clone()),
        title: Some(v.title.clone()),
        starts_at: Some(v.starts_at.clone()),
        ends_at: Some(v.ends_at.clone()),
        location: Some(v.location.clone()).filter(|s| !s.trim().is_empty()),
        online_link: Some(v.online_link.clone()).filter(|s| !s.trim().is_empty()),
        study_hours: Some(v.study_hours.clone()),
        topic: Some(v.topic.clone()).filter(|s| !s.trim().is_empty()),
        agenda: Some(v.agenda.clone()).filter(|s| !s.trim().is_empty()),
        status: Some(v.status.clone()),
        ..Default::default()
    };
    match life::meetings::create(&s.store.db, &w.caller, &input).await {
        Ok(m) => see_other(&format!("/meetings/{}?saved=1", m.meeting.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/meetings/new", "life.new");
            match form_errors(&c, &e) {
                Some(errors) => form_page(&s, &w, v, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct DetailPage {
    c: Chrome,
    m: MeetingView,
    sheet: AttendanceSheet,
    can_manage: bool,
    qr_svg: Option<String>,
    /// A code that arrived in the address (from the QR code), to fill the check-in form.
    code: String,
    attachments: Vec<life::attachments::Attachment>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    /// The meeting has begun: those not yet marked start as present, and only the exceptions
    /// are marked (absent with a reason, on leave).
    default_present: bool,
    /// Members may check in now (the form is offered only then).
    checkin_open: bool,
    /// The caller may open the organization's list of meetings (else the crumbs lead to 组织生活).
    lists_meetings: bool,
}

async fn detail_page(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Response {
    detail_page_with(s, w, id, errors, notice, None, String::new()).await
}

/// The meeting page; `base` is this server's address as the browser reached it, for the QR code
/// (scanned with a phone's camera it opens the page with the code filled in).
async fn detail_page_with(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    base: Option<String>,
    code: String,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/meetings/{id}"), "life.meeting");
    let m = match life::meetings::get(&s.store.db, &w.caller, id).await {
        Ok(m) => m,
        Err(e) => return error_page(c, e.into()),
    };
    let sheet = match life::attendance::attendance(&s.store.db, &w.caller, id).await {
        Ok(a) => a,
        Err(e) => return error_page(c, e.into()),
    };
    let can_manage = life::meetings::may_record(&w.caller, &m);
    let qr_svg = sheet
        .checkin_code
        .as_deref()
        .map(|c| crate::qr::svg(&format!("{}/meetings/{id}?code={c}", base.as_deref().unwrap_or(""))));
    let attachments = crate::or_error_page!(c, life::attachments::attachments(&s.store.db, &w.caller, id).await);
    let default_present = store::db::parse_instant(&m.meeting.starts_at).is_some_and(|t| t <= store::clock::now());
    let checkin_open = crate::or_error_page!(c, life::checkin::is_open(&s.store.db, id).await);
    render(&DetailPage {
        default_present,
        checkin_open,
        lists_meetings: w.caller.can_at(Perm::ReadMembers, &m.meeting.org_path),
        c,
        m,
        sheet,
        can_manage,
        qr_svg,
        code,
        attachments,
        errors,
        notice,
    })
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
    /// `attendance` after the roll call was saved.
    saved: Option<String>,
}

async fn detail(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<CodeQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b)));
    let base = host.map(|h| format!("{}://{h}", if s.secure_cookies { "https" } else { "http" }));
    let code: String = q
        .code
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let notice = match q.saved.as_deref() {
        Some("attendance") => Some(crate::i18n::t(w.prefs.lang, "life.attendance_saved")),
        Some("meeting") => Some(crate::i18n::t(w.prefs.lang, "common.saved")),
        // `saved=1` is said by the page's chrome.
        _ => None,
    };
    detail_page_with(&s, &w, id, Vec::new(), notice, base, code).await
}

#[derive(Deserialize)]
struct UpdateForm {
    status: Option<String>,
    minutes: Option<String>,
    resolutions: Option<String>,
    study_hours: Option<String>,
}

async fn update(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(f): Form<UpdateForm>) -> Response {
    let patch = MeetingInput {
        status: f.status,
        minutes: f.minutes,
        resolutions: f.resolutions,
        study_hours: f.study_hours,
        ..Default::default()
    };
    match life::meetings::update(&s.store.db, &w.caller, id, &patch).await {
        Ok(_) => see_other(&format!("/meetings/{id}?saved=meeting")),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/meetings", "life.meeting");
            match form_errors(&c, &e) {
                Some(errors) => detail_page(&s, &w, id, errors, None).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

/// The roll call posts `status_<member>` (present, absent, leave) for every line marked and
/// `reason_<member>`, kept for the absent and those on leave.
async fn record(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let reason_of = |member: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.strip_prefix("reason_") == Some(member))
            .map(|(_, v)| v.clone())
    };
    let marks: Vec<AttendanceMark> = pairs
        .iter()
        .filter_map(|(k, v)| {
            let member = k.strip_prefix("status_")?;
            let member_id = member.parse().ok()?;
            (v != "expected").then(|| AttendanceMark {
                member_id,
                status: v.clone(),
                reason: if v == "present" { None } else { reason_of(member) },
            })
        })
        .collect();
    match life::attendance::record_attendance(&s.store.db, &w.caller, id, &marks).await {
        Ok(_) => see_other(&format!("/meetings/{id}?saved=attendance")),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/meetings", "life.meeting");
            match form_errors(&c, &e) {
                Some(errors) => detail_page(&s, &w, id, errors, None).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Deserialize)]
struct CheckInForm {
    code: String,
}

async fn check_in(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Form(f): Form<CheckInForm>,
) -> Response {
    let c = Chrome::for_caller(&w, "/meetings", "life.meeting");
    match life::checkin::check_in(&s.store.db, &w.caller, id, &f.code).await {
        Ok(()) => detail_page(&s, &w, id, Vec::new(), Some(c.t("life.checked_in"))).await,
        Err(e @ store::Error::Refused(_)) => {
            let message = crate::error::Failure::from(e).message(c.lang);
            detail_page(&s, &w, id, vec![("code".into(), message)], None).await
        }
        Err(e) => error_page(c, e.into()),
    }
}

#[derive(Template)]
#[template(path = "activity_form.html")]
struct ActivityFormPage {
    c: Chrome,
    /// The organization that holds it.
    org: Picker,
    v: store::activities::ActivityInput,
    errors: Vec<(String, String)>,
}

async fn activity_form_page(
    s: &AppState,
    w: &WebCaller,
    v: store::activities::ActivityInput,
    org_q: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, "/activities/new", "life.activity_new");
    let field = OrgField {
        field: "org_id",
        label: c.t("life.publish_to"),
        purpose: Purpose::Activities,
        search: Search::Post,
        blank: None,
    };
    let chosen = v.org_id.map(|o| o.to_string()).unwrap_or_default();
    let org = crate::or_error_page!(c, field.picker(s, w, &chosen, org_q).await);
    if org.listed && org.rows.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    render(&ActivityFormPage { c, org, v, errors })
}

async fn activity_form(State(s): State<AppState>, w: WebCaller) -> Response {
    let today = store::clock::today();
    let v = store::activities::ActivityInput {
        kind: Some("volunteer_service".into()),
        starts_at: Some(format!("{today}T09:00")),
        ends_at: Some(format!("{today}T11:00")),
        credit_minutes: Some(120),
        ..Default::default()
    };
    activity_form_page(&s, &w, v, "", Vec::new()).await
}

#[derive(Deserialize)]
struct ActivityForm {
    org_id: Option<String>,
    kind: Option<String>,
    title: Option<String>,
    description: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    location: Option<String>,
    capacity: Option<String>,
    credit_minutes: Option<String>,
    /// What was typed into the organization's search.
    #[serde(default)]
    org_id_q: String,
    /// Set when that search was pressed: the form is drawn again, nothing saved.
    #[serde(default)]
    pick: String,
}

async fn create_activity(State(s): State<AppState>, w: WebCaller, Form(f): Form<ActivityForm>) -> Response {
    let number = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| x.parse::<i64>().unwrap_or(-1))
    };
    let org_id = match f.pick.is_empty() {
        true => {
            chosen_org(
                &s,
                &w,
                Purpose::Activities,
                "org_id",
                f.org_id.as_deref().unwrap_or(""),
                &f.org_id_q,
            )
            .await
        }
        false => Ok(f.org_id.as_deref().and_then(|o| o.trim().parse().ok())),
    };
    let v = store::activities::ActivityInput {
        org_id: org_id.as_ref().ok().copied().flatten(),
        kind: f.kind,
        title: f.title,
        description: f.description.filter(|d| !d.trim().is_empty()),
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        location: f.location.filter(|d| !d.trim().is_empty()),
        capacity: number(&f.capacity),
        credit_minutes: number(&f.credit_minutes),
    };
    if !f.pick.is_empty() {
        return activity_form_page(&s, &w, v, &f.org_id_q, Vec::new()).await;
    }
    let created = match org_id {
        Ok(_) => store::activities::create(&s.store.db, &w.caller, &v).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(a) => see_other(&format!("/activities/{}?saved=1", a.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/activities/new", "life.activity_new");
            match form_errors(&c, &e) {
                Some(errors) => activity_form_page(&s, &w, v, &f.org_id_q, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    c: Chrome,
    a: store::activities::Activity,
    signups: Vec<store::activities::Signup>,
    can_manage: bool,
    signed_up: bool,
    error: Option<String>,
    /// The activity has begun and no attendance is recorded yet: everyone signed up starts as
    /// having come, and only who did not is unticked.
    default_attended: bool,
}

async fn activity_page(s: &AppState, w: &WebCaller, id: i64, error: Option<String>) -> Response {
    let c = Chrome::for_caller(w, &format!("/activities/{id}"), "life.activity");
    let a = match store::activities::get(&s.store.db, &w.caller, id).await {
        Ok(a) => a,
        Err(e) => return error_page(c, e.into()),
    };
    let signups = crate::or_error_page!(c, store::activities::signups(&s.store.db, &w.caller, id).await);
    let can_manage = w.caller.can_at(Perm::ManageMeetings, &a.org_path);
    let signed_up = signups.iter().any(|x| Some(x.member_id) == w.caller.member_id);
    let begun = store::db::parse_instant(&a.starts_at).is_some_and(|t| t <= store::clock::now());
    let default_attended = begun && signups.iter().all(|x| !x.attended);
    render(&ActivityPage {
        default_attended,
        c,
        a,
        signups,
        can_manage,
        signed_up,
        error,
    })
}

async fn activity_detail(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    activity_page(&s, &w, id, None).await
}

async fn activity_sign_up(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match store::activities::sign_up(&s.store.db, &w.caller, id).await {
        Ok(_) => see_other(&format!("/activities/{id}?saved=1")),
        Err(e @ store::Error::Refused(_)) => {
            let c = Chrome::for_caller(&w, "/activities", "life.activity");
            activity_page(&s, &w, id, Some(crate::error::Failure::from(e).message(c.lang))).await
        }
        Err(e) => error_page(Chrome::for_caller(&w, "/activities", "life.activity"), e.into()),
    }
}

/// The attendance form posts an `attended` field per member who came.
async fn activity_attendance(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let attended: Vec<i64> = form_urlencoded_pairs(&body)
        .into_iter()
        .filter(|(k, _)| k == "attended")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    match store::activities::record_attendance(&s.store.db, &w.caller, id, &attended).await {
        Ok(_) => see_other(&format!("/activities/{id}?saved=1")),
        Err(e) => error_page(Chrome::for_caller(&w, "/activities", "life.activity"), e.into()),
    }
}

async fn attach(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> Response {
    let c = Chrome::for_caller(&w, "/meetings", "life.meeting");
    let parts = crate::or_error_page!(c, super::read_parts(form).await);
    let file = parts
        .into_iter()
        .find(|p| p.name == "file")
        .map(|p| (p.file_name.unwrap_or_else(|| "file".into()), p.bytes));
    let Some((name, bytes)) = file else {
        return detail_page(
            &s,
            &w,
            id,
            vec![("file".into(), c.field_error("file", "required"))],
            None,
        )
        .await;
    };
    match life::attachments::attach(&s.store.db, &w.caller, s.vault(), id, &name, &bytes).await {
        Ok(_) => see_other(&format!("/meetings/{id}?saved=1")),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => detail_page(&s, &w, id, errors, None).await,
            None => error_page(c, e.into()),
        },
    }
}

/// The settings form posts `checkin` (a checkbox) and `freq_<kind>` for each kind.
async fn save_settings(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let settings = life::settings::LifeSettings {
        checkin_enabled: Some(pairs.iter().any(|(k, v)| k == "checkin" && v == "true")),
        frequencies: pairs
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("freq_")?.to_string(), v.clone())))
            .collect(),
    };
    match life::settings::set_settings(&s.store.db, &w.caller, id, &settings).await {
        Ok(()) => see_other(&format!("/orgs/{id}/meetings?saved=1")),
        Err(e) => error_page(Chrome::for_caller(&w, "/orgs", "life.meetings"), e.into()),
    }
}
