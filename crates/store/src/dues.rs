//! Party dues (党费收缴): each member's yearly base and category (年初核定), the monthly ledger,
//! payments recorded by the branch with reversing entries for corrections, arrears, reports and the
//! yearly statement a branch publishes to its members. The rules themselves are in
//! `domain::dues`; this module keeps the books.
//!
//! The ledger has one row per member and month owed, written when a base is set (for the months
//! already begun) and by the monthly job (for each new month). A month's row keeps the
//! organization the member belonged to then, so a transfer leaves old months with the old branch.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use domain::dues::{self, Arrears, DuesCategory, LedgerMonth, Month, Rounding};
use domain::org::subtree_end;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Arg, Db, Tx, Q};
use crate::empty_as_none;
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Own, Perm};

pub const METHODS: [&str; 3] = ["cash", "bank_transfer", "online"];

/// The member fields the books need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Payer {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_path: String,
    pub joined_on: NaiveDate,
    pub status: String,
    /// Months paid to an organization outside the platform before transferring in (yyyymm).
    pub paid_elsewhere: Option<i64>,
}

/// The columns of a [`Payer`], from `members m`.
const PAYER: &str = "SELECT m.id, m.name, m.org_id, m.org_path, m.joined_on, m.status,
    (SELECT MAX(t.paid_up_to) FROM transfers_in t WHERE t.member_id = m.id) AS paid_elsewhere FROM members m";

impl Payer {
    /// Dues are owed from the month of admission (中组发〔2008〕3号), and after the months a letter
    /// from outside the platform states as paid.
    fn first_owed(&self) -> Month {
        let admitted = dues::first_month_owed(self.joined_on);
        match self.paid_elsewhere.and_then(Month::from_key).map(Month::next) {
            Some(after) if after > admitted => after,
            _ => admitted,
        }
    }
}

/// A member the caller may read; `Forbidden` (audited) unless they may also manage dues there.
async fn payer(db: &Db, caller: &Caller, member_id: i64, manage: bool) -> Result<Payer> {
    let mut q = Q::new(&format!("{PAYER} WHERE m.id = $1 AND ")).bind(member_id);
    caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
    let p: Payer = db.opt(q).await?.ok_or(Error::NotFound)?;
    if manage && !caller.can_at(Perm::ManageDues, &p.org_path) {
        audit::append_alone(db, caller, Event::denied("dues.write", "member", member_id)).await?;
        return Err(Error::Forbidden);
    }
    Ok(p)
}

// ---------------------------------------------------------------------------------------------
// Yearly bases

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProfileInput {
    #[serde(deserialize_with = "empty_as_none")]
    pub year: Option<i32>,
    /// `employed`, `retired`, `annual_salary`, `self_employed`, `rural`, `student`, `unemployed`,
    /// `relief`, `reduced` or `exempt` (the Chinese names are accepted too).
    pub category: Option<String>,
    /// The monthly base in fen; for `rural` and `reduced`, the set monthly amount.
    #[serde(deserialize_with = "empty_as_none")]
    pub base_fen: Option<i64>,
    /// The month (1–12) the base applies from: 1 for the yearly setting, later for a pay change.
    #[serde(deserialize_with = "empty_as_none")]
    pub effective_month: Option<u32>,
    /// For `reduced` and `exempt`: the branch's decision…
    #[serde(deserialize_with = "empty_as_none")]
    pub decided_on: Option<NaiveDate>,
    /// …and the higher committee's approval, with its reference.
    #[serde(deserialize_with = "empty_as_none")]
    pub approved_on: Option<NaiveDate>,
    pub approval_ref: Option<String>,
}

/// A checked base, ready to write.
#[derive(Debug, Clone)]
pub struct ValidProfile {
    pub year: i32,
    pub from_month: u32,
    pub category: DuesCategory,
    pub base_fen: i64,
    pub monthly_fen: i64,
    pub rounding: Rounding,
    pub decided_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    pub approval_ref: Option<String>,
}

impl ProfileInput {
    pub fn validate(&self, rounding: Rounding, today: NaiveDate) -> std::result::Result<ValidProfile, Vec<FieldError>> {
        let mut e = Vec::new();
        let year = self.year.unwrap_or(today.year());
        if !(2000..=today.year() + 1).contains(&year) {
            e.push(FieldError::new("year", "invalid"));
        }
        let from_month = self.effective_month.unwrap_or(1);
        if !(1..=12).contains(&from_month) {
            e.push(FieldError::new("effective_month", "invalid"));
        }
        let category = self.category.as_deref().and_then(DuesCategory::parse);
        if category.is_none() {
            e.push(FieldError::new(
                "category",
                if self.category.is_some() { "invalid" } else { "required" },
            ));
        }
        let base_fen = self.base_fen.unwrap_or(0);
        if base_fen > 100_000_000 {
            // A monthly base above a million yuan is a typing error (fen entered as yuan×100 twice).
            e.push(FieldError::new("base_fen", "invalid"));
        }
        let computed = category.map(|c| dues::monthly(c, base_fen, rounding));
        if let Some(Err(err)) = computed {
            e.push(err.into());
        }
        if category.is_some_and(|c| c.needs_approval()) {
            // 中组发〔2008〕3号: reduction or exemption by the branch's decision, approved above.
            if self.decided_on.is_none() {
                e.push(FieldError::new("decided_on", "required"));
            }
            if self.approved_on.is_none() {
                e.push(FieldError::new("approved_on", "required"));
            }
            if let (Some(d), Some(a)) = (self.decided_on, self.approved_on) {
                if a < d {
                    e.push(FieldError::new("approved_on", "before_decision"));
                }
            }
            if self.approved_on.is_some_and(|a| a > today) || self.decided_on.is_some_and(|d| d > today) {
                e.push(FieldError::new("approved_on", "in_future"));
            }
        }
        let approval_ref = self
            .approval_ref
            .as_deref()
            .and_then(|r| clean_text("approval_ref", r, 100, &mut e));
        if !e.is_empty() {
            return Err(e);
        }
        let category = category.expect("checked");
        let (decided_on, approved_on, approval_ref) = if category.needs_approval() {
            (self.decided_on, self.approved_on, approval_ref)
        } else {
            (None, None, None)
        };
        Ok(ValidProfile {
            year,
            from_month,
            category,
            base_fen,
            monthly_fen: computed.expect("checked").expect("checked").monthly_fen,
            rounding,
            decided_on,
            approved_on,
            approval_ref,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub member_id: i64,
    pub year: i64,
    /// The month (1–12) this base applies from.
    pub from_month: i64,
    pub category: String,
    /// Shown to the member and to those who manage dues; hidden from viewers.
    pub base_fen: Option<i64>,
    pub monthly_fen: i64,
    pub explanation_zh: Option<String>,
    pub explanation_en: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    pub approval_ref: Option<String>,
    pub set_by: String,
    pub set_at: String,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    member_id: i64,
    year: i64,
    from_month: i64,
    category: String,
    base_fen: i64,
    monthly_fen: i64,
    rounding: String,
    decided_on: Option<NaiveDate>,
    approved_on: Option<NaiveDate>,
    approval_ref: Option<String>,
    set_by: String,
    set_at: String,
}

const PROFILE_COLUMNS: &str = "member_id, year, from_month, category, base_fen, monthly_fen, rounding, decided_on,
    approved_on, approval_ref, set_by, set_at";

impl ProfileRow {
    fn shown(self, with_base: bool) -> Profile {
        let explained = DuesCategory::parse(&self.category)
            .and_then(|c| dues::monthly(c, self.base_fen, Rounding::parse(&self.rounding).unwrap_or_default()).ok());
        let (zh, en) = match explained {
            Some(d) if with_base => (Some(d.explanation_zh), Some(d.explanation_en)),
            _ => (None, None),
        };
        Profile {
            member_id: self.member_id,
            year: self.year,
            from_month: self.from_month,
            category: self.category,
            base_fen: with_base.then_some(self.base_fen),
            monthly_fen: self.monthly_fen,
            explanation_zh: zh,
            explanation_en: en,
            decided_on: self.decided_on,
            approved_on: self.approved_on,
            approval_ref: self.approval_ref,
            set_by: self.set_by,
            set_at: self.set_at,
        }
    }
}

/// Sets a member's base for a year from a month, and brings the ledger in line: months already
/// written from then on take the new amount (a paid month may now owe a difference), and months
/// already begun are written.
pub async fn set_profile(
    db: &Db,
    caller: &Caller,
    member_id: i64,
    input: &ProfileInput,
    rounding: Rounding,
) -> Result<Profile> {
    let member = payer(db, caller, member_id, true).await?;
    let v = input.validate(rounding, today()).map_err(Invalid)?;
    if member.status != "active" {
        return Err(Error::Refused("dues.member_inactive"));
    }
    let mut tx = db.begin().await?;
    write_profile(&mut tx, caller, &member, &v).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("dues.profile.set", "member", member_id).with_detail(format!(
            "{}-{:02} {}",
            v.year,
            v.from_month,
            v.category.as_str()
        )),
    )
    .await?;
    tx.commit().await?;
    let rows = profile_rows(db, member_id, v.year).await?;
    Ok(rows
        .into_iter()
        .find(|r| r.from_month == v.from_month as i64)
        .expect("just written")
        .shown(true))
}

async fn write_profile(tx: &mut Tx, caller: &Caller, member: &Payer, v: &ValidProfile) -> Result<()> {
    tx.exec(
        Q::new(&format!(
            "INSERT INTO dues_profiles ({PROFILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (member_id, year, from_month) DO UPDATE SET category = excluded.category,
             base_fen = excluded.base_fen, monthly_fen = excluded.monthly_fen, rounding = excluded.rounding,
             decided_on = excluded.decided_on, approved_on = excluded.approved_on,
             approval_ref = excluded.approval_ref, set_by = excluded.set_by, set_at = excluded.set_at"
        ))
        .bind(member.id)
        .bind(v.year as i64)
        .bind(v.from_month as i64)
        .bind(v.category.as_str())
        .bind(v.base_fen)
        .bind(v.monthly_fen)
        .bind(v.rounding.as_str())
        .bind(v.decided_on)
        .bind(v.approved_on)
        .bind(v.approval_ref.clone())
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    let year_profiles = profiles_in(tx, member.id, v.year).await?;
    let existing: Vec<(i64, i64)> = tx
        .all(
            Q::new("SELECT month, due_fen FROM dues_ledger WHERE member_id = $1 AND month >= $2 AND month <= $3")
                .bind(member.id)
                .bind(v.year as i64 * 100 + v.from_month as i64)
                .bind(v.year as i64 * 100 + 12),
        )
        .await?;
    for (key, due) in existing {
        let month = Month::from_key(key).expect("stored months are valid");
        if let Some(now_due) = in_effect(&year_profiles, month) {
            if now_due != due {
                tx.exec(
                    Q::new("UPDATE dues_ledger SET due_fen = $1 WHERE member_id = $2 AND month = $3")
                        .bind(now_due)
                        .bind(member.id)
                        .bind(key),
                )
                .await?;
            }
        }
    }
    let begun = Month::of(today()).min(Month::new(v.year, 12).expect("valid"));
    let from = Month::new(v.year, v.from_month).expect("valid");
    let months: Vec<Month> = from.through(begun).collect();
    write_ledger(tx, member, &year_profiles, &months).await?;
    Ok(())
}

/// (from_month, monthly_fen) of a member's bases in a year, in order.
async fn profiles_in(tx: &mut Tx, member_id: i64, year: i32) -> Result<Vec<(i64, i64)>> {
    Ok(tx
        .all(
            Q::new("SELECT from_month, monthly_fen FROM dues_profiles WHERE member_id = $1 AND year = $2 ORDER BY from_month")
                .bind(member_id)
                .bind(year as i64),
        )
        .await?)
}

/// The monthly amount in effect in a month, from that year's bases.
fn in_effect(year_profiles: &[(i64, i64)], month: Month) -> Option<i64> {
    year_profiles
        .iter()
        .rev()
        .find(|(from, _)| *from <= month.month as i64)
        .map(|(_, fen)| *fen)
}

/// Writes the ledger rows missing for these months of one year, from the bases in effect; months
/// before the member joined are skipped (nothing is owed before admission).
async fn write_ledger(tx: &mut Tx, member: &Payer, year_profiles: &[(i64, i64)], months: &[Month]) -> Result<()> {
    let first = member.first_owed();
    let mut q = Q::new("INSERT INTO dues_ledger (member_id, month, org_id, org_path, due_fen, paid_fen) VALUES ");
    let mut any = false;
    for m in months.iter().filter(|m| **m >= first) {
        let Some(due) = in_effect(year_profiles, *m) else {
            continue;
        };
        q.push_row(
            !any,
            [
                Arg::from(member.id),
                m.key().into(),
                member.org_id.into(),
                member.org_path.clone().into(),
                due.into(),
                0i64.into(),
            ],
        );
        any = true;
    }
    if any {
        q.push(" ON CONFLICT (member_id, month) DO NOTHING");
        tx.exec(q).await?;
    }
    Ok(())
}

async fn profile_rows(db: &Db, member_id: i64, year: i32) -> Result<Vec<ProfileRow>> {
    Ok(db
        .all(
            Q::new(&format!(
                "SELECT {PROFILE_COLUMNS} FROM dues_profiles WHERE member_id = $1 AND year = $2 ORDER BY from_month"
            ))
            .bind(member_id)
            .bind(year as i64),
        )
        .await?)
}

/// Writes the month's ledger rows for every active member with a base that year (the monthly job,
/// and `hongji dues generate`). Rows already there are kept; returns how many were written. Members
/// whose letter from outside states the month as paid are left out: the few who arrived are read
/// once into a set (`NOT IN`), not looked up for each of the million rows.
pub async fn generate_month(db: &Db, month: Month) -> Result<u64> {
    let last_day =
        NaiveDate::from_ymd_opt(month.next().year, month.next().month, 1).expect("valid") - chrono::Days::new(1);
    let mut tx = db.begin().await?;
    let written = tx
        .exec(
            Q::new(
                "INSERT INTO dues_ledger (member_id, month, org_id, org_path, due_fen, paid_fen)
                 SELECT m.id, $1, m.org_id, m.org_path, p.monthly_fen, 0
                 FROM dues_profiles p JOIN members m ON m.id = p.member_id
                 WHERE p.year = $2 AND m.status = 'active' AND m.joined_on <= $3
                 AND m.id NOT IN (SELECT t.member_id FROM transfers_in t WHERE t.paid_up_to >= $1)
                 AND p.from_month = (SELECT MAX(q.from_month) FROM dues_profiles q
                     WHERE q.member_id = p.member_id AND q.year = $2 AND q.from_month <= $4)
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

// ---------------------------------------------------------------------------------------------
// A member's dues

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
struct LedgerRow {
    member_id: i64,
    month: i64,
    due_fen: i64,
    paid_fen: i64,
    unpaid_reason: Option<String>,
}

impl LedgerRow {
    fn as_month(&self) -> LedgerMonth {
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
    if !(2000..=9999).contains(&year) {
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

// ---------------------------------------------------------------------------------------------
// Payments

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PaymentInput {
    pub member_id: Option<i64>,
    /// The months paid for, `YYYY-MM`.
    pub months: Vec<String>,
    pub amount_fen: Option<i64>,
    /// `cash`, `bank_transfer` or `online`.
    pub method: Option<String>,
    pub paid_on: Option<NaiveDate>,
    /// Who handed it over, when someone paid for the member (代交).
    pub payer: Option<String>,
    /// More than the months owe: the rest is a voluntary payment (自愿多交).
    pub voluntary: bool,
    /// Needed for back-payment of more than 6 months.
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub org_id: i64,
    pub paid_on: NaiveDate,
    pub amount_fen: i64,
    pub dues_fen: i64,
    pub voluntary_fen: i64,
    pub method: String,
    pub payer: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    /// A single voluntary payment of 1,000 yuan or more: remitted in full to the centre.
    pub remit_to_centre: bool,
    /// For a reversing entry, the payment it reverses.
    pub reverses: Option<i64>,
    /// The entry that reverses this one, if any.
    pub reversed_by: Option<i64>,
    #[schema(value_type = Vec<String>)]
    pub months: Vec<Month>,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    member_id: i64,
    member_name: String,
    org_id: i64,
    paid_on: NaiveDate,
    amount_fen: i64,
    dues_fen: i64,
    voluntary_fen: i64,
    method: String,
    payer: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    remit_to_centre: bool,
    reverses: Option<i64>,
    reversed_by: Option<i64>,
    recorded_by: String,
    recorded_at: String,
}

const PAYMENT_SELECT: &str = "SELECT p.id, p.member_id, m.name AS member_name, p.org_id, p.paid_on, p.amount_fen,
    p.dues_fen, p.voluntary_fen, p.method, p.payer, p.reason, p.note, p.remit_to_centre, p.reverses,
    (SELECT r.id FROM dues_payments r WHERE r.reverses = p.id) AS reversed_by, p.recorded_by, p.recorded_at
    FROM dues_payments p JOIN members m ON m.id = p.member_id";

/// Payments matching `condition` (a column and `=`, completed with `value`), newest first, in a year.
async fn payments_where(db: &Db, condition: &str, value: Arg, year: Option<i32>) -> Result<Vec<Payment>> {
    let mut q = Q::new(&format!("{PAYMENT_SELECT} WHERE "));
    q.push(condition).push_bind(value);
    if let Some(y) = year {
        q.push(" AND p.paid_on >= ")
            .push_bind(NaiveDate::from_ymd_opt(y, 1, 1))
            .push(" AND p.paid_on <= ")
            .push_bind(NaiveDate::from_ymd_opt(y, 12, 31));
    }
    q.push(" ORDER BY p.paid_on DESC, p.recorded_at DESC");
    let rows: Vec<PaymentRow> = db.all(q).await?;
    with_months(db, rows).await
}

async fn with_months(db: &Db, rows: Vec<PaymentRow>) -> Result<Vec<Payment>> {
    let mut months: HashMap<i64, Vec<Month>> = HashMap::new();
    for chunk in rows.chunks(500) {
        let mut q = Q::new("SELECT payment_id, month FROM dues_payment_months WHERE payment_id IN (");
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(r.id);
        }
        q.push(") ORDER BY month");
        let found: Vec<(i64, i64)> = db.all(q).await?;
        for (id, key) in found {
            months.entry(id).or_default().extend(Month::from_key(key));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| Payment {
            months: months.remove(&r.id).unwrap_or_default(),
            id: r.id,
            member_id: r.member_id,
            member_name: r.member_name,
            org_id: r.org_id,
            paid_on: r.paid_on,
            amount_fen: r.amount_fen,
            dues_fen: r.dues_fen,
            voluntary_fen: r.voluntary_fen,
            method: r.method,
            payer: r.payer,
            reason: r.reason,
            note: r.note,
            remit_to_centre: r.remit_to_centre,
            reverses: r.reverses,
            reversed_by: r.reversed_by,
            recorded_by: r.recorded_by,
            recorded_at: r.recorded_at,
        })
        .collect())
}

async fn payment(db: &Db, id: i64) -> Result<Payment> {
    payments_where(db, "p.id = ", id.into(), None)
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// Records a payment by the branch. The amount must match what the chosen months still owe,
/// unless the payment is marked voluntary; the months' rows are written if the month has not been
/// generated yet (paying a quarter ahead). Each month's paid amount is updated only if no other
/// payment changed it meanwhile.
pub async fn record_payment(db: &Db, caller: &Caller, input: &PaymentInput) -> Result<Payment> {
    let mut e = Vec::new();
    let mut months = Vec::new();
    for m in &input.months {
        match Month::parse(m) {
            Some(m) => months.push(m),
            None => e.push(FieldError::new("months", "invalid")),
        }
    }
    months.sort();
    months.dedup();
    if months.len() > 36 {
        e.push(FieldError::new("months", "too_many"));
    }
    let method = input.method.as_deref().map(str::trim).filter(|m| METHODS.contains(m));
    if method.is_none() {
        e.push(FieldError::new("method", "invalid"));
    }
    let today = today();
    match input.paid_on {
        None => e.push(FieldError::new("paid_on", "required")),
        Some(d) if d > today => e.push(FieldError::new("paid_on", "in_future")),
        Some(d) if d.year() < 2000 => e.push(FieldError::new("paid_on", "invalid")),
        _ => {}
    }
    let amount_fen = input.amount_fen.unwrap_or(0);
    if input.amount_fen.is_none() {
        e.push(FieldError::new("amount_fen", "required"));
    } else if amount_fen > 10_000_000_000 {
        e.push(FieldError::new("amount_fen", "invalid"));
    }
    let payer_name = input.payer.as_deref().and_then(|p| clean_text("payer", p, 50, &mut e));
    let reason = input
        .reason
        .as_deref()
        .and_then(|r| clean_text("reason", r, 500, &mut e));
    let note = input.note.as_deref().and_then(|n| clean_text("note", n, 500, &mut e));
    let Some(member_id) = input.member_id else {
        e.push(FieldError::new("member_id", "required"));
        return Err(Invalid(e).into());
    };
    domain::error::check(e)?;
    let member = payer(db, caller, member_id, true).await?;
    let paid_on = input.paid_on.expect("checked");
    let mut tx = db.begin().await?;
    let first = member.first_owed();
    let mut e = Vec::new();
    let before: Vec<String> = months.iter().filter(|m| **m < first).map(Month::to_string).collect();
    if !before.is_empty() {
        e.push(FieldError::new("months", format!("not_owed:{}", before.join(", "))));
    }
    let mut years: BTreeMap<i32, Vec<Month>> = BTreeMap::new();
    for m in &months {
        years.entry(m.year).or_default().push(*m);
    }
    for (year, in_year) in &years {
        let profiles = profiles_in(&mut tx, member.id, *year).await?;
        write_ledger(&mut tx, &member, &profiles, in_year).await?;
    }
    let mut rows: Vec<(i64, i64, i64)> = Vec::new();
    for chunk in months.chunks(50) {
        let mut q = Q::new("SELECT month, due_fen, paid_fen FROM dues_ledger WHERE member_id = ");
        q.push_bind(member.id).push(" AND month IN (");
        for (i, m) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(m.key());
        }
        q.push(")");
        rows.extend(tx.all::<(i64, i64, i64)>(q).await?);
    }
    let no_base: Vec<String> = months
        .iter()
        .filter(|m| **m >= first && !rows.iter().any(|(k, _, _)| *k == m.key()))
        .map(Month::to_string)
        .collect();
    if !no_base.is_empty() {
        e.push(FieldError::new("months", format!("no_base:{}", no_base.join(", "))));
    }
    domain::error::check(e)?;
    let owed: Vec<(Month, i64)> = months
        .iter()
        .map(|m| {
            let (_, due, paid) = rows.iter().find(|(k, _, _)| *k == m.key()).expect("checked");
            (*m, due - paid)
        })
        .collect();
    let split = dues::split_payment(&owed, amount_fen, input.voluntary, paid_on, reason.as_deref()).map_err(Invalid)?;
    let id = new_id();
    tx.exec(
        Q::new(
            "INSERT INTO dues_payments (id, member_id, org_id, org_path, paid_on, amount_fen, dues_fen, voluntary_fen, method,
             payer, reason, note, remit_to_centre, reverses, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $15)",
        )
        .bind(id)
        .bind(member.id)
        .bind(member.org_id)
        .bind(member.org_path.clone())
        .bind(paid_on)
        .bind(amount_fen)
        .bind(split.dues_fen)
        .bind(split.voluntary_fen)
        .bind(method.expect("checked"))
        .bind(payer_name)
        .bind(reason)
        .bind(note)
        .bind(split.remit_to_centre)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    for (month, fen) in &owed {
        let (_, _, seen_paid) = rows.iter().find(|(k, _, _)| *k == month.key()).expect("checked");
        apply_to_month(&mut tx, id, member.id, *month, *fen, *seen_paid).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("dues.payment.record", "member", member.id).with_detail(format!("payment {id}")),
    )
    .await?;
    tx.commit().await?;
    payment(db, id).await
}

/// Adds `fen` to a month's paid amount, refusing if another payment changed it since it was read.
async fn apply_to_month(
    tx: &mut Tx,
    payment_id: i64,
    member_id: i64,
    month: Month,
    fen: i64,
    seen_paid: i64,
) -> Result<()> {
    tx.exec(
        Q::new("INSERT INTO dues_payment_months (payment_id, month, amount_fen) VALUES ($1, $2, $3)")
            .bind(payment_id)
            .bind(month.key())
            .bind(fen),
    )
    .await?;
    let changed = tx
        .exec(
            Q::new(
                "UPDATE dues_ledger SET paid_fen = paid_fen + $1 WHERE member_id = $2 AND month = $3 AND paid_fen = $4",
            )
            .bind(fen)
            .bind(member_id)
            .bind(month.key())
            .bind(seen_paid),
        )
        .await?;
    if changed != 1 {
        return Err(Error::Refused("dues.concurrent_change"));
    }
    Ok(())
}

/// Corrects a payment by a reversing entry (negative amounts, the same months, booked to the same
/// organization), never by editing or deleting it. A payment is reversed at most once; a reversal
/// is not itself reversed.
pub async fn reverse_payment(db: &Db, caller: &Caller, id: i64, reason: Option<&str>) -> Result<Payment> {
    let original = {
        let mut q = Q::new("SELECT p.member_id FROM dues_payments p WHERE p.id = $1 AND ").bind(id);
        caller.filter(&mut q, Perm::ReadMembers, "p.org_path", Own::Nothing);
        let found: Option<(i64,)> = db.opt(q).await?;
        found.ok_or(Error::NotFound)?;
        payment(db, id).await?
    };
    payer(db, caller, original.member_id, true).await?;
    let mut e = Vec::new();
    let reason = reason.and_then(|r| clean_text("reason", r, 500, &mut e));
    if reason.is_none() && e.is_empty() {
        e.push(FieldError::new("reason", "required"));
    }
    domain::error::check(e)?;
    if original.reverses.is_some() {
        return Err(Error::Refused("dues.payment.is_reversal"));
    }
    if original.reversed_by.is_some() {
        return Err(Error::Refused("dues.payment.already_reversed"));
    }
    let mut tx = db.begin().await?;
    let lines: Vec<(i64, i64)> = tx
        .all(Q::new("SELECT month, amount_fen FROM dues_payment_months WHERE payment_id = $1").bind(id))
        .await?;
    let reversal = new_id();
    let inserted = tx
        .exec(
            Q::new(
                "INSERT INTO dues_payments (id, member_id, org_id, org_path, paid_on, amount_fen, dues_fen, voluntary_fen, method,
                 payer, reason, note, remit_to_centre, reverses, recorded_by, recorded_at)
                 SELECT $1, member_id, org_id, org_path, $2, -amount_fen, -dues_fen, -voluntary_fen, method, payer, $3, NULL, $4, id, $5, $6
                 FROM dues_payments WHERE id = $7 AND NOT EXISTS (SELECT 1 FROM dues_payments r WHERE r.reverses = $7)",
            )
            .bind(reversal)
            .bind(today())
            .bind(reason)
            .bind(false)
            .bind(caller.username.clone())
            .bind(now_text())
            .bind(id),
        )
        .await;
    match inserted {
        Ok(1) => {}
        Ok(_) => return Err(Error::Refused("dues.payment.already_reversed")),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            return Err(Error::Refused("dues.payment.already_reversed"))
        }
        Err(other) => return Err(other.into()),
    }
    for (key, fen) in lines {
        tx.exec(
            Q::new("INSERT INTO dues_payment_months (payment_id, month, amount_fen) VALUES ($1, $2, $3)")
                .bind(reversal)
                .bind(key)
                .bind(-fen),
        )
        .await?;
        tx.exec(
            Q::new("UPDATE dues_ledger SET paid_fen = paid_fen - $1 WHERE member_id = $2 AND month = $3")
                .bind(fen)
                .bind(original.member_id)
                .bind(key),
        )
        .await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("dues.payment.reverse", "member", original.member_id).with_detail(format!("payment {id}")),
    )
    .await?;
    tx.commit().await?;
    payment(db, reversal).await
}

/// Records (or, with no reason, clears) why a member did not pay these months; a month with a
/// reason does not count towards the six-month flag.
pub async fn excuse(db: &Db, caller: &Caller, member_id: i64, months: &[String], reason: Option<&str>) -> Result<u64> {
    let member = payer(db, caller, member_id, true).await?;
    let mut e = Vec::new();
    let reason = reason.and_then(|r| clean_text("reason", r, 500, &mut e));
    let parsed: Vec<Month> = months.iter().filter_map(|m| Month::parse(m)).collect();
    if parsed.len() != months.len() || parsed.is_empty() || parsed.len() > 120 {
        e.push(FieldError::new("months", "invalid"));
    }
    domain::error::check(e)?;
    let mut tx = db.begin().await?;
    let mut changed = 0;
    for m in &parsed {
        changed += tx
            .exec(
                Q::new("UPDATE dues_ledger SET unpaid_reason = $1 WHERE member_id = $2 AND month = $3 AND paid_fen < due_fen")
                    .bind(reason.clone())
                    .bind(member.id)
                    .bind(m.key()),
            )
            .await?;
    }
    audit::append(&mut tx, caller, Event::ok("dues.excuse", "member", member.id)).await?;
    tx.commit().await?;
    Ok(changed)
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonthTotals {
    #[schema(value_type = String, example = "2026-01")]
    pub month: String,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    /// Members owing dues that month.
    pub members: i64,
    /// Of them, those who have paid the month in full.
    pub paying_members: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgDues {
    pub org_id: i64,
    pub org_name: String,
    pub year: i32,
    pub month: Option<u32>,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    /// For a month, that month's; for a year, those of its latest month so far.
    pub members: i64,
    pub paying_members: i64,
    /// Voluntary payments in the period (net of reversals).
    pub voluntary_fen: i64,
    /// Single voluntary payments of 1,000 yuan or more, to be remitted in full to the centre.
    pub remit_count: i64,
    pub remit_fen: i64,
    /// Active members with no base set for the year; counted for subtrees of up to 100,000
    /// members (a county), left out above (open an organization below).
    pub members_without_base: Option<i64>,
    pub months: Vec<MonthTotals>,
}

/// The largest subtree whose members without a base are counted: reading every member of a
/// province takes seconds, a county's tens of milliseconds.
const WITHOUT_BASE_LIMIT: i64 = 100_000;

/// An organization the caller may read members of, for a report over its subtree.
async fn report_org(db: &Db, caller: &Caller, org_id: i64) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &org.path) {
        return Err(Error::Forbidden);
    }
    Ok(org)
}

/// Due, paid and outstanding over an organization's subtree for a year, or one month of it.
pub async fn report(db: &Db, caller: &Caller, org_id: i64, year: i32, month: Option<u32>) -> Result<OrgDues> {
    if !(2000..=9999).contains(&year) {
        return Err(Invalid::one("year", "invalid").into());
    }
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(Invalid::one("month", "invalid").into());
    }
    let org = report_org(db, caller, org_id).await?;
    let end = subtree_end(&org.path);
    let wanted: Vec<i64> = match month {
        Some(m) => vec![year as i64 * 100 + m as i64],
        None => (1..=12).map(|m| year as i64 * 100 + m).collect(),
    };
    // PostgreSQL sums BIGINT as NUMERIC: the sums are cast back.
    let mut q = Q::new(
        "SELECT month, CAST(COALESCE(SUM(due_fen), 0) AS BIGINT), CAST(COALESCE(SUM(paid_fen), 0) AS BIGINT),
         CAST(COALESCE(SUM(CASE WHEN due_fen > paid_fen THEN due_fen - paid_fen ELSE 0 END), 0) AS BIGINT), COUNT(*),
         CAST(COALESCE(SUM(CASE WHEN paid_fen >= due_fen THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM dues_ledger WHERE month IN (",
    );
    for (i, m) in wanted.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(*m);
    }
    q.push(") AND org_path >= ")
        .push_bind(org.path.clone())
        .push(" AND org_path < ")
        .push_bind(end.clone())
        .push(" GROUP BY month ORDER BY month");
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = db.all(q).await?;
    let months: Vec<MonthTotals> = rows
        .iter()
        .map(|(m, due, paid, out, members, paying)| MonthTotals {
            month: Month::from_key(*m).map(|m| m.to_string()).unwrap_or_default(),
            due_fen: *due,
            paid_fen: *paid,
            outstanding_fen: *out,
            members: *members,
            paying_members: *paying,
        })
        .collect();
    let (from, to) = match month {
        Some(m) => {
            let first = NaiveDate::from_ymd_opt(year, m, 1).expect("checked");
            (
                first,
                first.checked_add_months(chrono::Months::new(1)).expect("valid") - chrono::Days::new(1),
            )
        }
        None => (
            NaiveDate::from_ymd_opt(year, 1, 1).expect("checked"),
            NaiveDate::from_ymd_opt(year, 12, 31).expect("checked"),
        ),
    };
    let (voluntary_fen, remit_count, remit_fen): (i64, i64, i64) = db
        .one(
            Q::new(
                "SELECT CAST(COALESCE(SUM(p.voluntary_fen), 0) AS BIGINT),
                 CAST(COALESCE(SUM(CASE WHEN p.remit_to_centre AND NOT EXISTS (SELECT 1 FROM dues_payments r WHERE r.reverses = p.id) THEN 1 ELSE 0 END), 0) AS BIGINT),
                 CAST(COALESCE(SUM(CASE WHEN p.remit_to_centre AND NOT EXISTS (SELECT 1 FROM dues_payments r WHERE r.reverses = p.id) THEN p.voluntary_fen ELSE 0 END), 0) AS BIGINT)
                 FROM dues_payments p WHERE p.org_path >= $1 AND p.org_path < $2 AND p.paid_on >= $3 AND p.paid_on <= $4",
            )
            .bind(org.path.clone())
            .bind(end.clone())
            .bind(from)
            .bind(to),
        )
        .await?;
    let members_without_base = if org.subtree_members <= WITHOUT_BASE_LIMIT {
        let (n,): (i64,) = db
            .one(
                Q::new(
                    "SELECT COUNT(*) FROM members m WHERE m.org_path >= $1 AND m.org_path < $2 AND m.status = 'active'
                     AND NOT EXISTS (SELECT 1 FROM dues_profiles p WHERE p.member_id = m.id AND p.year = $3)",
                )
                .bind(org.path.clone())
                .bind(end)
                .bind(year as i64),
            )
            .await?;
        Some(n)
    } else {
        None
    };
    let latest = months.last().cloned().unwrap_or_default();
    Ok(OrgDues {
        org_id,
        org_name: org.name,
        year,
        month,
        due_fen: months.iter().map(|m| m.due_fen).sum(),
        paid_fen: months.iter().map(|m| m.paid_fen).sum(),
        outstanding_fen: months.iter().map(|m| m.outstanding_fen).sum(),
        members: latest.members,
        paying_members: latest.paying_members,
        voluntary_fen,
        remit_count,
        remit_fen,
        members_without_base,
        months,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArrearsItem {
    pub member_id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    /// Consecutive unpaid months up to the last complete month.
    pub months: i64,
    #[schema(value_type = String)]
    pub from: Month,
    #[schema(value_type = String)]
    pub to: Month,
    pub outstanding_fen: i64,
    /// The longest run of them with no reason recorded.
    pub unexcused_run: i64,
    /// `notice` (1–2 months), `warning` (3 or more), `flag` (6 without a reason: for the branch to
    /// decide under 党章 Art. 9; nothing happens by itself).
    pub level: String,
}

/// Members of a subtree behind with their dues as at the end of `as_of` (by default the last
/// complete month), flags first, then the longest runs.
pub async fn arrears(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    as_of: Option<Month>,
    limit: usize,
) -> Result<Vec<ArrearsItem>> {
    let org = report_org(db, caller, org_id).await?;
    let cut = as_of.unwrap_or_else(|| last_complete_month(today()));
    let candidates: Vec<(i64,)> = db
        .all(
            Q::new("SELECT member_id FROM dues_ledger WHERE month = $1 AND org_path >= $2 AND org_path < $3 AND paid_fen < due_fen")
                .bind(cut.key())
                .bind(org.path.clone())
                .bind(subtree_end(&org.path)),
        )
        .await?;
    let mut items = Vec::new();
    for chunk in candidates.chunks(500) {
        let mut q = Q::new(
            "SELECT l.member_id, l.month, l.due_fen, l.paid_fen, l.unpaid_reason FROM dues_ledger l WHERE l.month <= ",
        );
        q.push_bind(cut.key()).push(" AND l.member_id IN (");
        push_ids(&mut q, chunk.iter().map(|(id,)| *id));
        q.push(") ORDER BY l.member_id, l.month");
        let rows: Vec<LedgerRow> = db.all(q).await?;
        let mut q = Q::new(
            "SELECT m.id, m.name, m.org_id, o.name FROM members m JOIN orgs o ON o.id = m.org_id WHERE m.id IN (",
        );
        push_ids(&mut q, chunk.iter().map(|(id,)| *id));
        q.push(")");
        let names: HashMap<i64, (String, i64, String)> = db
            .all::<(i64, String, i64, String)>(q)
            .await?
            .into_iter()
            .map(|(id, name, org_id, org_name)| (id, (name, org_id, org_name)))
            .collect();
        let mut by_member: BTreeMap<i64, Vec<LedgerMonth>> = BTreeMap::new();
        for r in &rows {
            by_member.entry(r.member_id).or_default().push(r.as_month());
        }
        for (member_id, months) in by_member {
            let (Some(a), Some((name, org_id, org_name))) = (dues::arrears(&months, cut), names.get(&member_id)) else {
                continue;
            };
            items.push(ArrearsItem {
                member_id,
                name: name.clone(),
                org_id: *org_id,
                org_name: org_name.clone(),
                months: a.months,
                from: a.from,
                to: a.to,
                outstanding_fen: a.outstanding_fen,
                unexcused_run: a.unexcused_run,
                level: serde_json::to_value(a.level)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            });
        }
    }
    items.sort_by(|a, b| (b.level == "flag", b.months, &a.name).cmp(&(a.level == "flag", a.months, &b.name)));
    items.truncate(limit);
    Ok(items)
}

fn push_ids(q: &mut Q, ids: impl Iterator<Item = i64>) {
    for (i, id) in ids.enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(id);
    }
}

/// One member's year in a branch's dues book.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookLine {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub category: Option<String>,
    pub base_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    /// Each month of the year: due and paid (`None` when nothing is owed that month).
    pub months: Vec<Option<(i64, i64)>>,
    pub due_fen: i64,
    pub paid_fen: i64,
    #[schema(value_type = Option<String>)]
    pub paid_up_to: Option<Month>,
}

/// The year's book for the active members of a subtree (at most `limit`), in roster order.
pub async fn book(db: &Db, caller: &Caller, org_id: i64, year: i32, limit: i64) -> Result<Vec<BookLine>> {
    let org = report_org(db, caller, org_id).await?;
    let with_base = caller.can_at(Perm::ManageDues, &org.path);
    let members: Vec<(i64, String, String)> = db
        .all(
            Q::new(
                "SELECT m.id, m.name, o.name FROM members m JOIN orgs o ON o.id = m.org_id
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.status = 'active' ORDER BY m.org_path, m.name, m.id LIMIT $3",
            )
            .bind(org.path.clone())
            .bind(subtree_end(&org.path))
            .bind(limit),
        )
        .await?;
    let mut lines = Vec::with_capacity(members.len());
    for chunk in members.chunks(500) {
        let mut q =
            Q::new("SELECT member_id, month, due_fen, paid_fen, unpaid_reason FROM dues_ledger WHERE member_id IN (");
        push_ids(&mut q, chunk.iter().map(|(id, _, _)| *id));
        q.push(") AND month <= ")
            .push_bind(year as i64 * 100 + 12)
            .push(" ORDER BY member_id, month");
        let rows: Vec<LedgerRow> = db.all(q).await?;
        let mut q = Q::new(&format!("SELECT {PROFILE_COLUMNS} FROM dues_profiles WHERE year = "));
        q.push_bind(year as i64).push(" AND member_id IN (");
        push_ids(&mut q, chunk.iter().map(|(id, _, _)| *id));
        q.push(") ORDER BY member_id, from_month");
        let profiles: Vec<ProfileRow> = db.all(q).await?;
        let mut ledger: HashMap<i64, Vec<&LedgerRow>> = HashMap::new();
        for r in &rows {
            ledger.entry(r.member_id).or_default().push(r);
        }
        for (id, name, org_name) in chunk {
            let own = ledger.remove(id).unwrap_or_default();
            let latest = profiles.iter().filter(|p| p.member_id == *id).last();
            let months: Vec<Option<(i64, i64)>> = (1..=12)
                .map(|m| {
                    own.iter()
                        .find(|r| r.month == year as i64 * 100 + m)
                        .map(|r| (r.due_fen, r.paid_fen))
                })
                .collect();
            let all: Vec<LedgerMonth> = own.iter().map(|r| r.as_month()).collect();
            lines.push(BookLine {
                member_id: *id,
                name: name.clone(),
                org_name: org_name.clone(),
                category: latest.map(|p| p.category.clone()),
                base_fen: latest.filter(|_| with_base).map(|p| p.base_fen),
                monthly_fen: latest.map(|p| p.monthly_fen),
                due_fen: months.iter().flatten().map(|(d, _)| d).sum(),
                paid_fen: months.iter().flatten().map(|(_, p)| p).sum(),
                months,
                paid_up_to: dues::paid_up_to(&all),
            });
        }
    }
    Ok(lines)
}

/// Payments recorded in a subtree in a year, newest first; with `voluntary_only`, those with a
/// voluntary part.
pub async fn org_payments(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    voluntary_only: bool,
    limit: i64,
) -> Result<Vec<Payment>> {
    let org = report_org(db, caller, org_id).await?;
    let mut q = Q::new(&format!(
        "{PAYMENT_SELECT} WHERE p.org_path >= $1 AND p.org_path < $2 AND p.paid_on >= $3 AND p.paid_on <= $4"
    ))
    .bind(org.path.clone())
    .bind(subtree_end(&org.path))
    .bind(NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?)
    .bind(NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?);
    if voluntary_only {
        q.push(" AND p.voluntary_fen <> 0");
    }
    q.push(" ORDER BY p.paid_on DESC, p.recorded_at DESC LIMIT ")
        .push_bind(limit);
    let rows: Vec<PaymentRow> = db.all(q).await?;
    with_months(db, rows).await
}

// ---------------------------------------------------------------------------------------------
// The yearly statement (收缴使用情况公示)

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    /// The figures as they stood when published.
    pub report: OrgDues,
    /// How the dues were used and passed up, in the branch's words.
    pub note: Option<String>,
    pub published_by: String,
    pub published_at: String,
}

#[derive(sqlx::FromRow)]
struct StatementRow {
    id: i64,
    org_id: i64,
    org_name: String,
    year: i64,
    body: String,
    note: Option<String>,
    published_by: String,
    published_at: String,
}

impl StatementRow {
    fn shown(self) -> Option<Statement> {
        Some(Statement {
            report: serde_json::from_str(&self.body).ok()?,
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            year: self.year,
            note: self.note,
            published_by: self.published_by,
            published_at: self.published_at,
        })
    }
}

/// Publishes the year's collection to the organization's members: the figures are kept as they are
/// now, so later corrections show in the next statement, not by changing this one.
pub async fn publish_statement(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    note: Option<&str>,
) -> Result<Statement> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ManageDues, &org.path) {
        audit::append_alone(db, caller, Event::denied("dues.statement.publish", "org", org_id)).await?;
        return Err(Error::Forbidden);
    }
    let mut e = Vec::new();
    let note = note.and_then(|n| clean_text("note", &n.replace(['\r', '\n'], " "), 2000, &mut e));
    if year > today().year() || year < 2000 {
        e.push(FieldError::new("year", "invalid"));
    }
    domain::error::check(e)?;
    let report = report(db, caller, org_id, year, None).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO dues_statements (id, org_id, year, body, note, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(org_id)
        .bind(year as i64)
        .bind(serde_json::to_string(&report).expect("serializable"))
        .bind(note)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("dues.statement.publish", "org", org_id)).await?;
    tx.commit().await?;
    statements(db, caller, org_id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound)
}

/// The statements an organization has published, newest first: for its members and those who may
/// read it.
pub async fn statements(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<Statement>> {
    let org = orgs::get(db, caller, org_id).await?;
    let own_branch = caller.member_org_path.as_deref() == Some(org.path.as_str());
    if !own_branch && !caller.can_at(Perm::ReadMembers, &org.path) {
        return Err(Error::Forbidden);
    }
    let rows: Vec<StatementRow> = db
        .all(
            Q::new(
                "SELECT s.id, s.org_id, o.name AS org_name, s.year, s.body, s.note, s.published_by, s.published_at
                 FROM dues_statements s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = $1 ORDER BY s.published_at DESC",
            )
            .bind(org_id),
        )
        .await?;
    Ok(rows.into_iter().filter_map(StatementRow::shown).collect())
}

// ---------------------------------------------------------------------------------------------
// Setting the year's bases from a spreadsheet

/// One row of a bases file: who (name and ID number, which must agree) and their base.
#[derive(Debug, Clone, Default)]
pub struct BaseRow {
    pub line: usize,
    pub name: String,
    pub id_number: String,
    pub input: ProfileInput,
}

#[derive(Debug, Default)]
pub struct BasesPlan {
    pub rows: usize,
    pub good: Vec<(Payer, ValidProfile)>,
    pub problems: Vec<crate::import::RowProblem>,
}

impl BasesPlan {
    pub fn bad_lines(&self) -> usize {
        self.problems
            .iter()
            .map(|p| p.line)
            .collect::<std::collections::HashSet<_>>()
            .len()
    }
}

/// Checks every row of a bases file for `year`: the person (found by ID number in the caller's
/// scope, the name agreeing), the category and base, and a person listed twice.
pub async fn plan_bases(
    db: &Db,
    keys: &crate::Keys,
    caller: &Caller,
    year: i32,
    rows: Vec<BaseRow>,
    rounding: Rounding,
) -> Result<BasesPlan> {
    let today = today();
    let mut plan = BasesPlan {
        rows: rows.len(),
        ..Default::default()
    };
    let mut seen: HashMap<(i64, u32), usize> = HashMap::new();
    for row in rows {
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        let mut input = row.input.clone();
        input.year = Some(year);
        let valid = input.validate(rounding, today).map_err(|e| {
            problems.extend(e.into_iter().map(|f| (f.field, f.code.into_owned())));
        });
        let member = match domain::IdNumber::parse(&row.id_number) {
            Err(domain::id_number::IdNumberError::Checksum) => {
                problems.push(("id_number", "checksum".into()));
                None
            }
            Err(_) => {
                problems.push(("id_number", "invalid".into()));
                None
            }
            Ok(id) => {
                let mut q = Q::new(&format!("{PAYER} WHERE m.id_number_bi = $1 AND "))
                    .bind(keys.blind_index("id_number", id.as_str()));
                caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::Nothing);
                let found: Option<Payer> = db.opt(q).await?;
                let refused = match &found {
                    None => Some(("id_number", "not_found")),
                    Some(m) if m.name != row.name.trim() => Some(("name", "mismatch_record")),
                    Some(m) if !caller.can_at(Perm::ManageDues, &m.org_path) => Some(("id_number", "not_found")),
                    Some(m) if m.status != "active" => Some(("id_number", "inactive")),
                    Some(_) => None,
                };
                match (found, refused) {
                    (_, Some((field, code))) => {
                        problems.push((field, code.into()));
                        None
                    }
                    (None, None) => None,
                    (Some(m), None) => {
                        let key = (m.id, input.effective_month.unwrap_or(1));
                        if let Some(first) = seen.get(&key) {
                            problems.push(("id_number", format!("duplicate_of_line_{first}")));
                        } else {
                            seen.insert(key, row.line);
                        }
                        Some(m)
                    }
                }
            }
        };
        match (member, valid) {
            (Some(m), Ok(v)) if problems.is_empty() => plan.good.push((m, v)),
            _ => plan
                .problems
                .extend(problems.into_iter().map(|(field, code)| crate::import::RowProblem {
                    line: row.line,
                    field: field.into(),
                    code,
                })),
        }
    }
    Ok(plan)
}

/// Writes the checked bases in one transaction: all of them or, on any failure, none.
pub async fn commit_bases(db: &Db, caller: &Caller, good: &[(Payer, ValidProfile)]) -> Result<usize> {
    let mut tx = db.begin().await?;
    for (member, v) in good {
        write_profile(&mut tx, caller, member, v).await?;
    }
    audit::append(&mut tx, caller, Event::ok("dues.profile.import", "members", good.len())).await?;
    tx.commit().await?;
    Ok(good.len())
}

// ---------------------------------------------------------------------------------------------
// Bulk loading (the demo and the benchmark)

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
        push_ids(&mut q, chunk.iter().map(|p| p.member_id));
        q.push(")");
        tx.exec(q).await?;
    }
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
