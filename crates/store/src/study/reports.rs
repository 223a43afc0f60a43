//! The study report over a subtree for a year: members below the minimum (exempt members out),
//! each task's completion rate, and 学时 by category. Never time online, logins or a ranking of
//! members (国办函〔2026〕12号): those below the minimum are listed in tree order, not by hours.

use domain::org::subtree_end;
use domain::study::{hours_text, required_tenths, Category};
use serde::Serialize;

use crate::db::{Db, Q};
use crate::error::Result;
use crate::orgs;
use crate::scope::{Caller, Perm};

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
    let (first, last) = crate::study::credits::year_bounds(year);
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
/// reached in the subtree, exempt members out, and how many of them completed every item.
async fn task_rates(db: &Db, from: &str, to: &str, year: i64) -> Result<Vec<TaskRate>> {
    let (first, last) = crate::study::credits::year_bounds(year);
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
                                WHERE c.source = 'item' AND ti.task_id = $1 AND c.member_id = m.id) AS done,
                              (SELECT COUNT(*) FROM study_task_items ti WHERE ti.task_id = $1) AS n
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
