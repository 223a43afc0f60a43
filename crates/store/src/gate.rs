//! The one gate. Every permission decision of the store is made here, against the caller's grants
//! (`scope`), and every refusal is written to the audit log with the action and the record asked
//! for, so the security administrator can see who probes where (数据留痕). Scoped queries take their
//! WHERE clause from `Caller::filter`; a record they do not return is answered "not found" whether
//! it is absent or outside the caller's scope (the two are indistinguishable on purpose), and
//! that refusal is audited too.

use crate::audit::{self, Event};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::scope::{Caller, Perm};

/// The record an action is about: its kind (`member`, `org`, …) and id.
pub type Target<'a> = (&'static str, &'a (dyn std::fmt::Display + Sync));

impl Caller {
    /// Whether `perm` holds at the organization with this path; a refusal is audited and
    /// answered `Forbidden`.
    pub async fn require(
        &self,
        db: &Db,
        perm: Perm,
        path: &str,
        action: &'static str,
        target: Target<'_>,
    ) -> Result<()> {
        if self.can_at(perm, path) {
            return Ok(());
        }
        self.refuse(db, Error::Forbidden, action, target).await
    }

    /// Whether `perm` holds anywhere in the caller's grants (a whole-system action such as reading
    /// the audit log); a refusal is audited and answered `Forbidden`.
    pub async fn require_any(&self, db: &Db, perm: Perm, action: &'static str, target: Target<'_>) -> Result<()> {
        if self.can(perm) {
            return Ok(());
        }
        self.refuse(db, Error::Forbidden, action, target).await
    }

    /// A scoped lookup's answer: the record, or a `NotFound` refusal that is audited.
    pub async fn found<T>(&self, db: &Db, row: Option<T>, action: &'static str, target: Target<'_>) -> Result<T> {
        match row {
            Some(r) => Ok(r),
            None => self.refuse(db, Error::NotFound, action, target).await,
        }
    }

    /// Audits a refusal decided by a rule of the caller's reach (not by their grants alone, e.g.
    /// "not your own request") and returns it as the error.
    pub async fn refuse<T>(&self, db: &Db, why: Error, action: &'static str, target: Target<'_>) -> Result<T> {
        let event = Event::denied(action, target.0, target.1).with_detail(why.code());
        audit::append_alone(db, self, event).await?;
        Err(why)
    }
}
