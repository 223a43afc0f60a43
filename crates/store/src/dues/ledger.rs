//! The monthly ledger: one row per member and month owed, written by the monthly job.

use crate::audit::{self, Event};
use crate::db::{now_text, Db, Q};
use crate::error::Result;
use crate::scope::Caller;
use chrono::NaiveDate;
use domain::dues::Month;

/// Writes the month's ledger rows for every active member with a base that year (the monthly job,
/// and `hongji dues generate`). Rows already there are kept; returns how many were written. Members
/// whose letter from outside states the month as paid are left out: the few who arrived are read
/// once into a set (`NOT IN`), not looked up for each of the million rows.
pub async fn generate_month(db: &Db, month: Month) -> Result<u64> {
    let last_day =
        NaiveDate::from_ymd_opt(month.next().year, month.next().month, 1).expect("valid") - chrono::Days::new(1);
    // Each active member's latest base of the year from before the month (no later one: a probe
    // per row, a fifth cheaper on SQLite than a MAX computed per row), unless a transfer paid it.
    let mut tx = db.begin().await?;
    let written = tx
        .exec(
            Q::new(
                "INSERT INTO dues_ledger (member_id, month, org_id, org_path, due_fen, paid_fen)
                 SELECT m.id, $1, m.org_id, m.org_path, p.monthly_fen, 0
                 FROM dues_profiles p JOIN members m ON m.id = p.member_id
                 WHERE p.year = $2 AND p.from_month <= $4 AND m.status = 'active' AND m.joined_on <= $3
                 AND NOT EXISTS (SELECT 1 FROM transfers_in t WHERE t.member_id = m.id AND t.paid_up_to >= $1)
                 AND NOT EXISTS (SELECT 1 FROM dues_profiles q WHERE q.member_id = p.member_id AND q.year = $2
                     AND q.from_month <= $4 AND q.from_month > p.from_month)
                 ON CONFLICT (member_id, month) DO NOTHING",
            )
            .bind(month.key())
            .bind(month.year as i64)
            .bind(last_day)
            .bind(month.month as i64),
        )
        .await?;
    tx.exec(
        Q::new(
            "INSERT INTO dues_generated (month, rows_written, at) VALUES ($1, $2, $3)
             ON CONFLICT (month) DO UPDATE SET rows_written = dues_generated.rows_written + excluded.rows_written, at = excluded.at",
        )
        .bind(month.key())
        .bind(written as i64)
        .bind(now_text()),
    )
    .await?;
    crate::dues::totals::recount_month(&mut tx, month.key()).await?;
    // A new month's lines change everyone's arrears.
    crate::marks::all_stale(&mut tx).await?;
    audit::append(
        &mut tx,
        &Caller::system("dues"),
        Event::ok("dues.generate", "month", month).with_detail(format!("{written} rows")),
    )
    .await?;
    tx.commit().await?;
    Ok(written)
}

/// The daily job's part: writes this month's ledger once, on the first day it runs in the month.
pub async fn generate_if_new_month(db: &Db, today: NaiveDate) -> Result<Option<u64>> {
    let month = Month::of(today);
    let done: Option<(i64,)> = db
        .opt(Q::new("SELECT month FROM dues_generated WHERE month = $1").bind(month.key()))
        .await?;
    if done.is_some() {
        return Ok(None);
    }
    generate_month(db, month).await.map(Some)
}
