//! Each organization's dues for each month (due, paid, outstanding, members, members paid up),
//! summed from its ledger lines and kept beside them: a province's month report adds up forty
//! thousand organizations' rows instead of a million members' lines. Every statement that writes
//! ledger lines counts their organization-months again in the same transaction; a test compares
//! the totals with the ledger after each kind of write.

use crate::db::{Tx, Q};
use crate::error::Result;

/// Sums one month's lines per organization (`{lines}` restricts them) into its totals row, grouped
/// in the order of dues_ledger_month_path, which holds every column read.
const RECOUNT: &str =
    "INSERT INTO dues_totals (org_id, month, org_path, due_fen, paid_fen, outstanding_fen, members, paying_members)
     SELECT l.org_id, l.month, MIN(l.org_path), SUM(l.due_fen), SUM(l.paid_fen),
     SUM(CASE WHEN l.due_fen > l.paid_fen THEN l.due_fen - l.paid_fen ELSE 0 END), COUNT(*),
     SUM(CASE WHEN l.paid_fen >= l.due_fen THEN 1 ELSE 0 END)
     FROM dues_ledger l WHERE {lines} GROUP BY l.month, l.org_path, l.org_id
     ON CONFLICT (org_id, month) DO UPDATE SET org_path = excluded.org_path, due_fen = excluded.due_fen,
     paid_fen = excluded.paid_fen, outstanding_fen = excluded.outstanding_fen, members = excluded.members,
     paying_members = excluded.paying_members";

/// Counts again the organization-months where these members' lines for these months lie.
pub(crate) async fn recount(tx: &mut Tx, member_ids: &[i64], months: &[i64]) -> Result<()> {
    if member_ids.is_empty() || months.is_empty() {
        return Ok(());
    }
    let mut q = Q::new("SELECT DISTINCT month, org_path FROM dues_ledger WHERE member_id IN (");
    q.push_list(member_ids.iter().copied()).push(") AND month IN (");
    q.push_list(months.iter().copied()).push(")");
    let places: Vec<(i64, String)> = tx.all(q).await?;
    // One organization-month at a time: each is an index range of the ledger (month, org_path).
    for (month, path) in places {
        tx.exec(
            Q::new(&RECOUNT.replace("{lines}", "l.month = $1 AND l.org_path = $2"))
                .bind(month)
                .bind(path),
        )
        .await?;
    }
    Ok(())
}

/// Counts again every organization's totals for a month (the monthly job, bulk loads).
pub async fn recount_month(tx: &mut Tx, month: i64) -> Result<()> {
    tx.exec(Q::new(&RECOUNT.replace("{lines}", "l.month = $1")).bind(month))
        .await?;
    Ok(())
}
