//! A branch's dues sheet (党费收缴表) for a month: each member with what they owe up to it, so
//! that a secretary ticks who paid and how, and one submit records each as its own payment — in
//! one transaction, all or nothing, every refusal named by the member's name.

use chrono::NaiveDate;
use domain::dues::{Month, BACK_PAYMENT_MONTHS};
use domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::db::{Db, Q};
use crate::dues::payers::payer;
use crate::dues::payments::{record_in, PaymentInput};
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};

/// One member on the sheet: the months still owed up to the sheet's month and their sum.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetLine {
    pub member_id: i64,
    pub name: String,
    /// `YYYY-MM`, oldest first.
    pub months: Vec<String>,
    pub owed_fen: i64,
    /// More than six months back (党章 Art. 9 arrears; 党费规定 back-payment): recorded on the
    /// member's own page, with the reason the rules ask for, not ticked here.
    pub needs_reason: bool,
}

/// Who paid, and how (`cash`, `bank_transfer`, `online`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SheetPayment {
    #[schema(schema_with = domain::schema::id)]
    pub member_id: i64,
    #[schema(schema_with = crate::dues::payers::method_schema)]
    pub method: String,
}

/// A branch has at most this many members on one sheet (the branch rules' 50, with room).
pub const MAX_PAYMENTS: usize = 2_000;

async fn managed(db: &Db, caller: &Caller, org_id: i64) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageDues, &org.path, "dues.sheet", ("org", &org_id))
        .await?;
    Ok(org)
}

/// The members of the organization (its own, not the units below) who owe anything up to
/// `month`, by name.
pub async fn sheet(db: &Db, caller: &Caller, org_id: i64, month: Month, today: NaiveDate) -> Result<Vec<SheetLine>> {
    let org = managed(db, caller, org_id).await?;
    let rows: Vec<(i64, String, i64, i64)> = db
        .all(
            Q::new(
                "SELECT m.id, m.name, l.month, l.due_fen - l.paid_fen FROM dues_ledger l
                 JOIN members m ON m.id = l.member_id
                 WHERE m.org_id = $1 AND m.status = 'active' AND l.org_path = $2 AND l.month <= $3
                   AND l.paid_fen < l.due_fen
                 ORDER BY m.name, m.id, l.month",
            )
            .bind(org.id)
            .bind(org.path.clone())
            .bind(month.key()),
        )
        .await?;
    let this_month = Month::of(today);
    let mut lines: Vec<SheetLine> = Vec::new();
    let mut back: Vec<i64> = Vec::new();
    for (member_id, name, key, owed) in rows {
        let Some(m) = Month::from_key(key) else { continue };
        if lines.last().is_none_or(|l| l.member_id != member_id) {
            lines.push(SheetLine {
                member_id,
                name,
                months: Vec::new(),
                owed_fen: 0,
                needs_reason: false,
            });
            back.push(0);
        }
        let line = lines.last_mut().expect("pushed");
        line.months.push(m.to_string());
        line.owed_fen += owed;
        if m < this_month {
            *back.last_mut().expect("pushed") += 1;
        }
    }
    for (line, back) in lines.iter_mut().zip(back) {
        line.needs_reason = back > BACK_PAYMENT_MONTHS;
    }
    Ok(lines)
}

/// Records what the sheet ticks: each member's months owed up to `month`, paid in full on
/// `paid_on`, each as its own payment. One transaction: if any line is refused nothing is
/// written, and each refusal names the member.
pub async fn record(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    month: Month,
    paid_on: NaiveDate,
    payments: &[SheetPayment],
) -> Result<usize> {
    let ids: Vec<i64> = payments.iter().map(|p| p.member_id).collect();
    domain::error::list("payments", &ids, MAX_PAYMENTS)?;
    // Out of scope answers 404 before anything about the sheet is judged.
    let lines = sheet(db, caller, org_id, month, paid_on).await?;
    if payments.is_empty() {
        return Err(Invalid::one("payments", "required").into());
    }
    // Checked once for the sheet, not refused once a member.
    let today = crate::clock::today();
    if paid_on > today {
        return Err(Invalid::one("paid_on", "in_future").into());
    }
    if !domain::time::YEARS.contains(&chrono::Datelike::year(&paid_on)) {
        return Err(Invalid::one("paid_on", "out_of_range").into());
    }
    if let Some(p) = payments
        .iter()
        .find(|p| !crate::dues::payers::METHODS.contains(&p.method.as_str()))
    {
        return Err(Invalid::one("method", if p.method.is_empty() { "required" } else { "invalid" }).into());
    }
    let mut refused = Vec::new();
    // Every member is found (a refusal audited) before the transaction takes the writer.
    let mut ticked = Vec::new();
    for p in payments {
        let Some(line) = lines.iter().find(|l| l.member_id == p.member_id) else {
            refused.push(FieldError::new("payments", "nothing_owed"));
            continue;
        };
        ticked.push((p, line, payer(db, caller, line.member_id, true).await?));
    }
    if !refused.is_empty() {
        return Err(Invalid(refused).into());
    }
    let mut tx = db.begin().await?;
    for (p, line, member) in ticked {
        let input = PaymentInput {
            member_id: Some(line.member_id),
            months: line.months.clone(),
            amount_fen: Some(line.owed_fen),
            method: Some(p.method.clone()),
            paid_on: Some(paid_on),
            ..Default::default()
        };
        match record_in(&mut tx, caller, &member, &input).await {
            Ok(_) => {}
            Err(Error::Invalid(_) | Error::Refused(_)) => {
                refused.push(FieldError::new("payments", format!("member_refused:{}", line.name)));
            }
            Err(e) => return Err(e),
        }
    }
    if !refused.is_empty() {
        return Err(Invalid(refused).into());
    }
    tx.commit().await?;
    Ok(payments.len())
}
