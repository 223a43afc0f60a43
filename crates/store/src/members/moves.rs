//! A member changing organization or leaving the roll through a transfer: the record, the
//! sizes on both sides and a mobile registration that ends.

use domain::member::Status;

use super::contribution;
use crate::clock::today;
use crate::db::{now_text, Tx, Q};
use crate::error::Result;
use crate::orgs::adjust_counts;

/// Moves a member to another organization inside the caller's transaction (a transfer accepted).
pub(crate) async fn relocate(tx: &mut Tx, id: i64, org_id: i64, org_path: &str) -> Result<()> {
    let (was_org_id, was_path, status, category): (i64, String, String, String) = tx
        .one(Q::new("SELECT org_id, org_path, status, category FROM members WHERE id = $1").bind(id))
        .await?;
    tx.exec(
        Q::new("UPDATE members SET org_id = $1, org_path = $2, group_id = NULL, updated_at = $3 WHERE id = $4")
            .bind(org_id)
            .bind(org_path)
            .bind(now_text())
            .bind(id),
    )
    .await?;
    let (d, f) = contribution(&status, &category);
    moved(tx, id, (was_org_id, &was_path, d, f), (org_id, org_path, d, f)).await?;
    crate::study::totals::members_changed(tx, &[id], &[]).await
}

/// A member whose letter to an organization outside the platform came back receipted leaves the
/// roll: the status, the sizes, the record of organizations, the posts.
pub(crate) async fn mark_transferred_out(tx: &mut Tx, id: i64) -> Result<()> {
    let (org_id, path, status, category): (i64, String, String, String) = tx
        .one(Q::new("SELECT org_id, org_path, status, category FROM members WHERE id = $1").bind(id))
        .await?;
    tx.exec(
        Q::new("UPDATE members SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(Status::TransferredOut.as_str())
            .bind(now_text())
            .bind(id),
    )
    .await?;
    let (d, f) = contribution(&status, &category);
    adjust_counts(tx, org_id, &path, -d, -f).await?;
    tx.exec(
        Q::new("UPDATE member_orgs SET to_on = $1 WHERE member_id = $2 AND to_on IS NULL")
            .bind(today())
            .bind(id),
    )
    .await?;
    tx.exec(Q::new("DELETE FROM org_officers WHERE member_id = $1").bind(id))
        .await?;
    crate::study::totals::members_changed(tx, &[id], &[]).await?;
    end_mobile_registration(tx, id).await
}

/// After a member's organization changed: the sizes on both sides (with what the member counted
/// for before and after), the record of organizations belonged to, the posts left behind, and a
/// mobile registration (the member has moved, not gone away).
pub(super) async fn moved(tx: &mut Tx, id: i64, from: (i64, &str, i64, i64), to: (i64, &str, i64, i64)) -> Result<()> {
    adjust_counts(tx, from.0, from.1, -from.2, -from.3).await?;
    adjust_counts(tx, to.0, to.1, to.2, to.3).await?;
    tx.exec(
        Q::new("UPDATE member_orgs SET to_on = $1 WHERE member_id = $2 AND to_on IS NULL")
            .bind(today())
            .bind(id),
    )
    .await?;
    tx.exec(
        Q::new("INSERT INTO member_orgs (member_id, org_id, from_on) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(to.0)
            .bind(today()),
    )
    .await?;
    // Posts belong to the organization left behind.
    tx.exec(Q::new("DELETE FROM org_officers WHERE member_id = $1").bind(id))
        .await?;
    end_mobile_registration(tx, id).await
}

/// A member who moves to another organization or leaves the roll is no longer away from it: their
/// open mobile registration (流动党员, `mobile`) ends today.
async fn end_mobile_registration(tx: &mut Tx, member_id: i64) -> Result<()> {
    tx.exec(
        Q::new("UPDATE mobile_members SET ended_on = $1 WHERE member_id = $2 AND ended_on IS NULL")
            .bind(today())
            .bind(member_id),
    )
    .await?;
    Ok(())
}
