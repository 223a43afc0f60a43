//! `hongji bench`: the speed figures reported on issues, measured side by side in one run:
//! generation throughput against a bare batched insert of the same rows, subtree count reads, the
//! member list API under load against a bare axum handler, organizational life queries, and the
//! monthly dues job against a bare copy of the same rows, with the dues reports, and the
//! development boards, and online study (the ledger and report, an exam day, search).

use anyhow::Result;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use store::db::{Arg, Q};
use store::{Caller, Store};

use crate::people::People;

mod api;
mod dues;
mod homes;
mod life;
mod pipeline;
mod study;

#[derive(Args)]
pub struct BenchArgs {
    /// Members to generate (skipped when the database already has members).
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// An empty database to fill; default: a new SQLite file in a temporary directory.
    #[arg(long, env = "HONGJI_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Seconds of load for each HTTP measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Run some parts only, comma-separated: `counts`, `api`, `life`, `dues`, `pipeline`, `homes`,
    /// `study`.
    #[arg(long)]
    only: Option<String>,
    /// Library items the study part searches over.
    #[arg(long, default_value_t = 200_000)]
    study_items: usize,
    /// Exam attempts the study part submits on its exam day.
    #[arg(long, default_value_t = 10_000)]
    exam_attempts: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("hongji-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (sqlite_url, mut keys, checkpoints) = store::data_dir_defaults(&dir);
    // A database given by URL is measured again in later runs: its records stay readable with
    // the same keys (a new key would make every ID number unreadable to the data-quality run).
    if let Some(url) = &args.database_url {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut h);
        keys = std::env::temp_dir().join(format!("hongji-bench-{:016x}.keys", h.finish()));
    }
    let url = args.database_url.clone().unwrap_or(sqlite_url);
    let store = Store::open(&url, &keys, &checkpoints).await?;
    println!(
        "database: {}",
        if store.db.is_postgres() { "PostgreSQL" } else { "SQLite" }
    );

    let (existing,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM members")).await?;
    if existing == 0 {
        let start = Instant::now();
        crate::generate::run(&store, args.members, 1, |_| {}).await?;
        let ours = start.elapsed();
        let bare = bare_insert(&store, args.members).await?;
        println!(
            "generate: {} members in {:.1} s = {:.0} members/s; bare batched insert of as many sealed rows, in the same branches, into a copy of the members table (its keys, references and indexes) {:.1} s = {:.0} rows/s; ratio {:.2}×",
            args.members,
            ours.as_secs_f64(),
            args.members as f64 / ours.as_secs_f64(),
            bare.as_secs_f64(),
            args.members as f64 / bare.as_secs_f64(),
            ours.as_secs_f64() / bare.as_secs_f64()
        );
    } else {
        println!("using the {existing} members already in the database");
    }

    let part = |name: &str| {
        args.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|p| p.trim() == name))
    };
    if part("counts") {
        subtree_counts(&store).await?;
    }
    if part("api") {
        api::api_load(&store, &args).await?;
    }
    if part("life") {
        life::life_speed(&store).await?;
    }
    if part("dues") {
        dues::dues_speed(&store).await?;
    }
    if part("pipeline") {
        pipeline::pipeline_speed(&store).await?;
    }
    if part("homes") {
        homes::homes_speed(&store).await?;
    }
    if part("study") {
        study::study_speed(&store, args.study_items, args.exam_attempts).await?;
    }
    if args.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Creates `copy` as `table` is defined in the catalog — its columns, keys, references and every
/// index — for a bare write to be timed against ours (dropped first if a run left one).
pub(super) async fn copy_table(store: &Store, table: &str, copy: &str) -> Result<()> {
    store.db.exec(Q::new(&format!("DROP TABLE IF EXISTS {copy}"))).await?;
    if store.db.is_postgres() {
        // LIKE copies the keys and indexes, not the references: those are added from the catalog.
        store
            .db
            .exec(Q::new(&format!("CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")))
            .await?;
        let references: Vec<(String,)> = store
            .db
            .all(Q::new(&format!(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'f'"
            )))
            .await?;
        for (definition,) in references {
            store
                .db
                .exec(Q::new(&format!("ALTER TABLE {copy} ADD {definition}")))
                .await?;
        }
    } else {
        let ddl: Vec<(String,)> = store
            .db
            .all(
                Q::new("SELECT sql FROM sqlite_master WHERE tbl_name = $1 AND sql IS NOT NULL ORDER BY type DESC")
                    .bind(table),
            )
            .await?;
        for (sql,) in ddl {
            let sql = sql
                .replacen("INDEX ", &format!("INDEX {copy}_"), 1)
                .replacen(&format!("CREATE TABLE {table}"), &format!("CREATE TABLE {copy}"), 1)
                .replace(&format!(" ON {table}"), &format!(" ON {copy}"));
            store.db.exec(Q::new(&sql)).await?;
        }
    }
    Ok(())
}

/// Runs `load` with the tables' secondary indexes dropped (and, on PostgreSQL, their references),
/// and puts them back after: a bulk load of tens of millions of rows then writes each index once,
/// sorted, and checks each reference in one join, instead of a random insertion per row and index
/// and a locking lookup per row and reference (a hundred million of them for the totals at a
/// million members). The keys and unique constraints stay; what was dropped comes back as the
/// catalog defined it.
pub(super) async fn without_secondary_indexes<F, Fut, T>(store: &Store, tables: &[&str], load: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    // (the statement that drops it, the one that makes it again)
    let mut dropped: Vec<(String, String)> = Vec::new();
    for table in tables {
        let indexes = if store.db.is_postgres() {
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1
             AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        } else {
            // Constraints' own indexes have no SQL of their own.
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
        };
        let indexes: Vec<(String, String)> = store.db.all(Q::new(indexes).bind(table.to_string())).await?;
        dropped.extend(
            indexes
                .into_iter()
                .map(|(name, def)| (format!("DROP INDEX {name}"), def)),
        );
        if store.db.is_postgres() {
            let references: Vec<(String, String)> = store
                .db
                .all(Q::new(&format!(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'f'"
                )))
                .await?;
            dropped.extend(references.into_iter().map(|(name, def)| {
                (
                    format!("ALTER TABLE {table} DROP CONSTRAINT {name}"),
                    format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"),
                )
            }));
        }
    }
    for (drop, _) in &dropped {
        store.db.exec(Q::new(drop)).await?;
    }
    let loaded = load().await;
    // Put back whether the load succeeded or not: a failed run leaves the schema whole.
    for (_, make) in &dropped {
        store.db.exec(Q::new(make)).await?;
    }
    loaded
}

/// The floor our path is compared with: the same number of member rows, sealed beforehand, in the
/// generator's branches, inserted with the same batch size into a copy of the members table — its
/// keys, references and every one of its indexes, read from the catalog — with no validation,
/// sealing, history, counts or audit while the clock runs.
async fn bare_insert(store: &Store, n: usize) -> Result<Duration> {
    copy_table(store, "members", "bench_members").await?;
    let branches: Vec<(i64, String)> = store
        .db
        .all(Q::new("SELECT id, path FROM orgs WHERE kind = 'branch' ORDER BY id"))
        .await?;
    let mut people = People::new(StdRng::seed_from_u64(7), store::clock::today(), 10_000_000);
    let made: Vec<store::members::NewRow> = (0..n)
        .map(|i| crate::generate::member_in(&branches[i % branches.len()], &mut people))
        .collect();
    let rows: Vec<Vec<Arg>> = store::members::seal(&store.keys, &made)
        .iter()
        .map(|r| r.member_values().to_vec())
        .collect();
    let start = Instant::now();
    for batch in rows.chunks(crate::generate::BATCH) {
        let mut tx = store.db.begin().await?;
        for chunk in batch.chunks(400) {
            let mut q = Q::new("INSERT INTO bench_members VALUES ");
            for (i, row) in chunk.iter().enumerate() {
                q.push_row(i == 0, row.iter().cloned());
            }
            tx.exec(q).await?;
        }
        tx.commit().await?;
    }
    let took = start.elapsed();
    store.db.exec(Q::new("DROP TABLE bench_members")).await?;
    Ok(took)
}

/// The tree's root, and its largest county with its members: what the parts measure over.
async fn root_and_county(store: &Store) -> Result<(i64, i64, i64)> {
    let (root,): (i64,) = store
        .db
        .one(Q::new(
            "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY depth LIMIT 1",
        ))
        .await?;
    let (county, county_members): (i64, i64) = store
        .db
        .one(Q::new(
            "SELECT id, subtree_members FROM orgs WHERE depth = 2 ORDER BY subtree_members DESC LIMIT 1",
        ))
        .await
        .or(store
            .db
            .one(Q::new("SELECT id, subtree_members FROM orgs ORDER BY depth LIMIT 1"))
            .await)?;
    Ok((root, county, county_members))
}

async fn subtree_counts(store: &Store) -> Result<()> {
    let ids: Vec<(i64, i64)> = store.db.all(Q::new("SELECT id, depth FROM orgs")).await?;
    let caller = Caller::system("bench");
    let mut rng = StdRng::seed_from_u64(3);
    let mut times = Vec::new();
    let mut root_time = Duration::ZERO;
    for i in 0..2000 {
        let (id, depth) = if i == 0 {
            *ids.iter().min_by_key(|(_, d)| *d).unwrap()
        } else {
            ids[rng.gen_range(0..ids.len())]
        };
        let start = Instant::now();
        let org = store::orgs::get(&store.db, &caller, id).await?;
        let t = start.elapsed();
        if depth == 0 {
            root_time = t;
        }
        std::hint::black_box(org.subtree_members);
        times.push(t);
    }
    times.sort();
    println!(
        "subtree member count of an organization (2000 random, any depth): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; the root: {:.2} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        ms(root_time)
    );
    Ok(())
}

/// Times `f` `runs` times and prints p50 and p99.
async fn timed<F, Fut, T>(label: &str, runs: usize, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let s = Instant::now();
        last = Some(f().await?);
        times.push(s.elapsed());
    }
    times.sort();
    println!(
        "{label} ({runs} runs): p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
    Ok(last.expect("at least one run"))
}

/// Writes out what earlier loads left in the log (a checkpoint), so that a timed part and the
/// bare writes it is compared with each start clean, neither billed for a bulk load before it.
pub(super) async fn write_out(store: &Store) -> Result<()> {
    let sql = if store.db.is_postgres() {
        "CHECKPOINT"
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    };
    store.db.script(sql).await?;
    Ok(())
}
