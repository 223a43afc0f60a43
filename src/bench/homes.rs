//! The home's to-do list, for committee staff of the whole tree and for a branch's secretary.

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
