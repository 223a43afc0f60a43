//! Study tasks (学习任务): an organization assigns published items to its subtree or chosen
//! organizations below it, with a start, a due date and whether it is required. Members see their
//! tasks; those who manage study see each member's progress (not started, started, completed),
//! exempt members apart; a secretary records offline study (代录) for many members at once.

use chrono::NaiveDate;
use domain::org::subtree_end;
use domain::study::{Form, Progress};
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use super::items::{self, Item};
use super::{credits, date, manages};
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};
use domain::org::lineage;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TaskInput {
    /// The assigning organization.
    #[schema(minimum = 1, required = true)]
    pub org_id: Option<i64>,
    #[schema(max_length = 100, required = true, min_length = 1)]
    pub title: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// Today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<String>,
    #[schema(value_type = Option<String>, format = Date, required = true)]
    pub due_on: Option<String>,
    /// Required (必学) or optional (选学).
    pub required: bool,
    /// Published library items, in the order to study them (none if the task is an exam alone).
    #[schema(max_items = 50)]
    pub item_ids: Vec<i64>,
    /// An exam set at or above the assigning organization, to be passed as part of the task.
    #[schema(minimum = 1)]
    pub exam_id: Option<i64>,
    /// Organizations below the assigning one that it goes to; empty for its whole subtree (unless
    /// members are chosen).
    #[schema(max_items = 1000)]
    pub to_org_ids: Vec<i64>,
    /// Members chosen by name (active, in the assigning organization's subtree), beside the
    /// organizations; with no organization chosen, the task goes to these members alone.
    #[schema(max_items = 500)]
    pub to_member_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub note: String,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub required: bool,
    /// The exam passed as part of the task, if any.
    pub exam_id: Option<i64>,
    pub exam_title: Option<String>,
    /// Members chosen by name among its audience.
    pub chosen_members: i64,
    pub created_by: String,
    pub created_at: String,
}

const SELECT: &str = concat!(
    "SELECT t.id, t.org_id, o.name AS org_name, t.org_path, t.title, t.note, t.starts_on, t.due_on, t.required,
     t.exam_id, (SELECT e.title FROM study_exams e WHERE e.id = t.exam_id) AS exam_title,
     (SELECT COUNT(*) FROM study_task_members tm WHERE tm.task_id = t.id) AS chosen_members, ",
    person!("t.created_by"),
    " AS created_by, t.created_at FROM study_tasks t JOIN orgs o ON o.id = t.org_id"
);

/// Assigns a task. Its items must be published and within the caller's reach (their own
/// organizations' items, or items that reach the assigning organization).
pub async fn create(db: &Db, caller: &Caller, input: &TaskInput) -> Result<Task> {
    let mut e = Vec::new();
    let title = domain::required_text("title", input.title.as_deref(), 100, &mut e);
    let note = clean_text("note", input.note.as_deref().unwrap_or(""), 500, &mut e).unwrap_or_default();
    let today = crate::clock::today();
    let starts_on = date("starts_on", input.starts_on.as_deref(), &mut e).unwrap_or(today);
    let due_on = date("due_on", input.due_on.as_deref(), &mut e);
    match due_on {
        None if input.due_on.as_deref().is_none_or(|d| d.trim().is_empty()) => {
            e.push(FieldError::new("due_on", "required"))
        }
        Some(d) if d < starts_on => e.push(FieldError::new("due_on", "before_start")),
        _ => {}
    }
    if input.item_ids.is_empty() && input.exam_id.is_none() {
        e.push(FieldError::new("item_ids", "required"));
    }
    if let Err(Invalid(more)) = domain::error::list("item_ids", &input.item_ids, 50) {
        e.extend(more);
    }
    let Some(org_id) = input.org_id else {
        e.push(FieldError::new("org_id", "required"));
        return Err(Invalid(e).into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.task.create", ("org", &org_id))
        .await?;
    let mut chosen: Vec<Item> = Vec::new();
    for id in input.item_ids.iter().take(50) {
        match items::by_id(db, *id).await? {
            Some(i)
                if i.status == "published"
                    && (manages(caller, &i.org_path) || item_reaches_org(db, &org, i.id).await?) =>
            {
                chosen.push(i)
            }
            _ => e.push(FieldError::new("item_ids", "not_found")),
        }
    }
    if let Some(exam_id) = input.exam_id {
        // Every member the task reaches must be able to take it: set at or above the task's organization.
        match super::exams::get(db, caller, exam_id).await {
            Ok(exam) if org.path.starts_with(exam.org_path.as_str()) => {}
            _ => e.push(FieldError::new("exam_id", "not_found")),
        }
    }
    let named = named_members(db, caller, &org, &input.to_member_ids, &mut e).await?;
    // Named members alone, or organizations (the whole subtree when none is chosen) and named members.
    let targets = if input.to_org_ids.is_empty() && !named.is_empty() {
        Vec::new()
    } else {
        orgs::audience(db, caller, &org, "to_org_ids", &input.to_org_ids, &mut e).await?
    };
    domain::error::check(e)?;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_tasks (id, org_id, org_path, title, note, starts_on, due_on, required, created_by, created_at, exam_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(title.unwrap_or_default())
        .bind(note)
        .bind(starts_on)
        .bind(due_on)
        .bind(input.required)
        .bind(caller.username.clone())
        .bind(now_text())
        .bind(input.exam_id),
    )
    .await?;
    for (position, item) in chosen.iter().enumerate() {
        tx.exec(
            Q::new("INSERT INTO study_task_items (task_id, item_id, position) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(item.id)
                .bind(position as i64),
        )
        .await?;
    }
    for (target, path) in &targets {
        tx.exec(
            Q::new("INSERT INTO study_task_targets (task_id, org_id, org_path) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(*target)
                .bind(path.clone()),
        )
        .await?;
    }
    for chunk in named.chunks(500) {
        let mut q = Q::new("INSERT INTO study_task_members (task_id, member_id) VALUES ");
        for (i, member_id) in chunk.iter().enumerate() {
            q.push_row(i == 0, [id.into(), (*member_id).into()]);
        }
        tx.exec(q).await?;
    }
    // Members who had already completed its items (and passed its exam) have completed it.
    crate::study::totals::task_assigned(&mut tx, id).await?;
    crate::figures::task_assigned(&mut tx, id, today).await?;
    audit::append(&mut tx, caller, Event::ok("study.task.create", "study_task", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The members named as a task's audience: each active in the assigning organization's subtree
/// and in the caller's study scope (another branch's member is not found).
async fn named_members(db: &Db, caller: &Caller, org: &Org, ids: &[i64], e: &mut Vec<FieldError>) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    if ids.len() > 500 {
        e.push(FieldError::new("to_member_ids", "too_many_items:500"));
        return Ok(Vec::new());
    }
    let mut q = Q::new("SELECT m.id FROM members m WHERE m.status = 'active' AND m.org_path >= ");
    q.push_bind(org.path.clone())
        .push(" AND m.org_path < ")
        .push_bind(subtree_end(&org.path))
        .push(" AND m.id IN (")
        .push_list(ids.iter().copied())
        .push(") AND ");
    caller.filter(&mut q, Perm::ManageStudy, "m.org_path", crate::scope::Own::Nothing);
    let found: Vec<(i64,)> = db.all(q).await?;
    if found.len() != ids.len() {
        e.push(FieldError::new("to_member_ids", "not_found"));
    }
    Ok(found.into_iter().map(|(m,)| m).collect())
}

/// Whether a published item reaches an organization through its targets.
async fn item_reaches_org(db: &Db, org: &Org, item_id: i64) -> Result<bool> {
    let mut q = Q::new("SELECT EXISTS (SELECT 1 FROM study_item_targets WHERE item_id = ");
    q.push_bind(item_id)
        .push(" AND org_path IN (")
        .push_list(lineage(&org.path))
        .push("))");
    Ok(db.one::<(bool,)>(q).await?.0)
}

/// One task, to those who manage study at its organization or in one of its targets, and to the
/// members it reaches.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Task> {
    let row: Option<Task> = db.opt(Q::new(&format!("{SELECT} WHERE t.id = $1")).bind(id)).await?;
    let task = caller.found(db, row, "study.task.read", ("study_task", &id)).await?;
    let targets = targets_of(db, id).await?;
    let named = named_of(db, id).await?;
    let reached = caller
        .member_org_path
        .as_deref()
        .is_some_and(|own| targets.iter().any(|p| own.starts_with(p.as_str())))
        || named.iter().any(|(m, _)| caller.member_id == Some(*m));
    if oversees(caller, &task, &targets, &named) || reached {
        Ok(task)
    } else {
        caller
            .refuse(db, Error::NotFound, "study.task.read", ("study_task", &id))
            .await
    }
}

/// Whether the caller keeps study where the task reaches: at its organization, at one of its
/// targets or above it, below one (a branch secretary under a committee's task), or where one of
/// the members named is.
fn oversees(caller: &Caller, task: &Task, targets: &[String], named: &[(i64, String)]) -> bool {
    let roots = caller.roots(Perm::ManageStudy);
    manages(caller, &task.org_path)
        || roots
            .iter()
            .any(|r| targets.iter().any(|t| r.starts_with(t.as_str()) || t.starts_with(r)))
        || named.iter().any(|(_, path)| manages(caller, path))
}

async fn targets_of(db: &Db, id: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = db
        .all(Q::new("SELECT org_path FROM study_task_targets WHERE task_id = $1 ORDER BY org_path").bind(id))
        .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

/// The members named as the task's audience, with where each is now.
async fn named_of(db: &Db, id: i64) -> Result<Vec<(i64, String)>> {
    Ok(db
        .all(
            Q::new("SELECT m.id, m.org_path FROM study_task_members tm JOIN members m ON m.id = tm.member_id WHERE tm.task_id = $1")
                .bind(id),
        )
        .await?)
}

/// A task's item, with whether one member opened and completed it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TaskItem {
    #[serde(skip)]
    pub task_id: i64,
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub hours_tenths: i64,
    pub version: i64,
    pub status: String,
    pub opened: bool,
    pub completed: bool,
}

/// The items of these tasks in each task's order, as the member `member_id` stands on them.
async fn items_of_tasks(db: &Db, task_ids: &[i64], member_id: Option<i64>) -> Result<Vec<TaskItem>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new(
        "SELECT ti.task_id, i.id, i.title, i.kind, i.hours_tenths, i.version, i.status,
         EXISTS (SELECT 1 FROM study_opens s WHERE s.item_id = i.id AND s.member_id = $1) AS opened,
         EXISTS (SELECT 1 FROM study_credits c WHERE c.source = 'item' AND c.source_id = i.id AND c.member_id = $1) AS completed
         FROM study_task_items ti JOIN study_items i ON i.id = ti.item_id WHERE ti.task_id IN (",
    )
    .bind(member_id.unwrap_or(0));
    q.push_list(task_ids.iter().copied())
        .push(") ORDER BY ti.task_id, ti.position");
    Ok(db.all(q).await?)
}

impl TaskItem {
    /// What completing this version earns.
    fn earned(&self) -> credits::Earned<'_> {
        credits::Earned {
            item_id: self.id,
            version: self.version,
            hours_tenths: self.hours_tenths,
            title: &self.title,
        }
    }
}

pub async fn items_of(db: &Db, task_id: i64, member_id: Option<i64>) -> Result<Vec<TaskItem>> {
    items_of_tasks(db, &[task_id], member_id).await
}

/// A task as a member sees it: its items, its exam, and where they stand.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyTask {
    pub task: Task,
    pub items: Vec<TaskItem>,
    /// The member's standing on the task's exam, if it has one.
    pub exam: Option<super::attempts::Standing>,
    pub progress: Progress,
}

/// This year's tasks that reach the caller as a member, unfinished ones first (soonest due first), then
/// the rest: four statements whatever their number.
pub async fn mine(db: &Db, caller: &Caller) -> Result<Vec<MyTask>> {
    let (Some(path), Some(member_id)) = (&caller.member_org_path, caller.member_id) else {
        return Ok(Vec::new());
    };
    let mut q = Q::new(&format!(
        "{SELECT} WHERE (EXISTS (SELECT 1 FROM study_task_targets tt WHERE tt.task_id = t.id AND tt.org_path IN ("
    ));
    q.push_list(lineage(path))
        .push(")) OR EXISTS (SELECT 1 FROM study_task_members tm WHERE tm.task_id = t.id AND tm.member_id = ")
        .push_bind(member_id)
        .push(")) AND t.starts_on <= ")
        .push_bind(crate::clock::today())
        // This year's tasks: last year's unfinished ones are history (the ledger keeps that year).
        .push(" AND t.due_on >= ")
        .push_bind(super::reports::year_bounds(super::credits::year_of(crate::clock::today())).0)
        .push(" ORDER BY t.due_on DESC, t.id DESC LIMIT 100");
    let tasks: Vec<Task> = db.all(q).await?;
    let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let mut all_items = items_of_tasks(db, &ids, Some(member_id)).await?;
    let exam_ids: Vec<i64> = tasks.iter().filter_map(|t| t.exam_id).collect();
    let standings = super::attempts::standings(db, member_id, &exam_ids).await?;
    let mut out = Vec::new();
    for task in tasks {
        let items: Vec<TaskItem> = all_items.extract_if(.., |i| i.task_id == task.id).collect();
        let exam = task
            .exam_id
            .map(|e| standings.get(&e).map(|s| s.0.clone()).unwrap_or_default());
        let parts = items.len() as i64 + i64::from(exam.is_some());
        let done =
            items.iter().filter(|i| i.completed).count() as i64 + i64::from(exam.as_ref().is_some_and(|e| e.passed));
        let touched = items.iter().filter(|i| i.opened || i.completed).count() as i64
            + i64::from(exam.as_ref().is_some_and(|e| e.attempts > 0));
        let progress = Progress::of(parts, touched, done);
        out.push(MyTask {
            task,
            items,
            exam,
            progress,
        });
    }
    out.sort_by_key(|t| (t.progress == Progress::Completed, t.task.due_on));
    Ok(out)
}

/// Tasks of the organizations where the caller manages study, newest first.
pub async fn managed(db: &Db, caller: &Caller) -> Result<Vec<Task>> {
    if !caller.can(Perm::ManageStudy) {
        return Ok(Vec::new());
    }
    let mut q = Q::new(&format!("{SELECT} WHERE "));
    caller.filter(&mut q, Perm::ManageStudy, "t.org_path", crate::scope::Own::Nothing);
    q.push(" ORDER BY t.created_at DESC LIMIT 200");
    Ok(db.all(q).await?)
}

/// One member's standing on a task, for those who manage study.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MemberProgress {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub completed_items: i64,
    pub opened_items: i64,
    /// The Art. 23 reason the member is exempt this year, if any: they are out of the rate.
    pub exemption: Option<String>,
    /// `not_started`, `started` or `completed`.
    #[sqlx(skip)]
    pub progress: String,
}

/// Progress over a task's members in the caller's reach: counts, the rate (exempt members out) and
/// a page of members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskProgress {
    pub task: Task,
    pub items: Vec<TaskItem>,
    /// Members the task reaches that the caller oversees.
    pub members: i64,
    pub exempt: i64,
    pub completed: i64,
    pub started: i64,
    pub not_started: i64,
    /// Completed over those counted (exempt members out), in whole percent.
    pub rate: Option<i64>,
    /// The year whose exemptions count: the year the task is due.
    pub year: i64,
    pub page: i64,
    pub rows: Vec<MemberProgress>,
}

pub const PROGRESS_PAGE: i64 = 100;

/// The members a task reaches (in its target organizations, or named) within the caller's study
/// scope: `m` is `members`.
fn push_reached(q: &mut Q, caller: &Caller, task_id: i64, targets: &[String]) {
    q.push(" WHERE m.status = 'active' AND (");
    for t in targets {
        q.push("(m.org_path >= ")
            .push_bind(t.clone())
            .push(" AND m.org_path < ")
            .push_bind(subtree_end(t))
            .push(") OR ");
    }
    q.push("m.id IN (SELECT tm.member_id FROM study_task_members tm WHERE tm.task_id = ")
        .push_bind(task_id)
        .push(")) AND ");
    caller.filter(q, Perm::ManageStudy, "m.org_path", crate::scope::Own::Nothing);
}

/// Each member's counts on a task (`$1`) in a year (`$2`): items completed, items opened, the
/// year's exemption. Followed by `push_reached`.
const PER_MEMBER: &str = "SELECT m.id AS member_id, m.name, o.name AS org_name,
    (SELECT COUNT(*) FROM study_credits c JOIN study_task_items ti ON ti.item_id = c.source_id
       WHERE c.source = 'item' AND ti.task_id = $1 AND c.member_id = m.id)
    + (SELECT COUNT(*) FROM study_exam_results r JOIN study_tasks et ON et.exam_id = r.exam_id
       WHERE et.id = $1 AND r.member_id = m.id AND r.passed) AS completed_items,
    (SELECT COUNT(*) FROM study_opens s JOIN study_task_items ti ON ti.item_id = s.item_id
       WHERE ti.task_id = $1 AND s.member_id = m.id)
    + (SELECT COUNT(*) FROM study_exam_results r JOIN study_tasks et ON et.exam_id = r.exam_id
       WHERE et.id = $1 AND r.member_id = m.id) AS opened_items,
    (SELECT e.reason FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $2) AS exemption,
    m.org_path
    FROM members m JOIN orgs o ON o.id = m.org_id";

/// Progress over a task, for those who manage study at its organization or below.
pub async fn progress(db: &Db, caller: &Caller, id: i64, page: i64) -> Result<TaskProgress> {
    let task = get(db, caller, id).await?;
    let targets = targets_of(db, id).await?;
    // A member it reaches may see the task, not the others' progress.
    if !oversees(caller, &task, &targets, &named_of(db, id).await?) {
        return caller
            .refuse(db, Error::Forbidden, "study.task.progress", ("study_task", &id))
            .await;
    }
    let items = items_of(db, id, None).await?;
    // The parts of the task: its items, and its exam (passed) if it has one.
    let n = items.len() as i64 + i64::from(task.exam_id.is_some());
    let year = i64::from(chrono::Datelike::year(&task.due_on));
    // Counts over everyone in reach, from the same per-member rows as the page. `n` is the task's
    // item count, written out (a number, not input).
    let n1 = n.max(1);
    let mut counts = Q::new(&format!(
        "SELECT COUNT(*),
         COALESCE(SUM(CASE WHEN exemption IS NOT NULL THEN 1 ELSE 0 END), 0),
         COALESCE(SUM(CASE WHEN exemption IS NULL AND completed_items >= {n1} THEN 1 ELSE 0 END), 0),
         COALESCE(SUM(CASE WHEN exemption IS NULL AND completed_items < {n1} AND (opened_items > 0 OR completed_items > 0) THEN 1 ELSE 0 END), 0)
         FROM ({PER_MEMBER}"
    ))
    .bind(id)
    .bind(year);
    push_reached(&mut counts, caller, id, &targets);
    counts.push(") r");
    let (members, exempt, completed, started): (i64, i64, i64, i64) = db.one(counts).await?;
    let page = page.clamp(1, 100_000);
    let mut q = Q::new(PER_MEMBER).bind(id).bind(year);
    push_reached(&mut q, caller, id, &targets);
    q.push(" ORDER BY m.org_path, m.name, m.id LIMIT ")
        .push_bind(PROGRESS_PAGE)
        .push(" OFFSET ")
        .push_bind((page - 1) * PROGRESS_PAGE);
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        p: MemberProgress,
        #[allow(dead_code)]
        org_path: String,
    }
    let rows: Vec<Row> = db.all(q).await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let p = r.p;
            let progress = Progress::of(n, p.opened_items.max(p.completed_items), p.completed_items);
            MemberProgress {
                progress: progress.as_str().to_string(),
                ..p
            }
        })
        .collect();
    let counted = members - exempt;
    Ok(TaskProgress {
        task,
        items,
        members,
        exempt,
        completed,
        started,
        not_started: counted - completed - started,
        rate: domain::study::rate(completed, counted),
        year,
        page,
        rows,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OfflineInput {
    /// The member who studied offline (or `member_ids` for several at once).
    #[schema(minimum = 1)]
    pub member_id: Option<i64>,
    #[schema(max_items = 500)]
    pub member_ids: Vec<i64>,
    /// `group` (集体学习), `paper` (纸质材料) or `home` (送学上门).
    #[schema(required = true, schema_with = offline_forms)]
    pub form: Option<String>,
    /// The day they studied; today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub done_on: Option<String>,
}

fn offline_forms() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&["group", "paper", "home"])
}

/// What recording offline study did: members newly credited for at least one item, and members
/// who already had every item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub credited: i64,
    pub already: i64,
}

/// Records that members studied a task's items offline (代录: group study, paper, 送学上门); it
/// counts as online completion does. All of them or none: one transaction, every refusal named.
pub async fn record_offline(db: &Db, caller: &Caller, id: i64, input: &OfflineInput) -> Result<Recorded> {
    let task = get(db, caller, id).await?;
    let mut e = Vec::new();
    let form = match input.form.as_deref().map(str::trim).and_then(Form::parse) {
        Some(f) if f != Form::Online => Some(f),
        _ => {
            e.push(FieldError::new("form", "one_of:group, paper, home"));
            None
        }
    };
    let today = crate::clock::today();
    let done_on = date("done_on", input.done_on.as_deref(), &mut e).unwrap_or(today);
    if done_on > today {
        e.push(FieldError::new("done_on", "in_future"));
    }
    let mut ids: Vec<i64> = input.member_ids.clone();
    ids.extend(input.member_id);
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        e.push(FieldError::new("member_ids", "required"));
    }
    if ids.len() > 500 {
        e.push(FieldError::new("member_ids", "too_many_items:500"));
    }
    domain::error::check(e)?;
    let targets = targets_of(db, id).await?;
    // Every member must be one the task reaches and whose study the caller keeps.
    let mut q = Q::new("SELECT m.id FROM members m");
    push_reached(&mut q, caller, id, &targets);
    q.push(" AND m.id IN (").push_list(ids.iter().copied()).push(")");
    let found: Vec<(i64,)> = db.all(q).await?;
    if found.len() != ids.len() {
        let missing = ids
            .iter()
            .find(|i| !found.iter().any(|(f,)| f == *i))
            .copied()
            .unwrap_or(0);
        return caller
            .refuse(
                db,
                Error::Invalid(Invalid::one("member_ids", "not_found")),
                "study.task.offline",
                ("member", &missing),
            )
            .await;
    }
    let mut items = items_of(db, id, None).await?;
    items.retain(|i| i.status == "published");
    let form = form.unwrap_or(Form::Group);
    let mut tx = db.begin().await?;
    // Those who already had every item are told apart; everyone else gains at least one line.
    let mut q =
        Q::new("SELECT COUNT(*) FROM (SELECT member_id FROM study_credits WHERE source = 'item' AND member_id IN (");
    q.push_list(ids.iter().copied())
        .push(") AND source_id IN (")
        .push_list(items.iter().map(|i| i.id))
        .push(") GROUP BY member_id HAVING COUNT(*) = ")
        .push_bind(items.len() as i64)
        .push(") done");
    let (already,): (i64,) = if items.is_empty() {
        (ids.len() as i64,)
    } else {
        tx.one(q).await?
    };
    for item in &items {
        credits::credit_item(&mut tx, caller, &ids, item.earned(), form, done_on).await?;
    }
    let recorded = Recorded {
        credited: ids.len() as i64 - already,
        already,
    };
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.task.offline", "study_task", task.id).with_detail(format!(
            "members={} form={}",
            ids.len(),
            form.as_str()
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// Days before a task's due date that its reminder goes out.
pub const REMIND_DAYS_BEFORE: i64 = 3;

/// The daily job's study reminders: for each task due within `REMIND_DAYS_BEFORE` days, once, a
/// notice to every member it reaches with an account who has not finished it and is not exempt.
/// Returns how many notices were new.
pub(crate) async fn remind(tx: &mut crate::db::Tx, today: NaiveDate) -> Result<usize> {
    let due: Vec<(i64, String, NaiveDate)> = tx
        .all(
            Q::new("SELECT id, title, due_on FROM study_tasks WHERE due_on >= $1 AND due_on <= $2 ORDER BY id")
                .bind(today)
                .bind(today + chrono::Duration::days(REMIND_DAYS_BEFORE)),
        )
        .await?;
    let mut added = 0;
    for (task_id, title, due_on) in due {
        let users: Vec<(i64,)> = tx
            .all(
                Q::new(
                    "SELECT u.id FROM users u JOIN members m ON m.id = u.member_id
                     WHERE u.disabled = FALSE AND m.status = 'active'
                       AND (EXISTS (SELECT 1 FROM study_task_targets tt WHERE tt.task_id = $1
                                   AND m.org_path >= tt.org_path AND m.org_path < tt.org_path || '~')
                            OR EXISTS (SELECT 1 FROM study_task_members tm WHERE tm.task_id = $1 AND tm.member_id = m.id))
                       AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $2)
                       AND (SELECT COUNT(*) FROM study_credits c JOIN study_task_items ti ON ti.item_id = c.source_id
                            WHERE c.source = 'item' AND ti.task_id = $1 AND c.member_id = m.id)
                         < (SELECT COUNT(*) FROM study_task_items ti WHERE ti.task_id = $1)",
                )
                .bind(task_id)
                .bind(i64::from(chrono::Datelike::year(&due_on))),
            )
            .await?;
        let text = format!("学习任务「{title}」将于 {due_on} 截止");
        for (user,) in users {
            let key = format!("study:{task_id}:due");
            added += usize::from(crate::inbox::notify(tx, user, "study.due", &key, &text, "/study").await?);
        }
    }
    Ok(added)
}
