//! Organization pages: the tree, one organization (edit, move, officers, dissolve, history), new.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use store::orgs::{self, Officer, Org, OrgEvent, OrgInput};
use store::pick::{self, Among, Purpose};
use store::Perm;

use super::pick::{chosen_org, OrgField, Picker, Search};
use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/orgs", get(tree).post(create))
        .route("/orgs/new", get(new_form))
        .route("/orgs/{id}", get(detail).post(update))
        .route("/orgs/{id}/dissolve", post(dissolve))
        .route("/orgs/{id}/officers", post(officer))
}

/// Beyond this many organizations the tree shows the top levels and lets the user drill down.
const FULL_TREE_LIMIT: usize = 400;

#[derive(Template)]
#[template(path = "orgs.html")]
struct TreePage {
    c: Chrome,
    orgs: Vec<(Org, i64)>,
    truncated: bool,
    can_create: bool,
}

async fn tree(State(s): State<AppState>, w: WebCaller) -> Response {
    let c = Chrome::for_caller(&w, "/orgs", "orgs.title");
    let db = &s.store.db;
    let all = async {
        let truncated = orgs::count_upto(db, &w.caller, FULL_TREE_LIMIT as i64).await? > FULL_TREE_LIMIT as i64;
        let shown = if truncated {
            orgs::top_levels(db, &w.caller, 2).await?
        } else {
            orgs::list(db, &w.caller, None).await?
        };
        Ok::<_, store::Error>((shown, truncated))
    };
    let (all, truncated) = match all.await {
        Ok(parts) => parts,
        Err(e) => return error_page(c, e.into()),
    };
    let top = all.iter().map(|o| o.depth).min().unwrap_or(0);
    let orgs = all
        .into_iter()
        .map(|o| {
            let indent = o.depth - top;
            (o, indent)
        })
        .collect();
    render(&TreePage {
        can_create: w.caller.can(Perm::ManageOrgs),
        c,
        orgs,
        truncated,
    })
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    c: Chrome,
    org: Org,
    warnings: Vec<&'static str>,
    parent: Option<Org>,
    children: Vec<Org>,
    officers: Vec<Officer>,
    /// The member to appoint, from the organization's full members (for those who read them).
    officer_picker: Option<Picker>,
    /// A new parent, for those who manage it.
    parent_picker: Option<Picker>,
    history: Vec<OrgEvent>,
    can_manage: bool,
    /// The caller works with this organization's members (its lists, warnings and history);
    /// a member sees only its name, kind and officers.
    reads_members: bool,
    /// The caller files its applicants (发展党员).
    develops: bool,
    errors: Vec<(String, String)>,
}

/// The pickers' searches on an organization's page: a member to appoint, a new parent.
#[derive(Deserialize, Default)]
struct OrgPicks {
    #[serde(default)]
    member_id_q: String,
    #[serde(default)]
    parent_id_q: String,
}

async fn org_page(s: &AppState, w: &WebCaller, id: i64, picks: OrgPicks, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}"), "org.title");
    let db = &s.store.db;
    let org = match orgs::get(db, &w.caller, id).await {
        Ok(o) => o,
        Err(e) => return error_page(c, e.into()),
    };
    let parent = match org.parent_id {
        Some(p) => crate::or_error_page!(c, orgs::find(db, &w.caller, p).await),
        None => None,
    };
    let children = crate::or_error_page!(c, orgs::list(db, &w.caller, Some(id)).await);
    let officers = crate::or_error_page!(c, orgs::officers(db, &w.caller, id).await);
    let can_manage = orgs::may_manage(&w.caller, &org);
    let action = format!("/orgs/{id}");
    // Officers are appointed from the members, by those who may read them (not the system
    // administrator, who keeps the tree without personal data).
    let officer_picker = if can_manage && w.caller.can_at(Perm::ReadMembers, &org.path) {
        let among = Among::Readable {
            within: Some(id),
            full_only: true,
        };
        let found = crate::or_error_page!(c, pick::members(db, &w.caller, among, &picks.member_id_q).await);
        let source = format!("/api/v1/pick/members?within={id}&full=true");
        Some(
            Picker::one("member_id", c.t("org.appoint"), Search::Alone(action.clone()), source).with(
                &picks.member_id_q,
                Vec::new(),
                found,
            ),
        )
    } else {
        None
    };
    // A new parent: one the caller manages that this organization may sit under (the store
    // decides again when the form is sent).
    let parent_picker = if can_manage && org.parent_id.is_some() {
        let found = crate::or_error_page!(c, pick::parents(db, &w.caller, id, &picks.parent_id_q).await);
        let source = format!("/api/v1/pick/orgs?for=manage&parent_of={id}");
        Some(
            Picker::one("parent_id", c.t("org.move_to"), Search::Alone(action), source).with(
                &picks.parent_id_q,
                Vec::new(),
                found,
            ),
        )
    } else {
        None
    };
    let history = crate::or_error_page!(c, orgs::history(db, &w.caller, id).await);
    let reads_members = w.caller.can_at(Perm::ReadMembers, &org.path);
    render(&OrgPage {
        c,
        reads_members,
        develops: w.caller.can_at(Perm::WriteMembers, &org.path),
        warnings: org.warnings(),
        org,
        parent,
        children,
        officers,
        officer_picker,
        parent_picker,
        history,
        can_manage,
        errors,
    })
}

async fn detail(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(picks): Query<OrgPicks>,
) -> Response {
    org_page(&s, &w, id, picks, Vec::new()).await
}

async fn update(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(input): Form<OrgForm>) -> Response {
    match orgs::update(&s.store.db, &w.caller, id, &input.into_input()).await {
        Ok(_) => see_other(&format!("/orgs/{id}?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/orgs", "org.title");
            match form_errors(&c, &e) {
                Some(errors) => org_page(&s, &w, id, OrgPicks::default(), errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Deserialize)]
struct DissolveForm {
    dissolved_on: Option<String>,
}

async fn dissolve(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Form(f): Form<DissolveForm>,
) -> Response {
    let typed = f.dissolved_on.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let on = typed.map(domain::member::parse_date);
    if on == Some(None) {
        let c = Chrome::for_caller(&w, "/orgs", "org.title");
        return org_page(
            &s,
            &w,
            id,
            OrgPicks::default(),
            vec![("dissolved_on".into(), c.field_error("dissolved_on", "invalid"))],
        )
        .await;
    }
    match orgs::dissolve(&s.store.db, &w.caller, id, on.flatten()).await {
        Ok(_) => see_other(&format!("/orgs/{id}?saved=1")),
        Err(e) => error_page(Chrome::for_caller(&w, "/orgs", "org.title"), e.into()),
    }
}

#[derive(Deserialize)]
struct OfficerForm {
    /// The member chosen in the picker (or the officer being removed).
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    post: String,
}

async fn officer(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(f): Form<OfficerForm>) -> Response {
    let post = Some(f.post.as_str()).filter(|p| !p.is_empty());
    let r = match f.member_id.trim().parse() {
        Ok(member_id) => orgs::set_officer(&s.store.db, &w.caller, id, member_id, post).await,
        Err(_) => Err(domain::Invalid::one("member_id", "choose").into()),
    };
    match r {
        Ok(()) => see_other(&format!("/orgs/{id}?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/orgs", "org.title");
            match form_errors(&c, &e) {
                Some(errors) => org_page(&s, &w, id, OrgPicks::default(), errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

/// The organization form as posted: every field text, blanks meaning "unchanged" or "none".
#[derive(Debug, Default, Deserialize)]
struct OrgForm {
    parent_id: Option<String>,
    /// What was typed into the parent's search (the new-organization form).
    parent_id_q: Option<String>,
    /// Set when that search was pressed: the form is drawn again, nothing saved.
    pick: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    branch_type: Option<String>,
    sector: Option<String>,
    established_on: Option<String>,
    term_start: Option<String>,
    term_end: Option<String>,
}

impl OrgForm {
    fn into_input(self) -> OrgInput {
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        OrgInput {
            parent_id: self.parent_id.and_then(|p| p.trim().parse().ok()),
            name: self.name,
            kind: keep(self.kind),
            branch_type: keep(self.branch_type),
            sector: keep(self.sector),
            established_on: self.established_on,
            term_start: keep(self.term_start),
            term_end: keep(self.term_end),
        }
    }
}

#[derive(Template)]
#[template(path = "org_new.html")]
struct NewPage {
    c: Chrome,
    /// Where the new organization goes: one the caller manages (none: a new top of the tree).
    parent: Picker,
    form: OrgFormValues,
    errors: Vec<(String, String)>,
}

#[derive(Default)]
struct OrgFormValues {
    parent_id: String,
    name: String,
    kind: String,
    branch_type: String,
    sector: String,
    established_on: String,
    term_start: String,
    /// What was typed into the parent's search.
    parent_id_q: String,
}

#[derive(Deserialize)]
struct NewQuery {
    parent_id: Option<String>,
}

async fn new_page(s: &AppState, w: &WebCaller, form: OrgFormValues, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/orgs/new", "org.new");
    crate::or_error_page!(
        c,
        w.caller
            .require_any(&s.store.db, Perm::ManageOrgs, "org.create", ("org", &""))
            .await
    );
    let field = OrgField {
        field: "parent_id",
        label: c.t("field.parent_id"),
        purpose: Purpose::Manage,
        search: Search::Post,
        blank: Some(c.t("org.top_level")),
    };
    let parent = crate::or_error_page!(c, field.picker(s, w, &form.parent_id, &form.parent_id_q).await);
    render(&NewPage {
        c,
        parent,
        form,
        errors,
    })
}

async fn new_form(State(s): State<AppState>, w: WebCaller, Query(q): Query<NewQuery>) -> Response {
    let form = OrgFormValues {
        parent_id: q.parent_id.unwrap_or_default(),
        kind: "branch".into(),
        ..Default::default()
    };
    new_page(&s, &w, form, Vec::new()).await
}

async fn create(State(s): State<AppState>, w: WebCaller, Form(f): Form<OrgForm>) -> Response {
    let c = Chrome::for_caller(&w, "/orgs/new", "org.new");
    let mut values = OrgFormValues {
        parent_id: f.parent_id.clone().unwrap_or_default(),
        name: f.name.clone().unwrap_or_default(),
        kind: f.kind.clone().unwrap_or_default(),
        branch_type: f.branch_type.clone().unwrap_or_default(),
        sector: f.sector.clone().unwrap_or_default(),
        established_on: f.established_on.clone().unwrap_or_default(),
        term_start: f.term_start.clone().unwrap_or_default(),
        parent_id_q: f.parent_id_q.clone().unwrap_or_default(),
    };
    if f.pick.is_some() {
        return new_page(&s, &w, values, Vec::new()).await;
    }
    let typed = (values.parent_id.clone(), values.parent_id_q.clone());
    let parent = match chosen_org(&s, &w, Purpose::Manage, "parent_id", &typed.0, &typed.1).await {
        Ok(p) => p,
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => return new_page(&s, &w, values, errors).await,
            None => return error_page(c, e.into()),
        },
    };
    values.parent_id = parent.map(|p| p.to_string()).unwrap_or_default();
    let mut input = f.into_input();
    input.parent_id = parent;
    match orgs::create(&s.store.db, &w.caller, &input).await {
        Ok(org) => see_other(&format!("/orgs/{}?saved=1", org.id)),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => new_page(&s, &w, values, errors).await,
            None => error_page(c, e.into()),
        },
    }
}
