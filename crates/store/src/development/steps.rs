//! Recording the 25 steps after the application: each step checked by the rules, the higher
//! committee's approvals wired through the review chain (admission makes the probationary member,
//! conversion the full member).

use super::{
    awaiting, ctx, get, insert_step, refused, rules_file, steps_of, writable, DevelopmentFile, FileRow, StepRow, SELECT,
};
use chrono::NaiveDate;
use domain::development::{self as rules, File};
use domain::member::MemberInput;
use domain::{clean_text, FieldError, Invalid};
use serde::Deserialize;

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::members::{self, NewRow};
use crate::orgs;
use crate::reviews;
use crate::scope::Caller;
use domain::schema::text;

/// At conversion approval (step 24): made a full member, probation extended, or cancelled.
const OUTCOMES: [&str; 3] = ["full", "extend", "cancel"];

fn outcome_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&OUTCOMES)
}

/// A step of a development file: at conversion approval (step 24) `outcome` is `full` (the
/// default), `extend` (6–12 months, once) or `cancel`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepInput {
    /// 1–25; votes (15, 23) are recorded with `/votes`.
    #[schema(minimum = 1, maximum = 25, required = true)]
    pub step: Option<usize>,
    #[schema(required = true)]
    pub done_on: Option<NaiveDate>,
    /// Training contacts (step 5) or introducers (step 9): members' ids, full members.
    pub people: Vec<i64>,
    #[schema(schema_with = text::<1000>)]
    pub note: Option<String>,
    /// At conversion approval (step 24): `full` (default), `extend` or `cancel`.
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<String>,
    /// For `extend`: 6–12 months, once.
    #[schema(minimum = 6, maximum = 12)]
    pub extension_months: Option<u32>,
}

/// Records a step, refused with the rule's code when a rule forbids it; lateness comes back in the
/// file's alerts. The steps the higher committee decides go to the review chain instead (see
/// `on_review`).
pub async fn record_step(db: &Db, caller: &Caller, id: i64, input: &StepInput) -> Result<DevelopmentFile> {
    let mut e = Vec::new();
    let step = input.step.filter(|s| (1..=25).contains(s));
    if step.is_none() {
        e.push(FieldError::new("step", "invalid"));
    }
    if input.done_on.is_none() {
        e.push(FieldError::new("done_on", "required"));
    }
    let note = input.note.as_deref().and_then(|n| clean_text("note", n, 1000, &mut e));
    let outcome = input.outcome.as_deref().unwrap_or("full");
    if !OUTCOMES.contains(&outcome) {
        e.push(FieldError::new("outcome", "invalid"));
    }
    domain::error::check(e)?;
    let (step, on) = (step.expect("checked"), input.done_on.expect("checked"));
    let f = writable(db, caller, id, "development.step").await?;
    let steps = steps_of(db, id).await?;
    let file = rules_file(&f, &steps);
    let full_people = full_members(db, caller, &input.people).await?;
    if full_people != input.people.len() {
        return Err(Invalid::one("people", "not_full_members").into());
    }
    rules::check_step(&file, step, on, full_people, today()).map_err(refused)?;
    if step == rules::CONVERSION_APPROVAL && outcome == "extend" {
        let months = input.extension_months.unwrap_or(0);
        if !rules::extension_allowed(&file, months) {
            return Err(Invalid::one("extension_months", "invalid").into());
        }
    }
    let mut tx = db.begin().await?;
    if HIGHER_COMMITTEE.contains(&step) {
        // Decided above: the request waits for the review chain, and the step is recorded (with
        // the date given) only when the last level approves.
        if awaiting(db, id).await? {
            return Err(Error::Refused("development.awaiting_review"));
        }
        tx.exec(
            Q::new(
                "INSERT INTO development_requests (file_id, step, done_on, note, outcome, extension_months, submitted_by, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(step as i64)
            .bind(on)
            .bind(note)
            .bind(outcome)
            .bind(input.extension_months.map(i64::from))
            .bind(caller.display_name.clone())
            .bind(now_text()),
        )
        .await?;
        let org = orgs::get(db, caller, f.org_id).await?;
        let title = format!("发展党员：{} · {}", f.name, rules::step_name(step).unwrap_or_default());
        reviews::submit(&mut tx, caller, "development", id, &org, &title).await?;
        audit::append(
            &mut tx,
            caller,
            Event::ok("development.request", "development", id).with_detail(format!("step {step}")),
        )
        .await?;
        tx.commit().await?;
        return get(db, caller, id).await;
    }
    insert_step(&mut tx, caller, id, step, on, note).await?;
    for person in &input.people {
        tx.exec(
            Q::new("INSERT INTO development_people (file_id, step, member_id) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(step as i64)
                .bind(*person),
        )
        .await?;
    }
    crate::marks::stale(&mut tx, crate::marks::Of::File(id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("development.step", "development", id).with_detail(format!("step {step}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The steps that go through the review chain to the committees above: the filings of activists
/// (4) and development targets (8), pre-review (13), approval of admission (17), the filing two
/// levels up (18; a chain of two levels reaches it) and approval of conversion (24) (细则 Arts. 12,
/// 15, 19, 24, 26, 32).
pub const HIGHER_COMMITTEE: [usize; 6] = [4, 8, 13, rules::ADMISSION_APPROVAL, 18, rules::CONVERSION_APPROVAL];

/// The review chain's end for a requested step: approved, the step is recorded with its date and
/// its effect on the member record follows in the same transaction; returned, the request is
/// dropped and the branch may ask again.
pub(crate) async fn on_review(tx: &mut Tx, keys: &Keys, caller: &Caller, id: i64, approved: bool) -> Result<()> {
    let request: Option<(i64, NaiveDate, Option<String>, String, Option<i64>)> = tx
        .opt(
            Q::new(
                "SELECT step, done_on, note, outcome, extension_months FROM development_requests WHERE file_id = $1",
            )
            .bind(id),
        )
        .await?;
    let Some((step, on, note, outcome, extension_months)) = request else {
        return Ok(());
    };
    tx.exec(Q::new("DELETE FROM development_requests WHERE file_id = $1").bind(id))
        .await?;
    if !approved {
        return Ok(());
    }
    let f: FileRow = tx.one(Q::new(&format!("{SELECT} WHERE f.id = $1")).bind(id)).await?;
    let steps: Vec<StepRow> = tx
        .all(
            Q::new(concat!(
                "SELECT step, done_on, note, ",
                person!("recorded_by"),
                " AS recorded_by FROM development_steps WHERE file_id = $1 ORDER BY step"
            ))
            .bind(id),
        )
        .await?;
    let file = rules_file(&f, &steps);
    let step = step as usize;
    rules::check_step(&file, step, on, 0, today()).map_err(refused)?;
    insert_step(tx, caller, id, step, on, note).await?;
    match step {
        rules::ADMISSION_APPROVAL => admit(tx, keys, caller, &f, &file).await?,
        rules::CONVERSION_APPROVAL => {
            convert(tx, caller, &f, &file, &outcome, extension_months.map(|m| m as u32)).await?
        }
        _ => {}
    }
    crate::marks::stale(tx, crate::marks::Of::File(id)).await?;
    audit::append(
        tx,
        caller,
        Event::ok("development.step", "development", id).with_detail(format!("step {step} approved")),
    )
    .await?;
    Ok(())
}

/// How many of these are active full members the caller can see.
async fn full_members(db: &Db, caller: &Caller, ids: &[i64]) -> Result<usize> {
    let mut n = 0;
    for id in ids {
        let full = members::get(db, caller, *id)
            .await
            .is_ok_and(|m| m.category == "full" && m.status == "active");
        n += usize::from(full);
    }
    Ok(n)
}

/// Step 17: the probationary member, admitted from the date of the branch meeting's vote.
async fn admit(tx: &mut Tx, keys: &Keys, caller: &Caller, f: &FileRow, file: &File) -> Result<()> {
    let (id_enc, phone_enc, ethnicity, education, work_unit): (
        Vec<u8>,
        Option<Vec<u8>>,
        String,
        Option<String>,
        Option<String>,
    ) = tx
        .one(
            Q::new(
                "SELECT id_number_enc, phone_enc, ethnicity, education, work_unit FROM development_files WHERE id = $1",
            )
            .bind(f.id),
        )
        .await?;
    let broken = || Error::Refused("member.decrypt_failed");
    let id_number = keys.decrypt(&ctx("id_number", f.id), &id_enc).ok_or_else(broken)?;
    let phone = match phone_enc {
        Some(p) => Some(keys.decrypt(&ctx("phone", f.id), &p).ok_or_else(broken)?),
        None => None,
    };
    let vote = file.date(rules::ADMISSION_VOTE).expect("step 17 follows the vote");
    let input = MemberInput {
        name: Some(f.name.clone()),
        gender: Some(f.gender.clone()),
        ethnicity: Some(ethnicity),
        id_number: Some(id_number),
        phone,
        education,
        work_unit,
        joined_on: Some(vote.to_string()),
        category: Some("probationary".into()),
        ..Default::default()
    };
    let valid = input.validate(today())?;
    let row = NewRow {
        id: new_id(),
        org_id: f.org_id,
        org_path: f.org_path.clone(),
        group_id: None,
        member: valid,
    };
    let member_id = members::add(tx, keys, caller, row).await?;
    tx.exec(
        Q::new("UPDATE development_files SET status = 'member', member_id = $1 WHERE id = $2")
            .bind(member_id)
            .bind(f.id),
    )
    .await?;
    Ok(())
}

/// Step 24: full membership from the end of probation, an extension (steps 22–24 are then taken
/// again when it ends), or cancellation.
async fn convert(
    tx: &mut Tx,
    caller: &Caller,
    f: &FileRow,
    file: &File,
    outcome: &str,
    extension_months: Option<u32>,
) -> Result<()> {
    let member = f.member_id.ok_or(Error::Refused("development.not_admitted"))?;
    match outcome {
        "extend" => {
            tx.exec(
                Q::new("DELETE FROM development_steps WHERE file_id = $1 AND step >= $2")
                    .bind(f.id)
                    .bind(rules::CONVERSION_APPLICATION as i64),
            )
            .await?;
            tx.exec(
                Q::new("UPDATE development_files SET extension_months = $1, last_step = $2 WHERE id = $3")
                    .bind(extension_months.unwrap_or(0) as i64)
                    .bind(rules::CONVERSION_APPLICATION as i64 - 1)
                    .bind(f.id),
            )
            .await?;
        }
        "cancel" => {
            members::cancel_probation(tx, caller, member).await?;
            tx.exec(Q::new("UPDATE development_files SET status = 'cancelled' WHERE id = $1").bind(f.id))
                .await?;
        }
        _ => {
            let from = file.probation_ends().expect("admitted files have a vote");
            members::make_full(tx, caller, member, from).await?;
            tx.exec(Q::new("UPDATE development_files SET status = 'full' WHERE id = $1").bind(f.id))
                .await?;
        }
    }
    Ok(())
}
