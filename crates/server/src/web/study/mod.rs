//! Study pages (学习教育): a member's tasks, 学时 and library; an item to read and mark done; the
//! forms to publish an item and assign a task; a task's progress with offline records (代录) for
//! many members at once and exemptions; a member's ledger; the report over a subtree. The
//! question bank and exams have their own room (`exams`).

mod exams;
mod item_import;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::orgs::{self, Org};
use store::study::classes::{self, Class, ClassInput, RollInput, RollLine};
use store::study::credits::{self, ExemptionInput};
use store::study::items::{self, Item, ItemFilter, ItemInput, ItemPage};
use store::study::reports::{self, Ledger, Report};
use store::study::tasks::{self, MyTask, OfflineInput, Task, TaskInput, TaskProgress};
use store::Perm;

use super::pick::{searching, Picker};
use super::{error_page, form_errors, form_urlencoded_pairs, posted, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;
use store::pick::{self, Purpose};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/study", get(hub))
        .route(
            "/study/items/new",
            get(new_item)
                .post(create_item)
                // A lecture video may come with the form.
                .layer(axum::extract::DefaultBodyLimit::max(store::study::media::MAX_BYTES)),
        )
        .route("/study/items/{id}", get(item))
        .route("/study/items/{id}/complete", post(complete))
        .route("/study/tasks/new", get(new_task).post(create_task))
        .route("/study/tasks/{id}", get(task))
        .route("/study/tasks/{id}/offline", post(offline))
        .route("/study/tasks/{id}/exempt", post(exempt))
        .route("/study/classes/new", get(new_class).post(create_class))
        .route("/study/classes/{id}", get(class))
        .route("/study/classes/{id}/attendance", post(class_attendance))
        .route("/study/ledger", get(ledger))
        .route("/study/report", get(report))
        .merge(exams::routes())
        .merge(item_import::routes())
}

fn this_year() -> i64 {
    i64::from(chrono::Datelike::year(&store::clock::today()))
}

/// Organizations where the caller manages study, from their grants.
async fn study_orgs(s: &AppState, w: &WebCaller) -> store::Result<Vec<Org>> {
    let mut out = Vec::new();
    for g in w.caller.grants.iter() {
        if let Some(org_id) = g.org_id.filter(|_| w.caller.can_at(Perm::ManageStudy, &g.path)) {
            out.push(orgs::get(&s.store.db, &w.caller, org_id).await?);
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "study.html")]
struct HubPage {
    c: Chrome,
    mine: Vec<MyTask>,
    ledger: Option<Ledger>,
    library: ItemPage,
    managed_items: ItemPage,
    managed_tasks: Vec<Task>,
    classes: Vec<Class>,
    orgs: Vec<Org>,
    f: ItemFilter,
    categories: Vec<(&'static str, &'static str)>,
    pages: i64,
}

impl HubPage {
    /// The member's tasks already completed: listed apart, folded, under those still to do.
    fn completed_tasks(&self) -> usize {
        self.mine.iter().filter(|t| t.progress.as_str() == "completed").count()
    }
}

/// The organizations below the publisher that an item or a task goes to (none: all of them), with
/// what was typed to find them.
async fn audience(s: &AppState, w: &WebCaller, c: &Chrome, ids: &[String], q: &str) -> store::Result<Picker> {
    let db = &s.store.db;
    let chosen = pick::chosen_orgs(db, &w.caller, Purpose::Study, &pick::ids(ids)).await?;
    let found = pick::orgs(db, &w.caller, Purpose::Study, None, q).await?;
    Ok(Picker::many("to_org_ids", c.t("study.audience"), "/api/v1/pick/orgs?for=study").with(q, chosen, found))
}

/// The members a task goes to by name, with what was typed to find them.
async fn named(s: &AppState, w: &WebCaller, c: &Chrome, ids: &[String], q: &str) -> store::Result<Picker> {
    let db = &s.store.db;
    let chosen = pick::chosen_members(db, &w.caller, &pick::ids(ids)).await?;
    let among = pick::Among::Readable {
        within: None,
        full_only: false,
    };
    let found = pick::members(db, &w.caller, among, q).await?;
    Ok(Picker::many("to_member_ids", c.t("study.audience_members"), "/api/v1/pick/members").with(q, chosen, found))
}

/// The organizations chosen in a posted form, and what was typed into the picker.
fn chosen_orgs(pairs: &[(String, String)]) -> (Vec<String>, String) {
    let ids = pairs
        .iter()
        .filter(|(k, _)| k == "to_org_ids")
        .map(|(_, v)| v.clone())
        .collect();
    (ids, posted(pairs, "to_org_ids_q"))
}

fn categories() -> Vec<(&'static str, &'static str)> {
    domain::study::Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.zh()))
        .collect()
}

async fn hub(State(s): State<AppState>, w: WebCaller, Query(f): Query<ItemFilter>) -> Response {
    let c = Chrome::for_caller(&w, "/study", "study.title");
    let db = &s.store.db;
    let mine = crate::or_error_page!(c, tasks::mine(db, &w.caller).await);
    let ledger = match w.caller.member_id {
        Some(id) => Some(crate::or_error_page!(
            c,
            reports::ledger(db, &w.caller, id, this_year()).await
        )),
        None => None,
    };
    let library = crate::or_error_page!(c, items::library(db, &w.caller, &f).await);
    let managed_items = crate::or_error_page!(c, items::managed(db, &w.caller, &f).await);
    let managed_tasks = crate::or_error_page!(c, tasks::managed(db, &w.caller).await);
    let classes = crate::or_error_page!(c, classes::managed(db, &w.caller).await);
    let orgs = crate::or_error_page!(c, study_orgs(&s, &w).await);
    let pages = (library.total.max(managed_items.total) + items::PAGE - 1) / items::PAGE;
    render(&HubPage {
        c,
        mine,
        ledger,
        library,
        managed_items,
        managed_tasks,
        classes,
        orgs,
        f,
        categories: categories(),
        pages,
    })
}

#[derive(Template)]
#[template(path = "study_item_form.html")]
struct ItemForm {
    c: Chrome,
    orgs: Vec<Org>,
    /// Each category's code and whether it is ticked.
    categories: Vec<(&'static str, bool)>,
    audience: Picker,
    f: ItemDraft,
    errors: Vec<(String, String)>,
}

#[derive(Default)]
struct ItemDraft {
    org_id: String,
    kind: String,
    title: String,
    summary: String,
    source: String,
    body: String,
    link: String,
    categories: Vec<String>,
    tags: String,
    hours: String,
    to_org_ids: Vec<String>,
    to_org_ids_q: String,
    /// A file already uploaded with this form, kept across a redraw.
    file_id: String,
    file_name: String,
    /// A video's or audio's length as typed: `45:30`, `1:02:03` or seconds.
    duration: String,
}

async fn draw_item_form(s: &AppState, w: &WebCaller, f: ItemDraft, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/study/items/new", "study.new_item");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    let categories = domain::study::Category::ALL
        .iter()
        .map(|k| (k.as_str(), f.categories.iter().any(|x| x == k.as_str())))
        .collect();
    let audience = crate::or_error_page!(c, audience(s, w, &c, &f.to_org_ids, &f.to_org_ids_q).await);
    render(&ItemForm {
        c,
        orgs,
        categories,
        audience,
        f,
        errors,
    })
}

async fn new_item(State(s): State<AppState>, w: WebCaller) -> Response {
    let f = ItemDraft {
        hours: "1".into(),
        ..ItemDraft::default()
    };
    draw_item_form(&s, &w, f, Vec::new()).await
}

/// The item form posts as multipart (it may carry a document, video or audio): its text fields as
/// pairs, and the file if one was chosen.
async fn create_item(State(s): State<AppState>, w: WebCaller, req: axum::extract::Request) -> Response {
    use axum::extract::FromRequest;
    let c = Chrome::for_caller(&w, "/study/items/new", "study.new_item");
    let form = match axum::extract::Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => return error_page(c, crate::error::Failure::bad_request("multipart")),
    };
    let parts = crate::or_error_page!(c, super::read_parts(form).await);
    let pairs: Vec<(String, String)> = parts
        .iter()
        .filter(|p| p.file_name.is_none())
        .map(|p| (p.name.clone(), p.text()))
        .collect();
    let upload = parts
        .iter()
        .find(|p| p.name == "file" && p.file_name.is_some() && !p.bytes.is_empty());
    let (to_org_ids, to_org_ids_q) = chosen_orgs(&pairs);
    let mut f = ItemDraft {
        org_id: posted(&pairs, "org_id"),
        kind: posted(&pairs, "kind"),
        title: posted(&pairs, "title"),
        summary: posted(&pairs, "summary"),
        source: posted(&pairs, "source"),
        body: posted(&pairs, "body"),
        link: posted(&pairs, "link"),
        categories: pairs
            .iter()
            .filter(|(k, _)| k == "categories")
            .map(|(_, v)| v.clone())
            .collect(),
        tags: posted(&pairs, "tags"),
        hours: posted(&pairs, "hours"),
        to_org_ids,
        to_org_ids_q,
        file_id: posted(&pairs, "file_id"),
        file_name: posted(&pairs, "file_name"),
        duration: posted(&pairs, "duration"),
    };
    // A file chosen is kept at once, so that a form drawn again with errors need not upload it again.
    if let Some(p) = upload {
        let name = p.file_name.clone().unwrap_or_default();
        match store::study::media::upload(&s.store.db, &s.files_dir, &w.caller, &name, &p.bytes).await {
            Ok(file) => {
                f.file_id = file.id.to_string();
                f.file_name = file.name;
            }
            Err(e) => match form_errors(&c, &e) {
                Some(errors) => return draw_item_form(&s, &w, f, errors).await,
                None => return error_page(c, e.into()),
            },
        }
    }
    if searching(&pairs) {
        return draw_item_form(&s, &w, f, Vec::new()).await;
    }
    let input = ItemInput {
        org_id: f.org_id.parse().ok(),
        kind: Some(f.kind.clone()),
        title: Some(f.title.clone()),
        summary: Some(f.summary.clone()),
        source: Some(f.source.clone()),
        body: Some(f.body.clone()),
        link: Some(f.link.clone()),
        categories: f.categories.clone(),
        tags: f
            .tags
            .split([',', '，', ' ', '、'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        hours: Some(f.hours.clone()),
        to_org_ids: pick::ids(&f.to_org_ids),
        file_id: f.file_id.parse().ok(),
        duration_seconds: domain::study::media::parse_length(&f.duration),
    };
    match items::create(&s.store.db, &w.caller, &input).await {
        Ok(i) => see_other(&format!("/study/items/{}?saved=1", i.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/items/new", "study.new_item");
            match form_errors(&c, &e) {
                Some(errors) => draw_item_form(&s, &w, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "study_item.html")]
struct ItemPageView {
    c: Chrome,
    i: Item,
    manages: bool,
    review: Option<store::reviews::ReviewView>,
    /// For a video or audio, what the member has played of it.
    watched: Option<store::study::media::Watched>,
}

impl ItemPageView {
    /// The body as safe HTML, sanitised again as it is shown.
    fn body_html(&self) -> String {
        domain::study::article::sanitise(&self.i.body)
    }
    fn is_pdf(&self) -> bool {
        self.i.content_type.as_deref() == Some("application/pdf")
    }
    fn media(&self) -> Option<&'static str> {
        match self.i.kind.as_str() {
            "video" => Some("video"),
            "audio" => Some("audio"),
            _ => None,
        }
    }
    /// The media's address: its file, or for a linked one the link.
    fn media_src(&self) -> String {
        match (&self.i.file_id, &self.i.link) {
            (Some(_), _) => format!("/api/v1/study/items/{}/file", self.i.id),
            (None, Some(l)) => l.clone(),
            (None, None) => String::new(),
        }
    }
    fn length(&self) -> String {
        self.i
            .duration_seconds
            .map(domain::study::media::length_text)
            .unwrap_or_default()
    }
}

async fn item(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let c = Chrome::for_caller(&w, &format!("/study/items/{id}"), "study.title");
    let i = match items::get(&s.store.db, &w.caller, id).await {
        Ok(i) => i,
        Err(e) => return error_page(c, e.into()),
    };
    let manages = store::study::manages(&w.caller, &i.org_path) || w.caller.can_at(Perm::Review, &i.org_path);
    let review = if manages {
        crate::or_error_page!(c, store::reviews::of_subject(&s.store.db, "study", id).await)
    } else {
        None
    };
    let watched = match (w.caller.member_id, i.duration_seconds) {
        (Some(member), Some(d)) if matches!(i.kind.as_str(), "video" | "audio") => Some(crate::or_error_page!(
            c,
            store::study::media::watched(&s.store.db, member, id, d).await
        )),
        _ => None,
    };
    render(&ItemPageView {
        c,
        i,
        manages,
        review,
        watched,
    })
}

async fn complete(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match items::complete(&s.store.db, &w.caller, id).await {
        Ok(_) => see_other(&format!("/study/items/{id}?saved=1")),
        Err(e) => error_page(
            Chrome::for_caller(&w, &format!("/study/items/{id}"), "study.title"),
            e.into(),
        ),
    }
}

#[derive(Template)]
#[template(path = "study_task_form.html")]
struct TaskForm {
    c: Chrome,
    orgs: Vec<Org>,
    /// Published items the caller may assign (their own organizations' and those reaching them),
    /// each with whether it is ticked.
    choices: Vec<(Item, bool)>,
    audience: Picker,
    members: Picker,
    /// Exams of the organizations where the caller manages study, one of which the task may include.
    exams: Vec<store::study::exams::Exam>,
    f: TaskDraft,
    errors: Vec<(String, String)>,
}

#[derive(Default)]
struct TaskDraft {
    exam_id: String,
    org_id: String,
    title: String,
    note: String,
    starts_on: String,
    due_on: String,
    required: bool,
    item_ids: Vec<String>,
    to_org_ids: Vec<String>,
    to_org_ids_q: String,
    to_member_ids: Vec<String>,
    to_member_ids_q: String,
}

async fn draw_task_form(s: &AppState, w: &WebCaller, f: TaskDraft, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/study/tasks/new", "study.new_task");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    let db = &s.store.db;
    let all = ItemFilter::default();
    let mut choices: Vec<Item> = crate::or_error_page!(c, items::managed(db, &w.caller, &all).await).items;
    choices.retain(|i| i.status == "published");
    for i in crate::or_error_page!(c, items::library(db, &w.caller, &all).await).items {
        if !choices.iter().any(|x| x.id == i.id) {
            choices.push(i);
        }
    }
    let choices = choices
        .into_iter()
        .map(|i| {
            let ticked = f.item_ids.iter().any(|x| *x == i.id.to_string());
            (i, ticked)
        })
        .collect();
    let audience = crate::or_error_page!(c, audience(s, w, &c, &f.to_org_ids, &f.to_org_ids_q).await);
    let members = crate::or_error_page!(c, named(s, w, &c, &f.to_member_ids, &f.to_member_ids_q).await);
    let exams = crate::or_error_page!(c, store::study::exams::managed(db, &w.caller).await);
    render(&TaskForm {
        c,
        orgs,
        choices,
        audience,
        members,
        exams,
        f,
        errors,
    })
}

#[derive(Deserialize)]
struct NewTaskQuery {
    item_id: Option<String>,
}

async fn new_task(State(s): State<AppState>, w: WebCaller, Query(q): Query<NewTaskQuery>) -> Response {
    let f = TaskDraft {
        starts_on: store::clock::today().to_string(),
        required: true,
        item_ids: q.item_id.into_iter().collect(),
        ..TaskDraft::default()
    };
    draw_task_form(&s, &w, f, Vec::new()).await
}

async fn create_task(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let (to_org_ids, to_org_ids_q) = chosen_orgs(&pairs);
    let f = TaskDraft {
        org_id: posted(&pairs, "org_id"),
        title: posted(&pairs, "title"),
        note: posted(&pairs, "note"),
        starts_on: posted(&pairs, "starts_on"),
        due_on: posted(&pairs, "due_on"),
        required: posted(&pairs, "required") == "1",
        item_ids: pairs
            .iter()
            .filter(|(k, _)| k == "item_ids")
            .map(|(_, v)| v.clone())
            .collect(),
        to_org_ids,
        to_org_ids_q,
        to_member_ids: pairs
            .iter()
            .filter(|(k, _)| k == "to_member_ids")
            .map(|(_, v)| v.clone())
            .collect(),
        to_member_ids_q: posted(&pairs, "to_member_ids_q"),
        exam_id: posted(&pairs, "exam_id"),
    };
    if searching(&pairs) {
        return draw_task_form(&s, &w, f, Vec::new()).await;
    }
    let input = TaskInput {
        org_id: f.org_id.parse().ok(),
        title: Some(f.title.clone()),
        note: Some(f.note.clone()),
        starts_on: Some(f.starts_on.clone()),
        due_on: Some(f.due_on.clone()),
        required: f.required,
        item_ids: f.item_ids.iter().filter_map(|i| i.parse().ok()).collect(),
        exam_id: f.exam_id.parse().ok(),
        to_org_ids: pick::ids(&f.to_org_ids),
        to_member_ids: pick::ids(&f.to_member_ids),
    };
    match tasks::create(&s.store.db, &w.caller, &input).await {
        Ok(t) => see_other(&format!("/study/tasks/{}?saved=1", t.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/tasks/new", "study.new_task");
            match form_errors(&c, &e) {
                Some(errors) => draw_task_form(&s, &w, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "study_task.html")]
struct TaskPage {
    c: Chrome,
    p: TaskProgress,
    /// Every member not done (and not exempt) starts ticked: the secretary unticks the absent.
    tick_all: bool,
    pages: i64,
    today: String,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct TaskQuery {
    page: Option<i64>,
    /// `all`: tick every member not done.
    tick: Option<String>,
}

async fn task(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Query(q): Query<TaskQuery>) -> Response {
    let tick_all = q.tick.as_deref() == Some("all");
    draw_task(&s, &w, id, q.page.unwrap_or(1), tick_all, Vec::new()).await
}

async fn draw_task(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    page: i64,
    tick_all: bool,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/study/tasks/{id}"), "study.task");
    let p = match tasks::progress(&s.store.db, &w.caller, id, page).await {
        Ok(p) => p,
        Err(e) => return error_page(c, e.into()),
    };
    let pages = (p.members + tasks::PROGRESS_PAGE - 1) / tasks::PROGRESS_PAGE;
    render(&TaskPage {
        c,
        p,
        tick_all,
        pages,
        today: store::clock::today().to_string(),
        errors,
    })
}

async fn offline(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let input = OfflineInput {
        member_id: None,
        member_ids: pairs
            .iter()
            .filter(|(k, _)| k == "member_ids")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        form: Some(posted(&pairs, "form")),
        done_on: Some(posted(&pairs, "done_on")),
    };
    let page = posted(&pairs, "page").parse().unwrap_or(1);
    match tasks::record_offline(&s.store.db, &w.caller, id, &input).await {
        Ok(_) => see_other(&format!("/study/tasks/{id}?page={page}&saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/study/tasks/{id}"), "study.task");
            match form_errors(&c, &e) {
                Some(errors) => draw_task(&s, &w, id, page, false, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn exempt(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let input = ExemptionInput {
        member_id: posted(&pairs, "member_id").parse().ok(),
        year: posted(&pairs, "year").parse().ok(),
        reason: Some(posted(&pairs, "reason")),
        note: Some(posted(&pairs, "note")),
    };
    let page = posted(&pairs, "page").parse().unwrap_or(1);
    match credits::exempt(&s.store.db, &w.caller, &input).await {
        Ok(()) => see_other(&format!("/study/tasks/{id}?page={page}&saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/study/tasks/{id}"), "study.task");
            match form_errors(&c, &e) {
                Some(errors) => draw_task(&s, &w, id, page, false, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Deserialize)]
struct LedgerQuery {
    member_id: Option<i64>,
    year: Option<i64>,
}

#[derive(Template)]
#[template(path = "study_ledger.html")]
struct LedgerPage {
    c: Chrome,
    l: Ledger,
    /// The member's own ledger: the meetings they attended are theirs to open (another reader may
    /// not reach a meeting held above their scope).
    own: bool,
}

async fn ledger(State(s): State<AppState>, w: WebCaller, Query(q): Query<LedgerQuery>) -> Response {
    let c = Chrome::for_caller(&w, "/study/ledger", "study.ledger");
    let Some(member_id) = q.member_id.or(w.caller.member_id) else {
        return error_page(c, store::Error::NotFound.into());
    };
    let year = q.year.unwrap_or_else(this_year).clamp(2000, 2200);
    match reports::ledger(&s.store.db, &w.caller, member_id, year).await {
        Ok(l) => {
            let own = w.caller.member_id == Some(l.member_id);
            render(&LedgerPage { c, l, own })
        }
        Err(e) => error_page(c, e.into()),
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    org_id: Option<i64>,
    year: Option<i64>,
}

#[derive(Template)]
#[template(path = "study_report.html")]
struct ReportPage {
    c: Chrome,
    r: Report,
}

async fn report(State(s): State<AppState>, w: WebCaller, Query(q): Query<ReportQuery>) -> Response {
    let c = Chrome::for_caller(&w, "/study/report", "study.report");
    let org_id = match q.org_id {
        Some(id) => id,
        None => match crate::or_error_page!(c, study_orgs(&s, &w).await).first() {
            Some(o) => o.id,
            None => return error_page(c, store::Error::NotFound.into()),
        },
    };
    let year = q.year.unwrap_or_else(this_year).clamp(2000, 2200);
    match reports::report(&s.store.db, &w.caller, org_id, year).await {
        Ok(r) => render(&ReportPage { c, r }),
        Err(e) => error_page(c, e.into()),
    }
}

#[derive(Template)]
#[template(path = "study_class_form.html")]
struct ClassForm {
    c: Chrome,
    orgs: Vec<Org>,
    f: ClassDraft,
    errors: Vec<(String, String)>,
}

#[derive(Default)]
struct ClassDraft {
    org_id: String,
    title: String,
    starts_on: String,
    ends_on: String,
    hours: String,
}

async fn draw_class_form(s: &AppState, w: &WebCaller, f: ClassDraft, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/study/classes/new", "study.new_class");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    render(&ClassForm { c, orgs, f, errors })
}

async fn new_class(State(s): State<AppState>, w: WebCaller) -> Response {
    let today = store::clock::today().to_string();
    let f = ClassDraft {
        starts_on: today.clone(),
        ends_on: today,
        ..ClassDraft::default()
    };
    draw_class_form(&s, &w, f, Vec::new()).await
}

async fn create_class(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let f = ClassDraft {
        org_id: posted(&pairs, "org_id"),
        title: posted(&pairs, "title"),
        starts_on: posted(&pairs, "starts_on"),
        ends_on: posted(&pairs, "ends_on"),
        hours: posted(&pairs, "hours"),
    };
    let input = ClassInput {
        org_id: f.org_id.parse().ok(),
        title: Some(f.title.clone()),
        starts_on: Some(f.starts_on.clone()),
        ends_on: Some(f.ends_on.clone()),
        hours: Some(f.hours.clone()),
    };
    match classes::create(&s.store.db, &w.caller, &input).await {
        Ok(class) => see_other(&format!("/study/classes/{}?saved=1", class.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/classes/new", "study.new_class");
            match form_errors(&c, &e) {
                Some(errors) => draw_class_form(&s, &w, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "study_class.html")]
struct ClassPage {
    c: Chrome,
    class: Class,
    roll: Vec<RollLine>,
    /// Everyone starts ticked: the class's absentees are unticked.
    tick_all: bool,
    errors: Vec<(String, String)>,
}

async fn class(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Query(q): Query<TaskQuery>) -> Response {
    draw_class(&s, &w, id, q.tick.as_deref() == Some("all"), Vec::new()).await
}

async fn draw_class(s: &AppState, w: &WebCaller, id: i64, tick_all: bool, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, &format!("/study/classes/{id}"), "study.class");
    match classes::roll(&s.store.db, &w.caller, id).await {
        Ok((class, roll)) => render(&ClassPage {
            c,
            class,
            roll,
            tick_all,
            errors,
        }),
        Err(e) => error_page(c, e.into()),
    }
}

async fn class_attendance(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let input = RollInput {
        member_ids: pairs
            .iter()
            .filter(|(k, _)| k == "member_ids")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
    };
    match classes::set_attendance(&s.store.db, &w.caller, id, &input).await {
        Ok(_) => see_other(&format!("/study/classes/{id}?saved=1")),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/study/classes/{id}"), "study.class");
            match form_errors(&c, &e) {
                Some(errors) => draw_class(&s, &w, id, false, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}
