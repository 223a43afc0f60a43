//! Yearly bases (年初核定): a member's category and base for the year, changes from a month on,
//! reductions and exemptions by approval (中组发〔2008〕3号).

use super::payers::{payer, Payer};
use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{now_text, Arg, Db, Tx, Q};
use crate::empty_as_none;
use crate::error::{Error, Result};
use crate::scope::Caller;
use chrono::{Datelike, NaiveDate};
use domain::dues::{self, DuesCategory, Month, Rounding};
use domain::schema::text;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

/// A member's dues base for a year, from `effective_month`: the category (a code or its Chinese
/// name) and the monthly base in fen (for rural and reduced, the set monthly amount).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProfileInput {
    #[serde(deserialize_with = "empty_as_none")]
    #[schema(minimum = 2000, maximum = 2200)]
    pub year: Option<i32>,
    /// `employed`, `retired`, `annual_salary`, `self_employed`, `rural`, `student`, `unemployed`,
    /// `relief`, `reduced` or `exempt` (the Chinese names are accepted too).
    #[schema(schema_with = <domain::dues::DuesCategory as utoipa::PartialSchema>::schema, required = true)]
    pub category: Option<String>,
    /// The monthly base in fen; for `rural` and `reduced`, the set monthly amount.
    #[serde(deserialize_with = "empty_as_none")]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub base_fen: Option<i64>,
    /// The month (1–12) the base applies from: 1 for the yearly setting, later for a pay change.
    #[serde(deserialize_with = "empty_as_none")]
    #[schema(minimum = 1, maximum = 12)]
    pub effective_month: Option<u32>,
    /// For `reduced` and `exempt`: the branch's decision…
    #[serde(deserialize_with = "empty_as_none")]
    pub decided_on: Option<NaiveDate>,
    /// …and the higher committee's approval, with its reference.
    #[serde(deserialize_with = "empty_as_none")]
    pub approved_on: Option<NaiveDate>,
    #[schema(schema_with = text::<100>)]
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
        // `dues::monthly` refuses a base out of range (a negative one, or above a million yuan: fen
        // entered as yuan×100 twice); without a category it is refused here.
        if category.is_none() && !(0..=dues::MAX_BASE_FEN).contains(&base_fen) {
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
pub(crate) struct ProfileRow {
    pub(crate) member_id: i64,
    year: i64,
    pub(crate) from_month: i64,
    pub(crate) category: String,
    pub(crate) base_fen: i64,
    pub(crate) monthly_fen: i64,
    rounding: String,
    decided_on: Option<NaiveDate>,
    approved_on: Option<NaiveDate>,
    approval_ref: Option<String>,
    set_by: String,
    set_at: String,
}

pub(crate) const PROFILE_COLUMNS: &str =
    "member_id, year, from_month, category, base_fen, monthly_fen, rounding, decided_on,
    approved_on, approval_ref, set_by, set_at";

impl ProfileRow {
    pub(crate) fn shown(self, with_base: bool) -> Profile {
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

pub(crate) async fn write_profile(tx: &mut Tx, caller: &Caller, member: &Payer, v: &ValidProfile) -> Result<()> {
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
    let keys: Vec<i64> = (v.from_month..=12).map(|m| v.year as i64 * 100 + m as i64).collect();
    crate::dues::totals::recount(tx, &[member.id], &keys).await?;
    // A base set may resolve the branch's warning that members have none.
    crate::marks::stale(tx, crate::marks::Of::Org(member.org_id)).await?;
    Ok(())
}

/// (from_month, monthly_fen) of a member's bases in a year, in order.
pub(crate) async fn profiles_in(tx: &mut Tx, member_id: i64, year: i32) -> Result<Vec<(i64, i64)>> {
    Ok(tx
        .all(
            Q::new("SELECT from_month, monthly_fen FROM dues_profiles WHERE member_id = $1 AND year = $2 ORDER BY from_month")
                .bind(member_id)
                .bind(year as i64),
        )
        .await?)
}

/// The monthly amount in effect in a month, from that year's bases.
pub(crate) fn in_effect(year_profiles: &[(i64, i64)], month: Month) -> Option<i64> {
    year_profiles
        .iter()
        .rev()
        .find(|(from, _)| *from <= month.month as i64)
        .map(|(_, fen)| *fen)
}

/// Writes the ledger rows missing for these months of one year, from the bases in effect; months
/// before the member joined are skipped (nothing is owed before admission).
pub(crate) async fn write_ledger(
    tx: &mut Tx,
    member: &Payer,
    year_profiles: &[(i64, i64)],
    months: &[Month],
) -> Result<()> {
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

pub(crate) async fn profile_rows(db: &Db, member_id: i64, year: i32) -> Result<Vec<ProfileRow>> {
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
