//! A member's dues: their months, what is unpaid and how far they have paid.

use super::bases::{in_effect, profile_rows, Profile};
use super::payers::payer;
use super::payments::{payments_where, Payment};
use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::{Caller, Perm};
use chrono::NaiveDate;
use domain::dues::{self, Arrears, LedgerMonth, Month};
use domain::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthLine {
    #[schema(value_type = String, example = "2026-01")]
    pub month: Month,
    pub due_fen: i64,
    pub paid_fen: i64,
    /// `paid`, `unpaid`, `part_paid`, `upcoming` (not begun), `not_owed` (before joining) or
    /// `no_base` (no base set for the year).
    pub status: String,
    pub unpaid_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberDues {
    pub member_id: i64,
    pub name: String,
    pub year: i32,
    pub profiles: Vec<Profile>,
    pub months: Vec<MonthLine>,
    pub due_fen: i64,
    pub paid_fen: i64,
    /// Every month owed up to and including this one is paid (`YYYY-MM`).
    #[schema(value_type = Option<String>, example = "2026-10")]
    pub paid_up_to: Option<Month>,
    #[schema(value_type = Option<Object>)]
    pub arrears: Option<Arrears>,
    pub payments: Vec<Payment>,
    /// Whether the caller may set bases and record payments for this member.
    pub can_manage: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct LedgerRow {
    pub(crate) member_id: i64,
    pub(crate) month: i64,
    pub(crate) due_fen: i64,
    pub(crate) paid_fen: i64,
    unpaid_reason: Option<String>,
}

impl LedgerRow {
    pub(crate) fn as_month(&self) -> LedgerMonth {
        LedgerMonth {
            month: Month::from_key(self.month).expect("stored months are valid"),
            due_fen: self.due_fen,
            paid_fen: self.paid_fen,
            excused: self.unpaid_reason.is_some(),
        }
    }
}

/// The month before the current one: a month is not in arrears while it lasts.
pub fn last_complete_month(today: NaiveDate) -> Month {
    Month::of(today).prev()
}

/// A member's year: bases and how they were computed, each month due and paid, paid-up-to, arrears
/// and payments. For the member themself and whoever may read their record.
pub async fn member_dues(db: &Db, caller: &Caller, member_id: i64, year: i32) -> Result<MemberDues> {
    if !domain::time::YEARS.contains(&year) {
        return Err(Invalid::one("year", "invalid").into());
    }
    let member = payer(db, caller, member_id, false).await?;
    let can_manage = caller.can_at(Perm::ManageDues, &member.org_path);
    let with_base = can_manage || caller.member_id == Some(member_id);
    let profile_rows = profile_rows(db, member_id, year).await?;
    let year_profiles: Vec<(i64, i64)> = profile_rows.iter().map(|p| (p.from_month, p.monthly_fen)).collect();
    let ledger: Vec<LedgerRow> = db
        .all(
            Q::new("SELECT member_id, month, due_fen, paid_fen, unpaid_reason FROM dues_ledger WHERE member_id = $1 ORDER BY month")
                .bind(member_id),
        )
        .await?;
    let all: Vec<LedgerMonth> = ledger.iter().map(LedgerRow::as_month).collect();
    let today = today();
    let first_owed = member.first_owed();
    let mut months = Vec::new();
    for m in Month::new(year, 1)
        .expect("valid")
        .through(Month::new(year, 12).expect("valid"))
    {
        let row = ledger.iter().find(|r| r.month == m.key());
        let line = match row {
            Some(r) => MonthLine {
                month: m,
                due_fen: r.due_fen,
                paid_fen: r.paid_fen,
                status: if r.paid_fen >= r.due_fen {
                    "paid"
                } else if r.paid_fen > 0 {
                    "part_paid"
                } else {
                    "unpaid"
                }
                .into(),
                unpaid_reason: r.unpaid_reason.clone(),
            },
            None => {
                let due = in_effect(&year_profiles, m);
                let status = if m < first_owed {
                    "not_owed"
                } else if due.is_none() {
                    "no_base"
                } else {
                    "upcoming"
                };
                MonthLine {
                    month: m,
                    due_fen: if status == "upcoming" { due.unwrap_or(0) } else { 0 },
                    paid_fen: 0,
                    status: status.into(),
                    unpaid_reason: None,
                }
            }
        };
        months.push(line);
    }
    let in_year = |l: &&MonthLine| row_exists(&ledger, l.month);
    let payments = payments_where(db, "p.member_id = ", member_id.into(), Some(year)).await?;
    audit::append_alone(db, caller, Event::ok("dues.member.read", "member", member_id)).await?;
    Ok(MemberDues {
        member_id,
        name: member.name,
        year,
        profiles: profile_rows.into_iter().map(|r| r.shown(with_base)).collect(),
        due_fen: months.iter().filter(in_year).map(|l| l.due_fen).sum(),
        paid_fen: months.iter().filter(in_year).map(|l| l.paid_fen).sum(),
        months,
        paid_up_to: dues::paid_up_to(&all),
        arrears: dues::arrears(&all, last_complete_month(today)),
        payments,
        can_manage,
    })
}

/// Every month a member still owes something for, in any year, oldest first.
pub async fn unpaid_months(db: &Db, caller: &Caller, member_id: i64) -> Result<Vec<(Month, i64)>> {
    payer(db, caller, member_id, false).await?;
    let rows: Vec<(i64, i64)> = db
        .all(
            Q::new("SELECT month, due_fen - paid_fen FROM dues_ledger WHERE member_id = $1 AND paid_fen < due_fen ORDER BY month")
                .bind(member_id),
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, owed)| Some((Month::from_key(key)?, owed)))
        .collect())
}

fn row_exists(ledger: &[LedgerRow], month: Month) -> bool {
    ledger.iter().any(|r| r.month == month.key())
}

/// "Paid up to" for a member, as a transfer letter states it.
pub async fn paid_up_to(db: &Db, member_id: i64) -> Result<Option<Month>> {
    let ledger: Vec<LedgerRow> = db
        .all(
            Q::new("SELECT member_id, month, due_fen, paid_fen, unpaid_reason FROM dues_ledger WHERE member_id = $1 ORDER BY month")
                .bind(member_id),
        )
        .await?;
    Ok(dues::paid_up_to(
        &ledger.iter().map(LedgerRow::as_month).collect::<Vec<_>>(),
    ))
}
