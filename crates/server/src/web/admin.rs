//! Accounts, grants and the daily security reports (security administrator), the audit log
//! (audit administrator), and each user's own account page (password, API tokens).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use store::accounts::{self, ApiToken, NewUser, User};
use store::audit::{self, AuditFilter, Entry};
use store::pick::{self, Among, Purpose};
use store::scope::Grant;
use store::security;
use store::Role;

use super::pick::{chosen_org, Picker, Search, FEW};
use super::{error_page, form_errors, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/accounts", get(accounts_page).post(create_user))
        .route("/accounts/{id}/grants", post(add_grant))
        .route("/accounts/{id}/state", post(set_state))
        .route("/accounts/{id}/reset", post(reset))
        .route("/grants/{id}/revoke", post(revoke_grant))
        .route("/audit", get(audit_page))
        .route("/security", get(security_reports_page))
        .route("/security/{id}", get(security_report_page))
        .route("/security/{id}/ack", post(ack_security_report))
        .route("/account", get(own_page))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    /// Each account with its grants and the organization picker of its grant form.
    users: Vec<(User, Vec<Grant>, Picker)>,
    /// The member a new account belongs to.
    member_picker: Picker,
    /// The new account's form as typed, drawn again after its search or a refusal (never the
    /// password).
    draft: NewAccountForm,
    /// The role the grant form being searched had chosen.
    grant_role: String,
    roles: Vec<&'static str>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
}

/// The pickers' searches on the accounts page: the new account's member, or one account's grant
/// organization (`grant_user`), each reloading the page by GET.
#[derive(Deserialize, Default)]
struct AccountsQuery {
    #[serde(default)]
    grant_user: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id_q: String,
}

/// The new-account form as posted; `pick` set when its member search was pressed.
#[derive(Deserialize, Default)]
struct NewAccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    member_id_q: String,
    #[serde(default)]
    pick: String,
}

async fn accounts_view(
    s: &AppState,
    w: &WebCaller,
    f: AccountsQuery,
    draft: NewAccountForm,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Response {
    let c = Chrome::for_caller(w, "/accounts", "accounts.title");
    let db = &s.store.db;
    let page = async {
        let found = pick::members(db, &w.caller, Among::Unlinked, &draft.member_id_q).await?;
        let chosen = match draft.member_id.trim().parse::<i64>() {
            // The security administrator reads no member records: the one chosen is found again
            // by its number among the unlinked.
            Ok(id) => pick::members(db, &w.caller, Among::Unlinked, &id.to_string()).await?,
            Err(_) => Vec::new(),
        };
        let member_picker = Picker::one(
            "member_id",
            c.t("accounts.member"),
            Search::Post,
            "/api/v1/pick/members?for=account",
        )
        .with(&draft.member_id_q, chosen, found);
        // A grant's organization: a select of all when few (read once for every row), else a
        // search in the row whose button was pressed.
        let few = pick::few_orgs(db, &w.caller, Purpose::Read, FEW).await?;
        let grant_user: Option<i64> = f.grant_user.trim().parse().ok();
        let mut users = Vec::new();
        for (u, grants) in accounts::list_users(db, &w.caller).await? {
            let picker = Picker::one(
                "org_id",
                c.t("accounts.grant_org"),
                Search::Reload("/accounts".into()),
                "/api/v1/pick/orgs",
            )
            .keyed(format!("grant{}", u.id));
            let picker = match &few {
                Some(all) => picker.listing(all.clone(), "", Some(c.t("accounts.whole_system"))),
                None if grant_user == Some(u.id) => {
                    let found = pick::orgs(db, &w.caller, Purpose::Read, None, &f.org_id_q).await?;
                    picker.with(&f.org_id_q, Vec::new(), found)
                }
                None => picker,
            };
            users.push((u, grants, picker));
        }
        Ok::<_, store::Error>((users, member_picker))
    };
    let (users, member_picker) = match page.await {
        Ok(parts) => parts,
        Err(e) => return error_page(c, e.into()),
    };
    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
    let draft = NewAccountForm {
        password: String::new(),
        ..draft
    };
    render(&AccountsPage {
        c,
        users,
        member_picker,
        draft,
        grant_role: f.role,
        roles,
        errors,
        notice,
    })
}

async fn accounts_page(State(s): State<AppState>, w: WebCaller, Query(f): Query<AccountsQuery>) -> Response {
    accounts_view(&s, &w, f, NewAccountForm::default(), Vec::new(), None).await
}

/// After an action: back to the list, or the list with the error (and what the form had chosen).
async fn after(s: &AppState, w: &WebCaller, r: store::Result<()>, f: AccountsQuery, draft: NewAccountForm) -> Response {
    match r {
        Ok(()) => see_other("/accounts?saved=1"),
        Err(e) => {
            let c = Chrome::for_caller(w, "/accounts", "accounts.title");
            match form_errors(&c, &e) {
                Some(errors) => accounts_view(s, w, f, draft, errors, None).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn create_user(State(s): State<AppState>, w: WebCaller, Form(f): Form<NewAccountForm>) -> Response {
    if !f.pick.is_empty() {
        return accounts_view(&s, &w, AccountsQuery::default(), f, Vec::new(), None).await;
    }
    let db = &s.store.db;
    let r = async {
        // The member chosen, or one named exactly by what was typed.
        let member_id = match super::pick::key(&f.member_id, &f.member_id_q) {
            Some(key) => Some(pick::the_one(
                &pick::members(db, &w.caller, Among::Unlinked, key).await?,
                "member_id",
                key,
            )?),
            None => None,
        };
        let u = NewUser {
            username: f.username.clone(),
            display_name: f.display_name.clone(),
            phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
            password: f.password.clone(),
            member_id,
        };
        accounts::create_user(db, &s.store.keys, &w.caller, &u, true)
            .await
            .map(|_| ())
    };
    let r = r.await;
    after(&s, &w, r, AccountsQuery::default(), f).await
}

#[derive(Deserialize)]
struct GrantForm {
    role: String,
    /// The organization chosen in the picker; none (and nothing typed) for a whole-system grant.
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    org_id_q: String,
}

async fn add_grant(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(f): Form<GrantForm>) -> Response {
    let db = &s.store.db;
    let r = async {
        let role = Role::parse(&f.role).ok_or_else(|| domain::Invalid::one("role", "invalid"))?;
        let org = chosen_org(&s, &w, Purpose::Read, "org_id", &f.org_id, &f.org_id_q).await?;
        accounts::grant(db, &w.caller, id, role, org).await.map(|_| ())
    };
    let r = r.await;
    let kept = AccountsQuery {
        grant_user: id.to_string(),
        role: f.role.clone(),
        org_id_q: f.org_id_q.clone(),
        ..Default::default()
    };
    after(&s, &w, r, kept, NewAccountForm::default()).await
}

async fn revoke_grant(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let r = accounts::revoke(&s.store.db, &w.caller, id).await;
    after(&s, &w, r, AccountsQuery::default(), NewAccountForm::default()).await
}

#[derive(Deserialize)]
struct StateForm {
    action: String,
}

async fn set_state(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(f): Form<StateForm>) -> Response {
    let r = accounts::set_account_state(&s.store.db, &w.caller, id, &f.action).await;
    after(&s, &w, r, AccountsQuery::default(), NewAccountForm::default()).await
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn reset(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Form(f): Form<ResetForm>) -> Response {
    let r = accounts::reset_password(&s.store.db, &w.caller, id, &f.password).await;
    after(&s, &w, r, AccountsQuery::default(), NewAccountForm::default()).await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    f: AuditFilter,
    entries: Vec<Entry>,
    older: Option<i64>,
}

async fn audit_page(State(s): State<AppState>, w: WebCaller, Query(f): Query<AuditFilter>) -> Response {
    let c = Chrome::for_caller(&w, "/audit", "audit.title");
    match audit::list(&s.store.db, &w.caller, &f).await {
        Ok(entries) => {
            let limit = f.limit.unwrap_or(100).clamp(1, 1000) as usize;
            let older = if entries.len() == limit {
                entries.last().map(|e| e.seq)
            } else {
                None
            };
            render(&AuditPage { c, f, entries, older })
        }
        Err(e) => error_page(c, e.into()),
    }
}

#[derive(Template)]
#[template(path = "security_reports.html")]
struct SecurityReportsPage {
    c: Chrome,
    reports: Vec<security::Report>,
}

async fn security_reports_page(State(s): State<AppState>, w: WebCaller) -> Response {
    let c = Chrome::for_caller(&w, "/security", "security.title");
    let reports = crate::or_error_page!(c, security::list(&s.store.db, &w.caller, false).await);
    render(&SecurityReportsPage { c, reports })
}

#[derive(Template)]
#[template(path = "security_report.html")]
struct SecurityReportPage {
    c: Chrome,
    f: security::Figures,
    r: security::Report,
    errors: Vec<(String, String)>,
    notice: Option<String>,
}

async fn security_report_view(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/security/{id}"), "security.title");
    let mut r = crate::or_error_page!(c, security::get(&s.store.db, &w.caller, id).await);
    let Some(f) = r.figures.take() else {
        return error_page(c, store::Error::NotFound.into());
    };
    render(&SecurityReportPage {
        c,
        f,
        r,
        errors,
        notice,
    })
}

async fn security_report_page(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Query(q): Query<AckedQuery>,
) -> Response {
    let notice = q.acked.map(|_| crate::i18n::t(w.prefs.lang, "security.acknowledged"));
    security_report_view(&s, &w, id, Vec::new(), notice).await
}

/// `?acked=1` after the report was acknowledged.
#[derive(Deserialize)]
struct AckedQuery {
    acked: Option<String>,
}

#[derive(Deserialize)]
struct AckForm {
    #[serde(default)]
    note: String,
}

async fn ack_security_report(
    State(s): State<AppState>,
    w: WebCaller,
    Path(id): Path<i64>,
    Form(f): Form<AckForm>,
) -> Response {
    let c = Chrome::for_caller(&w, &format!("/security/{id}"), "security.title");
    match security::acknowledge(&s.store.db, &w.caller, id, &f.note).await {
        Ok(_) => see_other(&format!("/security/{id}?acked=1")),
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => security_report_view(&s, &w, id, errors, None).await,
            None => error_page(c, e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct OwnPage {
    c: Chrome,
    username: String,
    must_change_password: bool,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
}

async fn own_view(
    s: &AppState,
    w: &WebCaller,
    new_token: Option<String>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Response {
    let c = Chrome::for_caller(w, "/account", "account.title");
    let tokens = crate::or_error_page!(c, accounts::list_tokens(&s.store.db, &w.caller).await);
    render(&OwnPage {
        c,
        username: w.caller.username.clone(),
        must_change_password: w.caller.must_change_password,
        tokens,
        new_token,
        errors,
        notice,
    })
}

async fn own_page(State(s): State<AppState>, w: WebCaller) -> Response {
    own_view(&s, &w, None, Vec::new(), None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(State(s): State<AppState>, w: WebCaller, Form(f): Form<PasswordForm>) -> Response {
    let c = Chrome::for_caller(&w, "/account", "account.title");
    if f.new_password != f.confirm_password {
        let errors = vec![("confirm_password".into(), c.field_error("confirm_password", "mismatch"))];
        return own_view(&s, &w, None, errors, None).await;
    }
    match accounts::change_password(
        &s.store.db,
        &w.caller,
        &f.current_password,
        &f.new_password,
        Some(&w.token),
    )
    .await
    {
        Ok(()) => {
            let mut w = w;
            w.caller.must_change_password = false;
            own_view(&s, &w, None, Vec::new(), Some(c.t("account.password_changed"))).await
        }
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => own_view(&s, &w, None, errors, None).await,
            None => error_page(c, e.into()),
        },
    }
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn create_token(State(s): State<AppState>, w: WebCaller, Form(f): Form<TokenForm>) -> Response {
    match accounts::create_token(&s.store.db, &w.caller, &f.name).await {
        Ok((_, secret)) => own_view(&s, &w, Some(secret), Vec::new(), None).await,
        Err(e) => {
            let c = Chrome::for_caller(&w, "/account", "account.title");
            match form_errors(&c, &e) {
                Some(errors) => own_view(&s, &w, None, errors, None).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn revoke_token(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match accounts::revoke_token(&s.store.db, &w.caller, id).await {
        Ok(()) => see_other("/account?saved=1"),
        Err(e) => error_page(Chrome::for_caller(&w, "/account", "account.title"), e.into()),
    }
}
