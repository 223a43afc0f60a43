//! The members the books are kept for, read within the caller's scope.

use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Own, Perm};
use chrono::NaiveDate;
use domain::dues::{self, Month};

pub const METHODS: [&str; 3] = ["cash", "bank_transfer", "online"];

pub(crate) fn method_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&METHODS)
}

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
pub(crate) const PAYER: &str = "SELECT m.id, m.name, m.org_id, m.org_path, m.joined_on, m.status,
    (SELECT MAX(t.paid_up_to) FROM transfers_in t WHERE t.member_id = m.id) AS paid_elsewhere FROM members m";

impl Payer {
    /// Dues are owed from the month of admission (中组发〔2008〕3号), and after the months a letter
    /// from outside the platform states as paid.
    pub(crate) fn first_owed(&self) -> Month {
        let admitted = dues::first_month_owed(self.joined_on);
        match self.paid_elsewhere.and_then(Month::from_key).map(Month::next) {
            Some(after) if after > admitted => after,
            _ => admitted,
        }
    }
}

/// A member the caller may read; `Forbidden` (audited) unless they may also manage dues there.
pub(crate) async fn payer(db: &Db, caller: &Caller, member_id: i64, manage: bool) -> Result<Payer> {
    let mut q = Q::new(&format!("{PAYER} WHERE m.id = $1 AND ")).bind(member_id);
    caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
    let p: Payer = caller
        .found(db, db.opt(q).await?, "dues.read", ("member", &member_id))
        .await?;
    if manage && !caller.can_at(Perm::ManageDues, &p.org_path) {
        return caller
            .refuse(db, Error::Forbidden, "dues.write", ("member", &member_id))
            .await;
    }
    Ok(p)
}

/// Whether the caller keeps the books of this organization (bases, payments, the statement):
/// pages offer the forms by it; the store decides again when they are sent.
pub fn may_manage(caller: &Caller, org: &crate::orgs::Org) -> bool {
    caller.can_at(Perm::ManageDues, &org.path)
}
