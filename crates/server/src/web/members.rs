//! Member pages: the roster (search, filters, sort, pages), one member (masked, reveal, history),
//! new and edit.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::member::{Education, MemberInput, ETHNICITIES};
use serde::Deserialize;
use store::members::{self, HistoryEntry, Member, MemberFilter, MemberPatch, Membership, Placement, Revealed};
use store::orgs::{self, Org};
use store::pick::Purpose;
use store::transfers::{self, IncomingInput};
use store::Perm;

use super::pick::{chosen_org, OrgField, Picker, Search};
use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::{urlencode, WebCaller};
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/members", get(list).post(create))
        .route("/members/new", get(new_form))
        .route("/members/{id}", get(detail).post(update))
        .route("/members/{id}/edit", get(edit_form))
        .route("/members/{id}/reveal", post(reveal))
        .route("/me/corrections", post(propose_correction))
}

#[derive(Template)]
#[template(path = "members.html")]
struct ListPage {
    c: Chrome,
    f: FilterValues,
    /// The organization filter.
    org: Picker,
    items: Vec<Member>,
    total: i64,
    page: i64,
    pages: i64,
    /// The filter as a query string without page and sort, for links.
    query: String,
    can_write: bool,
}

/// The filter as typed, for re-drawing the form.
#[derive(Default)]
struct FilterValues {
    org_id: String,
    q: String,
    gender: String,
    category: String,
    status: String,
    offline: String,
    sort: String,
}

/// What was typed into the organization filter's search.
#[derive(Deserialize, Default)]
struct OrgSearch {
    #[serde(default)]
    org_id_q: String,
}

async fn list(
    State(s): State<AppState>,
    w: WebCaller,
    Query(f): Query<MemberFilter>,
    Query(typed): Query<OrgSearch>,
) -> Response {
    let c = Chrome::for_caller(&w, "/members", "members.title");
    let page = match members::list(&s.store.db, &s.store.keys, &w.caller, &f).await {
        Ok(p) => p,
        Err(e) => return error_page(c, e.into()),
    };
    let field = OrgField {
        field: "org_id",
        label: c.t("field.org_id"),
        purpose: Purpose::Roster,
        search: Search::Reload("/members".into()),
        blank: Some(c.t("members.all_orgs")),
    };
    let chosen = f.org_id.map(|i| i.to_string()).unwrap_or_default();
    let org = crate::or_error_page!(c, field.picker(&s, &w, &chosen, &typed.org_id_q).await);
    let values = FilterValues {
        org_id: f.org_id.map(|i| i.to_string()).unwrap_or_default(),
        q: f.q.clone().unwrap_or_default(),
        gender: f.gender.clone().unwrap_or_default(),
        category: f.category.clone().unwrap_or_default(),
        status: f.status.clone().unwrap_or_default(),
        offline: f.offline.map(|o| o.to_string()).unwrap_or_default(),
        sort: f.sort.clone().unwrap_or_default(),
    };
    let query = [
        ("org_id", &values.org_id),
        ("q", &values.q),
        ("gender", &values.gender),
        ("category", &values.category),
        ("status", &values.status),
        ("offline", &values.offline),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", urlencode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let pages = ((page.total + f.per_page() - 1) / f.per_page()).max(1);
    render(&ListPage {
        can_write: w.caller.can(Perm::WriteMembers),
        c,
        f: values,
        org,
        items: page.items,
        total: page.total,
        page: f.page(),
        pages,
        query,
    })
}

#[derive(Template)]
#[template(path = "member.html")]
struct DetailPage {
    c: Chrome,
    m: Member,
    revealed: Option<Revealed>,
    can_reveal: bool,
    can_edit: bool,
    changes: Vec<HistoryEntry>,
    memberships: Vec<Membership>,
    life: Option<store::life::year::YearRecord>,
    /// The member's own record: they may propose a correction.
    own: bool,
    educations: Vec<&'static str>,
    notice: Option<String>,
    errors: Vec<(String, String)>,
}

async fn detail_page(s: &AppState, w: &WebCaller, id: i64, revealed: Option<Revealed>) -> Response {
    draw_detail(s, w, id, revealed, None, Vec::new()).await
}

async fn draw_detail(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    revealed: Option<Revealed>,
    notice: Option<String>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/members/{id}"), "member.title");
    let m = match members::get(&s.store.db, &w.caller, id).await {
        Ok(m) => m,
        Err(e) => return error_page(c, e.into()),
    };
    let (changes, memberships) = crate::or_error_page!(c, members::history(&s.store.db, &w.caller, id).await);
    let may = members::actions(&w.caller, &m);
    let (can_reveal, can_edit) = (may.reveal, may.edit);
    let year = chrono::Datelike::year(&store::clock::today());
    let life = Some(crate::or_error_page!(
        c,
        store::life::year::year_record(&s.store.db, &w.caller, id, year).await
    ));
    render(&DetailPage {
        c,
        m,
        revealed,
        can_reveal,
        can_edit,
        changes,
        memberships,
        life,
        own: w.caller.member_id == Some(id),
        educations: domain::member::Education::ALL.iter().map(|e| e.as_str()).collect(),
        notice,
        errors,
    })
}

#[derive(serde::Deserialize, Default)]
struct CorrectionForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    education: String,
}

/// A member proposes a correction of their own record; their branch reviews it.
async fn propose_correction(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let f: CorrectionForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let input = store::corrections::CorrectionInput {
        phone: Some(f.phone).filter(|p| !p.trim().is_empty()),
        education: Some(f.education).filter(|e| !e.is_empty()),
    };
    let c = Chrome::for_caller(&w, "/members", "member.title");
    let Some(own) = w.caller.member_id else {
        return error_page(c, store::Error::Forbidden.into());
    };
    match store::corrections::propose(&s.store.db, &s.store.keys, &w.caller, &input).await {
        Ok(_) => draw_detail(&s, &w, own, None, Some(c.t("member.correction_sent")), Vec::new()).await,
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_detail(&s, &w, own, None, None, errors).await,
            None => error_page(c, e.into()),
        },
    }
}

async fn detail(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_detail(&s, &w, id, None, None, Vec::new()).await
}

async fn reveal(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match members::reveal(&s.store.db, &s.store.keys, &w.caller, id).await {
        Ok(r) => detail_page(&s, &w, id, Some(r)).await,
        Err(e) => error_page(Chrome::for_caller(&w, "/members", "member.title"), e.into()),
    }
}

#[derive(Template)]
#[template(path = "member_form.html")]
struct FormPage {
    c: Chrome,
    /// None for a new member.
    id: Option<i64>,
    v: MemberValues,
    /// The member's branch.
    org: Picker,
    /// Party groups of the chosen branch (or of every branch, when they are few), with their
    /// branch's name.
    groups: Vec<(Org, String)>,
    errors: Vec<(String, String)>,
    educations: Vec<(&'static str, &'static str)>,
    ethnicities: &'static [&'static str],
}

impl FormPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

/// The form's values as text, for drawing it again after an error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberValues {
    org_id: String,
    group_id: String,
    name: String,
    gender: String,
    ethnicity: String,
    birth_date: String,
    id_number: String,
    phone: String,
    address: String,
    education: String,
    work_unit: String,
    post: String,
    joined_on: String,
    full_member_on: String,
    category: String,
    status: String,
    offline: String,
    /// "1" when the form registers a member arriving with a letter from outside the platform;
    /// the letter's fields follow.
    incoming: String,
    from_name: String,
    letter_no: String,
    issued_on: String,
    received_on: String,
    paid_up_to: String,
    /// What was typed into the branch's search.
    org_id_q: String,
    /// Set when the branch's search was pressed: the form is drawn again, nothing saved.
    pick: String,
}

impl MemberValues {
    fn from_member(m: &Member) -> MemberValues {
        MemberValues {
            org_id: m.org_id.to_string(),
            group_id: m.group_id.map(|g| g.to_string()).unwrap_or_default(),
            name: m.name.clone(),
            gender: m.gender.clone(),
            ethnicity: m.ethnicity.clone(),
            birth_date: m.birth_date.to_string(),
            education: m.education.clone().unwrap_or_default(),
            work_unit: m.work_unit.clone().unwrap_or_default(),
            post: m.post.clone().unwrap_or_default(),
            joined_on: m.joined_on.to_string(),
            full_member_on: m.full_member_on.map(|d| d.to_string()).unwrap_or_default(),
            category: m.category.clone(),
            status: m.status.clone(),
            offline: if m.offline { "true".into() } else { String::new() },
            ..Default::default()
        }
    }

    /// For an edit, blank sensitive fields mean "unchanged" (their values are never put in the form).
    fn to_patch(&self, editing: bool) -> MemberPatch {
        let text = |s: &str| Some(s.trim().to_string());
        let secret = |s: &str| {
            if editing && s.trim().is_empty() {
                None
            } else {
                text(s)
            }
        };
        MemberPatch {
            fields: MemberInput {
                name: text(&self.name),
                gender: text(&self.gender),
                ethnicity: text(&self.ethnicity),
                birth_date: text(&self.birth_date),
                id_number: secret(&self.id_number),
                phone: secret(&self.phone),
                address: secret(&self.address),
                education: text(&self.education),
                work_unit: text(&self.work_unit),
                post: text(&self.post),
                joined_on: text(&self.joined_on),
                full_member_on: text(&self.full_member_on),
                category: text(&self.category),
                status: text(&self.status),
                offline: Some(self.offline == "true"),
            },
            org_id: self.org_id.trim().parse().ok(),
            group_id: self.group_id.trim().parse().ok(),
        }
    }
}

async fn form_page(
    s: &AppState,
    w: &WebCaller,
    id: Option<i64>,
    v: MemberValues,
    errors: Vec<(String, String)>,
) -> Response {
    let here = id
        .map(|i| format!("/members/{i}/edit"))
        .unwrap_or_else(|| "/members/new".into());
    let c = Chrome::for_caller(w, &here, if id.is_some() { "member.edit" } else { "member.new" });
    let field = OrgField {
        field: "org_id",
        label: format!("{} *", c.t("field.org_id")),
        purpose: Purpose::Enrol,
        search: Search::Post,
        blank: None,
    };
    let org = crate::or_error_page!(c, field.picker(s, w, &v.org_id, &v.org_id_q).await);
    if org.listed && org.rows.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    // Party groups: of the chosen branch, or of every listed one (a select can change branch
    // without a reload).
    let branches: Vec<(i64, String)> = match v.org_id.trim().parse::<i64>() {
        Ok(id) => org
            .rows
            .iter()
            .filter(|(b, _)| b.id == id)
            .map(|(b, _)| (b.id, b.name.clone()))
            .collect(),
        Err(_) if org.listed => org.rows.iter().map(|(b, _)| (b.id, b.name.clone())).collect(),
        Err(_) => Vec::new(),
    };
    let mut groups = Vec::new();
    for (id, name) in branches {
        let below = crate::or_error_page!(c, orgs::list(&s.store.db, &w.caller, Some(id)).await);
        groups.extend(
            below
                .into_iter()
                .filter(|g| g.kind == "party_group" && g.dissolved_on.is_none())
                .map(|g| (g, name.clone())),
        );
    }
    let educations = Education::ALL.iter().map(|e| (e.as_str(), e.zh())).collect();
    render(&FormPage {
        c,
        id,
        v,
        org,
        groups,
        errors,
        educations,
        ethnicities: &ETHNICITIES,
    })
}

#[derive(Deserialize)]
struct NewQuery {
    org_id: Option<String>,
    /// Set to register a member from a letter from outside the platform.
    incoming: Option<String>,
}

async fn new_form(State(s): State<AppState>, w: WebCaller, Query(q): Query<NewQuery>) -> Response {
    let v = MemberValues {
        org_id: q.org_id.unwrap_or_default(),
        ethnicity: "汉族".into(),
        category: "full".into(),
        status: "active".into(),
        incoming: q.incoming.unwrap_or_default(),
        received_on: store::clock::today().to_string(),
        ..Default::default()
    };
    form_page(&s, &w, None, v, Vec::new()).await
}

async fn create(State(s): State<AppState>, w: WebCaller, Form(v): Form<MemberValues>) -> Response {
    if !v.pick.is_empty() {
        return form_page(&s, &w, None, v, Vec::new()).await;
    }
    let mut patch = v.to_patch(false);
    patch.org_id = match chosen_org(&s, &w, Purpose::Enrol, "org_id", &v.org_id, &v.org_id_q).await {
        Ok(id) => id,
        Err(e) => return after_form(&s, &w, None, v, e).await,
    };
    let result = match patch.org_id {
        Some(_) if v.incoming == "1" => {
            let input = IncomingInput {
                member: patch.fields,
                org_id: patch.org_id,
                group_id: patch.group_id,
                from_name: Some(v.from_name.clone()),
                letter_no: Some(v.letter_no.clone()),
                issued_on: Some(v.issued_on.clone()),
                received_on: Some(v.received_on.clone()),
                paid_up_to: Some(v.paid_up_to.clone()),
            };
            transfers::register_incoming(&s.store.db, &s.store.keys, &w.caller, &input)
                .await
                .map(|i| i.member_id)
        }
        Some(org_id) => members::create(
            &s.store.db,
            &s.store.keys,
            &w.caller,
            Placement {
                org_id,
                group_id: patch.group_id,
            },
            &patch.fields,
        )
        .await
        .map(|m| m.id),
        None => Err(domain::Invalid::one("org_id", "required").into()),
    };
    match result {
        Ok(id) => see_other(&format!("/members/{id}?saved=1")),
        Err(e) => after_form(&s, &w, None, v, e).await,
    }
}

async fn edit_form(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match members::get(&s.store.db, &w.caller, id).await {
        Ok(m) => form_page(&s, &w, Some(id), MemberValues::from_member(&m), Vec::new()).await,
        Err(e) => error_page(Chrome::for_caller(&w, "/members", "member.edit"), e.into()),
    }
}

async fn update(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(v): Form<MemberValues>) -> Response {
    if !v.pick.is_empty() {
        return form_page(&s, &w, Some(id), v, Vec::new()).await;
    }
    let mut patch = v.to_patch(true);
    patch.org_id = match chosen_org(&s, &w, Purpose::Enrol, "org_id", &v.org_id, &v.org_id_q).await {
        Ok(org) => org,
        Err(e) => return after_form(&s, &w, Some(id), v, e).await,
    };
    match members::update(&s.store.db, &s.store.keys, &w.caller, id, &patch).await {
        Ok(_) => see_other(&format!("/members/{id}?saved=1")),
        Err(e) => after_form(&s, &w, Some(id), v, e).await,
    }
}

/// The form again with a refusal's errors, or an error page.
async fn after_form(s: &AppState, w: &WebCaller, id: Option<i64>, v: MemberValues, e: store::Error) -> Response {
    let c = Chrome::for_caller(w, "/members", if id.is_some() { "member.edit" } else { "member.new" });
    match form_errors(&c, &e) {
        Some(errors) => form_page(s, w, id, v, errors).await,
        None => error_page(c, e.into()),
    }
}
