//! Member development files (发展党员): a person's way from application to full membership through
//! the 25 steps, with the rules of `domain::development` applied as each step is recorded. The
//! higher committee's approval of admission (step 17) creates the probationary member, dated from
//! the branch meeting's vote; the approval of conversion (step 24) makes them full, or extends or
//! cancels probation.
//!
//! Here the file and its reads (a file, the board, the stages) and the application; `steps` records
//! the steps after it, `votes` the branch meeting's votes, `documents` the papers filed under a step.

use chrono::NaiveDate;
use domain::development::{self as rules, File, Refusal};
use domain::member::MemberInput;
use domain::org::subtree_end;
use domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::members;
use crate::orgs;
use crate::scope::{Caller, Own, Perm};
use domain::schema::{date, required_text, text};

mod documents;
mod steps;
mod votes;

pub use documents::*;
pub(crate) use steps::on_review;
pub use steps::*;
pub use votes::*;

/// A written application to join (step 1 of the 25): the applicant and `applied_on`, the date of
/// the application.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplicantInput {
    /// The branch the application was made to.
    #[schema(minimum = 1, required = true)]
    pub org_id: Option<i64>,
    #[schema(schema_with = required_text::<50>, required = true)]
    pub name: Option<String>,
    #[schema(schema_with = domain::member::Gender::schema, required = true)]
    pub gender: Option<String>,
    #[schema(schema_with = text::<10>)]
    pub ethnicity: Option<String>,
    #[schema(schema_with = domain::IdNumber::schema, required = true)]
    pub id_number: Option<String>,
    #[schema(schema_with = domain::Phone::schema)]
    pub phone: Option<String>,
    #[schema(schema_with = domain::member::Education::schema)]
    pub education: Option<String>,
    #[schema(schema_with = text::<100>)]
    pub work_unit: Option<String>,
    /// The date of the written application (step 1).
    #[schema(schema_with = date, required = true)]
    pub applied_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FileRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub name: String,
    pub gender: String,
    pub birth_date: NaiveDate,
    pub id_number_masked: String,
    /// `open`, `member` (admitted, probationary), `full` or `cancelled`.
    pub status: String,
    pub member_id: Option<i64>,
    pub extension_months: i64,
}

const SELECT: &str = "SELECT f.id, f.org_id, o.name AS org_name, f.org_path, f.name, f.gender, f.birth_date,
    f.id_number_masked, f.status, f.member_id, f.extension_months FROM development_files f JOIN orgs o ON o.id = f.org_id";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StepRow {
    pub step: i64,
    pub done_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: String,
}

/// A file with its steps and where it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DevelopmentFile {
    #[serde(flatten)]
    pub file: FileRow,
    pub steps: Vec<StepRow>,
    /// The step to record next (26 when done), and its name.
    pub next_step: i64,
    pub next_step_name: Option<String>,
    /// The stage (1–5) of the last step done.
    pub stage: i64,
    /// What is due or late: `talk_overdue`, `target_eligible`, `approval_overdue`, `conversion_due`,
    /// `awaiting_review` (the higher committee is deciding the next step).
    pub alerts: Vec<String>,
}

async fn file_row(db: &Db, caller: &Caller, id: i64) -> Result<FileRow> {
    let mut q = Q::new(&format!("{SELECT} WHERE f.id = $1 AND ")).bind(id);
    caller.filter(&mut q, Perm::ReadMembers, "f.org_path", Own::Nothing);
    caller
        .found(db, db.opt(q).await?, "development.read", ("development", &id))
        .await
}

async fn steps_of(db: &Db, id: i64) -> Result<Vec<StepRow>> {
    Ok(db
        .all(
            Q::new(concat!(
                "SELECT step, done_on, note, ",
                person!("recorded_by"),
                " AS recorded_by FROM development_steps WHERE file_id = $1 ORDER BY step"
            ))
            .bind(id),
        )
        .await?)
}

fn rules_file(f: &FileRow, steps: &[StepRow]) -> File {
    let mut done = vec![None; 25];
    for s in steps {
        if let Some(slot) = done.get_mut(s.step as usize - 1) {
            *slot = Some(s.done_on);
        }
    }
    File {
        birth_date: Some(f.birth_date),
        done,
        extension_months: f.extension_months as u32,
    }
}

fn view(file: FileRow, steps: Vec<StepRow>, today: NaiveDate) -> DevelopmentFile {
    let r = rules_file(&file, &steps);
    let next = r.next_step();
    let mut alerts = Vec::new();
    let months_after = |step: usize, m: u32| r.date(step).and_then(|d| d.checked_add_months(chrono::Months::new(m)));
    if next == rules::TALK && months_after(rules::APPLICATION, 1).is_some_and(|d| today > d) {
        alerts.push("talk_overdue".to_string());
    }
    if next == rules::TARGET && months_after(rules::ACTIVIST, 12).is_some_and(|d| today >= d) {
        alerts.push("target_eligible".into());
    }
    let approval_late = |vote, approval| next == approval && months_after(vote, 3).is_some_and(|d| today > d);
    if approval_late(rules::ADMISSION_VOTE, rules::ADMISSION_APPROVAL)
        || approval_late(rules::CONVERSION_VOTE, rules::CONVERSION_APPROVAL)
    {
        alerts.push("approval_overdue".into());
    }
    if next == rules::CONVERSION_APPLICATION && r.probation_ends().is_some_and(|end| today >= end) {
        alerts.push("conversion_due".into());
    }
    let stage = steps
        .last()
        .and_then(|s| rules::STEPS.get(s.step as usize - 1))
        .map(|(stage, _)| *stage as i64)
        .unwrap_or(1);
    DevelopmentFile {
        file,
        steps,
        next_step: next as i64,
        next_step_name: rules::step_name(next).map(str::to_string),
        stage,
        alerts,
    }
}

/// Whether the caller may record the file's steps, votes and documents (pages offer the forms by
/// it): the branch side, while the file is not cancelled.
pub fn may_record(caller: &Caller, d: &DevelopmentFile) -> bool {
    caller.can_at(Perm::WriteMembers, &d.file.org_path) && d.file.status != "cancelled"
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<DevelopmentFile> {
    let file = file_row(db, caller, id).await?;
    let steps = steps_of(db, id).await?;
    let mut v = view(file, steps, today());
    if awaiting(db, id).await? {
        v.alerts.push("awaiting_review".into());
    }
    Ok(v)
}

async fn awaiting(db: &Db, id: i64) -> Result<bool> {
    let found: Option<(i64,)> = db
        .opt(Q::new("SELECT file_id FROM development_requests WHERE file_id = $1").bind(id))
        .await?;
    Ok(found.is_some())
}

/// The pipeline board of an organization's subtree: who is at which step, what is due or late.
/// Files whose 25 steps are done, and cancelled ones, are left out.
pub async fn board(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<DevelopmentFile>> {
    let org = orgs::get(db, caller, org_id).await?;
    let mut q = Q::new(&format!(
        "{SELECT} WHERE f.org_path >= $1 AND f.org_path < $2 AND f.status IN ('open', 'member', 'full') AND "
    ))
    .bind(org.path.clone())
    .bind(subtree_end(&org.path));
    caller.filter(&mut q, Perm::ReadMembers, "f.org_path", Own::Nothing);
    q.push(" ORDER BY f.created_at LIMIT 2000");
    with_steps(db, db.all(q).await?).await
}

/// The files on the boards of these organizations (not their subtrees), all of them: for the
/// warnings.
pub(crate) async fn board_among(db: &Db, org_paths: &[String]) -> Result<Vec<DevelopmentFile>> {
    let mut q = Q::new(&format!(
        "{SELECT} WHERE f.status IN ('open', 'member', 'full') AND f.org_path IN ("
    ));
    q.push_list(org_paths).push(") ORDER BY f.created_at");
    with_steps(db, db.all(q).await?).await
}

/// Each file with its steps, alerts and whether a review waits; archived files (step 25) are left out.
async fn with_steps(db: &Db, files: Vec<FileRow>) -> Result<Vec<DevelopmentFile>> {
    // Every file's steps and pending requests in one query each, not one per file.
    let mut steps: std::collections::HashMap<i64, Vec<StepRow>> = std::collections::HashMap::new();
    let mut waiting = std::collections::HashSet::new();
    for chunk in files.chunks(500) {
        // `file_id IN ($1, $2, …)`, bound.
        let among = |sql: &str| {
            let mut q = Q::new(sql);
            for (i, f) in chunk.iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " }).push_bind(f.id);
            }
            q.push(")");
            q
        };
        let mut q = among(concat!(
            "SELECT file_id, step, done_on, note, ",
            person!("recorded_by"),
            " AS recorded_by FROM development_steps WHERE file_id IN ("
        ));
        q.push(" ORDER BY file_id, step");
        let rows: Vec<(i64, i64, NaiveDate, Option<String>, String)> = db.all(q).await?;
        for (file_id, step, done_on, note, recorded_by) in rows {
            steps.entry(file_id).or_default().push(StepRow {
                step,
                done_on,
                note,
                recorded_by,
            });
        }
        let pending: Vec<(i64,)> = db
            .all(among("SELECT file_id FROM development_requests WHERE file_id IN ("))
            .await?;
        waiting.extend(pending.into_iter().map(|(id,)| id));
    }
    let today = today();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let id = f.id;
        let mut file = view(f, steps.remove(&id).unwrap_or_default(), today);
        if waiting.contains(&id) {
            file.alerts.push("awaiting_review".into());
        }
        // A file stays on the board until its materials are archived (step 25).
        if file.next_step <= 25 {
            out.push(file);
        }
    }
    Ok(out)
}

/// Above this many members, a subtree's stages are read from the dashboards' counts (`stages`).
const STAGES_KEPT_ABOVE: i64 = 20_000;

/// How many people of an organization's subtree are at each of the five stages (by their last step
/// done), all of them, not only the board's first 2,000; files archived (step 25) or cancelled are
/// left out.
pub async fn stages(db: &Db, caller: &Caller, org_id: i64) -> Result<[i64; 5]> {
    let org = orgs::get(db, caller, org_id).await?;
    // A large subtree the caller reads whole is counted already: the dashboards keep these counts
    // (`figures`, the same rule), read after its stale organizations are counted again. Counting the
    // files took 80 ms at a million members (100,000 files).
    if org.subtree_members > STAGES_KEPT_ABOVE && caller.can_at(Perm::ReadMembers, &org.path) {
        crate::warnings::refresh(db, &org.path).await?;
        let figures: Vec<String> = (1..=5).map(|stage| format!("stage:{stage}")).collect();
        let kept = crate::dashboard::current(db, &[org.id], &figures).await?;
        return Ok(std::array::from_fn(|i| {
            kept.get(&(org.id, figures[i].clone())).copied().unwrap_or(0)
        }));
    }
    let mut q = Q::new(
        "SELECT f.last_step, COUNT(*) FROM development_files f
         WHERE f.org_path >= $1 AND f.org_path < $2 AND f.status IN ('open', 'member', 'full') AND ",
    )
    .bind(org.path.clone())
    .bind(subtree_end(&org.path));
    caller.filter(&mut q, Perm::ReadMembers, "f.org_path", Own::Nothing);
    q.push(" GROUP BY f.last_step");
    let rows: Vec<(i64, i64)> = db.all(q).await?;
    let mut stages = [0; 5];
    for (last, n) in rows {
        let last = last.max(1) as usize;
        if last < rules::STEPS.len() {
            stages[usize::from(rules::STEPS[last - 1].0) - 1] += n;
        }
    }
    Ok(stages)
}

/// Opens a file with the written application (step 1): the person's particulars are checked as a
/// member's would be, and they must be 18 on the day they applied.
pub async fn apply(db: &Db, keys: &Keys, caller: &Caller, input: &ApplicantInput) -> Result<DevelopmentFile> {
    let applied_on = input.applied_on.clone();
    let as_member = MemberInput {
        name: input.name.clone(),
        gender: input.gender.clone(),
        ethnicity: input.ethnicity.clone(),
        id_number: input.id_number.clone(),
        phone: input.phone.clone(),
        education: input.education.clone(),
        work_unit: input.work_unit.clone(),
        joined_on: applied_on.clone(),
        category: Some("probationary".into()),
        ..Default::default()
    };
    let valid = as_member.validate(today()).map_err(|e| {
        // The person is checked as if joining on the day they applied.
        Invalid(
            e.0.into_iter()
                .map(|f| {
                    if f.field == "joined_on" {
                        FieldError::new("applied_on", f.code)
                    } else {
                        f
                    }
                })
                .collect(),
        )
    })?;
    let org = match input.org_id {
        Some(id) => orgs::get(db, caller, id).await.ok(),
        None => None,
    };
    let Some(org) = org.filter(|o| o.kind().holds_members() && o.dissolved_on.is_none()) else {
        return Err(Invalid::one("org_id", "not_found").into());
    };
    caller
        .require(db, Perm::WriteMembers, &org.path, "development.apply", ("org", &org.id))
        .await?;
    if members::is_recorded(db, keys, &valid.id_number, None).await? {
        // As for a new member: the answer reaches beyond the caller's scope, so it is recorded.
        let event = Event {
            result: "duplicate",
            ..Event::ok("development.apply", "org", org.id)
        };
        audit::append_alone(db, caller, event).await?;
        return Err(Error::Refused("development.already_member"));
    }
    let bi = keys.blind_index("id_number", valid.id_number.as_str());
    let open: Option<(i64,)> = db
        .opt(
            Q::new("SELECT id FROM development_files WHERE id_number_bi = $1 AND status IN ('open', 'member')")
                .bind(bi.clone()),
        )
        .await?;
    if open.is_some() {
        return Err(Error::Refused("development.duplicate"));
    }
    let id = new_id();
    let now = now_text();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO development_files (id, org_id, org_path, name, gender, ethnicity, birth_date, education, work_unit,
             id_number_enc, id_number_bi, id_number_masked, phone_enc, phone_masked, status, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'open', $15, $16, $16)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(valid.name.clone())
        .bind(valid.gender.as_str())
        .bind(valid.ethnicity.clone())
        .bind(valid.birth_date)
        .bind(valid.education.map(|e| e.as_str()))
        .bind(valid.work_unit.clone())
        .bind(keys.encrypt(&ctx("id_number", id), valid.id_number.as_str()))
        .bind(bi)
        .bind(valid.id_number.masked())
        .bind(valid.phone.as_ref().map(|p| keys.encrypt(&ctx("phone", id), p.as_str())))
        .bind(valid.phone.as_ref().map(domain::Phone::masked))
        .bind(caller.display_name.clone())
        .bind(now.clone()),
    )
    .await?;
    insert_step(&mut tx, caller, id, rules::APPLICATION, valid.joined_on, None).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::File(id)).await?;
    audit::append(&mut tx, caller, Event::ok("development.apply", "development", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The encryption context of a file's sealed field.
fn ctx(field: &str, id: i64) -> String {
    format!("development.{field}:{id}")
}

async fn insert_step(
    tx: &mut Tx,
    caller: &Caller,
    id: i64,
    step: usize,
    on: NaiveDate,
    note: Option<String>,
) -> Result<()> {
    tx.exec(
        Q::new(
            "INSERT INTO development_steps (file_id, step, done_on, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(step as i64)
        .bind(on)
        .bind(note)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    tx.exec(
        Q::new("UPDATE development_files SET updated_at = $1, last_step = $2 WHERE id = $3")
            .bind(now_text())
            .bind(step as i64)
            .bind(id),
    )
    .await?;
    Ok(())
}

fn refused(r: Refusal) -> Error {
    Error::Refused(match r {
        Refusal::OutOfOrder => "development.out_of_order",
        Refusal::BeforePrevious => "development.before_previous",
        Refusal::InFuture => "development.in_future",
        Refusal::Under18 => "development.under_18",
        Refusal::ActivistUnderAYear => "development.activist_under_a_year",
        Refusal::Contacts => "development.contacts",
        Refusal::Introducers => "development.introducers",
        Refusal::ApprovalTooLate => "development.approval_too_late",
        Refusal::ProbationNotOver => "development.probation_not_over",
        Refusal::NeedsVote => "development.needs_vote",
    })
}

/// A file the caller may write to (they keep its branch).
async fn writable(db: &Db, caller: &Caller, id: i64, action: &'static str) -> Result<FileRow> {
    let f = file_row(db, caller, id).await?;
    caller
        .require(db, Perm::WriteMembers, &f.org_path, action, ("development", &id))
        .await?;
    if f.status == "cancelled" {
        return Err(Error::Refused("development.closed"));
    }
    Ok(f)
}
