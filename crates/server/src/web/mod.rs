//! The browser pages: server-rendered with askama, plain forms and redirect-after-post, so every
//! page works without JavaScript. `Chrome` carries what every page needs (language, large font,
//! the signed-in user's menu).

mod admin;
mod charts;
mod dashboard;
mod development;
mod displays;
mod dues;
mod import;
mod life;
mod members;
mod mobile;
mod notices;
mod orgs;
mod pick;
mod quality;
mod reviews;
mod search;
mod study;
mod transfers;
mod warnings;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use store::{Caller, Perm, Role};

use crate::auth::{clear_session_cookie, client_ip, session_cookie, Prefs, WebCaller};
use crate::error::Failure;
use crate::i18n::{self, Lang};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/prefs", get(set_prefs))
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(import::routes())
        .merge(life::routes())
        .merge(dues::routes())
        .merge(transfers::routes())
        .merge(reviews::routes())
        .merge(mobile::routes())
        .merge(notices::routes())
        .merge(search::routes())
        .merge(study::routes())
        .merge(development::routes())
        .merge(admin::routes())
        .merge(warnings::routes())
        .merge(dashboard::routes())
        .merge(displays::routes())
        .merge(quality::routes())
}

/// Menu entries the signed-in user may use.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub display_name: String,
    pub orgs: bool,
    pub members: bool,
    pub import: bool,
    pub accounts: bool,
    pub audit: bool,
    pub life: bool,
    pub security: bool,
    pub dues: bool,
    pub transfers: bool,
    pub reviews: bool,
    pub notices: bool,
    pub study: bool,
    pub development: bool,
    pub own_member: Option<i64>,
}

/// What every page is drawn with.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub large: bool,
    pub nav: Option<Nav>,
    /// The current path, for the language and font switches to come back to.
    pub here: String,
    pub title: String,
    /// Reached by the redirect after a save: the page begins with "已保存".
    pub saved: bool,
}

impl Chrome {
    pub fn new(prefs: Prefs, caller: Option<&Caller>, here: &str, title_key: &str) -> Chrome {
        let nav = caller.map(|c| Nav {
            display_name: c.display_name.clone(),
            orgs: c.can(Perm::ReadOrgs),
            members: c.can(Perm::ReadMembers),
            import: c.can(Perm::WriteMembers),
            accounts: c.can(Perm::ManageAccounts),
            audit: c.can(Perm::ReadAudit),
            security: c.can(Perm::WatchSecurity),
            life: c.can(Perm::ReadMembers) || c.member_id.is_some(),
            dues: c.can(Perm::ReadMembers) || c.member_id.is_some(),
            transfers: c.can(Perm::ReadMembers),
            reviews: c.can(Perm::Review),
            notices: c.member_id.is_some() || c.can(Perm::PublishNotices) || c.can(Perm::Review),
            study: c.member_id.is_some() || c.can(Perm::ManageStudy),
            development: c.can(Perm::WriteMembers),
            own_member: c.member_id,
        });
        Chrome {
            lang: prefs.lang,
            large: prefs.large,
            nav,
            here: here.to_string(),
            title: i18n::t(prefs.lang, title_key),
            saved: false,
        }
    }

    pub fn for_caller(w: &WebCaller, here: &str, title_key: &str) -> Chrome {
        Chrome {
            saved: w.saved,
            ..Chrome::new(w.prefs, Some(&w.caller), here, title_key)
        }
    }

    /// Whether the signed-in user has a member record of their own.
    pub fn is_member(&self) -> bool {
        self.nav.as_ref().is_some_and(|n| n.own_member.is_some())
    }

    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// A text with a number in it: `tn("life.listed_most", 500)`.
    pub fn tn(&self, key: &str, n: usize) -> String {
        i18n::t(self.lang, key).replace("{}", &n.to_string())
    }

    /// Tenths of a 学时 as people write them (15 → "1.5").
    pub fn hours(&self, tenths: &i64) -> String {
        domain::study::hours_text(*tenths)
    }

    /// A code translated under a prefix: `tc("kind.", "branch")` → 党支部.
    pub fn tc(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}{code}");
        if i18n::has(self.lang, &key) {
            i18n::t(self.lang, &key)
        } else {
            code.to_string()
        }
    }

    /// One recorded change in words: "学历：大学本科 → 硕士研究生", "手机号码已修改", "建立档案".
    pub fn change(&self, ch: &store::changes::Change) -> String {
        let prefix = match ch.field.as_str() {
            "gender" => "gender.",
            "education" => "education.",
            "category" => "category.",
            "status" => "status.",
            "kind" => "kind.",
            "branch_type" => "branch_type.",
            "sector" => "sector.",
            "post" => "post.",
            "offline" => "history.bool.",
            "note" => "history.note.",
            _ => "",
        };
        let value = |v: &str| {
            if prefix.is_empty() {
                v.to_string()
            } else {
                self.tc(prefix, v)
            }
        };
        let colon = if self.lang == Lang::Zh { "：" } else { ": " };
        let label = self.tc("field.", &ch.field);
        match (ch.field.as_str(), &ch.before, &ch.after) {
            ("created", ..) => self.t("history.created"),
            ("note", _, Some(n)) => format!("（{}）", value(n)),
            (_, Some(b), Some(a)) => format!("{label}{colon}{} → {}", value(b), value(a)),
            (_, None, Some(a)) => format!("{label}{colon}{}", value(a)),
            (_, Some(b), None) => format!("{label}{colon}{} → —", value(b)),
            (_, None, None) if self.lang == Lang::Zh => format!("{label}{}", self.t("history.changed")),
            (_, None, None) => format!("{label} {}", self.t("history.changed")),
        }
    }

    /// A person as pages show them: the command line's account (`cli:…`) is the system.
    pub fn person(&self, name: &str) -> String {
        if name.starts_with("cli:") {
            self.t("history.system")
        } else {
            name.to_string()
        }
    }

    pub fn field_error(&self, field: &str, code: &str) -> String {
        i18n::field_error(self.lang, field, code)
    }

    /// A stored UTC instant as Beijing time (UTC+8, no daylight saving), to the second.
    pub fn local(&self, instant: &str) -> String {
        store::db::parse_instant(instant)
            .map(|t| domain::time::local_datetime(t).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| instant.to_string())
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }

    pub fn here_encoded(&self) -> String {
        crate::auth::urlencode(&self.here)
    }
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    message: String,
    request_id: Option<String>,
    /// For a refusal by the rate limits: the seconds until it is let through.
    retry_after: Option<u64>,
}

/// An error as a page, in the user's language, with the request id to report it by. A failure of
/// the server itself is logged (its code, never the data).
pub fn error_page(c: Chrome, f: Failure) -> Response {
    error_page_retry(c, f, None)
}

/// An error page that says when to try again.
pub fn error_page_retry(c: Chrome, f: Failure, retry_after: Option<u64>) -> Response {
    let message = f.message(c.lang);
    let status = f.status;
    if status.is_server_error() {
        tracing::error!(code = %f.code, page = %c.here, "a page failed");
    }
    let mut res = render(&ErrorPage {
        c,
        status: status.as_u16(),
        message,
        request_id: crate::request_id::current(),
        retry_after,
    });
    *res.status_mut() = status;
    res
}

/// The value of a store call a page needs, or the error page for its failure: a failed query
/// is never drawn as an empty table.
#[macro_export]
macro_rules! or_error_page {
    ($c:expr, $result:expr) => {
        match $result {
            Ok(v) => v,
            Err(e) => return $crate::web::error_page($c.clone(), e.into()),
        }
    };
}

/// Field errors for re-drawing a form, as (field, message).
pub fn form_errors(c: &Chrome, e: &store::Error) -> Option<Vec<(String, String)>> {
    match e {
        store::Error::Invalid(inv) => Some(
            inv.0
                .iter()
                .map(|f| (f.field.to_string(), c.field_error(f.field, &f.code)))
                .collect(),
        ),
        _ => None,
    }
}

/// One part of a multipart form: its name, the file name if it is a file, and its bytes.
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: axum::body::Bytes,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).trim().to_string()
    }
}

/// Every part of a multipart form (an upload page), or a failure naming what could not be read:
/// a broken upload is never taken for a missing field.
pub async fn read_parts(mut form: axum::extract::Multipart) -> Result<Vec<Part>, Failure> {
    let broken = |e: axum::extract::multipart::MultipartError| Failure::bad_request(&e.body_text());
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(broken)?;
        parts.push(Part { name, file_name, bytes });
    }
    Ok(parts)
}

/// A form body as ordered pairs, repeated names (checkboxes) kept.
pub fn form_urlencoded_pairs(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// The first value posted under `name`, trimmed; empty when absent.
pub fn posted(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Only local paths may be redirected to after login or a preference change.
fn safe_next(next: Option<&str>) -> String {
    // Browsers drop tabs and newlines from a Location, so `/\t/evil` would become `//evil`: allow
    // only the characters our own paths and queries use.
    let ours = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_-.?=&%+".contains(&b))
    };
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && ours(n) => n.to_string(),
        _ => "/".into(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<String>,
    demo: bool,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(State(s): State<AppState>, prefs: Prefs, Query(q): Query<NextQuery>) -> Response {
    let c = Chrome::new(prefs, None, "/login", "login.title");
    render(&LoginPage {
        c,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        demo: s.demo,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(s): State<AppState>,
    prefs: Prefs,
    parts: axum::http::request::Parts,
    Form(f): Form<LoginForm>,
) -> Response {
    // Another site must not sign a visitor into an account of its choosing.
    if !crate::auth::same_origin(&parts) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    let ip = client_ip(&parts);
    let c = Chrome::new(prefs, None, "/login", "login.title");
    let next = safe_next(f.next.as_deref());
    let error = {
        match store::accounts::login(&s.store.db, &s.store.keys, &f.username, &f.password, &ip).await {
            Ok((token, caller)) => {
                let to = if caller.must_change_password {
                    "/account".to_string()
                } else {
                    next
                };
                return (
                    [(header::SET_COOKIE, session_cookie(&token, s.secure_cookies))],
                    Redirect::to(&to),
                )
                    .into_response();
            }
            Err(e) => format!("err.{}", e.code()),
        }
    };
    let mut res = render(&LoginPage {
        error: Some(c.t(&error)),
        c,
        next,
        username: f.username,
        demo: s.demo,
    });
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res
}

async fn logout(State(s): State<AppState>, w: WebCaller) -> Response {
    let _ = store::accounts::logout(&s.store.db, &w.caller, &w.token).await;
    ([(header::SET_COOKIE, clear_session_cookie())], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
struct PrefsQuery {
    lang: Option<String>,
    font: Option<String>,
    back: Option<String>,
}

async fn set_prefs(Query(q): Query<PrefsQuery>) -> Response {
    let mut headers = HeaderMap::new();
    let year = 60 * 60 * 24 * 365;
    if let Some(l) = q.lang {
        let lang = Lang::parse(&l).code();
        headers.append(
            header::SET_COOKIE,
            format!("lang={lang}; Path=/; Max-Age={year}; SameSite=Lax")
                .parse()
                .unwrap(),
        );
    }
    if let Some(f) = q.font {
        let font = if f == "large" { "large" } else { "normal" };
        headers.append(
            header::SET_COOKIE,
            format!("font={font}; Path=/; Max-Age={year}; SameSite=Lax")
                .parse()
                .unwrap(),
        );
    }
    (headers, Redirect::to(&safe_next(q.back.as_deref()))).into_response()
}

/// One organization the user is responsible for, on their home page.
struct HomeOrg {
    id: i64,
    name: String,
    kind: String,
    role: Role,
    members: i64,
    warnings: Vec<&'static str>,
    /// The organizations directly below, with their sizes and warnings.
    children: Vec<store::orgs::Org>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    roles: Vec<String>,
    orgs: Vec<HomeOrg>,
    member: Option<store::members::Member>,
    must_change_password: bool,
    /// What the user must act on, worst first.
    todo: Vec<store::todo::TodoItem>,
    notices: Vec<store::inbox::Notice>,
    /// Security reports not yet acknowledged (the security administrator).
    security_reports: Vec<store::security::Report>,
    /// The member's meetings of the last month and the coming ones.
    meetings: Vec<store::life::meetings::MeetingView>,
    /// The newest published notices (党务公开) that reach the member, unread marked.
    announcements: Vec<store::notices::Announcement>,
}

async fn home(State(s): State<AppState>, w: WebCaller) -> Response {
    let c = Chrome::for_caller(&w, "/", "home.title");
    let mut orgs = Vec::new();
    for (g, org_id) in w.caller.grants.iter().filter_map(|g| Some((g, g.org_id?))) {
        if let Some(o) = crate::or_error_page!(c, store::orgs::find(&s.store.db, &w.caller, org_id).await) {
            let warnings = o.structure_actions();
            let children = crate::or_error_page!(c, store::orgs::list(&s.store.db, &w.caller, Some(o.id)).await)
                .into_iter()
                .filter(|c| c.dissolved_on.is_none() && c.kind != "party_group")
                .collect();
            orgs.push(HomeOrg {
                id: o.id,
                name: o.name,
                kind: o.kind,
                role: g.role,
                members: o.subtree_members,
                warnings,
                children,
            });
        }
    }
    let member = match w.caller.member_id {
        Some(id) => Some(crate::or_error_page!(
            c,
            store::members::get(&s.store.db, &w.caller, id).await
        )),
        None => None,
    };
    let mut roles: Vec<String> = w.caller.grants.iter().map(|g| c.tc("role.", g.role.as_str())).collect();
    roles.dedup();
    if member.is_some() {
        roles.push(c.t("role.member"));
    }
    let notices = crate::or_error_page!(c, store::inbox::mine(&s.store.db, &w.caller, true).await);
    let todo = crate::or_error_page!(c, store::todo::for_caller(&s.store.db, &w.caller).await);
    let meetings = match w.caller.member_id {
        Some(_) => {
            let since = (store::clock::today() - chrono::Duration::days(30)).to_string();
            let f = store::life::meetings::MeetingFilter {
                from: Some(since),
                limit: Some(6),
                ..Default::default()
            };
            crate::or_error_page!(c, store::life::meetings::list(&s.store.db, &w.caller, &f).await)
        }
        None => Vec::new(),
    };
    let mut announcements = crate::or_error_page!(c, store::notices::mine(&s.store.db, &w.caller).await);
    announcements.truncate(5);
    let security_reports = if w.caller.can(store::Perm::WatchSecurity) {
        crate::or_error_page!(c, store::security::list(&s.store.db, &w.caller, true).await)
    } else {
        Vec::new()
    };
    render(&HomePage {
        security_reports,
        announcements,
        roles,
        orgs,
        member,
        must_change_password: w.caller.must_change_password,
        todo,
        notices,
        meetings,
        c,
    })
}
