//! Exam pages (题库与考试): the question bank with its form, import and export; exams with their
//! rules; a member's attempt (answered in one form, no JavaScript) and its result; the results
//! over the members an exam reaches, in tree order, with the short answers to mark.

use askama::Template;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::study::exam::{letter, Explain, GradePolicy, QuestionKind, MAX_OPTIONS};
use serde::Deserialize;
use std::collections::HashMap;
use store::orgs::Org;
use store::study::attempts::{self, Attempt, MarkInput, MyExam, SubmitInput};
use store::study::exams::{self, Exam, ExamInput, ExamResults, Rule};
use store::study::questions::{self, QuestionFilter, QuestionInput, QuestionPage};

use super::{categories, study_orgs};
use crate::api::files::ImportReport;
use crate::auth::WebCaller;
use crate::web::{error_page, form_errors, form_urlencoded_pairs, posted, render, see_other, Chrome};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/study/questions", get(bank))
        .route("/study/questions/new", get(new_question).post(create_question))
        .route("/study/questions/import", post(import))
        .route("/study/questions/{id}", get(edit_question).post(update_question))
        .route("/study/exams", get(exam_list))
        .route("/study/exams/new", get(new_exam).post(create_exam))
        .route("/study/exams/{id}", get(exam))
        .route("/study/exams/{id}/start", post(start))
        .route("/study/attempts/{id}", get(attempt))
        .route("/study/attempts/{id}/submit", post(submit))
        .route("/study/attempts/{id}/mark", post(mark))
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    QuestionKind::ALL.iter().map(|k| (k.as_str(), k.zh())).collect()
}

#[derive(Template)]
#[template(path = "study_questions.html")]
struct BankPage {
    c: Chrome,
    page: QuestionPage,
    f: QuestionFilter,
    pages: i64,
    orgs: Vec<Org>,
    kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    import: Option<ImportReport>,
    errors: Vec<(String, String)>,
    /// The filter as a query string, for the pager and the export.
    query: String,
    /// The reader: a question of a bank above theirs is shown, not offered to edit.
    caller: store::Caller,
}

impl BankPage {
    fn editable(&self, q: &store::study::questions::Question) -> bool {
        questions::editable(&self.caller, q)
    }
    fn kind_zh(&self, code: &str) -> &'static str {
        QuestionKind::parse(code).map(QuestionKind::zh).unwrap_or("")
    }
}

async fn draw_bank(
    s: &AppState,
    w: &WebCaller,
    f: QuestionFilter,
    import: Option<ImportReport>,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, "/study/questions", "study.bank");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    let page = crate::or_error_page!(c, questions::list(&s.store.db, &w.caller, &f).await);
    let pages = (page.total + questions::PAGE - 1) / questions::PAGE;
    let query = serde_urlencoded::to_string([
        ("kind", f.kind.clone().unwrap_or_default()),
        ("category", f.category.clone().unwrap_or_default()),
        ("difficulty", f.difficulty.map(|d| d.to_string()).unwrap_or_default()),
        ("q", f.q.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    render(&BankPage {
        c,
        page,
        f,
        pages,
        orgs,
        kinds: kinds(),
        categories: categories(),
        import,
        errors,
        query,
        caller: w.caller.clone(),
    })
}

async fn bank(State(s): State<AppState>, w: WebCaller, Query(f): Query<QuestionFilter>) -> Response {
    draw_bank(&s, &w, f, None, Vec::new()).await
}

/// The bank's import: preview, all or good rows only, the report drawn on the bank page.
async fn import(State(s): State<AppState>, w: WebCaller, req: Request) -> Response {
    let c = Chrome::for_caller(&w, "/study/questions", "study.bank");
    let form = match axum::extract::Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => return error_page(c, crate::error::Failure::bad_request("multipart")),
    };
    let parts = crate::or_error_page!(c, crate::web::read_parts(form).await);
    let part = |name: &str| parts.iter().find(|p| p.name == name);
    let bytes = part("file").map(|p| p.bytes.to_vec()).unwrap_or_default();
    let org_id = part("org_id").and_then(|p| p.text().parse().ok());
    let mode = part("mode").map_or_else(|| "preview".to_string(), |p| p.text());
    match crate::api::study::import_questions_file(&s, &w.caller, c.lang, org_id, &mode, &bytes).await {
        Ok(report) => draw_bank(&s, &w, QuestionFilter::default(), Some(report), Vec::new()).await,
        Err(f) if f.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let message = f.message(c.lang);
            draw_bank(&s, &w, QuestionFilter::default(), None, vec![("file".into(), message)]).await
        }
        Err(f) => error_page(c, f),
    }
}

#[derive(Template)]
#[template(path = "study_question_form.html")]
struct QuestionForm {
    c: Chrome,
    /// The question edited, or none for a new one.
    id: Option<i64>,
    version: i64,
    orgs: Vec<Org>,
    kinds: Vec<(&'static str, &'static str)>,
    /// Each category's code, label and whether it is ticked.
    categories: Vec<(&'static str, &'static str, bool)>,
    /// Eight option boxes (A–H), each with its letter and text.
    options: Vec<(char, String)>,
    f: QuestionDraft,
    errors: Vec<(String, String)>,
}

#[derive(Default)]
struct QuestionDraft {
    org_id: String,
    kind: String,
    stem: String,
    options: Vec<String>,
    answer: String,
    categories: Vec<String>,
    difficulty: String,
    explanation: String,
    retired: bool,
}

impl QuestionDraft {
    fn from_pairs(pairs: &[(String, String)]) -> QuestionDraft {
        let mut options: Vec<String> = (0..MAX_OPTIONS)
            .map(|i| posted(pairs, &format!("option_{}", letter(i))))
            .collect();
        while options.last().is_some_and(|o| o.trim().is_empty()) {
            options.pop();
        }
        QuestionDraft {
            org_id: posted(pairs, "org_id"),
            kind: posted(pairs, "kind"),
            stem: posted(pairs, "stem"),
            options,
            answer: posted(pairs, "answer"),
            categories: pairs
                .iter()
                .filter(|(k, _)| k == "categories")
                .map(|(_, v)| v.clone())
                .collect(),
            difficulty: posted(pairs, "difficulty"),
            explanation: posted(pairs, "explanation"),
            retired: posted(pairs, "retired") == "1",
        }
    }

    fn input(&self) -> QuestionInput {
        QuestionInput {
            org_id: self.org_id.parse().ok(),
            kind: Some(self.kind.clone()),
            stem: Some(self.stem.clone()),
            options: self.options.clone(),
            answer: Some(self.answer.clone()),
            categories: self.categories.clone(),
            difficulty: Some(self.difficulty.parse().unwrap_or(0)),
            explanation: Some(self.explanation.clone()),
            retired: Some(self.retired),
        }
    }
}

async fn draw_question_form(
    s: &AppState,
    w: &WebCaller,
    id: Option<i64>,
    version: i64,
    f: QuestionDraft,
    errors: Vec<(String, String)>,
) -> Response {
    let c = Chrome::for_caller(w, "/study/questions", "study.question");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    let categories = categories()
        .into_iter()
        .map(|(code, zh)| (code, zh, f.categories.iter().any(|x| x == code)))
        .collect();
    let options = (0..MAX_OPTIONS)
        .map(|i| (letter(i), f.options.get(i).cloned().unwrap_or_default()))
        .collect();
    render(&QuestionForm {
        c,
        id,
        version,
        orgs,
        kinds: kinds(),
        categories,
        options,
        f,
        errors,
    })
}

async fn new_question(State(s): State<AppState>, w: WebCaller) -> Response {
    let f = QuestionDraft {
        kind: "single".into(),
        difficulty: "2".into(),
        ..Default::default()
    };
    draw_question_form(&s, &w, None, 0, f, Vec::new()).await
}

async fn create_question(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let f = QuestionDraft::from_pairs(&form_urlencoded_pairs(&body));
    match questions::create(&s.store.db, &w.caller, &f.input()).await {
        Ok(_) => see_other("/study/questions?saved=1"),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/questions", "study.question");
            match form_errors(&c, &e) {
                Some(errors) => draw_question_form(&s, &w, None, 0, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn edit_question(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    let c = Chrome::for_caller(&w, "/study/questions", "study.question");
    let q = crate::or_error_page!(c, questions::get(&s.store.db, &w.caller, id).await);
    if !questions::editable(&w.caller, &q) {
        return error_page(c, store::Error::Forbidden.into());
    }
    let answer = match QuestionKind::parse(&q.kind) {
        Some(QuestionKind::Judge) => if q.answer == "true" { "对" } else { "错" }.to_string(),
        _ => q.answer.clone(),
    };
    let f = QuestionDraft {
        org_id: q.org_id.to_string(),
        kind: q.kind.clone(),
        stem: q.stem.clone(),
        options: q.options.clone(),
        answer,
        categories: q.categories.clone(),
        difficulty: q.difficulty.to_string(),
        explanation: q.explanation.clone(),
        retired: q.retired,
    };
    draw_question_form(&s, &w, Some(id), q.version, f, Vec::new()).await
}

async fn update_question(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let f = QuestionDraft::from_pairs(&form_urlencoded_pairs(&body));
    match questions::update(&s.store.db, &w.caller, id, &f.input()).await {
        Ok(_) => see_other("/study/questions?saved=1"),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/questions", "study.question");
            match form_errors(&c, &e) {
                Some(errors) => draw_question_form(&s, &w, Some(id), 0, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "study_exams.html")]
struct ExamListPage {
    c: Chrome,
    mine: Vec<MyExam>,
    managed: Vec<Exam>,
    /// Whether the caller manages study somewhere (and may set exams).
    manages: bool,
    today: chrono::NaiveDate,
}

async fn exam_list(State(s): State<AppState>, w: WebCaller) -> Response {
    let c = Chrome::for_caller(&w, "/study/exams", "study.exams");
    let mine = crate::or_error_page!(c, attempts::mine(&s.store.db, &w.caller).await);
    let managed = crate::or_error_page!(c, exams::managed(&s.store.db, &w.caller).await);
    render(&ExamListPage {
        c,
        mine,
        managed,
        manages: w.caller.can(store::Perm::ManageStudy),
        today: store::clock::today(),
    })
}

#[derive(Template)]
#[template(path = "study_exam_form.html")]
struct ExamForm {
    c: Chrome,
    orgs: Vec<Org>,
    kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    policies: Vec<(&'static str, &'static str)>,
    explains: Vec<(&'static str, &'static str)>,
    f: ExamDraft,
    errors: Vec<(String, String)>,
}

/// Rule rows on the form: enough for most papers; the API takes up to 20.
const RULE_ROWS: usize = 5;

#[derive(Default)]
struct ExamDraft {
    org_id: String,
    title: String,
    note: String,
    /// Each rule row: category, difficulty, kind, count.
    rules: Vec<(String, String, String, String)>,
    minutes: String,
    attempts_allowed: String,
    grade_policy: String,
    pass_percent: String,
    partial_credit: bool,
    explain: String,
    opens_on: String,
    closes_on: String,
}

async fn draw_exam_form(s: &AppState, w: &WebCaller, f: ExamDraft, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/study/exams", "study.new_exam");
    let orgs = crate::or_error_page!(c, study_orgs(s, w).await);
    if orgs.is_empty() {
        return error_page(c, store::Error::Forbidden.into());
    }
    render(&ExamForm {
        c,
        orgs,
        kinds: kinds(),
        categories: categories(),
        policies: GradePolicy::ALL.iter().map(|p| (p.as_str(), p.zh())).collect(),
        explains: Explain::ALL.iter().map(|p| (p.as_str(), p.zh())).collect(),
        f,
        errors,
    })
}

async fn new_exam(State(s): State<AppState>, w: WebCaller) -> Response {
    let mut rules = vec![(String::new(), String::new(), String::new(), String::new()); RULE_ROWS];
    rules[0].3 = "10".into();
    let f = ExamDraft {
        rules,
        minutes: "30".into(),
        attempts_allowed: "2".into(),
        grade_policy: "highest".into(),
        pass_percent: "60".into(),
        explain: "after_submit".into(),
        opens_on: store::clock::today().to_string(),
        ..Default::default()
    };
    draw_exam_form(&s, &w, f, Vec::new()).await
}

async fn create_exam(State(s): State<AppState>, w: WebCaller, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let f = ExamDraft {
        org_id: posted(&pairs, "org_id"),
        title: posted(&pairs, "title"),
        note: posted(&pairs, "note"),
        rules: (0..RULE_ROWS)
            .map(|i| {
                (
                    posted(&pairs, &format!("rule{i}_category")),
                    posted(&pairs, &format!("rule{i}_difficulty")),
                    posted(&pairs, &format!("rule{i}_kind")),
                    posted(&pairs, &format!("rule{i}_count")),
                )
            })
            .collect(),
        minutes: posted(&pairs, "minutes"),
        attempts_allowed: posted(&pairs, "attempts_allowed"),
        grade_policy: posted(&pairs, "grade_policy"),
        pass_percent: posted(&pairs, "pass_percent"),
        partial_credit: posted(&pairs, "partial_credit") == "1",
        explain: posted(&pairs, "explain"),
        opens_on: posted(&pairs, "opens_on"),
        closes_on: posted(&pairs, "closes_on"),
    };
    let number = |s: &str| -> Option<i64> {
        let s = s.trim();
        // A box left empty takes the default; anything else unreadable is out of range.
        (!s.is_empty()).then(|| s.parse().unwrap_or(-1))
    };
    let input = ExamInput {
        org_id: f.org_id.parse().ok(),
        title: Some(f.title.clone()),
        note: Some(f.note.clone()),
        rules: f
            .rules
            .iter()
            .filter(|r| !r.3.trim().is_empty())
            .map(|(category, difficulty, kind, count)| Rule {
                category: Some(category.clone()).filter(|c| !c.is_empty()),
                difficulty: number(difficulty),
                kind: Some(kind.clone()).filter(|k| !k.is_empty()),
                count: number(count).unwrap_or(0),
            })
            .collect(),
        fixed_ids: Vec::new(),
        minutes: number(&f.minutes),
        attempts_allowed: number(&f.attempts_allowed),
        grade_policy: Some(f.grade_policy.clone()),
        pass_percent: number(&f.pass_percent),
        partial_credit: f.partial_credit,
        explain: Some(f.explain.clone()),
        opens_on: Some(f.opens_on.clone()),
        closes_on: Some(f.closes_on.clone()),
    };
    match exams::create(&s.store.db, &w.caller, &input).await {
        Ok(e) => see_other(&format!("/study/exams/{}?saved=1", e.id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/exams", "study.new_exam");
            match form_errors(&c, &e) {
                Some(errors) => draw_exam_form(&s, &w, f, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "study_exam.html")]
struct ExamPage {
    c: Chrome,
    exam: Exam,
    /// The caller's own standing when the exam reaches them as a member.
    mine: Option<MyExam>,
    results: Option<ExamResults>,
    pages: i64,
    open: bool,
    shows: [&'static str; 4],
}

impl ExamPage {
    fn mark(&self, permille: &i64) -> String {
        domain::study::exam::mark_text(*permille)
    }
    fn rule_text(&self, r: &Rule) -> String {
        let mut parts = Vec::new();
        if let Some(c) = r.category.as_deref().and_then(domain::study::Category::parse) {
            parts.push(c.zh().to_string());
        }
        if let Some(k) = r.kind.as_deref().and_then(QuestionKind::parse) {
            parts.push(k.zh().to_string());
        }
        if let Some(d) = r.difficulty {
            parts.push(format!("{} {d}", self.c.t("study.difficulty")));
        }
        if parts.is_empty() {
            parts.push(self.c.t("study.any_question"));
        }
        format!("{} × {}", parts.join(" · "), r.count)
    }
}

#[derive(Deserialize)]
struct ResultsQuery {
    show: Option<String>,
    page: Option<String>,
}

async fn exam(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, Query(q): Query<ResultsQuery>) -> Response {
    let c = Chrome::for_caller(&w, "/study/exams", "study.exams");
    let db = &s.store.db;
    let exam = crate::or_error_page!(c, exams::get(db, &w.caller, id).await);
    let mine = crate::or_error_page!(c, attempts::mine(db, &w.caller).await)
        .into_iter()
        .find(|m| m.exam.id == id);
    let results = if exams::oversees(&w.caller, &exam) {
        let page = q.page.and_then(|p| p.parse().ok()).unwrap_or(1);
        let show = q.show.as_deref().filter(|s| !s.is_empty()).unwrap_or("all");
        Some(crate::or_error_page!(
            c,
            exams::results(db, &w.caller, id, show, page).await
        ))
    } else {
        None
    };
    let pages = results
        .as_ref()
        .map_or(0, |r| (r.shown + exams::RESULTS_PAGE - 1) / exams::RESULTS_PAGE);
    let open = exam.is_open(store::clock::today());
    render(&ExamPage {
        c,
        exam,
        mine,
        results,
        pages,
        open,
        shows: exams::SHOWS,
    })
}

async fn start(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    match attempts::start(&s.store.db, &w.caller, id).await {
        Ok(a) => see_other(&format!("/study/attempts/{}", a.id)),
        Err(e) => error_page(Chrome::for_caller(&w, "/study/exams", "study.exams"), e.into()),
    }
}

#[derive(Template)]
#[template(path = "study_attempt.html")]
struct AttemptPage {
    c: Chrome,
    a: Attempt,
    /// The caller answers it (their own attempt, still open).
    answering: bool,
    /// The caller marks its short answers.
    marking: bool,
    /// When the server stops taking answers, in Beijing time.
    deadline: String,
    errors: Vec<(String, String)>,
}

impl AttemptPage {
    /// "第 2 次作答", "Attempt 2".
    fn attempt_title(&self) -> String {
        self.c.t("study.attempt").replace("{}", &self.a.number.to_string())
    }
    fn mark(&self, permille: &i64) -> String {
        domain::study::exam::mark_text(*permille)
    }
    fn kind_zh(&self, code: &str) -> &'static str {
        QuestionKind::parse(code).map(QuestionKind::zh).unwrap_or("")
    }
    fn letter(&self, i: &usize) -> char {
        letter(*i)
    }
    /// Whether option `i` is among the letters given.
    fn chose(&self, given: &Option<String>, i: &usize) -> bool {
        given.as_deref().is_some_and(|g| g.contains(letter(*i)))
    }
    fn judgement(&self, key: &str) -> String {
        match domain::study::exam::judgement(key) {
            Some(true) => "对".into(),
            Some(false) => "错".into(),
            None => key.to_string(),
        }
    }
}

async fn draw_attempt(s: &AppState, w: &WebCaller, id: i64, errors: Vec<(String, String)>) -> Response {
    let c = Chrome::for_caller(w, "/study/exams", "study.exams");
    let a = crate::or_error_page!(c, attempts::attempt(&s.store.db, &w.caller, id).await);
    let own = w.caller.member_id == Some(a.member_id);
    let answering = own && a.status == "open";
    let marking = !own && a.status == "marking";
    let deadline = c.local(&a.deadline_at);
    render(&AttemptPage {
        c,
        a,
        answering,
        marking,
        deadline,
        errors,
    })
}

async fn attempt(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>) -> Response {
    draw_attempt(&s, &w, id, Vec::new()).await
}

/// The answers of a posted attempt: `q3=A&q3=C` become "AC" for position 3.
fn answers(pairs: &[(String, String)]) -> HashMap<String, serde_json::Value> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (k, v) in pairs {
        if let Some(position) = k.strip_prefix('q') {
            out.entry(position.to_string()).or_default().push_str(v);
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect()
}

async fn submit(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let input = SubmitInput {
        answers: answers(&form_urlencoded_pairs(&body)),
    };
    match attempts::submit(&s.store.db, &w.caller, id, &input).await {
        Ok(_) => see_other(&format!("/study/attempts/{id}?saved=1")),
        // A second hand-in (a stale tab, a replayed form) or a late one: the attempt as it stands
        // now, its result, headed by why the answers were not taken.
        Err(e @ store::Error::Refused("study.attempt.submitted" | "study.attempt.time_up")) => {
            let failure: crate::error::Failure = e.into();
            let message = failure.message(w.prefs.lang);
            let mut page = draw_attempt(&s, &w, id, vec![("answers".into(), message)]).await;
            if page.status().is_success() {
                *page.status_mut() = failure.status;
            }
            page
        }
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/exams", "study.exams");
            match form_errors(&c, &e) {
                Some(errors) => draw_attempt(&s, &w, id, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}

async fn mark(State(s): State<AppState>, w: WebCaller, Path(id): Path<i64>, body: String) -> Response {
    let pairs = form_urlencoded_pairs(&body);
    let marks = pairs
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("mark")?.to_string(), v.trim().parse().unwrap_or(-1))))
        .collect();
    match attempts::mark(&s.store.db, &w.caller, id, &MarkInput { marks }).await {
        Ok(a) => see_other(&format!("/study/exams/{}?saved=1", a.exam_id)),
        Err(e) => {
            let c = Chrome::for_caller(&w, "/study/exams", "study.exams");
            match form_errors(&c, &e) {
                Some(errors) => draw_attempt(&s, &w, id, errors).await,
                None => error_page(c, e.into()),
            }
        }
    }
}
