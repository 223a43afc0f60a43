//! Lists of the tree: what a caller may see, whole, a page at a time or its top levels, in the
//! order people read a tree in.

use domain::org::path_ids;

use super::{Org, ORG_COLUMNS};
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::{Caller, Own, Perm};

/// Organizations the caller may see, optionally only the children of one.
pub async fn list(db: &Db, caller: &Caller, parent_id: Option<i64>) -> Result<Vec<Org>> {
    let mut q = Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE "));
    caller.filter(&mut q, Perm::ReadOrgs, "o.path", Own::BranchPath("o.path"));
    if let Some(p) = parent_id {
        q.push(" AND o.parent_id = ").push_bind(p);
    }
    q.push(" ORDER BY o.path");
    Ok(tree_order(db.all(q).await?))
}

/// A page of the organizations the caller may see (optionally the children of one), depth first
/// in path order, with how many there are in all: the API's list, which a province's 100,000
/// organizations would otherwise make one answer of megabytes.
pub async fn page(
    db: &Db,
    caller: &Caller,
    parent_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Org>, i64)> {
    let select = |what: &str| {
        let mut q = Q::new(&format!("SELECT {what} FROM orgs o WHERE "));
        caller.filter(&mut q, Perm::ReadOrgs, "o.path", Own::BranchPath("o.path"));
        if let Some(p) = parent_id {
            q.push(" AND o.parent_id = ").push_bind(p);
        }
        q
    };
    let mut q = select(ORG_COLUMNS);
    q.push(" ORDER BY o.path LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let (items, (total,)) = tokio::try_join!(db.all(q), db.one::<(i64,)>(select("COUNT(*)")))?;
    Ok((items, total))
}

/// The top `levels` levels of what the caller may see, in tree order: the tree page of a scope
/// too large to show whole, which the reader drills down from.
pub async fn top_levels(db: &Db, caller: &Caller, levels: i64) -> Result<Vec<Org>> {
    let top = caller
        .roots(Perm::ReadOrgs)
        .iter()
        .map(|r| path_ids(r).len() as i64 - 1)
        .min()
        .unwrap_or(0)
        .max(0);
    let mut q = Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE "));
    caller.filter(&mut q, Perm::ReadOrgs, "o.path", Own::BranchPath("o.path"));
    q.push(" AND o.depth < ").push_bind(top + levels);
    q.push(" ORDER BY o.path");
    Ok(tree_order(db.all(q).await?))
}

/// How many organizations the caller may see, counting no further than `most + 1`.
pub async fn count_upto(db: &Db, caller: &Caller, most: i64) -> Result<i64> {
    let mut q = Q::new("SELECT COUNT(*) FROM (SELECT 1 FROM orgs o WHERE ");
    caller.filter(&mut q, Perm::ReadOrgs, "o.path", Own::BranchPath("o.path"));
    q.push(" LIMIT ").push_bind(most + 1).push(") AS upto");
    Ok(db.one::<(i64,)>(q).await?.0)
}

/// Depth-first, siblings by name: the order people read a tree in. (Path order alone would put
/// siblings in id order, which is random.)
pub fn tree_order(orgs: Vec<Org>) -> Vec<Org> {
    use std::collections::HashMap;
    let present: std::collections::HashSet<i64> = orgs.iter().map(|o| o.id).collect();
    let mut children: HashMap<Option<i64>, Vec<Org>> = HashMap::new();
    for o in orgs {
        // Organizations whose parent is out of view start trees of their own.
        let key = o.parent_id.filter(|p| present.contains(p));
        children.entry(key).or_default().push(o);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    }
    let mut out = Vec::with_capacity(present.len());
    let mut stack: Vec<Org> = children.remove(&None).unwrap_or_default().into_iter().rev().collect();
    while let Some(o) = stack.pop() {
        if let Some(kids) = children.remove(&Some(o.id)) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(o);
    }
    out
}
