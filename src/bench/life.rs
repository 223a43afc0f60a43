//! Organizational life at scale: a county's year of meetings, its compliance and absence flags,
//! the whole tree's overdue list, a branch's ten years.

use anyhow::Result;
use domain::life::ComplianceStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use store::db::Q;
use store::{Caller, Store};

use super::{ms, percentile};

/// Organizational life at scale: a year of meetings for every branch of the largest county, ten
/// years for one branch; then compliance of the county, the province's overdue list, and a
/// branch's ten-year meeting list.
pub(super) async fn life_speed(store: &Store) -> Result<()> {
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
        format!("overdue list of the whole tree from the meetings, as for another year ({orgs} organizations, {overdue} items, 5 runs)"),
        t,
    );
    // This year's list comes from the warnings, once the day's evaluation is done.
    store::warnings::refresh(&store.db, "/").await?;
    let mut t = Vec::new();
    for _ in 0..20 {
        let s = Instant::now();
        overdue = store::warnings::meetings(&store.db, &caller, root, year, ComplianceStatus::Overdue, 1000)
            .await?
            .1;
        t.push(s.elapsed());
    }
    time(
        format!("overdue list of the whole tree this year, from the warnings ({overdue} items, 20 runs)"),
        t,
    );
    // What the compliance page of the whole tree reads.
    let mut t = Vec::new();
    for _ in 0..20 {
        let s = Instant::now();
        for status in [ComplianceStatus::Overdue, ComplianceStatus::DueSoon] {
            store::warnings::meetings(&store.db, &caller, root, year, status, 500).await?;
        }
        life::absence::absence_flags(&store.db, &caller, root).await?;
        life::terms::due(&store.db, &caller, root, 200).await?;
        t.push(s.elapsed());
    }
    time(
        "the whole tree's compliance page: overdue and due soon, absence flags, terms (20 runs)".to_string(),
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
