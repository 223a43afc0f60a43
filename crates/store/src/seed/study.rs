//! Bulk loading of a past year of online study for the demo (outside the scoped API): library
//! items published, tasks assigned to their organizations' subtrees, and the completions credited
//! (online or recorded offline). The study totals are counted afterwards (`study::totals::recount_all`).

use chrono::NaiveDate;

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::Result;
use crate::scope::Caller;

/// A published library item.
pub struct PastItem {
    pub org_id: i64,
    pub org_path: String,
    pub title: String,
    pub summary: String,
    /// One of the seven categories (条例 Arts. 9–15).
    pub category: &'static str,
    pub hours_tenths: i64,
    pub published_on: NaiveDate,
}

/// A task to its organization's subtree, with who completed it.
pub struct PastTask {
    pub org_id: i64,
    pub org_path: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub required: bool,
    /// Indexes into the items loaded with it.
    pub items: Vec<usize>,
    /// Who completed it: each is credited with every item.
    pub done: Vec<Completion>,
}

/// A member who completed a task: where they are, how (`online`, `group`, `home`) and the day.
pub type Completion = (i64, String, &'static str, NaiveDate);

/// Inserts the items, the tasks and their completions in one transaction, with one audit entry.
pub async fn insert_past_year(db: &Db, caller: &Caller, items: &[PastItem], tasks: &[PastTask]) -> Result<()> {
    let now = now_text();
    let mut tx = db.begin().await?;
    let ids: Vec<i64> = items.iter().map(|_| new_id()).collect();
    for (chunk, chunk_ids) in items.chunks(200).zip(ids.chunks(200)) {
        let mut q = Q::new(
            "INSERT INTO study_items (id, org_id, org_path, kind, title, summary, source, body, link, categories, tags,
             hours_tenths, version, status, published_on, created_by, created_at, updated_at) VALUES ",
        );
        let mut targets = Q::new("INSERT INTO study_item_targets (item_id, org_id, org_path) VALUES ");
        let mut changes = Q::new("INSERT INTO search_changes (kind, doc_id) VALUES ");
        for (i, (item, id)) in chunk.iter().zip(chunk_ids).enumerate() {
            let body = domain::study::article::sanitise(
                "<h3>学习提纲</h3><ol><li>原文学习，把握要义。</li><li>联系本职工作交流体会。</li></ol>",
            );
            q.push_row(
                i == 0,
                [
                    (*id).into(),
                    item.org_id.into(),
                    item.org_path.clone().into(),
                    "article".into(),
                    item.title.clone().into(),
                    item.summary.clone().into(),
                    "".into(),
                    body.into(),
                    Option::<String>::None.into(),
                    format!(",{},", item.category).into(),
                    "".into(),
                    item.hours_tenths.into(),
                    1i64.into(),
                    "published".into(),
                    item.published_on.into(),
                    caller.username.clone().into(),
                    now.clone().into(),
                    now.clone().into(),
                ],
            );
            targets.push_row(i == 0, [(*id).into(), item.org_id.into(), item.org_path.clone().into()]);
            changes.push_row(i == 0, ["item".into(), (*id).into()]);
        }
        tx.exec(q).await?;
        tx.exec(targets).await?;
        tx.exec(changes).await?;
    }
    for task in tasks {
        let id = new_id();
        tx.exec(
            Q::new(
                "INSERT INTO study_tasks (id, org_id, org_path, title, note, starts_on, due_on, required, created_by, created_at, reminded_on)
                 VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $6)",
            )
            .bind(id)
            .bind(task.org_id)
            .bind(task.org_path.clone())
            .bind(task.title.clone())
            .bind(task.starts_on)
            .bind(task.due_on)
            .bind(task.required)
            .bind(caller.username.clone())
            .bind(now.clone()),
        )
        .await?;
        let mut q = Q::new("INSERT INTO study_task_items (task_id, item_id, position) VALUES ");
        for (position, item) in task.items.iter().enumerate() {
            q.push_row(position == 0, [id.into(), ids[*item].into(), (position as i64).into()]);
        }
        tx.exec(q).await?;
        tx.exec(
            Q::new("INSERT INTO study_task_targets (task_id, org_id, org_path) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(task.org_id)
                .bind(task.org_path.clone()),
        )
        .await?;
        let lines: Vec<(usize, &Completion)> = task
            .items
            .iter()
            .flat_map(|i| task.done.iter().map(move |d| (*i, d)))
            .collect();
        for chunk in lines.chunks(1_000) {
            let mut q = Q::new(
                "INSERT INTO study_credits (id, member_id, org_path, year, credited_on, hours_tenths, source, source_id,
                 version, label, form, recorded_by, recorded_at) VALUES ",
            );
            for (i, (item, (member, path, form, on))) in chunk.iter().enumerate() {
                q.push_row(
                    i == 0,
                    [
                        new_id().into(),
                        (*member).into(),
                        path.clone().into(),
                        i64::from(chrono::Datelike::year(on)).into(),
                        (*on).into(),
                        items[*item].hours_tenths.into(),
                        "item".into(),
                        ids[*item].into(),
                        1i64.into(),
                        items[*item].title.clone().into(),
                        (*form).into(),
                        caller.username.clone().into(),
                        now.clone().into(),
                    ],
                );
            }
            // An item in several tasks counts once.
            q.push(" ON CONFLICT (member_id, source, source_id) DO NOTHING");
            tx.exec(q).await?;
        }
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.seed", "study_items", "").with_detail(format!("items={} tasks={}", items.len(), tasks.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
