//! The member list API under load, against a bare axum handler serving a body of the same size.

use anyhow::Result;
use rand::Rng;
use std::time::{Duration, Instant};
use store::db::Q;
use store::{Caller, Role, Store};

use super::{ms, percentile, BenchArgs};

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

pub(super) async fn api_load(store: &Store, args: &BenchArgs) -> Result<()> {
    // A committee staff account over the whole tree, and a county-level subtree to list.
    let caller = Caller::system("bench");
    let (root, county, county_members) = super::root_and_county(store).await?;
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
