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
    pub tasks: Vec<TaskRate>,
    pub categories: Vec<CategoryHours>,
}

/// Members below the minimum, listed at most.
pub const BELOW_LISTED: i64 = 200;

/// The report as pages and the API show it: the first `BELOW_LISTED` members below the minimum.
pub async fn report(db: &Db, caller: &Caller, org_id: i64, year: i64) -> Result<Report> {
    build(db, caller, org_id, year, BELOW_LISTED).await
}

/// The report with every member below the minimum, for the workbook; the export is audited, as it
/// carries names.
pub async fn export(db: &Db, caller: &Caller, org_id: i64, year: i64) -> Result<Report> {
    let report = build(db, caller, org_id, year, i64::MAX).await?;
    crate::audit::append_alone(
        db,
        caller,
        crate::audit::Event::ok("study.report.export", "org", org_id)
            .with_detail(format!("year={year} rows={}", report.below.len())),
    )
    .await?;
    Ok(report)
}

async fn build(db: &Db, caller: &Caller, org_id: i64, year: i64, listed: i64) -> Result<Report> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.report", ("org", &org_id))
        .await?;
    let (from, to) = (org.path.clone(), subtree_end(&org.path));
    let (exempt,): (i64,) = db
        .one(
            Q::new(
                "SELECT COUNT(*) FROM study_exemptions e JOIN members m ON m.id = e.member_id
                 WHERE e.year = $1 AND m.status = 'active' AND m.org_path >= $2 AND m.org_path < $3",
            )
            .bind(year)
            .bind(from.clone())
            .bind(to.clone()),
        )
        .await?;
    // Each member's year against their minimum: 56 for those holding a post, else 32.
    let standing = format!("WITH s AS (
        SELECT m.id AS member_id, m.name, o.name AS org_name, m.org_path,
          (SELECT CAST(COALESCE(SUM(c.hours_tenths), 0) AS BIGINT) FROM study_credits c WHERE c.member_id = m.id AND c.year = $1)
          + (SELECT CAST(COALESCE(SUM(mt.study_tenths), 0) AS BIGINT) FROM meeting_attendance a JOIN meetings mt ON mt.id = a.meeting_id
             WHERE a.member_id = m.id AND a.status = 'present' AND mt.status IN ('held', 'archived')
               AND mt.study_tenths IS NOT NULL AND mt.local_date >= $6 AND mt.local_date <= $7)
          + {classes} AS credited_tenths,
          CASE WHEN EXISTS (SELECT 1 FROM org_officers f WHERE f.member_id = m.id) THEN $2 ELSE $3 END AS required_tenths
        FROM members m JOIN orgs o ON o.id = m.org_id
        WHERE m.status = 'active' AND m.org_path >= $4 AND m.org_path < $5
          AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $1))", classes = crate::study::classes::YEAR_TENTHS);
    let (first, last) = year_bounds(year);
    let bind = |q: Q| {
        q.bind(year)
            .bind(required_tenths(true))
            .bind(required_tenths(false))
            .bind(from.clone())
            .bind(to.clone())
            .bind(first)
            .bind(last)
    };
    let (below_total,): (i64,) = db
        .one(bind(Q::new(&format!(
            "{standing} SELECT COUNT(*) FROM s WHERE credited_tenths < required_tenths"
        ))))
        .await?;
    let below: Vec<Below> = db
        .all(bind(Q::new(&format!(
            "{standing} SELECT member_id, name, org_name, credited_tenths, required_tenths FROM s
             WHERE credited_tenths < required_tenths ORDER BY org_path, name, member_id LIMIT {listed}"
        ))))
        .await?;
    let tasks = task_rates(db, &from, &to, year).await?;
    let by_category: Vec<(String, i64)> = db
        .all(
            Q::new(
                "SELECT i.categories, CAST(SUM(c.hours_tenths) AS BIGINT) FROM study_credits c
                 JOIN members m ON m.id = c.member_id JOIN study_items i ON i.id = c.source_id
                 WHERE c.source = 'item' AND c.year = $1 AND m.org_path >= $2 AND m.org_path < $3
                 GROUP BY i.categories",
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
        tasks,
        categories,
    })
}

/// The completion rate of each task due in the year whose audience meets the subtree: members
/// reached in the subtree, exempt members out, and how many of them completed every item and
/// passed its exam.
async fn task_rates(db: &Db, from: &str, to: &str, year: i64) -> Result<Vec<TaskRate>> {
    let (first, last) = year_bounds(year);
    let tasks: Vec<(i64, String, String, chrono::NaiveDate, bool)> = db
        .all(
            Q::new(
                "SELECT t.id, t.title, o.name, t.due_on, t.required FROM study_tasks t JOIN orgs o ON o.id = t.org_id
                 WHERE t.due_on >= $1 AND t.due_on <= $2 AND EXISTS (
                   SELECT 1 FROM study_task_targets tt WHERE tt.task_id = t.id
                   AND ((tt.org_path >= $3 AND tt.org_path < $4) OR ($3 >= tt.org_path AND $3 < tt.org_path || '~')))
                 ORDER BY t.due_on, t.id LIMIT 100",
            )
            .bind(first)
            .bind(last)
            .bind(from.to_string())
            .bind(to.to_string()),
        )
        .await?;
    let mut out = Vec::new();
    for (task_id, title, org_name, due_on, required) in tasks {
        // Members in both the subtree and one of the task's targets, not exempt.
        let (counted, completed): (i64, i64) = db
            .one(
                Q::new(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.done >= r.n AND r.n > 0 THEN 1 ELSE 0 END), 0) FROM (
                       SELECT (SELECT COUNT(*) FROM study_credits c JOIN study_task_items ti ON ti.item_id = c.source_id
                                WHERE c.source = 'item' AND ti.task_id = $1 AND c.member_id = m.id)
                              + (SELECT COUNT(*) FROM study_exam_results x JOIN study_tasks et ON et.exam_id = x.exam_id
                                WHERE et.id = $1 AND x.member_id = m.id AND x.passed) AS done,
                              (SELECT COUNT(*) FROM study_task_items ti WHERE ti.task_id = $1)
                              + (SELECT COUNT(*) FROM study_tasks et WHERE et.id = $1 AND et.exam_id IS NOT NULL) AS n
                       FROM members m
                       WHERE m.status = 'active' AND m.org_path >= $2 AND m.org_path < $3
                         AND EXISTS (SELECT 1 FROM study_task_targets tt WHERE tt.task_id = $1
                                     AND m.org_path >= tt.org_path AND m.org_path < tt.org_path || '~')
                         AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $4)) r",
                )
                .bind(task_id)
                .bind(from.to_string())
                .bind(to.to_string())
                .bind(year),
            )
            .await?;
        out.push(TaskRate {
            task_id,
            title,
            org_name,
            due_on,
            required,
            counted,
            completed,
            rate: domain::study::rate(completed, counted),
        });
    }
    Ok(out)
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
