//! The branch meeting's vote on admission (step 15) or conversion (step 23).

use super::{get, insert_step, refused, rules_file, steps_of, writable, DevelopmentFile};
use chrono::NaiveDate;
use domain::development::{self as rules, Refusal, Vote};
use domain::Invalid;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Db, Q};
use crate::error::Result;
use crate::scope::Caller;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VoteInput {
    /// 15 (admission) or 23 (conversion).
    #[schema(minimum = 15, maximum = 23, required = true)]
    pub step: Option<usize>,
    #[schema(required = true)]
    pub held_on: Option<NaiveDate>,
    pub entitled: u32,
    pub present: u32,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub written_yes: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VoteResult {
    pub quorum: bool,
    pub passed: bool,
    pub explanation: String,
    pub explanation_en: String,
    pub file: DevelopmentFile,
}

/// Records a branch general meeting's vote; a passing vote completes the step.
pub async fn record_vote(db: &Db, caller: &Caller, id: i64, input: &VoteInput) -> Result<VoteResult> {
    let step = input
        .step
        .filter(|s| *s == rules::ADMISSION_VOTE || *s == rules::CONVERSION_VOTE)
        .ok_or_else(|| Invalid::one("step", "invalid"))?;
    let held_on = input.held_on.ok_or_else(|| Invalid::one("held_on", "required"))?;
    let v = Vote {
        entitled: input.entitled,
        present: input.present,
        yes: input.yes,
        no: input.no,
        abstain: input.abstain,
        written_yes: input.written_yes,
    };
    let outcome = rules::count(v).map_err(|_| Invalid::one("present", "inconsistent"))?;
    let f = writable(db, caller, id, "development.vote").await?;
    let steps = steps_of(db, id).await?;
    let file = rules_file(&f, &steps);
    match rules::check_step(&file, step, held_on, 0, today()) {
        Ok(_) | Err(Refusal::NeedsVote) => {}
        Err(r) => return Err(refused(r)),
    }
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO development_votes (id, file_id, step, held_on, entitled, present, yes, no, abstain, written_yes, passed,
             recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new_id())
        .bind(id)
        .bind(step as i64)
        .bind(held_on)
        .bind(v.entitled as i64)
        .bind(v.present as i64)
        .bind(v.yes as i64)
        .bind(v.no as i64)
        .bind(v.abstain as i64)
        .bind(v.written_yes as i64)
        .bind(outcome.passed)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    if outcome.passed {
        insert_step(&mut tx, caller, id, step, held_on, Some(outcome.explanation_zh.clone())).await?;
    }
    crate::marks::stale(&mut tx, crate::marks::Of::File(id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("development.vote", "development", id).with_detail(format!("step {step} passed={}", outcome.passed)),
    )
    .await?;
    tx.commit().await?;
    Ok(VoteResult {
        quorum: outcome.quorum,
        passed: outcome.passed,
        explanation: outcome.explanation_zh,
        explanation_en: outcome.explanation_en,
        file: get(db, caller, id).await?,
    })
}
