//! A member's study year (the ledger: credits, study meetings and classes read together), and the
//! study report over a subtree for a year: members below the minimum (exempt members out),
//! each task's completion rate, and 学时 by category. Never time online, logins or a ranking of
//! members (国办函〔2026〕12号): those below the minimum are listed in tree order, not by hours.

use chrono::NaiveDate;
use domain::org::subtree_end;
use domain::study::{hours_text, required_tenths, Category};
use serde::Serialize;

use crate::db::{Db, Q};
use crate::error::Result;
use crate::members;
use crate::orgs;
use crate::scope::{Caller, Perm};
use crate::study::credits::Line;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Below {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub credited_tenths: i64,
    pub required_tenths: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskRate {
    pub task_id: i64,
    pub title: String,
    pub org_name: String,
    pub due_on: chrono::NaiveDate,
    pub required: bool,
    /// Members it reaches in the subtree, exempt members out.
    pub counted: i64,
    pub completed: i64,
    /// Completed over counted, in whole percent.
    pub rate: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryHours {
    pub category: String,
    pub hours_tenths: i64,
    pub hours: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = StudyReport)]
pub struct Report {
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    /// Active members of the subtree.
    pub members: i64,
    /// Of them, exempt this year (Art. 23).
    pub exempt: i64,
    /// Members below the year's minimum, exempt members out.
    pub below_total: i64,
    /// The first 200 of them in tree order (all of them in the workbook).
    pub below: Vec<Below>,
    /// Tasks due in the year that reach the subtree.
    pub tasks_total: i64,
    /// The latest due `TASKS_LISTED` of them (all of them in the workbook).
    pub tasks: Vec<TaskRate>,
    pub categories: Vec<CategoryHours>,
}

/// Members below the minimum, listed at most.
pub const BELOW_LISTED: i64 = 200;
/// Tasks listed at most (latest due first).
pub const TASKS_LISTED: i64 = 100;

/// The report as pages and the API show it: the first `BELOW_LISTED` members below the minimum.
pub async fn report(db: &Db, caller: &Caller, org_id: i64, year: i64) -> Result<Report> {
    build(db, caller, org_id, year, (BELOW_LISTED, TASKS_LISTED)).await
}

/// The report with every member below the minimum, for the workbook; the export is audited, as it
/// carries names.
pub async fn export(db: &Db, caller: &Caller, org_id: i64, year: i64) -> Result<Report> {
    let report = build(db, caller, org_id, year, (i64::MAX, i64::MAX)).await?;
    crate::audit::append_alone(
        db,
        caller,
        crate::audit::Event::ok("study.report.export", "org", org_id)
            .with_detail(format!("year={year} rows={}", report.below.len())),
    )
    .await?;
    Ok(report)
}

/// The report with at most `listed` members below the minimum and tasks.
async fn build(db: &Db, caller: &Caller, org_id: i64, year: i64, listed: (i64, i64)) -> Result<Report> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.report", ("org", &org_id))
        .await?;
    let (from, to) = (org.path.clone(), subtree_end(&org.path));
    // Exempt active members are few (Art. 23): where each is, for the subtree and each task's part of it.
    let exempt_paths: Vec<(String,)> = db
        .all(
            Q::new(
                "SELECT m.org_path FROM study_exemptions e JOIN members m ON m.id = e.member_id
                 WHERE e.year = $1 AND m.status = 'active' AND m.org_path >= $2 AND m.org_path < $3",
            )
            .bind(year)
            .bind(from.clone())
            .bind(to.clone()),
        )
        .await?;
    let exempt_paths: Vec<String> = exempt_paths.into_iter().map(|(p,)| p).collect();
    let exempt = exempt_paths.len() as i64;
    // Those below the minimum are the counted members (active, not exempt) less those who reached
    // it, read from the members' kept years: a row per member year, never their credit lines.
    let (reached,): (i64,) = db
        .one(
            Q::new(
                "SELECT COUNT(*) FROM study_years WHERE year = $1 AND org_path >= $2 AND org_path < $3
                 AND counted AND credited_tenths >= required_tenths",
            )
            .bind(year)
            .bind(from.clone())
            .bind(to.clone()),
        )
        .await?;
    let below_total = (org.subtree_members - exempt - reached).max(0);
    // The first of them in tree order: a member without a kept year has nothing credited.
    let below: Vec<Below> = db
        .all(
            Q::new(&format!(
                "SELECT m.id AS member_id, m.name, o.name AS org_name,
                   COALESCE(y.credited_tenths, 0) AS credited_tenths,
                   COALESCE(y.required_tenths, CASE WHEN EXISTS (SELECT 1 FROM org_officers f WHERE f.member_id = m.id)
                     THEN $4 ELSE $5 END) AS required_tenths
                 FROM members m JOIN orgs o ON o.id = m.org_id
                 LEFT JOIN study_years y ON y.member_id = m.id AND y.year = $1
                 WHERE m.status = 'active' AND m.org_path >= $2 AND m.org_path < $3
                   AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $1)
                   AND (y.member_id IS NULL OR y.credited_tenths < y.required_tenths)
                 ORDER BY m.org_path, m.name, m.id LIMIT {}",
                listed.0
            ))
            .bind(year)
            .bind(from.clone())
            .bind(to.clone())
            .bind(required_tenths(true))
            .bind(required_tenths(false)),
        )
        .await?;
    let (tasks_total, tasks) = task_rates(db, &org, year, &exempt_paths, listed.1).await?;
    let by_category: Vec<(String, i64)> = db
        .all(
            Q::new(
                "SELECT categories, CAST(SUM(hours_tenths) AS BIGINT) FROM study_category_totals
                 WHERE year = $1 AND org_path >= $2 AND org_path < $3 GROUP BY categories",
            )
            .bind(year)
            .bind(from.clone())
            .bind(to.clone()),
        )
        .await?;
    // An item filed under several categories counts its hours under each.
    let categories = Category::ALL
        .iter()
        .map(|c| {
            let tenths = by_category
                .iter()
                .filter(|(codes, _)| codes.contains(&format!(",{},", c.as_str())))
                .map(|(_, t)| t)
                .sum();
            CategoryHours {
                category: c.as_str().to_string(),
                hours_tenths: tenths,
                hours: hours_text(tenths),
            }
        })
        .collect();
    Ok(Report {
        org_id: org.id,
        org_name: org.name,
        year,
        members: org.subtree_members,
        exempt,
        below_total,
        below,
        tasks_total,
        tasks,
        categories,
    })
}

/// The completion rate of each task due in the year whose audience meets the subtree. A task's
/// part of the subtree is the subtree itself (a task from above) or its targets inside it; members
/// counted there are the active members less the exempt, and those who completed it are the kept
/// count of each part: a few rows per task, whatever the subtree's size.
async fn task_rates(
    db: &Db,
    org: &orgs::Org,
    year: i64,
    exempt_paths: &[String],
    listed: i64,
) -> Result<(i64, Vec<TaskRate>)> {
    let (first, last) = year_bounds(year);
    let (from, to) = (org.path.clone(), subtree_end(&org.path));
    let meets = "FROM study_tasks t WHERE t.due_on >= $1 AND t.due_on <= $2 AND (EXISTS (
           SELECT 1 FROM study_task_targets tt WHERE tt.task_id = t.id
           AND ((tt.org_path >= $3 AND tt.org_path < $4) OR ($3 >= tt.org_path AND $3 < tt.org_path || '~')))
           OR EXISTS (SELECT 1 FROM study_task_members tm JOIN members m ON m.id = tm.member_id
           WHERE tm.task_id = t.id AND m.org_path >= $3 AND m.org_path < $4))";
    let bind = |q: Q| q.bind(first).bind(last).bind(from.clone()).bind(to.clone());
    let (total,): (i64,) = db.one(bind(Q::new(&format!("SELECT COUNT(*) {meets}")))).await?;
    let tasks: Vec<(i64, String, String, chrono::NaiveDate, bool)> = db
        .all(bind(Q::new(&format!(
            "SELECT t.id, t.title, (SELECT o.name FROM orgs o WHERE o.id = t.org_id), t.due_on, t.required {meets}
             ORDER BY t.due_on DESC, t.id DESC LIMIT {listed}"
        ))))
        .await?;
    if tasks.is_empty() {
        return Ok((total, Vec::new()));
    }
    let mut q = Q::new("SELECT task_id, org_id, org_path FROM study_task_targets WHERE task_id IN (");
    q.push_list(tasks.iter().map(|t| t.0)).push(")");
    let targets: Vec<(i64, i64, String)> = db.all(q).await?;
    // Each task's parts: the subtree when a target holds it, else its targets inside the subtree,
    // leaving out a target inside another.
    let mut parts: Vec<(i64, i64, String)> = Vec::new();
    for (task_id, ..) in &tasks {
        let mine: Vec<(i64, String)> = targets
            .iter()
            .filter(|t| t.0 == *task_id)
            .filter_map(|(_, id, path)| {
                if org.path.starts_with(path.as_str()) {
                    Some((org.id, org.path.clone()))
                } else if path.starts_with(org.path.as_str()) {
                    Some((*id, path.clone()))
                } else {
                    None
                }
            })
            .collect();
        for (id, path) in &mine {
            let inside_another = mine.iter().any(|(o, p)| o != id && path.starts_with(p.as_str()));
            if !inside_another && !parts.iter().any(|p| p.0 == *task_id && p.1 == *id) {
                parts.push((*task_id, *id, path.clone()));
            }
        }
    }
    let org_ids: Vec<i64> = parts.iter().map(|p| p.1).collect();
    let mut q = Q::new("SELECT id, subtree_members FROM orgs WHERE id IN (");
    q.push_list(org_ids.iter().copied()).push(")");
    let sizes: std::collections::HashMap<i64, i64> = db.all::<(i64, i64)>(q).await?.into_iter().collect();
    let mut q = Q::new("SELECT task_id, org_id, done FROM study_task_counts WHERE task_id IN (");
    q.push_list(tasks.iter().map(|t| t.0))
        .push(") AND org_id IN (")
        .push_list(org_ids.iter().copied())
        .push(")");
    let done: std::collections::HashMap<(i64, i64), i64> = db
        .all::<(i64, i64, i64)>(q)
        .await?
        .into_iter()
        .map(|(t, o, d)| ((t, o), d))
        .collect();
    // Members named in the subtree (active, not exempt), counted one by one unless a part holds them.
    let mut q = Q::new(
        "SELECT tm.task_id, m.org_path, CASE WHEN EXISTS (SELECT 1 FROM study_task_done d
           WHERE d.task_id = tm.task_id AND d.member_id = m.id AND d.counted) THEN 1 ELSE 0 END
         FROM study_task_members tm JOIN members m ON m.id = tm.member_id
         WHERE m.status = 'active' AND m.org_path >= $1 AND m.org_path < $2
           AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $3) AND tm.task_id IN (",
    )
    .bind(from.clone())
    .bind(to.clone())
    .bind(year);
    q.push_list(tasks.iter().map(|t| t.0)).push(")");
    let named: Vec<(i64, String, i32)> = db.all(q).await?;
    let rates = tasks
        .into_iter()
        .map(|(task_id, title, org_name, due_on, required)| {
            let (mut counted, mut completed) = (0, 0);
            let task_parts: Vec<&(i64, i64, String)> = parts.iter().filter(|p| p.0 == task_id).collect();
            for (_, part, path) in &task_parts {
                let exempt = exempt_paths.iter().filter(|p| p.starts_with(path.as_str())).count() as i64;
                counted += sizes.get(part).copied().unwrap_or(0) - exempt;
                completed += done.get(&(task_id, *part)).copied().unwrap_or(0);
            }
            for (_, path, done) in named.iter().filter(|n| n.0 == task_id) {
                if !task_parts.iter().any(|p| path.starts_with(p.2.as_str())) {
                    counted += 1;
                    completed += i64::from(*done);
                }
            }
            TaskRate {
                task_id,
                title,
                org_name,
                due_on,
                required,
                counted,
                completed,
                rate: domain::study::rate(completed, counted),
            }
        })
        .collect();
    Ok((total, rates))
}

/// A member's study year: the minimum, what is credited, every line and its source.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    pub member_id: i64,
    pub member_name: String,
    pub year: i64,
    /// Whether they hold a post (secretary or committee member): 56 学时 instead of 32.
    pub holds_office: bool,
    pub required_tenths: i64,
    pub credited_tenths: i64,
    pub required: String,
    pub credited: String,
    /// The Art. 23 reason this year is exempt, if it is.
    pub exemption: Option<String>,
    pub lines: Vec<Line>,
}

/// The 学时 of the study meetings (a 党课, a study session) member `$1` attended between `$2` and
/// `$3`, one line each: read from the attendance itself, so the roll call is the only record.
pub(crate) const MEETING_LINES: &str = "SELECT mt.local_date AS credited_on, mt.study_tenths AS hours_tenths,
    'meeting' AS source, mt.id AS source_id, mt.title AS label, 'meeting' AS form, o.name AS recorded_by
    FROM meeting_attendance a JOIN meetings mt ON mt.id = a.meeting_id JOIN orgs o ON o.id = mt.org_id
    WHERE a.member_id = $1 AND a.status = 'present' AND mt.status IN ('held', 'archived')
      AND mt.study_tenths IS NOT NULL AND mt.local_date >= $2 AND mt.local_date <= $3";

/// The first and last day of a year.
pub(crate) fn year_bounds(year: i64) -> (NaiveDate, NaiveDate) {
    let y = year.clamp(1, 9999) as i32;
    (
        NaiveDate::from_ymd_opt(y, 1, 1).expect("a year's first day"),
        NaiveDate::from_ymd_opt(y, 12, 31).expect("a year's last day"),
    )
}

/// A member's ledger for a year, for themself and those who read their record: their credits, the
/// study meetings and the training classes they attended (each class's part of the year), by day.
pub async fn ledger(db: &Db, caller: &Caller, member_id: i64, year: i64) -> Result<Ledger> {
    let member = members::get(db, caller, member_id).await?;
    let (first, last) = year_bounds(year);
    let mut lines: Vec<Line> = db
        .all(
            Q::new(concat!(
                "SELECT credited_on, hours_tenths, source, source_id, label, form, ",
                person!("recorded_by"),
                " AS recorded_by FROM study_credits WHERE member_id = $1 AND year = $2 ORDER BY credited_on, id"
            ))
            .bind(member_id)
            .bind(year),
        )
        .await?;
    let meetings: Vec<Line> = db
        .all(Q::new(MEETING_LINES).bind(member_id).bind(first).bind(last))
        .await?;
    lines.extend(meetings);
    lines.extend(crate::study::classes::lines(db, member_id, year).await?);
    lines.sort_by_key(|l| l.credited_on);
    let (holds_office,): (bool,) = db
        .one(Q::new("SELECT EXISTS (SELECT 1 FROM org_officers WHERE member_id = $1)").bind(member_id))
        .await?;
    let exemption: Option<(String,)> = db
        .opt(
            Q::new("SELECT reason FROM study_exemptions WHERE member_id = $1 AND year = $2")
                .bind(member_id)
                .bind(year),
        )
        .await?;
    let credited_tenths = lines.iter().map(|l| l.hours_tenths).sum();
    let required_tenths = required_tenths(holds_office);
    Ok(Ledger {
        member_id,
        member_name: member.name,
        year,
        holds_office,
        required_tenths,
        credited_tenths,
        required: hours_text(required_tenths),
        credited: hours_text(credited_tenths),
        exemption: exemption.map(|(r,)| r),
        lines,
    })
}
