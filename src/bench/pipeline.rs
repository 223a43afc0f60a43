//! Member development, reviews and transfers over a whole tree.

use anyhow::Result;
use std::time::Instant;
use store::db::{Arg, Q};
use store::{Caller, Store};

use super::timed;

/// Member development at scale: one person in ten in the pipeline (the national ratio of activists
/// to members, 统计公报 2024), each at a step of their own, and the boards a county and a branch
/// open, with the pending reviews of the committee at the top.
pub(super) async fn pipeline_speed(store: &Store) -> Result<()> {
    let db = &store.db;
    let (existing,): (i64,) = db.one(Q::new("SELECT COUNT(*) FROM development_files")).await?;
    if existing == 0 {
        let start = Instant::now();
        let now = store::db::now_text();
        // The files borrow the particulars of every tenth member, already encrypted; nothing reads them.
        db.exec(
            Q::new(
                "INSERT INTO development_files (id, org_id, org_path, name, gender, ethnicity, birth_date, education,
                 work_unit, id_number_enc, id_number_bi, id_number_masked, phone_enc, phone_masked, status, member_id,
                 extension_months, created_by, created_at, updated_at)
                 SELECT id + 1, org_id, org_path, name, gender, ethnicity, birth_date, education, work_unit,
                 id_number_enc, id_number_bi, id_number_masked, phone_enc, phone_masked, 'open', NULL, 0, 'bench', $1, $1
                 FROM members WHERE id % 10 = 0 AND status = 'active'",
            )
            .bind(now.clone()),
        )
        .await?;
        let files: Vec<(i64,)> = db.all(Q::new("SELECT id FROM development_files")).await?;
        let today = store::clock::today();
        let mut steps = 0usize;
        for chunk in files.chunks(20_000) {
            let mut tx = db.begin().await?;
            let rows: Vec<Vec<Arg>> = chunk
                .iter()
                .flat_map(|(id,)| {
                    // Steps 1..=k done, a week apart, ending a few weeks ago.
                    let k = (id / 10 % 14 + 1) as u64;
                    let first = today - chrono::Days::new(7 * k + 21);
                    let now = now.clone();
                    (1..=k).map(move |s| {
                        let on = first + chrono::Days::new(7 * s);
                        vec![
                            (*id).into(),
                            (s as i64).into(),
                            on.into(),
                            Option::<String>::None.into(),
                            "bench".into(),
                            now.clone().into(),
                        ]
                    })
                })
                .collect();
            steps += rows.len();
            for batch in rows.chunks(5_000) {
                let mut q = Q::new(
                    "INSERT INTO development_steps (file_id, step, done_on, note, recorded_by, recorded_at) VALUES ",
                );
                for (i, row) in batch.iter().enumerate() {
                    q.push_row(i == 0, row.clone());
                }
                tx.exec(q).await?;
            }
            tx.commit().await?;
        }
        let mut tx = db.begin().await?;
        tx.exec(Q::new(
            "UPDATE development_files SET last_step = (SELECT MAX(s.step) FROM development_steps s WHERE s.file_id = development_files.id)",
        ))
        .await?;
        // A bulk load marks what it changed, as every write does: here every branch's board.
        store::marks::all_stale(&mut tx).await?;
        tx.commit().await?;
        db.analyze().await?;
        println!(
            "development: {} files with {steps} steps written in {:.1} s",
            files.len(),
            start.elapsed().as_secs_f64()
        );
        // A server evaluates what the load marked in the background a few seconds after it
        // (`warnings::settle`, and the daily job on a new day), before any reader asks: timed
        // apart, as no page waits for it.
        let start = Instant::now();
        let settled = store::warnings::refresh(db, "/").await?;
        println!(
            "development: the background evaluation of the {settled} organizations the load marked: {:.1} s",
            start.elapsed().as_secs_f64()
        );
    } else {
        println!("development: using the {existing} files already written");
    }
    let caller = Caller::system("bench");
    let c = &caller;
    let (root,): (i64,) = db
        .one(Q::new(
            "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY depth LIMIT 1",
        ))
        .await?;
    let (county, county_members): (i64, i64) = db
        .one(Q::new(
            "SELECT id, subtree_members FROM orgs WHERE depth = 2 ORDER BY subtree_members DESC LIMIT 1",
        ))
        .await?;
    let (branch, branch_members): (i64, i64) = db
        .one(Q::new(
            "SELECT id, direct_members FROM orgs WHERE kind = 'branch' ORDER BY direct_members DESC LIMIT 1",
        ))
        .await?;
    let n = timed(
        &format!("development: a county's board ({county_members} members; the first 2,000 files)"),
        20,
        || async { Ok(store::development::board(db, c, county).await?.len()) },
    )
    .await?;
    println!("  ({n} files on the board)");
    let n = timed(
        &format!("development: a branch's board ({branch_members} members)"),
        100,
        || async { Ok(store::development::board(db, c, branch).await?.len()) },
    )
    .await?;
    println!("  ({n} files on the board)");
    let stages = timed("development: the whole tree's count by stage", 5, || async {
        Ok(store::development::stages(db, c, root).await?)
    })
    .await?;
    println!("  ({stages:?})");
    timed("reviews: pending across the whole tree", 20, || async {
        Ok(store::reviews::pending(db, c).await?.len())
    })
    .await?;
    timed("transfers: the whole tree's letters", 20, || async {
        let all = store::transfers::TransferFilter {
            org_id: Some(root),
            status: None,
        };
        Ok(store::transfers::list(db, c, &all).await?.len())
    })
    .await?;
    Ok(())
}
