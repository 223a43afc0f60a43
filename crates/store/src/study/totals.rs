//! The totals the study report reads, kept beside what they sum in the same transaction as every
//! write (as `dues_totals` are): each member's year (`study_years`), each organization's 学时 by
//! category (`study_category_totals`), and who has completed each task with the counts up every
//! organization's ancestors (`study_task_done`, `study_task_counts`). A county's report then reads a
//! row per member year and per organization instead of every completion line; a test compares the
//! totals with the sources after each kind of write.
//!
//! Who calls what: crediting items (`credited`), an exam's kept grade (`exam_settled`), a study
//! meeting's roll or date (`meeting_changed`), a class's roll (`members_changed`), a member's
//! exemption, post, organization or status (`members_changed`), an organization moving
//! (`org_moving`), an item's categories (`item_recategorised`), a task assigned (`task_assigned`).

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::org::path_ids;
use domain::study::required_tenths;

use crate::db::{Db, Tx, Q};
use crate::error::Result;

/// The migration that made these tables: the server counts them from the sources once after it.
pub const SINCE_MIGRATION: i64 = 29;

/// Rows a statement writes at most (well under SQLite's parameters per statement).
const CHUNK: usize = 500;

/// A member's 学时 in year `$1` (first and last day `$2`, `$3`) from every source: credits, the
/// study meetings attended, training classes (each class's part of the year). `m` is `members`.
fn credited_sql() -> String {
    format!(
        "(SELECT CAST(COALESCE(SUM(c.hours_tenths), 0) AS BIGINT) FROM study_credits c WHERE c.member_id = m.id AND c.year = $1)
         + (SELECT CAST(COALESCE(SUM(mt.study_tenths), 0) AS BIGINT) FROM meeting_attendance a JOIN meetings mt ON mt.id = a.meeting_id
            WHERE a.member_id = m.id AND a.status = 'present' AND mt.status IN ('held', 'archived')
              AND mt.study_tenths IS NOT NULL AND mt.local_date >= $2 AND mt.local_date <= $3)
         + {}",
        super::classes::YEAR_TENTHS
    )
}

/// Counts again the years of these members: every source summed, their minimum (56 for those
/// holding a post, else 32), whether they count (active, not exempt that year), where they are.
pub(crate) async fn refresh_years(tx: &mut Tx, member_ids: &[i64], years: &[i64]) -> Result<()> {
    let sql = format!(
        "INSERT INTO study_years (member_id, year, org_path, credited_tenths, required_tenths, counted)
         SELECT m.id, $1, m.org_path, {credited},
           CASE WHEN EXISTS (SELECT 1 FROM org_officers f WHERE f.member_id = m.id) THEN $4 ELSE $5 END,
           m.status = 'active' AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = $1)
         FROM members m WHERE m.id IN (",
        credited = credited_sql()
    );
    for &year in years {
        let (first, last) = super::reports::year_bounds(year);
        for chunk in member_ids.chunks(CHUNK) {
            let mut q = Q::new(&sql)
                .bind(year)
                .bind(first)
                .bind(last)
                .bind(required_tenths(true))
                .bind(required_tenths(false));
            q.push_list(chunk.iter().copied()).push(
                ") ON CONFLICT (member_id, year) DO UPDATE SET org_path = excluded.org_path,
                 credited_tenths = excluded.credited_tenths, required_tenths = excluded.required_tenths,
                 counted = excluded.counted",
            );
            tx.exec(q).await?;
        }
    }
    // The dashboards count who has met the minimum.
    crate::marks::stale_members(tx, member_ids).await
}

/// After members were credited with an item in a year: their years, their organizations' hours by
/// category, and the tasks holding the item.
pub(crate) async fn credited(tx: &mut Tx, member_ids: &[i64], item_id: i64, year: i64) -> Result<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    refresh_years(tx, member_ids, &[year]).await?;
    let mut places: BTreeMap<String, ()> = BTreeMap::new();
    for chunk in member_ids.chunks(CHUNK) {
        let mut q = Q::new("SELECT DISTINCT org_path FROM members WHERE id IN (");
        q.push_list(chunk.iter().copied()).push(")");
        let paths: Vec<(String,)> = tx.all(q).await?;
        places.extend(paths.into_iter().map(|(p,)| (p, ())));
    }
    let places: Vec<(i64, String)> = places.into_keys().map(|p| (year, p)).collect();
    recount_categories(tx, &places).await?;
    let tasks: Vec<(i64,)> = tx
        .all(Q::new("SELECT task_id FROM study_task_items WHERE item_id = $1").bind(item_id))
        .await?;
    settle_tasks(tx, &tasks.into_iter().map(|(t,)| t).collect::<Vec<_>>(), member_ids).await
}

/// After a member's kept grade on an exam changed: the tasks that include the exam.
pub(crate) async fn exam_settled(tx: &mut Tx, exam_id: i64, member_id: i64) -> Result<()> {
    let tasks: Vec<(i64,)> = tx
        .all(Q::new("SELECT id FROM study_tasks WHERE exam_id = $1").bind(exam_id))
        .await?;
    settle_tasks(tx, &tasks.into_iter().map(|(t,)| t).collect::<Vec<_>>(), &[member_id]).await?;
    // The dashboards count who has completed a task.
    crate::marks::stale_members(tx, &[member_id]).await
}

/// After a study meeting's roll, status, hours or date changed: the years of everyone on its roll,
/// in the year it is held and in `also` (the year it was held before an edit).
pub(crate) async fn meeting_changed(tx: &mut Tx, meeting_id: i64, also: Option<i64>) -> Result<()> {
    let row: Option<(chrono::NaiveDate,)> = tx
        .opt(Q::new("SELECT local_date FROM meetings WHERE id = $1").bind(meeting_id))
        .await?;
    let mut years: Vec<i64> = row.map(|(d,)| super::credits::year_of(d)).into_iter().collect();
    years.extend(also.filter(|y| !years.contains(y)));
    let members: Vec<(i64,)> = tx
        .all(Q::new("SELECT member_id FROM meeting_attendance WHERE meeting_id = $1").bind(meeting_id))
        .await?;
    let ids: Vec<i64> = members.into_iter().map(|(m,)| m).collect();
    refresh_years(tx, &ids, &years).await
}

/// After members' standing changed (an exemption, a post, a class's roll, a move, a status): their
/// years (those with a row and `years`), and their completed tasks (where they are, whether they count).
pub(crate) async fn members_changed(tx: &mut Tx, member_ids: &[i64], years: &[i64]) -> Result<()> {
    for chunk in member_ids.chunks(CHUNK) {
        let mut q = Q::new("SELECT DISTINCT year FROM study_years WHERE member_id IN (");
        q.push_list(chunk.iter().copied()).push(")");
        let mut all: Vec<i64> = tx.all::<(i64,)>(q).await?.into_iter().map(|(y,)| y).collect();
        all.extend_from_slice(years);
        all.sort_unstable();
        all.dedup();
        refresh_years(tx, chunk, &all).await?;
        let mut q = Q::new("SELECT DISTINCT task_id FROM study_task_done WHERE member_id IN (");
        q.push_list(chunk.iter().copied()).push(")");
        let tasks: Vec<i64> = tx.all::<(i64,)>(q).await?.into_iter().map(|(t,)| t).collect();
        settle_tasks(tx, &tasks, chunk).await?;
    }
    Ok(())
}

/// After an item's categories changed: the hours by category wherever it was credited.
pub(crate) async fn item_recategorised(tx: &mut Tx, item_id: i64) -> Result<()> {
    let places: Vec<(i64, String)> = tx
        .all(
            Q::new("SELECT DISTINCT year, org_path FROM study_credits WHERE source = 'item' AND source_id = $1")
                .bind(item_id),
        )
        .await?;
    recount_categories(tx, &places).await
}

/// After a task was assigned: those who had already completed its items (and passed its exam).
pub(crate) async fn task_assigned(tx: &mut Tx, task_id: i64) -> Result<()> {
    let members: Vec<(i64,)> = tx
        .all(
            Q::new(
                "SELECT DISTINCT c.member_id FROM study_credits c JOIN study_task_items ti ON ti.item_id = c.source_id
                 WHERE c.source = 'item' AND ti.task_id = $1
                 UNION SELECT r.member_id FROM study_exam_results r JOIN study_tasks t ON t.exam_id = r.exam_id
                 WHERE t.id = $1 AND r.passed",
            )
            .bind(task_id),
        )
        .await?;
    let ids: Vec<i64> = members.into_iter().map(|(m,)| m).collect();
    for chunk in ids.chunks(CHUNK) {
        settle_tasks(tx, &[task_id], chunk).await?;
    }
    Ok(())
}

/// Sums the item hours credited at these places (year, organization) again, by the items' categories.
async fn recount_categories(tx: &mut Tx, places: &[(i64, String)]) -> Result<()> {
    for (year, path) in places {
        tx.exec(
            Q::new("DELETE FROM study_category_totals WHERE year = $1 AND org_path = $2")
                .bind(*year)
                .bind(path.clone()),
        )
        .await?;
        tx.exec(
            Q::new(
                "INSERT INTO study_category_totals (year, org_path, categories, hours_tenths)
                 SELECT $1, $2, i.categories, CAST(SUM(c.hours_tenths) AS BIGINT) FROM study_credits c
                 JOIN study_items i ON i.id = c.source_id
                 WHERE c.year = $1 AND c.org_path = $2 AND c.source = 'item' GROUP BY i.categories",
            )
            .bind(*year)
            .bind(path.clone()),
        )
        .await?;
    }
    Ok(())
}

/// Decides again, for each of these tasks and members, whether the member has completed the task
/// (every item credited, its exam passed), where they are and whether they count (active, not
/// exempt the year it is due); writes the rows that changed and adds the difference to the counts
/// of their organization and its ancestors.
async fn settle_tasks(tx: &mut Tx, task_ids: &[i64], member_ids: &[i64]) -> Result<()> {
    if task_ids.is_empty() || member_ids.is_empty() {
        return Ok(());
    }
    let mut q = Q::new(
        "SELECT t.id, t.due_on, t.exam_id, (SELECT COUNT(*) FROM study_task_items ti WHERE ti.task_id = t.id)
         FROM study_tasks t WHERE t.id IN (",
    );
    q.push_list(task_ids.iter().copied()).push(")");
    let tasks: Vec<(i64, chrono::NaiveDate, Option<i64>, i64)> = tx.all(q).await?;
    let mut q = Q::new("SELECT id, org_path, status FROM members WHERE id IN (");
    q.push_list(member_ids.iter().copied()).push(")");
    let members: Vec<(i64, String, String)> = tx.all(q).await?;
    let mut q = Q::new("SELECT member_id, year FROM study_exemptions WHERE member_id IN (");
    q.push_list(member_ids.iter().copied()).push(")");
    let exempt: HashSet<(i64, i64)> = tx.all::<(i64, i64)>(q).await?.into_iter().collect();
    let mut q = Q::new(
        "SELECT ti.task_id, c.member_id, COUNT(*) FROM study_credits c JOIN study_task_items ti ON ti.item_id = c.source_id
         WHERE c.source = 'item' AND ti.task_id IN (",
    );
    q.push_list(task_ids.iter().copied())
        .push(") AND c.member_id IN (")
        .push_list(member_ids.iter().copied())
        .push(") GROUP BY ti.task_id, c.member_id");
    let items_done: HashMap<(i64, i64), i64> = tx
        .all::<(i64, i64, i64)>(q)
        .await?
        .into_iter()
        .map(|(t, m, n)| ((t, m), n))
        .collect();
    let exam_ids: Vec<i64> = tasks.iter().filter_map(|t| t.2).collect();
    let passed: HashSet<(i64, i64)> = if exam_ids.is_empty() {
        HashSet::new()
    } else {
        let mut q = Q::new("SELECT exam_id, member_id FROM study_exam_results WHERE passed AND exam_id IN (");
        q.push_list(exam_ids.iter().copied())
            .push(") AND member_id IN (")
            .push_list(member_ids.iter().copied())
            .push(")");
        tx.all::<(i64, i64)>(q).await?.into_iter().collect()
    };
    let mut q = Q::new("SELECT task_id, member_id, org_path, counted FROM study_task_done WHERE task_id IN (");
    q.push_list(task_ids.iter().copied())
        .push(") AND member_id IN (")
        .push_list(member_ids.iter().copied())
        .push(")");
    let before: HashMap<(i64, i64), (String, bool)> = tx
        .all::<(i64, i64, String, bool)>(q)
        .await?
        .into_iter()
        .map(|(t, m, p, c)| ((t, m), (p, c)))
        .collect();

    let mut deltas: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut add = |task: i64, path: &str, d: i64| {
        for org in path_ids(path) {
            *deltas.entry((task, org)).or_default() += d;
        }
    };
    let mut gone: Vec<(i64, i64)> = Vec::new();
    let mut rows: Vec<(i64, i64, String, bool)> = Vec::new();
    for &(task_id, due_on, exam_id, items) in &tasks {
        let year = super::credits::year_of(due_on);
        for (member_id, path, status) in &members {
            let key = (task_id, *member_id);
            let done = (items > 0 || exam_id.is_some())
                && items_done.get(&key).copied().unwrap_or(0) >= items
                && exam_id.is_none_or(|e| passed.contains(&(e, *member_id)));
            let now = done.then(|| {
                (
                    path.clone(),
                    status == "active" && !exempt.contains(&(*member_id, year)),
                )
            });
            let was = before.get(&key);
            if was == now.as_ref() {
                continue;
            }
            if let Some((p, true)) = was {
                add(task_id, p, -1);
            }
            match now {
                Some((p, counted)) => {
                    if counted {
                        add(task_id, &p, 1);
                    }
                    rows.push((task_id, *member_id, p, counted));
                }
                None => gone.push(key),
            }
        }
    }
    for (task_id, member_id) in gone {
        tx.exec(
            Q::new("DELETE FROM study_task_done WHERE task_id = $1 AND member_id = $2")
                .bind(task_id)
                .bind(member_id),
        )
        .await?;
    }
    for chunk in rows.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO study_task_done (task_id, member_id, org_path, counted) VALUES ");
        for (i, (t, m, p, c)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*t).into(), (*m).into(), p.clone().into(), (*c).into()]);
        }
        q.push(
            " ON CONFLICT (task_id, member_id) DO UPDATE SET org_path = excluded.org_path, counted = excluded.counted",
        );
        tx.exec(q).await?;
    }
    add_counts(tx, deltas).await
}

/// Adds to the completion counts of (task, organization).
async fn add_counts(tx: &mut Tx, deltas: BTreeMap<(i64, i64), i64>) -> Result<()> {
    let deltas: Vec<((i64, i64), i64)> = deltas.into_iter().filter(|(_, d)| *d != 0).collect();
    for chunk in deltas.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO study_task_counts (task_id, org_id, done) VALUES ");
        for (i, ((t, o), d)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*t).into(), (*o).into(), (*d).into()]);
        }
        q.push(" ON CONFLICT (task_id, org_id) DO UPDATE SET done = study_task_counts.done + excluded.done");
        tx.exec(q).await?;
    }
    Ok(())
}

/// Before an organization's subtree moves from `old` to `new`: the completions counted in it leave
/// its old ancestors and join the new ones (the rows below follow by path, as every placed record).
pub(crate) async fn org_moving(tx: &mut Tx, org_id: i64, old: &str, new: &str) -> Result<()> {
    let counts: Vec<(i64, i64)> = tx
        .all(Q::new("SELECT task_id, done FROM study_task_counts WHERE org_id = $1 AND done <> 0").bind(org_id))
        .await?;
    let mut deltas: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (task_id, done) in counts {
        for org in path_ids(old).into_iter().filter(|o| *o != org_id) {
            *deltas.entry((task_id, org)).or_default() -= done;
        }
        for org in path_ids(new).into_iter().filter(|o| *o != org_id) {
            *deltas.entry((task_id, org)).or_default() += done;
        }
    }
    add_counts(tx, deltas).await
}

/// Counts every total again from the sources (after the migration that made them, and bulk loads).
pub async fn recount_all(db: &Db) -> Result<()> {
    // Statistics from before rows were loaded would have the planner read a year's lines per member.
    db.analyze().await?;
    let mut tx = db.begin().await?;
    for table in [
        "study_years",
        "study_category_totals",
        "study_task_done",
        "study_task_counts",
    ] {
        tx.exec(Q::new(&format!("DELETE FROM {table}"))).await?;
    }
    // Members with anything credited in a year: items, study meetings attended, classes.
    let years: Vec<(i64,)> = tx
        .all(Q::new(
            "SELECT DISTINCT year FROM study_credits UNION SELECT first_year FROM study_classes
             UNION SELECT first_year + 1 FROM study_classes",
        ))
        .await?;
    let mut years: Vec<i64> = years.into_iter().map(|(y,)| y).collect();
    let meeting_days: Vec<(chrono::NaiveDate,)> = tx
        .all(Q::new(
            "SELECT DISTINCT local_date FROM meetings WHERE study_tenths IS NOT NULL",
        ))
        .await?;
    for (day,) in meeting_days {
        let y = super::credits::year_of(day);
        if !years.contains(&y) {
            years.push(y);
        }
    }
    for year in years {
        let (first, last) = super::reports::year_bounds(year);
        let members: Vec<(i64,)> = tx
            .all(
                Q::new(
                    "SELECT member_id FROM study_credits WHERE year = $1
                     UNION SELECT a.member_id FROM meeting_attendance a JOIN meetings mt ON mt.id = a.meeting_id
                     WHERE mt.study_tenths IS NOT NULL AND mt.local_date >= $2 AND mt.local_date <= $3
                     UNION SELECT a.member_id FROM study_class_attendance a JOIN study_classes c ON c.id = a.class_id
                     WHERE c.first_year = $1 OR c.first_year + 1 = $1",
                )
                .bind(year)
                .bind(first)
                .bind(last),
            )
            .await?;
        let ids: Vec<i64> = members.into_iter().map(|(m,)| m).collect();
        refresh_years(&mut tx, &ids, &[year]).await?;
    }
    tx.exec(Q::new(
        "INSERT INTO study_category_totals (year, org_path, categories, hours_tenths)
         SELECT c.year, c.org_path, i.categories, CAST(SUM(c.hours_tenths) AS BIGINT) FROM study_credits c
         JOIN study_items i ON i.id = c.source_id WHERE c.source = 'item' GROUP BY c.year, c.org_path, i.categories",
    ))
    .await?;
    recount_tasks(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Who has completed each task, from the credits and exam results in a few statements, and the
/// counts up the tree from them.
async fn recount_tasks(tx: &mut Tx) -> Result<()> {
    // Every item credited and the exam (if any) passed; a task of an exam alone, the exam passed.
    tx.exec(Q::new(
        "INSERT INTO study_task_done (task_id, member_id, org_path, counted)
         SELECT t.id, m.id, m.org_path, m.status = 'active' FROM study_tasks t
         JOIN (SELECT ti.task_id, c.member_id, COUNT(*) AS n FROM study_task_items ti
               JOIN study_credits c ON c.source = 'item' AND c.source_id = ti.item_id
               GROUP BY ti.task_id, c.member_id) d ON d.task_id = t.id
         JOIN members m ON m.id = d.member_id
         WHERE d.n = (SELECT COUNT(*) FROM study_task_items x WHERE x.task_id = t.id)
           AND (t.exam_id IS NULL OR EXISTS (SELECT 1 FROM study_exam_results r
                WHERE r.exam_id = t.exam_id AND r.member_id = m.id AND r.passed))
         UNION ALL
         SELECT t.id, m.id, m.org_path, m.status = 'active' FROM study_tasks t
         JOIN study_exam_results r ON r.exam_id = t.exam_id AND r.passed
         JOIN members m ON m.id = r.member_id
         WHERE NOT EXISTS (SELECT 1 FROM study_task_items x WHERE x.task_id = t.id)",
    ))
    .await?;
    // Exempt members (a few) do not count on the tasks due in their year.
    let exemptions: Vec<(i64, i64)> = tx.all(Q::new("SELECT member_id, year FROM study_exemptions")).await?;
    for (member_id, year) in exemptions {
        let (first, last) = super::reports::year_bounds(year);
        tx.exec(
            Q::new(
                "UPDATE study_task_done SET counted = FALSE WHERE member_id = $1
                 AND task_id IN (SELECT id FROM study_tasks WHERE due_on >= $2 AND due_on <= $3)",
            )
            .bind(member_id)
            .bind(first)
            .bind(last),
        )
        .await?;
    }
    let placed: Vec<(i64, String, i64)> = tx
        .all(Q::new(
            "SELECT task_id, org_path, COUNT(*) FROM study_task_done WHERE counted GROUP BY task_id, org_path",
        ))
        .await?;
    let mut deltas: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (task_id, path, n) in placed {
        for org in path_ids(&path) {
            *deltas.entry((task_id, org)).or_default() += n;
        }
    }
    add_counts(tx, deltas).await
}
