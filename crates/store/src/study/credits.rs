//! The 学时 ledger's written lines: one per item credited to a member, whether completed online or
//! recorded by the branch (代录), and the exemptions of Art. 23. Hours come from what an item
//! declares, never from time online. A member's year, with the meetings and classes read beside
//! these lines, is `reports::ledger`.

use chrono::NaiveDate;
use domain::study::{Exemption, Form};
use domain::{clean_text, FieldError};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::Result;
use crate::members;
use crate::scope::{Caller, Perm};

/// What completing an item earns: its version's declared hours, under its title.
pub(crate) struct Earned<'a> {
    pub item_id: i64,
    pub version: i64,
    pub hours_tenths: i64,
    pub title: &'a str,
}

/// The year a credit falls in: the day it was studied.
pub(crate) fn year_of(day: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::year(&day))
}

/// Credits members for an item, at the hours of the version they completed, in one statement;
/// nothing for a member credited with it before (an item counts once). Returns how many it credited.
pub(crate) async fn credit_item(
    tx: &mut Tx,
    caller: &Caller,
    member_ids: &[i64],
    item: Earned<'_>,
    form: Form,
    on: NaiveDate,
) -> Result<u64> {
    if member_ids.is_empty() {
        return Ok(0);
    }
    // Each line's id beside its member: `VALUES` names its columns column1, column2 on both databases.
    let mut q = Q::new(
        "INSERT INTO study_credits (id, member_id, org_path, year, credited_on, hours_tenths, source, source_id,
         version, label, form, recorded_by, recorded_at)
         SELECT v.column1, m.id, m.org_path, $1, $2, $3, 'item', $4, $5, $6, $7, $8, $9
         FROM (VALUES ",
    )
    .bind(year_of(on))
    .bind(on)
    .bind(item.hours_tenths)
    .bind(item.item_id)
    .bind(item.version)
    .bind(item.title)
    .bind(form.as_str())
    .bind(caller.username.clone())
    .bind(now_text());
    for (i, member_id) in member_ids.iter().enumerate() {
        q.push_row(i == 0, [new_id().into(), (*member_id).into()]);
    }
    q.push(") AS v JOIN members m ON m.id = v.column2 ON CONFLICT (member_id, source, source_id) DO NOTHING");
    let credited = tx.exec(q).await?;
    if credited > 0 {
        crate::study::totals::credited(tx, member_ids, item.item_id, year_of(on)).await?;
    }
    Ok(credited)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ExemptionInput {
    #[schema(minimum = 1, required = true)]
    pub member_id: Option<i64>,
    /// The year it holds for; this year when absent.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
    /// `frail`, `ill`, `disabled` or `abroad` (Art. 23); `none` lifts the year's exemption.
    #[schema(required = true, schema_with = reasons)]
    pub reason: Option<String>,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

fn reasons() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&["frail", "ill", "disabled", "abroad", "none"])
}

/// Records (or lifts) a member's exemption for a year: they leave the year's minimum and the task
/// rates, and anything they study still counts.
pub async fn exempt(db: &Db, caller: &Caller, input: &ExemptionInput) -> Result<()> {
    let mut e = Vec::new();
    let this_year = year_of(crate::clock::today());
    let year = input.year.unwrap_or(this_year);
    if !(2000..=this_year + 1).contains(&year) {
        e.push(FieldError::new("year", "out_of_range"));
    }
    let reason = input.reason.as_deref().map(str::trim).unwrap_or("");
    let lift = reason == "none";
    if !lift && Exemption::parse(reason).is_none() {
        e.push(FieldError::new(
            "reason",
            if reason.is_empty() {
                "required"
            } else {
                "one_of:frail, ill, disabled, abroad, none"
            },
        ));
    }
    let note = clean_text("note", input.note.as_deref().unwrap_or(""), 200, &mut e).unwrap_or_default();
    let Some(member_id) = input.member_id else {
        e.push(FieldError::new("member_id", "required"));
        return Err(domain::Invalid(e).into());
    };
    domain::error::check(e)?;
    let member = members::get(db, caller, member_id).await?;
    caller
        .require(
            db,
            Perm::ManageStudy,
            &member.org_path,
            "study.exempt",
            ("member", &member_id),
        )
        .await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("DELETE FROM study_exemptions WHERE member_id = $1 AND year = $2")
            .bind(member_id)
            .bind(year),
    )
    .await?;
    if !lift {
        tx.exec(
            Q::new(
                "INSERT INTO study_exemptions (member_id, year, org_path, reason, note, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(member_id)
            .bind(year)
            .bind(member.org_path.clone())
            .bind(reason)
            .bind(note)
            .bind(caller.username.clone())
            .bind(now_text()),
        )
        .await?;
    }
    crate::study::totals::members_changed(&mut tx, &[member_id], &[year]).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.exempt", "member", member_id).with_detail(format!("year={year} reason={reason}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One line of a member's ledger.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = StudyLine)]
pub struct Line {
    pub credited_on: NaiveDate,
    pub hours_tenths: i64,
    /// `item` (a library item), `meeting` (a study meeting attended) or `class` (a training class).
    pub source: String,
    pub source_id: i64,
    /// What was studied (the item's title as completed).
    pub label: String,
    /// `online`, `group`, `paper`, `home`, or `meeting` for a meeting's line.
    pub form: String,
    /// Who recorded it: the member themself, the branch for offline study, the organization that
    /// held a meeting.
    pub recorded_by: String,
}
