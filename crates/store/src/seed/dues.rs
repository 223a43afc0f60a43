//! Bulk loading of bases and past payments for the demo and the benchmark (outside the scoped API).

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Arg, Db, Q};
use crate::dues::bases::{ValidProfile, PROFILE_COLUMNS};
use crate::error::Result;
use crate::scope::Caller;
use chrono::NaiveDate;
use domain::dues::{self, Month};

/// A payment already made, loaded in bulk: the months it covered in full, and any voluntary extra.
#[derive(Debug, Clone)]
pub struct PastPayment {
    pub member_id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub paid_on: NaiveDate,
    pub months: Vec<(Month, i64)>,
    pub method: &'static str,
    pub voluntary_fen: i64,
}

/// Writes past payments in one transaction and sets the ledger's paid amounts from them.
pub async fn insert_past_payments(db: &Db, caller: &Caller, payments: &[PastPayment]) -> Result<()> {
    let now = now_text();
    let mut tx = db.begin().await?;
    for chunk in payments.chunks(300) {
        let ids: Vec<i64> = chunk.iter().map(|_| new_id()).collect();
        let mut q = Q::new(
            "INSERT INTO dues_payments (id, member_id, org_id, org_path, paid_on, amount_fen, dues_fen, voluntary_fen, method,
             remit_to_centre, recorded_by, recorded_at) VALUES ",
        );
        for (i, (p, id)) in chunk.iter().zip(&ids).enumerate() {
            let dues_fen: i64 = p.months.iter().map(|(_, fen)| fen).sum();
            q.push_row(
                i == 0,
                [
                    Arg::from(*id),
                    p.member_id.into(),
                    p.org_id.into(),
                    p.org_path.clone().into(),
                    p.paid_on.into(),
                    (dues_fen + p.voluntary_fen).into(),
                    dues_fen.into(),
                    p.voluntary_fen.into(),
                    p.method.into(),
                    (p.voluntary_fen >= dues::REMIT_TO_CENTRE_FEN).into(),
                    caller.username.clone().into(),
                    now.clone().into(),
                ],
            );
        }
        tx.exec(q).await?;
        let lines: Vec<[Arg; 3]> = chunk
            .iter()
            .zip(&ids)
            .flat_map(|(p, id)| {
                p.months
                    .iter()
                    .map(move |(m, fen)| [(*id).into(), m.key().into(), (*fen).into()])
            })
            .collect();
        for part in lines.chunks(300) {
            let mut q = Q::new("INSERT INTO dues_payment_months (payment_id, month, amount_fen) VALUES ");
            for (i, l) in part.iter().enumerate() {
                q.push_row(i == 0, l.iter().cloned());
            }
            tx.exec(q).await?;
        }
        let mut q = Q::new(
            "UPDATE dues_ledger SET paid_fen = (SELECT COALESCE(SUM(pm.amount_fen), 0) FROM dues_payment_months pm
             JOIN dues_payments p ON p.id = pm.payment_id WHERE p.member_id = dues_ledger.member_id AND pm.month = dues_ledger.month)
             WHERE member_id IN (",
        );
        q.push_list(chunk.iter().map(|p| p.member_id));
        q.push(")");
        tx.exec(q).await?;
    }
    let months: std::collections::BTreeSet<i64> = payments
        .iter()
        .flat_map(|p| p.months.iter().map(|(m, _)| m.key()))
        .collect();
    for month in months {
        crate::dues::totals::recount_month(&mut tx, month).await?;
    }
    crate::marks::stale_orgs(&mut tx, payments.iter().map(|p| p.org_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("dues.payment.bulk_create", "members", "").with_detail(format!("rows={}", payments.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Writes a year's bases without touching the ledger (the benchmark sets a million at once, then
/// times the monthly job separately).
pub async fn insert_profiles_bulk(db: &Db, caller: &Caller, rows: &[(i64, ValidProfile)]) -> Result<()> {
    let now = now_text();
    let mut tx = db.begin().await?;
    for chunk in rows.chunks(500) {
        let mut q = Q::new(&format!("INSERT INTO dues_profiles ({PROFILE_COLUMNS}) VALUES "));
        for (i, (member_id, v)) in chunk.iter().enumerate() {
            q.push_row(
                i == 0,
                [
                    Arg::from(*member_id),
                    (v.year as i64).into(),
                    (v.from_month as i64).into(),
                    v.category.as_str().into(),
                    v.base_fen.into(),
                    v.monthly_fen.into(),
                    v.rounding.as_str().into(),
                    v.decided_on.into(),
                    v.approved_on.into(),
                    v.approval_ref.clone().into(),
                    caller.username.clone().into(),
                    now.clone().into(),
                ],
            );
        }
        q.push(" ON CONFLICT (member_id, year, from_month) DO NOTHING");
        tx.exec(q).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("dues.profile.bulk_create", "members", "").with_detail(format!("rows={}", rows.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
