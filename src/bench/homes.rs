//! The home's to-do list, for committee staff of the whole tree and for a branch's secretary: the
//! day's evaluation of every organization's warnings, the list itself, and the list after a write
//! in one branch (which evaluates that branch again), the warnings page and the dashboard of the
//! whole tree and of a branch.

use anyhow::Result;
use store::db::Q;
use store::{Caller, Role, Store};

use super::timed;

/// The home's to-do list (待办) as committee staff of the whole tree and a branch's secretary open it.
pub(super) async fn homes_speed(store: &Store) -> Result<()> {
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
    let committee = in_role(Role::OrgAdmin, root_path, root);
    let secretary = in_role(Role::Secretary, branch_path, branch);
    let (orgs,): (i64,) = store
        .db
        .one(Q::new("SELECT COUNT(*) FROM orgs WHERE dissolved_on IS NULL"))
        .await?;
    // The daily data-quality run over every active member (each ID number opened in memory).
    let run = timed("data-quality run over every active member", 1, || async {
        Ok(store::quality::run(&store.db, &store.keys).await?)
    })
    .await?;
    println!(
        "  ({} checked, {} failures, {} duplicates)",
        run.checked, run.failures, run.duplicates
    );
    // A new day: what the daily job does before anyone opens a home.
    store
        .db
        .exec(Q::new(
            "UPDATE job_leases SET last_run_on = NULL WHERE name = 'warnings_day'",
        ))
        .await?;
    let label = format!("warnings of a new day, every organization evaluated ({orgs})");
    timed(&label, 1, || async {
        Ok(store::warnings::refresh(&store.db, "/").await?)
    })
    .await?;
    // A write in the branch marks it; the next home evaluates it again.
    let write_in_branch = || async {
        let mut tx = store.db.begin().await?;
        store::marks::stale(&mut tx, store::marks::Of::Org(branch)).await?;
        tx.commit().await?;
        anyhow::Ok(())
    };
    for (label, caller, runs, after_write) in [
        (
            format!("to-do of committee staff over the whole tree ({tree} members)"),
            &committee,
            20,
            false,
        ),
        (
            "  the same after a write in one branch".to_string(),
            &committee,
            20,
            true,
        ),
        (
            format!("to-do of a branch secretary ({members} members)"),
            &secretary,
            50,
            false,
        ),
        (
            "  the same after a write in the branch".to_string(),
            &secretary,
            50,
            true,
        ),
    ] {
        let items = timed(&label, runs, || async {
            if after_write {
                write_in_branch().await?;
            }
            Ok(store::todo::for_caller(&store.db, caller).await?)
        })
        .await?;
        println!("  ({} items)", items.len());
    }
    let filter = store::warnings::acks::WarningFilter::default();
    for (label, caller, org, runs) in [
        ("warnings page of the whole tree (first page)", &committee, root, 20),
        ("warnings page of a branch", &secretary, branch, 50),
    ] {
        let page = timed(label, runs, || async {
            Ok(store::warnings::acks::list(&store.db, caller, org, &filter).await?)
        })
        .await?;
        println!("  ({} open, {} on the page)", page.total, page.rows.len());
    }
    // Dashboards: today's from the kept totals; a past day's from their history (today's copied to
    // yesterday, so that there is one to read).
    let today = store::clock::today();
    let yesterday = today - chrono::Duration::days(1);
    store
        .db
        .exec(
            Q::new(
                "INSERT INTO figure_history (org_id, figure, day, n) SELECT org_id, figure, $1, n FROM figure_history
                 WHERE day = $2 ON CONFLICT (org_id, figure, day) DO NOTHING",
            )
            .bind(yesterday)
            .bind(today),
        )
        .await?;
    let on = |day| store::dashboard::DashboardQuery { as_of: Some(day) };
    for (label, caller, org, runs, day, after_write) in [
        ("dashboard of the whole tree", &committee, root, 20, today, false),
        (
            "  the same after a write in one branch",
            &committee,
            root,
            20,
            today,
            true,
        ),
        (
            "  the same as of yesterday (history)",
            &committee,
            root,
            20,
            yesterday,
            false,
        ),
        ("dashboard of a branch", &secretary, branch, 50, today, false),
        (
            "  the same after a write in the branch",
            &secretary,
            branch,
            50,
            today,
            true,
        ),
    ] {
        let d = timed(label, runs, || async {
            if after_write {
                write_in_branch().await?;
            }
            Ok(store::dashboard::of_org(&store.db, caller, org, &on(day)).await?)
        })
        .await?;
        println!("  ({} tiles, {} organizations below)", d.tiles.len(), d.below.len());
    }
    Ok(())
}
