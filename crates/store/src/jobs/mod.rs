//! Every background job, each run under a lease so that several servers run it once per local
//! (Beijing) date: the daily reminders and, on a month's first run, the month's dues ledger.

pub mod reminders;

use chrono::{Duration, NaiveDate};

use crate::clock;
use crate::db::{instant_text, Db, Q};
use crate::error::Result;

/// Takes today's run of a daily job: true for exactly one caller per local date, even across
/// servers (the conditional update is atomic; on PostgreSQL a second server waits on the row lock
/// and then sees today's date).
pub async fn take_daily_lease(db: &Db, job: &str, holder: &str, today: NaiveDate) -> Result<bool> {
    let now = clock::now();
    let taken = db
        .exec(
            Q::new(
                "UPDATE job_leases SET holder = $1, leased_until = $2, last_run_on = $3
                 WHERE name = $4 AND (last_run_on IS NULL OR last_run_on < $3) AND leased_until < $5",
            )
            .bind(holder)
            .bind(instant_text(now + Duration::minutes(30)))
            .bind(today)
            .bind(job)
            .bind(instant_text(now)),
        )
        .await?;
    Ok(taken == 1)
}

/// What one day's run did; each job succeeds or fails on its own.
#[derive(Debug)]
pub struct DailyRun {
    /// How many reminders were new.
    pub reminders: Result<usize>,
    /// Ledger rows written for a new month, if this was the month's first run.
    pub dues: Result<Option<u64>>,
    /// Failed sign-ins under unknown names forgotten (a day after the last).
    pub login_failures: Result<u64>,
    /// Audit entries removed by the retention, when one is configured.
    pub audit_pruned: Option<Result<i64>>,
    /// Every active member's record checked by the platform's validators (数据质量), before the
    /// warnings, which count what it finds.
    pub quality: Result<crate::quality::Run>,
    /// Organizations whose warnings were evaluated for the new day (after the month's ledger), so
    /// that no home waits for it.
    pub warnings: Result<usize>,
}

/// Runs today's jobs if this server takes the lease; `None` when another run has them.
/// `audit_retention_days`: remove audit entries older than this (at least 184 days).
pub async fn run_daily(
    db: &Db,
    keys: &crate::Keys,
    holder: &str,
    audit_retention_days: Option<i64>,
) -> Result<Option<DailyRun>> {
    let today = clock::today();
    if !take_daily_lease(db, "daily_reminders", holder, today).await? {
        return Ok(None);
    }
    let reminders = reminders::send(db, today).await;
    let dues = crate::dues::ledger::generate_if_new_month(db, today).await;
    let quality = crate::quality::run(db, keys).await;
    Ok(Some(DailyRun {
        reminders,
        dues,
        quality,
        warnings: crate::warnings::refresh(db, "/").await,
        login_failures: crate::accounts::forget_unknown_failures(db).await,
        audit_pruned: match audit_retention_days {
            Some(days) => Some(crate::audit::prune(db, days, clock::now()).await),
            None => None,
        },
    }))
}
