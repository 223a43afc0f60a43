//! Dues at scale: the monthly job against a bare copy of the same rows, and the reports.

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use store::db::Q;
use store::{Caller, Store};

use super::timed;

/// Party dues at scale: a year's bases for every member, the monthly job against a bare copy of the
/// same rows into a table of the same definition, then the reports a committee and a branch open.
pub(super) async fn dues_speed(store: &Store) -> Result<()> {
    let caller = Caller::system("bench");
    // Last month's: the month the reports and the arrears are read as of.
    let month = domain::dues::Month::of(store::clock::today()).prev();
    let (written_before,): (i64,) = store
        .db
        .one(Q::new("SELECT COUNT(*) FROM dues_ledger WHERE month = $1").bind(month.key()))
        .await?;
    if written_before == 0 {
        dues_setup(store, &caller, month).await?;
    } else {
        println!("dues: using the {written_before} ledger rows of {month} already written");
    }
    dues_reports(store, &caller, month).await
}

/// A year's bases for every member, and the month's ledger timed against a bare copy.
async fn dues_setup(store: &Store, caller: &Caller, month: domain::dues::Month) -> Result<()> {
    use domain::dues::Rounding;
    use store::dues::{self, bases::ProfileInput};
    use store::seed;
    let today = store::clock::today();
    let ids: Vec<(i64,)> = store
        .db
        .all(Q::new("SELECT id FROM members WHERE status = 'active'"))
        .await?;
    let mut rng = StdRng::seed_from_u64(5);
    let start = Instant::now();
    for chunk in ids.chunks(50_000) {
        let rows: Vec<(i64, store::dues::bases::ValidProfile)> = chunk
            .iter()
            .map(|(id,)| {
                let input = ProfileInput {
                    year: Some(month.year),
                    category: Some(if id % 4 == 0 { "retired" } else { "employed" }.into()),
                    base_fen: Some(rng.gen_range(200_000..1_500_000)),
                    ..Default::default()
                };
                (*id, input.validate(Rounding::HalfUp, today).expect("valid base"))
            })
            .collect();
        seed::dues::insert_profiles_bulk(&store.db, caller, &rows).await?;
    }
    println!(
        "dues: bases for {} members written in {:.1} s",
        ids.len(),
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let written = dues::ledger::generate_month(&store.db, month).await?;
    let ours = start.elapsed();
    super::copy_table(store, "dues_ledger", "bench_ledger").await?;
    let start = Instant::now();
    store
        .db
        .exec(
            Q::new(
                "INSERT INTO bench_ledger (member_id, month, org_id, org_path, due_fen, paid_fen)
                 SELECT member_id, month, org_id, org_path, due_fen, paid_fen FROM dues_ledger WHERE month = $1",
            )
            .bind(month.key()),
        )
        .await?;
    let bare = start.elapsed();
    store.db.script("DROP TABLE bench_ledger").await?;
    println!(
        "dues: the monthly job wrote {written} rows in {:.1} s ({:.0} rows/s); a bare copy of the same rows into a table of the same definition (keys, references, indexes) {:.1} s; ratio {:.2}×",
        ours.as_secs_f64(),
        written as f64 / ours.as_secs_f64(),
        bare.as_secs_f64(),
        ours.as_secs_f64() / bare.as_secs_f64()
    );
    // Nine in ten have paid.
    let mut tx = store.db.begin().await?;
    tx.exec(
        Q::new("UPDATE dues_ledger SET paid_fen = due_fen WHERE month = $1 AND member_id % 10 <> 0").bind(month.key()),
    )
    .await?;
    store::dues::totals::recount_month(&mut tx, month.key()).await?;
    tx.commit().await?;
    store.db.analyze().await?;
    Ok(())
}

/// The reports a committee and a branch open, over the month's ledger.
async fn dues_reports(store: &Store, caller: &Caller, month: domain::dues::Month) -> Result<()> {
    use store::dues;
    let (root, county, county_members) = super::root_and_county(store).await?;
    let (branch, branch_members): (i64, i64) = store
        .db
        .one(Q::new(
            "SELECT id, direct_members FROM orgs WHERE kind = 'branch' ORDER BY direct_members DESC LIMIT 1",
        ))
        .await?;
    let db = &store.db;
    let c = caller;
    let r = timed("dues: the whole tree's month report", 5, || async {
        Ok(dues::reports::report(db, c, root, month.year, Some(month.month)).await?)
    })
    .await?;
    println!("  ({} members owing, {} paid)", r.members, r.paying_members);
    // The month's ledger marked every organization: the daily job evaluates their warnings.
    timed(
        "dues: the day's warnings after the month's ledger (every organization)",
        1,
        || async { Ok(store::warnings::refresh(db, "/").await?) },
    )
    .await?;
    timed(
        "dues: the whole tree's page — year report and those in arrears (first 200)",
        5,
        || async {
            dues::reports::report(db, c, root, month.year, None).await?;
            Ok(store::warnings::arrears(db, c, root, None, 200).await?.len())
        },
    )
    .await?;
    timed(
        &format!("dues: a county's month report ({county_members} members)"),
        20,
        || async { Ok(dues::reports::report(db, c, county, month.year, Some(month.month)).await?) },
    )
    .await?;
    timed(
        &format!("dues: a county's arrears list ({county_members} members)"),
        5,
        || async { Ok(dues::reports::arrears(db, c, county, Some(month), 10_000).await?.len()) },
    )
    .await?;
    timed(
        &format!("dues: a branch's page — year report, arrears and book ({branch_members} members)"),
        100,
        || async {
            dues::reports::report(db, c, branch, month.year, None).await?;
            dues::reports::arrears(db, c, branch, Some(month), 200).await?;
            Ok(dues::reports::book(db, c, branch, month.year, 1_000).await?.len())
        },
    )
    .await?;
    Ok(())
}
