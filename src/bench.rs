//! `hongji bench`: the speed figures reported on issues, measured side by side in one run:
//! generation throughput against a bare batched insert of the same rows, subtree count reads, the
//! member list API under load against a bare axum handler, organizational life queries, and the
//! monthly dues job against a bare copy of the same rows, with the dues reports, and the
//! development boards.

use anyhow::Result;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use store::db::{Arg, Q};
use store::{Caller, Role, Store};

use crate::people::{People, Profile};

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
    /// Run some parts only, comma-separated: `counts`, `api`, `life`, `dues`, `pipeline`, `homes`.
    #[arg(long)]
    only: Option<String>,
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
    let (sqlite_url, keys, checkpoints) = store::data_dir_defaults(&dir);
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
        api_load(&store, &args).await?;
    }
    if part("life") {
        life_speed(&store).await?;
    }
    if part("dues") {
        dues_speed(&store).await?;
    }
    if part("pipeline") {
        pipeline_speed(&store).await?;
    }
    if part("homes") {
        homes_speed(&store).await?;
    }
    if args.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The floor our path is compared with: the same number of member rows, sealed beforehand, in the
/// generator's branches, inserted with the same batch size into a copy of the members table — its
/// keys, references and every one of its indexes, read from the catalog — with no validation,
/// sealing, history, counts or audit while the clock runs.
async fn bare_insert(store: &Store, n: usize) -> Result<Duration> {
    store.db.exec(Q::new("DROP TABLE IF EXISTS bench_members")).await?;
    let copy = |sql: &str| {
        sql.replacen("INDEX ", "INDEX bench_", 1)
            .replacen("CREATE TABLE members", "CREATE TABLE bench_members", 1)
            .replace(" ON public.members ", " ON bench_members ")
            .replace(" ON members", " ON bench_members")
    };
    if store.db.is_postgres() {
        // LIKE copies the keys and indexes, not the references: those are added from the catalog.
        store
            .db
            .exec(Q::new("CREATE TABLE bench_members (LIKE members INCLUDING ALL)"))
            .await?;
        let references: Vec<(String,)> = store
            .db
            .all(Q::new(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'members'::regclass AND contype = 'f'",
            ))
            .await?;
        for (definition,) in references {
            store
                .db
                .exec(Q::new(&format!("ALTER TABLE bench_members ADD {definition}")))
                .await?;
        }
    } else {
        let ddl: Vec<(String,)> = store
            .db
            .all(Q::new(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'members' AND sql IS NOT NULL ORDER BY type DESC",
            ))
            .await?;
        for (sql,) in ddl {
            store.db.exec(Q::new(&copy(&sql))).await?;
        }
    }
    let branches: Vec<(i64, String)> = store
        .db
        .all(Q::new("SELECT id, path FROM orgs WHERE kind = 'branch' ORDER BY id"))
        .await?;
    let mut people = People::new(StdRng::seed_from_u64(7), store::clock::today(), 10_000_000);
    let made: Vec<store::members::NewRow> = (0..n)
        .map(|i| {
            let (org_id, org_path) = branches[i % branches.len()].clone();
            store::members::NewRow {
                id: store::db::new_id(),
                org_id,
                org_path,
                group_id: None,
                member: people.member(Profile::National, ""),
            }
        })
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

struct Load {
    requests: usize,
    errors: usize,
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

async fn load(url: String, token: Option<String>, seconds: u64, concurrency: usize) -> Load {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("http client");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut req = client.get(&url);
                    if let Some(tok) = &token {
                        req = req.bearer_auth(tok);
                    }
                    match req.send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            times.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (times, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((times, e)) = t.await {
            all.extend(times);
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    Load {
        requests: all.len(),
        errors,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        per_second: all.len() as f64 / elapsed,
    }
}

async fn api_load(store: &Store, args: &BenchArgs) -> Result<()> {
    // A committee staff account over the whole tree, and a county-level subtree to list.
    let caller = Caller::system("bench");
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
    let username = format!("bench{}", rand::thread_rng().gen_range(0..1_000_000));
    let password = "Bench-Pass-2026";
    let user = store::accounts::create_user(
        &store.db,
        &store.keys,
        &caller,
        &store::accounts::NewUser {
            username: username.clone(),
            display_name: "bench".into(),
            phone: None,
            password: password.into(),
            member_id: None,
        },
        false,
    )
    .await?;
    let grantor = Caller::system_as("bench", Role::SecurityAdmin);
    store::accounts::grant(&store.db, &grantor, user.id, Role::OrgAdmin, Some(root)).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut state = server::AppState::new(store.clone(), false);
    state.scheduled_jobs = false;
    // The benchmark measures the server, not the limits that keep floods out.
    state.limits = std::sync::Arc::new(server::limits::Limits::new(server::limits::Settings::unlimited()));
    tokio::spawn(server::serve(listener, state));
    let client = reqwest::Client::new();
    let token = sign_in(&client, addr, &username, password).await?;
    // A secretary of a branch of about thirty members, whose roster opens without an `org_id`.
    let (branch, branch_members): (i64, i64) = store
        .db
        .one(Q::new(
            "SELECT id, subtree_members FROM orgs WHERE kind = 'branch' AND subtree_members BETWEEN 20 AND 60 ORDER BY id LIMIT 1",
        ))
        .await?;
    let secretary = format!("{username}s");
    let s_user = store::accounts::create_user(
        &store.db,
        &store.keys,
        &caller,
        &store::accounts::NewUser {
            username: secretary.clone(),
            display_name: "bench secretary".into(),
            phone: None,
            password: password.into(),
            member_id: None,
        },
        false,
    )
    .await?;
    store::accounts::grant(&store.db, &grantor, s_user.id, Role::Secretary, Some(branch)).await?;
    let s_token = sign_in(&client, addr, &secretary, password).await?;

    let (tree,): (i64,) = store
        .db
        .one(Q::new("SELECT subtree_members FROM orgs WHERE id = $1").bind(root))
        .await?;
    let deep = (tree / 20 / 2).max(1);
    let lists = [
        (
            format!("county subtree of {county_members}, page 3"),
            format!("http://{addr}/api/v1/members?org_id={county}&page=3&per_page=20"),
            &token,
        ),
        (
            format!("whole tree of {tree}, first page, no org_id"),
            format!("http://{addr}/api/v1/members?per_page=20"),
            &token,
        ),
        (
            format!("whole tree, page {deep}"),
            format!("http://{addr}/api/v1/members?per_page=20&page={deep}"),
            &token,
        ),
        (
            format!("secretary's default roster ({branch_members} members), no org_id"),
            format!("http://{addr}/api/v1/members?per_page=20"),
            &s_token,
        ),
        (
            format!("the same branch with org_id={branch}"),
            format!("http://{addr}/api/v1/members?org_id={branch}&per_page=20"),
            &s_token,
        ),
    ];
    let sample = client
        .get(&lists[0].1)
        .bearer_auth(&token)
        .send()
        .await?
        .bytes()
        .await?;

    // The bare handler returns a body of the same size with no work behind it.
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare_listener.local_addr()?;
    let body = sample.clone();
    let bare = axum::Router::new().route(
        "/bare",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    tokio::spawn(async move { axum::serve(bare_listener, bare).await });

    let floor = load(format!("http://{bare_addr}/bare"), None, args.seconds, args.concurrency).await;
    println!(
        "bare axum handler, a member page's body ({} clients, {} s): {:.0} req/s, p99 {:.2} ms",
        args.concurrency,
        args.seconds,
        floor.per_second,
        ms(floor.p99)
    );
    for (label, url, tok) in &lists {
        let ours = load(url.clone(), Some(tok.to_string()), args.seconds, args.concurrency).await;
        println!(
            "member list API, {label}: {:.0} req/s ({:.1}% of the bare handler), p50 {:.1} ms, p99 {:.1} ms, {} errors",
            ours.per_second,
            100.0 * ours.per_second / floor.per_second.max(1e-9),
            ms(ours.p50),
            ms(ours.p99),
            ours.errors
        );
        let _ = ours.requests;
    }
    let _ = (floor.requests, floor.errors, floor.p50);
    Ok(())
}

async fn sign_in(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    username: &str,
    password: &str,
) -> Result<String> {
    let login: serde_json::Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    Ok(login["token"].as_str().unwrap_or_default().to_string())
}

/// Organizational life at scale: a year of meetings for every branch of the largest county, ten
/// years for one branch; then compliance of the county, the province's overdue list, and a
/// branch's ten-year meeting list.
async fn life_speed(store: &Store) -> Result<()> {
    use domain::life::MeetingKind;
    use store::life::{self, meetings::MeetingFilter};
    use store::seed::{self, meetings::PastMeeting};
    let caller = Caller::system("bench");
    let (county, county_path): (i64, String) = store
        .db
        .one(Q::new(
            "SELECT id, path FROM orgs WHERE depth = 2 ORDER BY subtree_members DESC LIMIT 1",
        ))
        .await?;
    let end = domain::org::subtree_end(&county_path);
    let branches: Vec<(i64, String)> = store
        .db
        .all(
            Q::new("SELECT id, path FROM orgs WHERE path >= $1 AND path < $2 AND kind = 'branch'")
                .bind(county_path.clone())
                .bind(end.clone()),
        )
        .await?;
    let members: Vec<(i64, i64)> = store
        .db
        .all(
            Q::new("SELECT id, org_id FROM members WHERE org_path >= $1 AND org_path < $2")
                .bind(county_path.clone())
                .bind(end),
        )
        .await?;
    let today = store::clock::today();
    let mut rng = StdRng::seed_from_u64(11);
    let mut past = Vec::new();
    let at = |days_ago: i64| store::clock::now() - chrono::Duration::days(days_ago);
    for (i, (branch, path)) in branches.iter().enumerate() {
        let people: Vec<i64> = members.iter().filter(|(_, o)| o == branch).map(|(m, _)| *m).collect();
        let years = if i == 0 { 10 } else { 1 };
        for month in 0..12 * years {
            for (kind, day) in [(MeetingKind::ThemeDay, 15), (MeetingKind::BranchCommitteeMeeting, 5)] {
                let attendance = people
                    .iter()
                    .map(|m| (*m, if rng.gen_bool(0.85) { "present" } else { "leave" }, None))
                    .collect();
                past.push(PastMeeting {
                    org_id: *branch,
                    org_path: path.clone(),
                    kinds: vec![kind],
                    title: format!("{month}"),
                    starts: at(month as i64 * 30 + day),
                    location: String::new(),
                    attendance,
                });
            }
        }
    }
    let start = Instant::now();
    seed::meetings::insert_bulk(&store.db, &caller, &past).await?;
    println!(
        "life: {} meetings for the {} branches of a county of {} members loaded in {:.1} s",
        past.len(),
        branches.len(),
        members.len(),
        start.elapsed().as_secs_f64()
    );
    let year = chrono::Datelike::year(&today);
    let time = |label: String, mut times: Vec<Duration>| {
        times.sort();
        println!(
            "{label}: p50 {:.1} ms, p99 {:.1} ms",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    };
    let mut t = Vec::new();
    for _ in 0..20 {
        let s = Instant::now();
        std::hint::black_box(
            life::compliance::compliance(&store.db, &caller, county, year, None)
                .await?
                .len(),
        );
        t.push(s.elapsed());
    }
    time("compliance of the county (all items, 20 runs)".into(), t);
    let mut t = Vec::new();
    let mut flagged = 0;
    for _ in 0..20 {
        let s = Instant::now();
        flagged = life::absence::absence_flags(&store.db, &caller, county).await?.len();
        t.push(s.elapsed());
    }
    time(
        format!("six-month absence flags of the county ({flagged} flagged, 20 runs)"),
        t,
    );
    let (root,): (i64,) = store
        .db
        .one(Q::new(
            "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY depth LIMIT 1",
        ))
        .await?;
    let mut t = Vec::new();
    let mut overdue = 0;
    for _ in 0..5 {
        let s = Instant::now();
        overdue = life::compliance::overdue(&store.db, &caller, root, year, 1000).await?.1;
        t.push(s.elapsed());
    }
    let (orgs,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM orgs")).await?;
    time(
        format!("overdue list of the whole tree ({orgs} organizations, {overdue} items, 5 runs)"),
        t,
    );
    let f = MeetingFilter {
        org_id: Some(branches[0].0),
        limit: Some(2000),
        ..Default::default()
    };
    let mut t = Vec::new();
    let mut n = 0;
    for _ in 0..200 {
        let s = Instant::now();
        n = life::meetings::list(&store.db, &caller, &f).await?.len();
        t.push(s.elapsed());
    }
    time(
        format!("meeting list of a branch with ten years of history ({n} meetings, 200 runs)"),
        t,
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

/// The home's to-do list (待办) as committee staff of the whole tree and a branch's secretary open it.
async fn homes_speed(store: &Store) -> Result<()> {
    let in_role = |role: Role, path: String, org_id: i64| {
        let mut c = Caller::system("bench");
        c.grants = vec![store::scope::Grant {
            id: 0,
            role,
            org_id: Some(org_id),
            path,
            org_name: None,
            pending: false,
        }];
        c
    };
    let (root, root_path, tree): (i64, String, i64) = store
        .db
        .one(Q::new(
            "SELECT id, path, subtree_members FROM orgs WHERE parent_id IS NULL ORDER BY depth LIMIT 1",
        ))
        .await?;
    let (branch, branch_path, members): (i64, String, i64) = store
        .db
        .one(Q::new(
            "SELECT id, path, subtree_members FROM orgs WHERE kind = 'branch' AND subtree_members BETWEEN 20 AND 60 ORDER BY id LIMIT 1",
        ))
        .await?;
    for (label, caller, runs) in [
        (
            format!("to-do of committee staff over the whole tree ({tree} members)"),
            in_role(Role::OrgAdmin, root_path, root),
            5,
        ),
        (
            format!("to-do of a branch secretary ({members} members)"),
            in_role(Role::Secretary, branch_path, branch),
            50,
        ),
    ] {
        let items = timed(&label, runs, || async {
            Ok(store::todo::for_caller(&store.db, &caller).await?)
        })
        .await?;
        println!("  ({} items)", items.len());
    }
    Ok(())
}

/// Party dues at scale: a year's bases for every member, the monthly job against a bare copy of the
/// same rows into a table of the same definition, then the reports a committee and a branch open.
async fn dues_speed(store: &Store) -> Result<()> {
    let caller = Caller::system("bench");
    let month = domain::dues::Month::of(store::clock::today());
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
    store
        .db
        .script(
            "CREATE TABLE bench_ledger (member_id BIGINT NOT NULL REFERENCES members(id), month BIGINT NOT NULL,
             org_id BIGINT NOT NULL REFERENCES orgs(id),
             org_path TEXT NOT NULL, due_fen BIGINT NOT NULL, paid_fen BIGINT NOT NULL DEFAULT 0, unpaid_reason TEXT,
             PRIMARY KEY (member_id, month));
             CREATE INDEX bench_ledger_month_path ON bench_ledger(month, org_path, due_fen, paid_fen)",
        )
        .await?;
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
    store
        .db
        .exec(
            Q::new("UPDATE dues_ledger SET paid_fen = due_fen WHERE month = $1 AND member_id % 10 <> 0")
                .bind(month.key()),
        )
        .await?;
    store.db.analyze().await?;
    Ok(())
}

/// The reports a committee and a branch open, over the month's ledger.
async fn dues_reports(store: &Store, caller: &Caller, month: domain::dues::Month) -> Result<()> {
    use store::dues;
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
        .await?;
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

/// Member development at scale: one person in ten in the pipeline (the national ratio of activists
/// to members, 统计公报 2024), each at a step of their own, and the boards a county and a branch
/// open, with the pending reviews of the committee at the top.
async fn pipeline_speed(store: &Store) -> Result<()> {
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
        db.exec(Q::new(
            "UPDATE development_files SET last_step = (SELECT MAX(s.step) FROM development_steps s WHERE s.file_id = development_files.id)",
        ))
        .await?;
        db.analyze().await?;
        println!(
            "development: {} files with {steps} steps written in {:.1} s",
            files.len(),
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
