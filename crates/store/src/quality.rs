//! Data quality (数据质量): the platform's own validators (`domain::quality`) run over the stored
//! rows — by the daily job over every active member, and for each record as it is written — and
//! each failure kept as a row. Their counts per organization are dashboard figures (`dq:{check}`,
//! kept current with the warnings and by day, which gives the trend); a report over a subtree shows
//! each check's share passing against the threshold and a masked sample linking to the record,
//! where the normal edit and correction flows fix it. Nothing here changes a record.

use chrono::NaiveDate;
use domain::org::subtree_end;
use domain::quality::{common_path, masked_name, member_failures, passes, StoredMember, CHECKS, THRESHOLD_PERCENT};
use serde::Serialize;

use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::scope::{Caller, Perm};

/// Members checked in one transaction of a full run.
const CHUNK: usize = 2000;
/// Records a sample shows per check.
const SAMPLE: i64 = 5;
/// Days of trend a report shows.
const TREND_DAYS: i64 = 30;

#[derive(sqlx::FromRow)]
struct Stored {
    id: i64,
    org_id: i64,
    gender: String,
    birth_date: NaiveDate,
    joined_on: NaiveDate,
    full_member_on: Option<NaiveDate>,
    category: String,
    education: Option<String>,
    id_number_enc: Vec<u8>,
    org_dissolved: bool,
}

/// What a full run found.
#[derive(Debug)]
pub struct Run {
    pub checked: usize,
    pub failures: usize,
    pub duplicates: usize,
}

/// Runs every check over every active member and keeps what they fail; the organizations whose
/// failures changed are marked, so their counts follow at the next reading.
pub async fn run(db: &Db, keys: &Keys) -> Result<Run> {
    let mut after = i64::MIN;
    let (mut checked, mut failures) = (0, 0);
    loop {
        let rows: Vec<Stored> = db
            .all(
                Q::new(
                    "SELECT m.id, m.org_id, m.gender, m.birth_date, m.joined_on, m.full_member_on, m.category, m.education,
                       m.id_number_enc, o.dissolved_on IS NOT NULL AS org_dissolved
                     FROM members m JOIN orgs o ON o.id = m.org_id WHERE m.status = 'active' AND m.id > $1 ORDER BY m.id LIMIT $2",
                )
                .bind(after)
                .bind(CHUNK as i64),
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        checked += rows.len();
        let found: Vec<(i64, i64, &'static str)> = rows
            .iter()
            .flat_map(|r| {
                // A number that cannot be opened is as wrong as one with a bad check digit.
                let id_number = keys
                    .decrypt(&crate::crypto::member_context("id_number", r.id), &r.id_number_enc)
                    .unwrap_or_default();
                let failed = member_failures(&StoredMember {
                    id_number: &id_number,
                    gender: &r.gender,
                    birth_date: r.birth_date,
                    joined_on: r.joined_on,
                    full_member_on: r.full_member_on,
                    category: &r.category,
                    education: r.education.as_deref(),
                    org_dissolved: r.org_dissolved,
                });
                failed.into_iter().map(move |c| (r.id, r.org_id, c))
            })
            .collect();
        failures += found.len();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        keep(db, &ids, &found, false).await?;
    }
    let duplicates = duplicates(db).await?;
    // The planner is told what the run wrote: a first run (or a key that no longer opens the
    // numbers) can turn an empty table into a million rows, and joins chosen for an empty one
    // would then scan it on every evaluation.
    db.exec(Q::new("ANALYZE quality_failures")).await?;
    Ok(Run {
        checked,
        failures,
        duplicates,
    })
}

/// Replaces the failures of these members (the duplicate check's, or all the others'), marking the
/// organizations whose failures changed.
async fn keep(db: &Db, ids: &[i64], found: &[(i64, i64, &'static str)], duplicate: bool) -> Result<()> {
    let which = if duplicate { "=" } else { "<>" };
    let mut tx = db.begin().await?;
    let mut q = Q::new(&format!(
        "SELECT member_id, org_id, check_name FROM quality_failures WHERE check_name {which} 'duplicate' AND member_id IN ("
    ));
    q.push_list(ids.iter().copied()).push(")");
    let mut before: Vec<(i64, i64, String)> = tx.all(q).await?;
    let mut after: Vec<(i64, i64, String)> = found.iter().map(|(m, o, c)| (*m, *o, c.to_string())).collect();
    before.sort();
    after.sort();
    if before == after {
        return Ok(tx.commit().await?);
    }
    let mut q = Q::new(&format!(
        "DELETE FROM quality_failures WHERE check_name {which} 'duplicate' AND member_id IN ("
    ));
    q.push_list(ids.iter().copied()).push(")");
    tx.exec(q).await?;
    for chunk in after.chunks(500) {
        let mut q = Q::new("INSERT INTO quality_failures (member_id, check_name, org_id) VALUES ");
        for (i, (m, o, c)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*m).into(), c.clone().into(), (*o).into()]);
        }
        tx.exec(q).await?;
    }
    let changed: std::collections::BTreeSet<i64> = before.iter().chain(after.iter()).map(|(_, o, _)| *o).collect();
    crate::marks::stale_orgs(&mut tx, changed).await?;
    tx.commit().await?;
    Ok(())
}

/// People recorded twice: an open development file (an applicant) whose ID number is an active
/// member's, by the blind index; shown to the organization above both.
async fn duplicates(db: &Db) -> Result<usize> {
    let pairs: Vec<(i64, String, String)> = db
        .all(Q::new(
            "SELECT m.id, m.org_path, f.org_path FROM development_files f JOIN members m ON m.id_number_bi = f.id_number_bi
             WHERE f.status = 'open' AND m.status = 'active'",
        ))
        .await?;
    let mut found = Vec::new();
    for (member, a, b) in &pairs {
        let above = common_path(a, b);
        if let Some(org) = domain::org::path_ids(above).last() {
            found.push((*member, *org, "duplicate"));
        }
    }
    let mut ids: Vec<i64> = db
        .all::<(i64,)>(Q::new(
            "SELECT member_id FROM quality_failures WHERE check_name = 'duplicate'",
        ))
        .await?
        .into_iter()
        .map(|(m,)| m)
        .collect();
    ids.extend(found.iter().map(|(m, _, _)| *m));
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(CHUNK) {
        let part: Vec<_> = found
            .iter()
            .filter(|(m, _, _)| chunk.binary_search(m).is_ok())
            .copied()
            .collect();
        keep(db, chunk, &part, true).await?;
    }
    Ok(found.len())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QualityReport {
    pub org_id: i64,
    pub org_name: String,
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    /// The share (percent) of records that must pass each check.
    pub threshold_percent: i64,
    pub checks: Vec<QualityCheck>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QualityCheck {
    /// `id_checksum`, `id_agrees`, `joined_18`, `full_after_year`, `education_missing`, `dissolved_org`,
    /// `duplicate` or `terms_missing`.
    pub check: &'static str,
    /// Records checked: active members, or for `terms_missing` the organizations with a term.
    pub checked: i64,
    pub failed: i64,
    pub passing_percent: Option<i64>,
    pub passes: bool,
    /// A few of the records that fail it, masked, each linking to where it is corrected.
    pub sample: Vec<Sample>,
    /// Failures at the end of each of the last 30 days that changed them (oldest first).
    pub trend: Vec<TrendPoint>,
}

#[derive(Debug, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Sample {
    /// `张**`, or an organization's name.
    pub name: String,
    /// The ID number masked, for a member.
    pub id_number_masked: Option<String>,
    pub org_name: String,
    pub link: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub failed: i64,
}

/// The checks over an organization's subtree, for those who read its members.
pub async fn report(db: &Db, caller: &Caller, org_id: i64) -> Result<QualityReport> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &org.path) {
        return caller
            .refuse(db, Error::NotFound, "quality.read", ("org", &org_id))
            .await;
    }
    crate::warnings::refresh(db, &org.path).await?;
    let totals: Vec<(String, i64)> = db
        .all(Q::new("SELECT figure, n FROM figure_totals WHERE org_id = $1").bind(org.id))
        .await?;
    let total = |f: &str| totals.iter().find(|(k, _)| k == f).map_or(0, |(_, n)| *n);
    let (path, end) = (org.path.clone(), subtree_end(&org.path));
    let since = today() - chrono::Duration::days(TREND_DAYS);
    let mut checks = Vec::new();
    for check in CHECKS {
        let (checked, failed) = match check {
            "terms_missing" => (total("dq:terms_checked"), total("dq:terms_missing")),
            _ => (total("members"), total(&format!("dq:{check}"))),
        };
        let sample: Vec<Sample> = if failed == 0 {
            Vec::new()
        } else if check == "terms_missing" {
            db.all(
                Q::new(&format!(
                    "SELECT o.name, NULL AS id_number_masked, o.name AS org_name, '/orgs/' || CAST(o.id AS TEXT) AS link
                     FROM orgs o WHERE o.path >= $1 AND o.path < $2 AND o.dissolved_on IS NULL AND o.term_end IS NULL
                     AND {termed} ORDER BY o.path LIMIT $3",
                    termed = crate::figures::TERMED
                ))
                .bind(path.clone())
                .bind(end.clone())
                .bind(SAMPLE),
            )
            .await?
        } else {
            // A duplicate belongs to the organization above both records; the others to the member's.
            let placed = if check == "duplicate" {
                "JOIN orgs a ON a.id = q.org_id WHERE a.path >= $2 AND a.path < $3"
            } else {
                "WHERE m.org_path >= $2 AND m.org_path < $3"
            };
            let rows: Vec<Sample> = db
                .all(
                    Q::new(&format!(
                        "SELECT m.name, m.id_number_masked, o.name AS org_name, '/members/' || CAST(m.id AS TEXT) || '/edit' AS link
                         FROM quality_failures q JOIN members m ON m.id = q.member_id JOIN orgs o ON o.id = m.org_id
                         {placed} AND q.check_name = $1 AND m.status = 'active' ORDER BY m.org_path, m.id LIMIT $4"
                    ))
                    .bind(check)
                    .bind(path.clone())
                    .bind(end.clone())
                    .bind(SAMPLE),
                )
                .await?;
            rows.into_iter()
                .map(|s| Sample {
                    name: masked_name(&s.name),
                    ..s
                })
                .collect()
        };
        let trend: Vec<(NaiveDate, i64)> = db
            .all(
                Q::new(
                    "SELECT day, n FROM figure_history WHERE org_id = $1 AND figure = $2 AND day >= $3 ORDER BY day",
                )
                .bind(org.id)
                .bind(format!("dq:{check}"))
                .bind(since),
            )
            .await?;
        checks.push(QualityCheck {
            check,
            checked,
            failed,
            passing_percent: domain::dashboard::percent(checked - failed, checked),
            passes: passes(failed, checked),
            sample,
            trend: trend
                .into_iter()
                .map(|(day, failed)| TrendPoint { day, failed })
                .collect(),
        });
    }
    Ok(QualityReport {
        org_id: org.id,
        org_name: org.name,
        as_of: today(),
        threshold_percent: THRESHOLD_PERCENT,
        checks,
    })
}
