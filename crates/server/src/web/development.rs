//! Member development pages: the pipeline board of an organization's subtree (who is at which step,
//! what is due or late) with the application form, and one file with its 25 steps and the form for
//! the next one (a vote at steps 15 and 23, the outcome at step 24).

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::development::{self, ApplicantInput, DevelopmentFile, Document, StepInput, VoteInput};
use store::orgs::{self, Org};
use store::pick::{self, Among};
use store::Perm;

use super::pick::{searching, Picker};
use super::{error_page, form_errors, form_urlencoded_pairs, posted, render, see_other, Chrome};
use crate::auth::WebCaller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/development", get(start))
        .route("/orgs/{id}/development", get(board).post(apply))
        .route("/development/{id}", get(file))
        .route("/development/{id}/steps", post(step))
        .route("/development/{id}/votes", post(vote))
        .route("/development/{id}/documents", post(attach))
        .route("/development/documents/{id}", get(download))
}

/// The board of the first organization the user looks after.
async fn start(w: WebCaller) -> Response {
    match w
        .caller
        .grants
        .iter()
        .find_map(|g| g.org_id.filter(|_| w.caller.can_at(Perm::ReadMembers, &g.path)))
    {
        Some(org) => see_other(&format!("/orgs/{org}/development")),
        None => error_page(
            Chrome::for_caller(&w, "/development", "development.title"),
            store::Error::Forbidden.into(),
        ),
    }
}

#[derive(Deserialize, Default)]
struct ApplyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    applied_on: String,
}

#[derive(Template)]
#[template(path = "development_board.html")]
struct BoardPage {
    c: Chrome,
    org: Org,
    items: Vec<DevelopmentFile>,
    /// Everyone in the subtree by stage, 1–5.
    stages: [i64; 5],
    can_write: bool,
    f: ApplyForm,
    errors: Vec<(String, String)>,
}

async fn board(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_board(&s, &w, id, ApplyForm::default(), Vec::new()).await
}

async fn draw_board(s: &AppState, w: &WebCaller, id: i64, f: ApplyForm, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, &format!("/orgs/{id}/development"), "development.title");
    let org = match orgs::get(&s.store.db, &w.caller, id).await {
        Ok(o) => o,
        Err(e) => return error_page(c, e.into()),
    };
    let lists = async {
        let items = development::board(&s.store.db, &w.caller, id).await?;
        let stages = development::stages(&s.store.db, &w.caller, id).await?;
        Ok::<_, store::Error>((items, stages))
    };
    match lists.await {
        Ok((items, stages)) => render(&BoardPage {
            can_write: w.caller.can_at(Perm::WriteMembers, &org.path) && org.kind().holds_members(),
            c,
            org,
            items,
            stages,
            f,
            errors,
        }),
        Err(e) => error_page(c, e.into()),
    }
}

async fn apply(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: ApplyForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let input = ApplicantInput {
        org_id: Some(id),
        name: some(&f.name),
        gender: some(&f.gender),
        id_number: some(&f.id_number),
        phone: some(&f.phone),
        applied_on: some(&f.applied_on),
        ..Default::default()
    };
    match development::apply(&s.store.db, &s.store.keys, &w.caller, &input).await {
        Ok(file) => see_other(&format!("/development/{}?saved=1", file.file.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, &format!("/orgs/{id}/development"), "development.title");
            match form_errors(&c, &e) {
                Some(errors) => draw_board(&s, &w, id, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "development_file.html")]
struct FilePage {
    c: Chrome,
    d: DevelopmentFile,
    steps: Vec<(usize, u8, &'static str, Option<String>)>,
    /// Contacts or introducers, chosen from the branch's full members.
    people: Picker,
    /// What the step form held when its picker searched.
    draft: StepDraft,
    documents: Vec<Document>,
    /// The latest request to the committees above, and where its review stands.
    review: Option<store::reviews::ReviewView>,
    can_write: bool,
    today: chrono::NaiveDate,
    errors: Vec<(String, String)>,
    notice: Option<String>,
}

/// The step form as sent, drawn again after its picker searched or a refusal.
#[derive(Default)]
struct StepDraft {
    done_on: String,
    note: String,
    people: Vec<i64>,
    people_q: String,
}

impl StepDraft {
    fn from(pairs: &[(String, String)]) -> StepDraft {
        let get = |k: &str| posted(pairs, k);
        let people: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "people")
            .map(|(_, v)| v.clone())
            .collect();
        StepDraft {
            done_on: get("done_on"),
            note: get("note"),
            people: store::pick::ids(&people),
            people_q: get("people_q"),
        }
    }
}

async fn file(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_file(&s, &w, id, StepDraft::default(), Vec::new(), None).await
}

async fn draw_file(
    s: &AppState,
    w: &WebCaller,
    id: i64,
    draft: StepDraft,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Response {
    let c = Chrome::for_caller(w, &format!("/development/{id}"), "development.file");
    let d = match development::get(&s.store.db, &w.caller, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c, e.into()),
    };
    let steps = domain::development::STEPS
        .iter()
        .enumerate()
        .map(|(i, (stage, name))| {
            let done = d
                .steps
                .iter()
                .find(|s| s.step == i as i64 + 1)
                .map(|s| s.done_on.to_string());
            (i + 1, *stage, *name, done)
        })
        .collect();
    let people = if d.next_step == 5 || d.next_step == 9 {
        let db = &s.store.db;
        let among = Among::Readable {
            within: Some(d.file.org_id),
            full_only: true,
        };
        let found = crate::or_error_page!(c, pick::members(db, &w.caller, among, &draft.people_q).await);
        let chosen = crate::or_error_page!(c, pick::chosen_members(db, &w.caller, &draft.people).await);
        let label = c.t(if d.next_step == 5 {
            "development.contacts"
        } else {
            "development.introducers"
        });
        let source = format!("/api/v1/pick/members?within={}&full=true", d.file.org_id);
        Picker::many("people", label, source).with(&draft.people_q, chosen, found)
    } else {
        Picker::many("people", String::new(), String::new())
    };
    let documents = crate::or_error_page!(c, development::documents(&s.store.db, &w.caller, id).await);
    let review = crate::or_error_page!(c, store::reviews::of_subject(&s.store.db, "development", id).await);
    let can_write = development::may_record(&w.caller, &d);
    render(&FilePage {
        review,
        c,
        d,
        steps,
        people,
        draft,
        documents,
        can_write,
        today: store::clock::today(),
        errors,
        notice,
    })
}

/// After recording: back to the file, or the file with the form's errors, or an error page.
async fn after<T>(s: &AppState, w: &WebCaller, id: i64, draft: StepDraft, result: store::Result<T>) -> Response {
    let c = Chrome::for_caller(w, &format!("/development/{id}"), "development.file");
    match result {
        Ok(_) => see_other(&format!("/development/{id}?saved=1")),
        Err(store::Error::Refused(code)) => {
            let message = crate::error::Failure::from(store::Error::Refused(code)).message(c.lang);
            draw_file(s, w, id, draft, vec![("step".into(), message)], None).await
        }
        Err(e) => match form_errors(&c, &e) {
            Some(errors) => draw_file(s, w, id, draft, errors, None).await,
            None => error_page(c, e.into()),
        },
    }
}

async fn step(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let draft = StepDraft::from(&pairs);
    if searching(&pairs) {
        return draw_file(&s, &w, id, draft, Vec::new(), None).await;
    }
    let get = |k: &str| posted(&pairs, k);
    let input = StepInput {
        step: get("step").parse().ok(),
        done_on: chrono::NaiveDate::parse_from_str(&get("done_on"), "%Y-%m-%d").ok(),
        people: draft.people.clone(),
        note: Some(get("note")).filter(|n| !n.is_empty()),
        outcome: Some(get("outcome")).filter(|o| !o.is_empty()),
        extension_months: get("extension_months").parse().ok(),
    };
    let result = development::record_step(&s.store.db, &w.caller, id, &input).await;
    after(&s, &w, id, draft, result).await
}

#[derive(Deserialize, Default)]
struct VoteForm {
    #[serde(default)]
    step: usize,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    entitled: u32,
    #[serde(default)]
    present: u32,
    #[serde(default)]
    yes: u32,
    #[serde(default)]
    no: u32,
    #[serde(default)]
    abstain: u32,
    #[serde(default)]
    written_yes: u32,
}

async fn vote(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f: VoteForm = serde_urlencoded::from_str(&body).unwrap_or_default();
    let input = VoteInput {
        step: Some(f.step),
        held_on: chrono::NaiveDate::parse_from_str(&f.held_on, "%Y-%m-%d").ok(),
        entitled: f.entitled,
        present: f.present,
        yes: f.yes,
        no: f.no,
        abstain: f.abstain,
        written_yes: f.written_yes,
    };
    match development::record_vote(&s.store.db, &w.caller, id, &input).await {
        // The outcome is shown whether or not the vote passed.
        Ok(r) => {
            let explanation = if w.prefs.lang == crate::i18n::Lang::En {
                r.explanation_en
            } else {
                r.explanation
            };
            draw_file(&s, &w, id, StepDraft::default(), Vec::new(), Some(explanation)).await
        }
        Err(e) => after(&s, &w, id, StepDraft::default(), Err::<(), _>(e)).await,
    }
}

/// The upload form posts `step` and `file` (multipart).
async fn attach(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, form: Multipart) -> Response {
    let c = Chrome::for_caller(&w, &format!("/development/{id}"), "development.title");
    let parts = crate::or_error_page!(c, super::read_parts(form).await);
    let step = parts
        .iter()
        .find(|p| p.name == "step")
        .and_then(|p| p.text().parse().ok());
    let (name, bytes) = parts
        .into_iter()
        .find(|p| p.name == "file")
        .map(|p| (p.file_name.unwrap_or_else(|| "file".into()), p.bytes))
        .unwrap_or_default();
    let result = development::attach_document(&s.store.db, &w.caller, s.vault(), id, step, &name, &bytes).await;
    after(&s, &w, id, StepDraft::default(), result).await
}

async fn download(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match development::open_document(&s.store.db, &w.caller, s.vault(), id).await {
        Ok((doc, bytes)) => crate::api::files::download(&doc.content_type, &doc.name, bytes),
        Err(e) => error_page(Chrome::for_caller(&w, "/development", "development.file"), e.into()),
    }
}
