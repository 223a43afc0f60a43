//! Online study (学习教育) over the API: the library, study tasks and their progress, offline
//! records and exemptions, the question bank and exams, a member's 学时 ledger and the report over
//! a subtree.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::study::attempts::{self, Attempt, MarkInput, MyExam, SubmitInput};
use store::study::classes::{self, Class, ClassInput, RollInput, RollLine};
use store::study::credits::{self, ExemptionInput};
use store::study::exams::{self, Exam, ExamInput, ExamResults};
use store::study::item_import::{self, Attachment};
use store::study::items::{self, Item, ItemFilter, ItemInput};
use store::study::media::{self, ProgressInput, StudyFile, Watched};
use store::study::questions::{self, Question, QuestionFilter, QuestionInput, QuestionPage};
use store::study::reports::{self, Ledger, Report};
use store::study::tasks::{self, MyTask, OfflineInput, Recorded, Task, TaskInput, TaskProgress};
use utoipa::{IntoParams, ToSchema};

use super::files::{attachment, file_failure, import_problems, upload_bytes, ImportReport, XLSX_TYPE};
use super::{ApiJson, ApiQuery, Id, YearQuery};
use crate::auth::ApiCaller;
use crate::error::{ApiResult, Failure};
use crate::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, update_item))
        .routes(routes!(complete_item))
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task))
        .routes(routes!(record_offline))
        .routes(routes!(set_exemption))
        .routes(routes!(member_study))
        .routes(routes!(org_study))
        .routes(routes!(org_study_xlsx))
        .routes(routes!(list_classes, create_class))
        .routes(routes!(get_class))
        .routes(routes!(set_class_attendance))
        .routes(routes!(list_questions, create_question))
        .routes(routes!(get_question, update_question))
        .routes(routes!(import_questions))
        .routes(routes!(export_questions))
        .routes(routes!(questions_template))
        .routes(routes!(items_template))
        .routes(routes!(list_exams, create_exam))
        .routes(routes!(get_exam))
        .routes(routes!(start_attempt))
        .routes(routes!(get_attempt))
        .routes(routes!(submit_attempt))
        .routes(routes!(mark_attempt))
        .routes(routes!(item_file))
        .routes(routes!(item_progress))
        // Study files (lecture videos) are larger than any other upload.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_file))
                .routes(routes!(import_items))
                .layer(axum::extract::DefaultBodyLimit::max(media::MAX_BYTES)),
        )
}

/// The library as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct Library {
    /// Published items that reach the caller as a member, newest first (a page).
    items: Vec<Item>,
    total: i64,
    /// Items of the organizations where the caller manages study, every status (a page).
    managed: Vec<Item>,
    managed_total: i64,
    page: i64,
    per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/study/items", params(ItemFilter),
    responses((status = 200, body = Library)))]
pub async fn list_items(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<ItemFilter>,
) -> ApiResult<Json<Library>> {
    let mine = items::library(&s.store.db, &a.caller, &f).await?;
    let managed = items::managed(&s.store.db, &a.caller, &f).await?;
    Ok(Json(Library {
        items: mine.items,
        total: mine.total,
        managed: managed.items,
        managed_total: managed.total,
        page: f.page.unwrap_or(1).max(1),
        per_page: items::PAGE,
    }))
}

#[utoipa::path(post, path = "/api/v1/study/items", request_body = ItemInput,
    responses((status = 201, body = Item, description = "drafted and submitted to the review chain (kind `study`); published when the last level approves")))]
pub async fn create_item(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<ItemInput>,
) -> ApiResult<Response> {
    let item = items::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

#[utoipa::path(get, path = "/api/v1/study/items/{id}", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Item, description = "opening it as a member it reaches records that they opened it, which lets them mark it done")))]
pub async fn get_item(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Item>> {
    Ok(Json(items::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/study/items/{id}", params(("id" = i64, Path, description = "the record's id")), request_body = ItemInput,
    responses((status = 200, body = Item, description = "a published item gets a new version and goes through review again; credit earned on the old one stays")))]
pub async fn update_item(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<ItemInput>,
) -> ApiResult<Json<Item>> {
    Ok(Json(items::update(&s.store.db, &a.caller, id, &input).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Completed {
    /// False when the item had been credited before (it counts once).
    credited: bool,
    item: Item,
}

#[utoipa::path(post, path = "/api/v1/study/items/{id}/complete", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Completed, description = "the caller, having opened the item, marks it done; its declared 学时 are credited once (no timer)")))]
pub async fn complete_item(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Completed>> {
    let credited = items::complete(&s.store.db, &a.caller, id).await?;
    let item = items::get(&s.store.db, &a.caller, id).await?;
    Ok(Json(Completed { credited, item }))
}

#[derive(Serialize, ToSchema)]
pub struct TaskLists {
    /// Tasks that reach the caller as a member, with their items and progress.
    mine: Vec<MyTask>,
    /// Tasks of the organizations where the caller manages study.
    managed: Vec<Task>,
}

#[utoipa::path(get, path = "/api/v1/study/tasks", responses((status = 200, body = TaskLists)))]
pub async fn list_tasks(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<TaskLists>> {
    Ok(Json(TaskLists {
        mine: tasks::mine(&s.store.db, &a.caller).await?,
        managed: tasks::managed(&s.store.db, &a.caller).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/study/tasks", request_body = TaskInput, responses((status = 201, body = Task)))]
pub async fn create_task(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<TaskInput>,
) -> ApiResult<Response> {
    let task = tasks::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(task)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1; smaller is the first page.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/study/tasks/{id}", params(("id" = i64, Path, description = "the record's id"), PageQuery),
    responses((status = 200, body = TaskProgress, description = "progress per member for those who manage study (100 a page), exempt members out of the rate")))]
pub async fn get_task(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<TaskProgress>> {
    Ok(Json(
        tasks::progress(&s.store.db, &a.caller, id, q.page.unwrap_or(1)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/study/tasks/{id}/offline", params(("id" = i64, Path, description = "the record's id")), request_body = OfflineInput,
    responses((status = 200, body = Recorded, description = "every item of the task credited to each member, all or nothing")))]
pub async fn record_offline(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<OfflineInput>,
) -> ApiResult<Json<Recorded>> {
    Ok(Json(tasks::record_offline(&s.store.db, &a.caller, id, &input).await?))
}

#[utoipa::path(post, path = "/api/v1/study/exemptions", request_body = ExemptionInput,
    responses((status = 204, description = "recorded (or lifted with `none`)")))]
pub async fn set_exemption(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<ExemptionInput>,
) -> ApiResult<StatusCode> {
    credits::exempt(&s.store.db, &a.caller, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/members/{id}/study", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, body = Ledger, description = "the member's 学时 for the year, line by line with each source")))]
pub async fn member_study(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Ledger>> {
    Ok(Json(
        reports::ledger(&s.store.db, &a.caller, id, i64::from(q.year()?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/study", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, body = Report, description = "members below the minimum, task completion rates and 学时 by category over the subtree")))]
pub async fn org_study(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Json<Report>> {
    Ok(Json(
        reports::report(&s.store.db, &a.caller, id, i64::from(q.year()?)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/study.xlsx", params(("id" = i64, Path, description = "the record's id"), YearQuery),
    responses((status = 200, description = "the study report as a workbook, every member below the minimum listed; audited")))]
pub async fn org_study_xlsx(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    let year = q.year()?;
    let report = reports::export(&s.store.db, &a.caller, id, i64::from(year)).await?;
    let bytes = crate::sheets::study::write_report(&report).map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, &format!("study-{year}.xlsx"), bytes))
}

#[derive(Serialize, ToSchema)]
pub struct ClassList {
    items: Vec<Class>,
}

#[utoipa::path(get, path = "/api/v1/study/classes", responses((status = 200, body = ClassList, description = "training classes of the organizations where the caller manages study")))]
pub async fn list_classes(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<ClassList>> {
    Ok(Json(ClassList {
        items: classes::managed(&s.store.db, &a.caller).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/study/classes", request_body = ClassInput, responses((status = 201, body = Class)))]
pub async fn create_class(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<ClassInput>,
) -> ApiResult<Response> {
    let class = classes::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(class)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ClassRoll {
    class: Class,
    /// The active members of the class's subtree in the caller's reach, with who attended.
    roll: Vec<RollLine>,
}

#[utoipa::path(get, path = "/api/v1/study/classes/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = ClassRoll)))]
pub async fn get_class(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<ClassRoll>> {
    let (class, roll) = classes::roll(&s.store.db, &a.caller, id).await?;
    Ok(Json(ClassRoll { class, roll }))
}

#[utoipa::path(put, path = "/api/v1/study/classes/{id}/attendance", params(("id" = i64, Path, description = "the record's id")), request_body = RollInput,
    responses((status = 200, body = Class, description = "the roll replaced, all or nothing; each member present is credited the class's 学时, split by day between the years it spans")))]
pub async fn set_class_attendance(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<RollInput>,
) -> ApiResult<Json<Class>> {
    Ok(Json(classes::set_attendance(&s.store.db, &a.caller, id, &input).await?))
}

#[utoipa::path(get, path = "/api/v1/study/questions", params(QuestionFilter),
    responses((status = 200, body = QuestionPage, description = "the banks the caller sees as one who manages study (their subtree's and those above), with keys; 50 a page")))]
pub async fn list_questions(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<QuestionFilter>,
) -> ApiResult<Json<QuestionPage>> {
    Ok(Json(questions::list(&s.store.db, &a.caller, &f).await?))
}

#[utoipa::path(post, path = "/api/v1/study/questions", request_body = QuestionInput, responses((status = 201, body = Question)))]
pub async fn create_question(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<QuestionInput>,
) -> ApiResult<Response> {
    let q = questions::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(q)).into_response())
}

#[utoipa::path(get, path = "/api/v1/study/questions/{id}", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, body = Question)))]
pub async fn get_question(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Question>> {
    Ok(Json(questions::get(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/study/questions/{id}", params(("id" = i64, Path, description = "the record's id")), request_body = QuestionInput,
    responses((status = 200, body = Question, description = "a new version; attempts already made keep the copy they drew")))]
pub async fn update_question(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<QuestionInput>,
) -> ApiResult<Json<Question>> {
    Ok(Json(questions::update(&s.store.db, &a.caller, id, &input).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionImportQuery {
    /// The organization whose bank receives the questions.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(minimum = 1)]
    org_id: Option<i64>,
    /// `preview` (default), `all` (only if every row is good) or `good_only`.
    #[serde(default)]
    #[param(schema_with = super::files::import_mode_schema)]
    mode: Option<String>,
}

/// Checks a question file and, unless previewing, writes it: the report the API and the page share.
pub async fn import_questions_file(
    s: &AppState,
    caller: &store::Caller,
    lang: crate::i18n::Lang,
    org_id: Option<i64>,
    mode: &str,
    bytes: &[u8],
) -> ApiResult<ImportReport> {
    super::files::check_mode(mode)?;
    // Asked before the file is read: the gate decides and audits a refusal.
    caller
        .require_any(
            &s.store.db,
            store::Perm::ManageStudy,
            "study.question.import",
            ("org", &""),
        )
        .await?;
    let rows = crate::sheets::study::read_questions(bytes).map_err(file_failure)?;
    let plan = questions::plan_import(&s.store.db, caller, org_id, rows).await?;
    let problems = import_problems(lang, &plan.problems);
    let refused = mode == "all" && !problems.is_empty();
    let imported = if mode == "preview" || refused {
        0
    } else {
        questions::commit_import(&s.store.db, caller, org_id, &plan).await?
    };
    Ok(ImportReport {
        rows: plan.rows,
        good: plan.good.len(),
        bad_lines: plan.bad_lines(),
        problems,
        imported,
    })
}

#[utoipa::path(post, path = "/api/v1/study/questions/import", params(QuestionImportQuery),
    request_body(content = String, description = "XLSX or CSV with 题型, 题干, 选项A … 选项H, 答案, 分类, 难度, 解析 (the template's columns)"),
    responses((status = 200, body = ImportReport), (status = 422, description = "the report (ImportReport) when mode=all and rows are bad, else the error format: nothing written")))]
pub async fn import_questions(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<QuestionImportQuery>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let lang = crate::i18n::Lang::of_request(req.headers());
    let mode = q.mode.filter(|m| !m.is_empty()).unwrap_or_else(|| "preview".into());
    let bytes = upload_bytes(req).await?;
    let report = import_questions_file(&s, &a.caller, lang, q.org_id, &mode, &bytes).await?;
    let status = if mode == "all" && !report.problems.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemImportQuery {
    /// The publishing organization.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    #[param(required = true, minimum = 1)]
    org_id: Option<i64>,
    /// `preview` (default), `all` (only if every row is good) or `good_only`.
    #[serde(default)]
    #[param(schema_with = super::files::import_mode_schema)]
    mode: Option<String>,
}

/// Checks a library workbook with the files its rows name and, unless previewing, writes it: the
/// report the API and the page share.
pub async fn import_items_upload(
    s: &AppState,
    caller: &store::Caller,
    lang: crate::i18n::Lang,
    org_id: Option<i64>,
    mode: &str,
    workbook: &[u8],
    attachments: Vec<Attachment>,
) -> ApiResult<ImportReport> {
    super::files::check_mode(mode)?;
    // Asked before the file is read: the gate decides and audits a refusal.
    caller
        .require_any(&s.store.db, store::Perm::ManageStudy, "study.item.import", ("org", &""))
        .await?;
    let rows = crate::sheets::study::read_items(workbook).map_err(file_failure)?;
    let plan = item_import::plan_import(&s.store.db, caller, org_id, rows, &attachments).await?;
    let problems = import_problems(lang, &plan.problems);
    let (rows, good, bad_lines) = (plan.rows, plan.good.len(), plan.bad_lines());
    let imported = if mode == "preview" || (mode == "all" && !problems.is_empty()) {
        0
    } else {
        item_import::commit_import(&s.store.db, &s.files_dir, caller, org_id, plan, attachments).await?
    };
    Ok(ImportReport {
        rows,
        good,
        bad_lines,
        problems,
        imported,
    })
}

/// A multipart form's workbook (`file`) and the files beside it (`attachments`, any number), or
/// a raw body holding the workbook alone.
async fn workbook_upload(req: axum::extract::Request) -> ApiResult<(Vec<u8>, Vec<Attachment>)> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Ok((upload_bytes(req).await?, Vec::new()));
    }
    use axum::extract::FromRequest;
    let malformed = |e: axum::extract::multipart::MultipartError| Failure::bad_request(&e.body_text());
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| Failure::bad_request(&e.body_text()))?;
    let (mut workbook, mut attachments) = (Vec::new(), Vec::new());
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("file") => workbook = field.bytes().await.map_err(malformed)?.to_vec(),
            Some("attachments") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(malformed)?.to_vec();
                // A file input left empty still sends a part with no name and no bytes.
                if !name.is_empty() || !bytes.is_empty() {
                    attachments.push(Attachment { name, bytes });
                }
            }
            _ => {}
        }
    }
    Ok((workbook, attachments))
}

#[utoipa::path(post, path = "/api/v1/study/items/import", params(ItemImportQuery),
    request_body(content = String, description = "a multipart form: `file`, the workbook (XLSX or CSV with 标题, 类型, 分类, 学时, 摘要, 出处, 正文, 链接, 文件, 时长, 标签, 发送范围: the template's columns), and `attachments`, the documents, video and audio its 文件 column names (at most 512 MB in all); or the workbook alone as the body"),
    responses((status = 200, body = ImportReport, description = "the report; unless previewing, each good row is an item submitted to the review chain"),
              (status = 422, description = "the report (ImportReport) when mode=all and rows are bad, else the error format: nothing written")))]
pub async fn import_items(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<ItemImportQuery>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let lang = crate::i18n::Lang::of_request(req.headers());
    let mode = q.mode.filter(|m| !m.is_empty()).unwrap_or_else(|| "preview".into());
    let (workbook, attachments) = workbook_upload(req).await?;
    let report = import_items_upload(&s, &a.caller, lang, q.org_id, &mode, &workbook, attachments).await?;
    let status = if mode == "all" && !report.problems.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}

#[utoipa::path(get, path = "/api/v1/study/items/template", responses((status = 200, description = "a library workbook to fill in (XLSX): one example of each kind and how to fill it in")))]
pub async fn items_template(_a: ApiCaller) -> ApiResult<Response> {
    let bytes = crate::sheets::study::items_template().map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, "study-items-template.xlsx", bytes))
}

#[utoipa::path(get, path = "/api/v1/study/questions/export", params(QuestionFilter),
    responses((status = 200, description = "the banks the caller sees, filtered, in the import's columns (XLSX); audited")))]
pub async fn export_questions(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(f): ApiQuery<QuestionFilter>,
) -> ApiResult<Response> {
    let rows = questions::export(&s.store.db, &a.caller, &f).await?;
    let bytes = crate::sheets::study::write_questions(&rows).map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, "questions.xlsx", bytes))
}

#[utoipa::path(get, path = "/api/v1/study/questions/template", responses((status = 200, description = "a question file to fill in (XLSX), one example of each kind")))]
pub async fn questions_template(_a: ApiCaller) -> ApiResult<Response> {
    let bytes = crate::sheets::study::questions_template().map_err(|_| Failure::new("internal"))?;
    Ok(attachment(XLSX_TYPE, "questions-template.xlsx", bytes))
}

#[derive(Serialize, ToSchema)]
pub struct ExamLists {
    /// Exams that reach the caller as a member, with their standing.
    mine: Vec<MyExam>,
    /// Exams of the organizations where the caller manages study.
    managed: Vec<Exam>,
}

#[utoipa::path(get, path = "/api/v1/study/exams", responses((status = 200, body = ExamLists)))]
pub async fn list_exams(State(s): State<AppState>, a: ApiCaller) -> ApiResult<Json<ExamLists>> {
    Ok(Json(ExamLists {
        mine: attempts::mine(&s.store.db, &a.caller).await?,
        managed: exams::managed(&s.store.db, &a.caller).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/study/exams", request_body = ExamInput,
    responses((status = 201, body = Exam, description = "each rule must find enough questions in the banks of the organization and those above it")))]
pub async fn create_exam(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiJson(input): ApiJson<ExamInput>,
) -> ApiResult<Response> {
    let exam = exams::create(&s.store.db, &a.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(exam)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ExamView {
    exam: Exam,
    /// For those who keep study where it reaches: each member's attempts and kept grade, in tree
    /// order (100 a page; never ranked).
    results: Option<ExamResults>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `all` (default), `took`, `not_taken` or `marking`.
    #[serde(default)]
    #[param(schema_with = results_shows)]
    show: Option<String>,
    /// From 1; smaller is the first page.
    #[serde(default, deserialize_with = "store::empty_as_none")]
    page: Option<i64>,
}

fn results_shows() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&exams::SHOWS)
}

#[utoipa::path(get, path = "/api/v1/study/exams/{id}", params(("id" = i64, Path, description = "the record's id"), ResultsQuery),
    responses((status = 200, body = ExamView)))]
pub async fn get_exam(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> ApiResult<Json<ExamView>> {
    let exam = exams::get(&s.store.db, &a.caller, id).await?;
    let results = if exams::oversees(&a.caller, &exam) {
        let show = q.show.as_deref().filter(|s| !s.is_empty()).unwrap_or("all");
        Some(exams::results(&s.store.db, &a.caller, id, show, q.page.unwrap_or(1)).await?)
    } else {
        None
    };
    Ok(Json(ExamView { exam, results }))
}

#[utoipa::path(post, path = "/api/v1/study/exams/{id}/attempts", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 201, body = Attempt, description = "a new attempt (or the one still open) with its own drawn questions, options shuffled, without the key")))]
pub async fn start_attempt(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Response> {
    let attempt = attempts::start(&s.store.db, &a.caller, id).await?;
    Ok((StatusCode::CREATED, Json(attempt)).into_response())
}

#[utoipa::path(get, path = "/api/v1/study/attempts/{id}", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, body = Attempt, description = "to its member (the key once graded, by the exam's setting) and to those who mark it")))]
pub async fn get_attempt(State(s): State<AppState>, a: ApiCaller, Id(id): Id) -> ApiResult<Json<Attempt>> {
    Ok(Json(attempts::attempt(&s.store.db, &a.caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/study/attempts/{id}/submit", params(("id" = i64, Path, description = "the record's id")), request_body = SubmitInput,
    responses((status = 200, body = Attempt, description = "graded on the server (a score or correctness sent is ignored); short answers wait for marking")))]
pub async fn submit_attempt(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<SubmitInput>,
) -> ApiResult<Json<Attempt>> {
    Ok(Json(attempts::submit(&s.store.db, &a.caller, id, &input).await?))
}

#[utoipa::path(post, path = "/api/v1/study/attempts/{id}/mark", params(("id" = i64, Path, description = "the record's id")), request_body = MarkInput,
    responses((status = 200, body = Attempt, description = "every short answer marked out of 100; the attempt is then graded")))]
pub async fn mark_attempt(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<MarkInput>,
) -> ApiResult<Json<Attempt>> {
    Ok(Json(attempts::mark(&s.store.db, &a.caller, id, &input).await?))
}

#[utoipa::path(post, path = "/api/v1/study/files", params(super::files::FileNameQuery),
    request_body(content = String, description = "the file as the body or a multipart `file` field: PDF or DOCX for a document; MP4, WebM, MP3, M4A, OGG or WAV for video and audio (at most 512 MB); its type is read from its bytes"),
    responses((status = 201, body = StudyFile, description = "kept; give its id as `file_id` on an item")))]
pub async fn upload_file(
    State(s): State<AppState>,
    a: ApiCaller,
    ApiQuery(q): ApiQuery<super::files::FileNameQuery>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let (name, bytes) = super::files::upload_limited(req, q.name, media::MAX_BYTES).await?;
    let file = media::upload(&s.store.db, &s.files_dir, &a.caller, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(file)).into_response())
}

#[utoipa::path(get, path = "/api/v1/study/items/{id}/file", params(("id" = i64, Path, description = "the record's id")),
    responses((status = 200, description = "the item's document, video or audio, inline; `Range` requests answer 206 with the part asked"),
              (status = 206, description = "the part of the file a `Range` header asked for")))]
pub async fn item_file(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    use tower::ServiceExt;
    let (path, content_type, name) = media::item_file(&s.store.db, &s.files_dir, &a.caller, id).await?;
    let mime: mime::Mime = content_type.parse().map_err(|_| Failure::new("internal"))?;
    let mut res = tower_http::services::ServeFile::new_with_mime(path, &mime)
        .oneshot(req)
        .await
        .map_err(|_| Failure::new("internal"))?
        .map(axum::body::Body::new);
    if res.status() == StatusCode::NOT_FOUND {
        return Err(Failure::new("not_found"));
    }
    let headers = res.headers_mut();
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    if let Ok(v) = format!("inline; filename=\"{ascii}\"").parse() {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/study/items/{id}/progress", params(("id" = i64, Path, description = "the record's id")), request_body = ProgressInput,
    responses((status = 200, body = Watched, description = "the ranges played, merged on the server; at 95% of its length the item is completed and its 学时 credited once (no report may claim more than double speed)")))]
pub async fn item_progress(
    State(s): State<AppState>,
    a: ApiCaller,
    Id(id): Id,
    ApiJson(input): ApiJson<ProgressInput>,
) -> ApiResult<Json<Watched>> {
    Ok(Json(media::progress(&s.store.db, &a.caller, id, &input).await?))
}
