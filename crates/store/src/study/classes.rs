//! Training classes (集中培训): an organization's class with its dates and declared 学时, and the
//! roll of members who attended. Each member present is credited the class's hours, split by day
//! between the years a class spans (`domain::study::split_by_year`), so the new year's minimum
//! gets its share.

use chrono::NaiveDate;
use domain::org::subtree_end;
use domain::study::{parse_hours, split_by_year};
use domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

use super::manages;

/// A date the class must have.
fn required_date(field: &'static str, text: Option<&str>, e: &mut Vec<FieldError>) -> Option<NaiveDate> {
    if text.map(str::trim).is_none_or(str::is_empty) {
        e.push(FieldError::new(field, "required"));
    }
    super::date(field, text, e)
}
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::scope::{Caller, Own, Perm};

/// The longest class: a year, so that it spans two calendar years at most.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ClassInput {
    #[schema(minimum = 1, required = true)]
    pub org_id: Option<i64>,
    #[schema(max_length = 100, min_length = 1, required = true)]
    pub title: Option<String>,
    #[schema(value_type = Option<String>, format = Date, required = true)]
    pub starts_on: Option<String>,
    #[schema(value_type = Option<String>, format = Date, required = true)]
    pub ends_on: Option<String>,
    /// Declared 学时 for the whole class, e.g. `40` (from 0.1 to 100).
    #[schema(max_length = 6, required = true)]
    pub hours: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Class {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub hours_tenths: i64,
    /// How many members attended.
    pub attended: i64,
}

const SELECT: &str =
    "SELECT c.id, c.org_id, o.name AS org_name, c.org_path, c.title, c.starts_on, c.ends_on, c.hours_tenths,
    (SELECT COUNT(*) FROM study_class_attendance a WHERE a.class_id = c.id) AS attended
    FROM study_classes c JOIN orgs o ON o.id = c.org_id";

/// Records a class; its roll is taken with `set_attendance`.
pub async fn create(db: &Db, caller: &Caller, input: &ClassInput) -> Result<Class> {
    let mut e = Vec::new();
    let title = domain::required_text("title", input.title.as_deref(), 100, &mut e);
    let starts_on = required_date("starts_on", input.starts_on.as_deref(), &mut e);
    let ends_on = required_date("ends_on", input.ends_on.as_deref(), &mut e);
    let hours = match input.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        None => {
            e.push(FieldError::new("hours", "required"));
            None
        }
        Some(h) => {
            let parsed = parse_hours(h);
            if parsed.is_none() {
                e.push(FieldError::new("hours", "invalid"));
            }
            parsed
        }
    };
    let mut split = None;
    if let (Some(s), Some(end), Some(t)) = (starts_on, ends_on, hours) {
        if end < s {
            e.push(FieldError::new("ends_on", "before_start"));
        } else if (end - s).num_days() + 1 > MAX_DAYS {
            e.push(FieldError::new("ends_on", "out_of_range"));
        } else {
            split = split_by_year(s, end, t);
        }
    }
    let Some(org_id) = input.org_id else {
        e.push(FieldError::new("org_id", "required"));
        return Err(Invalid(e).into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.class.create", ("org", &org_id))
        .await?;
    domain::error::check(e)?;
    let split = split.unwrap_or_default();
    let (first_year, first_tenths) = split.first().copied().unwrap_or_default();
    let second_tenths = split.get(1).map(|p| p.1).unwrap_or(0);
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_classes (id, org_id, org_path, title, starts_on, ends_on, hours_tenths, first_year,
             first_tenths, second_tenths, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(title.unwrap_or_default())
        .bind(starts_on)
        .bind(ends_on)
        .bind(hours.unwrap_or_default())
        .bind(i64::from(first_year))
        .bind(first_tenths)
        .bind(second_tenths)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("study.class.create", "study_class", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// One class, for those who manage study at its organization.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Class> {
    let row: Option<Class> = db.opt(Q::new(&format!("{SELECT} WHERE c.id = $1")).bind(id)).await?;
    let class = row.filter(|c| manages(caller, &c.org_path));
    caller.found(db, class, "study.class.read", ("study_class", &id)).await
}

/// Classes of the organizations where the caller manages study, newest first.
pub async fn managed(db: &Db, caller: &Caller) -> Result<Vec<Class>> {
    if !caller.can(Perm::ManageStudy) {
        return Ok(Vec::new());
    }
    let mut q = Q::new(&format!("{SELECT} WHERE "));
    caller.filter(&mut q, Perm::ManageStudy, "c.org_path", Own::Nothing);
    q.push(" ORDER BY c.starts_on DESC, c.id DESC LIMIT 200");
    Ok(db.all(q).await?)
}

/// A member who may be on a class's roll, and whether they attended.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RollLine {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub attended: bool,
}

/// Members on a roll page, at most.
pub const ROLL_LIMIT: i64 = 1_000;

/// The class's roll: the active members of its organization's subtree that the caller keeps
/// study for, in tree order (at most `ROLL_LIMIT`), with who attended.
pub async fn roll(db: &Db, caller: &Caller, id: i64) -> Result<(Class, Vec<RollLine>)> {
    let class = get(db, caller, id).await?;
    let mut q = Q::new(
        "SELECT m.id AS member_id, m.name, o.name AS org_name,
         EXISTS (SELECT 1 FROM study_class_attendance a WHERE a.class_id = $1 AND a.member_id = m.id) AS attended
         FROM members m JOIN orgs o ON o.id = m.org_id WHERE m.status = 'active' AND m.org_path >= $2 AND m.org_path < $3 AND ",
    )
    .bind(id)
    .bind(class.org_path.clone())
    .bind(subtree_end(&class.org_path));
    caller.filter(&mut q, Perm::ManageStudy, "m.org_path", Own::Nothing);
    q.push(&format!(" ORDER BY m.org_path, m.name, m.id LIMIT {ROLL_LIMIT}"));
    Ok((class, db.all(q).await?))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RollInput {
    /// Everyone who attended; those left out are taken off the roll.
    #[schema(max_items = 1000)]
    pub member_ids: Vec<i64>,
}

/// Sets who attended, in one transaction: every member must be active in the class's subtree and
/// in the caller's reach, else nothing changes.
pub async fn set_attendance(db: &Db, caller: &Caller, id: i64, input: &RollInput) -> Result<Class> {
    let class = get(db, caller, id).await?;
    domain::error::list("member_ids", &input.member_ids, ROLL_LIMIT as usize)?;
    if !input.member_ids.is_empty() {
        let mut q = Q::new(
            "SELECT COUNT(*) FROM members m WHERE m.status = 'active' AND m.org_path >= $1 AND m.org_path < $2 AND ",
        )
        .bind(class.org_path.clone())
        .bind(subtree_end(&class.org_path));
        caller.filter(&mut q, Perm::ManageStudy, "m.org_path", Own::Nothing);
        q.push(" AND m.id IN (")
            .push_list(input.member_ids.iter().copied())
            .push(")");
        let (found,): (i64,) = db.one(q).await?;
        if found != input.member_ids.len() as i64 {
            return caller
                .refuse(
                    db,
                    Error::Invalid(Invalid::one("member_ids", "not_found")),
                    "study.class.attendance",
                    ("study_class", &id),
                )
                .await;
        }
    }
    let mut tx = db.begin().await?;
    // Those who leave the roll and those who join it: their years change.
    let mut changed: Vec<i64> = tx
        .all::<(i64,)>(Q::new("SELECT member_id FROM study_class_attendance WHERE class_id = $1").bind(id))
        .await?
        .into_iter()
        .map(|(m,)| m)
        .collect();
    changed.extend(input.member_ids.iter().copied());
    changed.sort_unstable();
    changed.dedup();
    tx.exec(Q::new("DELETE FROM study_class_attendance WHERE class_id = $1").bind(id))
        .await?;
    if !input.member_ids.is_empty() {
        let mut q = Q::new("INSERT INTO study_class_attendance (class_id, member_id) VALUES ");
        for (i, m) in input.member_ids.iter().enumerate() {
            q.push_row(i == 0, [id.into(), (*m).into()]);
        }
        tx.exec(q).await?;
    }
    let first_year = super::credits::year_of(class.starts_on);
    crate::study::totals::members_changed(&mut tx, &changed, &[first_year, first_year + 1]).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.class.attendance", "study_class", id)
            .with_detail(format!("members={}", input.member_ids.len())),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The classes member `member_id` attended that count in `year`, as ledger lines: each the part of
/// the class's hours that falls in the year, on the class's last day in it.
pub(crate) async fn lines(db: &Db, member_id: i64, year: i64) -> Result<Vec<super::credits::Line>> {
    let rows: Vec<(i64, String, NaiveDate, i64, i64, i64, String)> = db
        .all(
            Q::new(
                "SELECT c.id, c.title, c.ends_on, c.first_year, c.first_tenths, c.second_tenths, o.name
                 FROM study_class_attendance a JOIN study_classes c ON c.id = a.class_id JOIN orgs o ON o.id = c.org_id
                 WHERE a.member_id = $1 AND (c.first_year = $2 OR c.first_year + 1 = $2)",
            )
            .bind(member_id)
            .bind(year),
        )
        .await?;
    let mut out = Vec::new();
    for (id, title, ends_on, first_year, first, second, org_name) in rows {
        let (tenths, day) = if first_year == year {
            let year_end = NaiveDate::from_ymd_opt(year as i32, 12, 31).unwrap_or(ends_on);
            (first, ends_on.min(year_end))
        } else {
            (second, ends_on)
        };
        if tenths > 0 {
            out.push(super::credits::Line {
                credited_on: day,
                hours_tenths: tenths,
                source: "class".into(),
                source_id: id,
                label: title,
                form: "class".into(),
                recorded_by: org_name,
            });
        }
    }
    Ok(out)
}

/// The SQL summing, for member `m` in year `$1`, the part of each class they attended that falls in
/// that year (the report's counterpart of `lines`).
pub(crate) const YEAR_TENTHS: &str = "(SELECT CAST(COALESCE(SUM(CASE WHEN c.first_year = $1 THEN c.first_tenths
    WHEN c.first_year + 1 = $1 THEN c.second_tenths ELSE 0 END), 0) AS BIGINT)
    FROM study_class_attendance a JOIN study_classes c ON c.id = a.class_id WHERE a.member_id = m.id)";
