//! Payments recorded by the branch, reversing entries for corrections, and excused months.

use super::bases::{profiles_in, write_ledger};
use super::payers::{payer, Payer, METHODS};
use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Arg, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Own, Perm};
use chrono::{Datelike, NaiveDate};
use domain::dues::{self, Month};
use domain::schema::{id, text};
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A payment for the months given: `payer` when someone handed it over for the member (代交);
/// `reason` needed for back-payment of more than 6 months.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PaymentInput {
    #[schema(schema_with = id, required = true)]
    pub member_id: Option<i64>,
    /// The months paid for, `YYYY-MM`.
    pub months: Vec<String>,
    #[schema(minimum = 0, maximum = 100_000_000, required = true)]
    pub amount_fen: Option<i64>,
    /// `cash`, `bank_transfer` or `online`.
    #[schema(schema_with = crate::dues::payers::method_schema, required = true)]
    pub method: Option<String>,
    #[schema(required = true)]
    pub paid_on: Option<NaiveDate>,
    /// Who handed it over, when someone paid for the member (代交).
    #[schema(schema_with = text::<50>)]
    pub payer: Option<String>,
    /// More than the months owe: the rest is a voluntary payment (自愿多交).
    pub voluntary: bool,
    /// Needed for back-payment of more than 6 months.
    #[schema(schema_with = text::<500>)]
    pub reason: Option<String>,
    #[schema(schema_with = text::<500>)]
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
pub(crate) struct PaymentRow {
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

pub(crate) const PAYMENT_SELECT: &str = concat!(
    "SELECT p.id, p.member_id, m.name AS member_name, p.org_id, p.paid_on, p.amount_fen,
    p.dues_fen, p.voluntary_fen, p.method, p.payer, p.reason, p.note, p.remit_to_centre, p.reverses,
    (SELECT r.id FROM dues_payments r WHERE r.reverses = p.id) AS reversed_by, ",
    person!("p.recorded_by"),
    " AS recorded_by, p.recorded_at FROM dues_payments p JOIN members m ON m.id = p.member_id"
);

/// Payments matching `condition` (a column and `=`, completed with `value`), newest first, in a year.
pub(crate) async fn payments_where(db: &Db, condition: &str, value: Arg, year: Option<i32>) -> Result<Vec<Payment>> {
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

pub(crate) async fn with_months(db: &Db, rows: Vec<PaymentRow>) -> Result<Vec<Payment>> {
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

pub(crate) async fn payment(db: &Db, id: i64) -> Result<Payment> {
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
    let Some(member_id) = input.member_id else {
        return Err(Invalid::one("member_id", "required").into());
    };
    // Found (or refused, and that refusal audited) before the transaction takes the writer.
    let member = payer(db, caller, member_id, true).await?;
    let mut tx = db.begin().await?;
    let id = record_in(&mut tx, caller, &member, input).await?;
    tx.commit().await?;
    payment(db, id).await
}

/// Checks and writes one payment of a member already found in scope, inside the caller's
/// transaction (a dues sheet writes many in one); returns its id.
pub(crate) async fn record_in(tx: &mut Tx, caller: &Caller, member: &Payer, input: &PaymentInput) -> Result<i64> {
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
    } else if amount_fen > dues::MAX_PAYMENT_FEN {
        e.push(FieldError::new("amount_fen", "invalid"));
    }
    let payer_name = input.payer.as_deref().and_then(|p| clean_text("payer", p, 50, &mut e));
    let reason = input
        .reason
        .as_deref()
        .and_then(|r| clean_text("reason", r, 500, &mut e));
    let note = input.note.as_deref().and_then(|n| clean_text("note", n, 500, &mut e));
    domain::error::check(e)?;
    let paid_on = input.paid_on.expect("checked");
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
        let profiles = profiles_in(tx, member.id, *year).await?;
        write_ledger(tx, &member, &profiles, in_year).await?;
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
        apply_to_month(tx, id, member.id, *month, *fen, *seen_paid).await?;
    }
    let keys: Vec<i64> = months.iter().map(|m| m.key()).collect();
    crate::dues::totals::recount(tx, &[member.id], &keys).await?;
    crate::marks::stale(tx, crate::marks::Of::Member(member.id)).await?;
    audit::append(
        tx,
        caller,
        Event::ok("dues.payment.record", "member", member.id).with_detail(format!("payment {id}")),
    )
    .await?;
    Ok(id)
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
        caller
            .found(db, found, "dues.payment.reverse", ("payment", &id))
            .await?;
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
    for &(key, fen) in &lines {
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
    let keys: Vec<i64> = lines.iter().map(|(key, _)| *key).collect();
    crate::dues::totals::recount(&mut tx, &[original.member_id], &keys).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(original.member_id)).await?;
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
    crate::marks::stale(&mut tx, crate::marks::Of::Member(member.id)).await?;
    audit::append(&mut tx, caller, Event::ok("dues.excuse", "member", member.id)).await?;
    tx.commit().await?;
    Ok(changed)
}
