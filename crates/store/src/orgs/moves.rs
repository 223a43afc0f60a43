//! Moving an organization under another parent: whether the caller may, and the rewrite of its
//! subtree's paths in every table that keeps one, with the counts of the old and new ancestors.

use super::*;

/// Whether the caller may move `org` under `new_parent_id`, and the parent if so.
pub(super) async fn check(db: &Db, caller: &Caller, org: &Org, new_parent_id: i64) -> Result<Org> {
    let parent = get(db, caller, new_parent_id)
        .await
        .map_err(|_| Invalid::one("parent_id", "not_found"))?;
    caller
        .require(db, Perm::ManageOrgs, &parent.path, "org.move", ("org", &org.id))
        .await?;
    if parent.path.starts_with(&org.path) {
        return Err(Invalid::one("parent_id", "inside_itself").into());
    }
    if parent.dissolved_on.is_some() {
        return Err(Invalid::one("parent_id", "dissolved").into());
    }
    if !org.kind().may_sit_under(Some(parent.kind())) {
        return Err(Invalid::one("parent_id", "not_allowed_under_parent").into());
    }
    Ok(parent)
}

/// The tables and columns that place a record in the tree by its organization's path.
const PLACED_BY_PATH: [(&str, &str); 29] = [
    ("members", "org_path"),
    ("meetings", "org_path"),
    ("activities", "org_path"),
    ("dues_ledger", "org_path"),
    ("dues_payments", "org_path"),
    ("reviews", "org_path"),
    ("reviews", "reviewer_path"),
    ("transfers", "from_path"),
    ("transfers", "to_path"),
    ("transfers_in", "org_path"),
    ("announcements", "org_path"),
    ("announcement_targets", "org_path"),
    ("development_files", "org_path"),
    ("mobile_members", "host_path"),
    ("warnings", "org_path"),
    ("warnings_stale", "org_path"),
    ("warning_settings", "org_path"),
    ("warning_counts", "org_path"),
    ("dues_totals", "org_path"),
    ("study_items", "org_path"),
    ("study_item_targets", "org_path"),
    ("study_tasks", "org_path"),
    ("study_task_targets", "org_path"),
    ("study_credits", "org_path"),
    ("study_exemptions", "org_path"),
    ("study_classes", "org_path"),
    ("study_years", "org_path"),
    ("study_category_totals", "org_path"),
    ("study_task_done", "org_path"),
];

/// Moves an organization and its whole subtree under a new parent; paths and counts follow. Paths,
/// depths and counts are read again inside the transaction (locked on PostgreSQL), so a member
/// added or an organization moved meanwhile is carried along correctly.
pub(super) async fn apply(tx: &mut Tx, postgres: bool, caller: &Caller, org_id: i64, parent_id: i64) -> Result<()> {
    let lock = if postgres { " FOR UPDATE" } else { "" };
    let (old, depth, members, old_parent): (String, i64, i64, Option<i64>) = tx
        .one(
            Q::new(&format!(
                "SELECT path, depth, subtree_members, parent_id FROM orgs WHERE id = $1{lock}"
            ))
            .bind(org_id),
        )
        .await?;
    let (parent_path, parent_depth): (String, i64) = tx
        .one(Q::new(&format!("SELECT path, depth FROM orgs WHERE id = $1{lock}")).bind(parent_id))
        .await?;
    if parent_path.starts_with(&old) {
        return Err(Invalid::one("parent_id", "inside_itself").into());
    }
    let new = child_path(Some(&parent_path), org_id);
    adjust_ancestors(tx, &old, -members).await?;
    crate::study::totals::org_moving(tx, org_id, &old, &new).await?;
    let end = subtree_end(&old);
    let keep_from = old.len() as i64 + 1;
    tx.exec(
        Q::new("UPDATE orgs SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3 WHERE path >= $4 AND path < $5")
            .bind(new.clone())
            .bind(keep_from)
            .bind(parent_depth + 1 - depth)
            .bind(old.clone())
            .bind(end.clone()),
    )
    .await?;
    // Every record placed in the subtree by path moves with it: its meetings, ledger, files,
    // letters and warnings are then found under the new parent as its members are.
    for (table, column) in PLACED_BY_PATH {
        tx.exec(
            Q::new(&format!(
                "UPDATE {table} SET {column} = $1 || substr({column}, CAST($2 AS INTEGER)) WHERE {column} >= $3 AND {column} < $4"
            ))
            .bind(new.clone())
            .bind(keep_from)
            .bind(old.clone())
            .bind(end.clone()),
        )
        .await?;
    }
    tx.exec(
        Q::new("UPDATE orgs SET parent_id = $1, updated_at = $2 WHERE id = $3")
            .bind(parent_id)
            .bind(now_text())
            .bind(org_id),
    )
    .await?;
    adjust_ancestors(tx, &new, members).await?;
    crate::marks::moved(tx, org_id, &old, &new).await?;
    record_event(
        tx,
        caller,
        org_id,
        "moved",
        &serde_json::json!({"from": old_parent, "to": parent_id}),
    )
    .await?;
    audit::append(
        tx,
        caller,
        Event::ok("org.move", "org", org_id).with_detail(format!("to={parent_id}")),
    )
    .await?;
    Ok(())
}
