//! The submissions that go through review chains, each with what the end of its review does:
//! the composition that lets `reviews` decide without depending on the modules that submit to it.

use crate::db::Tx;
use crate::reviews::{Applied, OnReview, ReviewKind};
use crate::scope::Caller;
use crate::Keys;

/// Every kind of submission, each handled by its own module.
pub struct All;

impl OnReview for All {
    fn on_review<'a>(
        &'a self,
        tx: &'a mut Tx,
        keys: &'a Keys,
        caller: &'a Caller,
        kind: ReviewKind,
        subject_id: i64,
        approved: bool,
    ) -> Applied<'a> {
        match kind {
            ReviewKind::Transfer => Box::pin(crate::transfers::on_review(tx, caller, subject_id, approved)),
            ReviewKind::Notice => Box::pin(crate::notices::on_review(tx, subject_id, approved)),
            ReviewKind::Development => Box::pin(crate::development::on_review(tx, keys, caller, subject_id, approved)),
            ReviewKind::Correction => Box::pin(crate::corrections::on_review(tx, keys, caller, subject_id, approved)),
            ReviewKind::Grant => Box::pin(crate::accounts::on_review(tx, caller, subject_id, approved)),
            ReviewKind::Study => Box::pin(crate::study::items::on_review(tx, subject_id, approved)),
        }
    }
}
