//! A member's year of organizational life: meetings, lecture and study hours, volunteering.

use crate::db::{parse_instant, Db, Q};
use crate::error::Result;
use crate::scope::Caller;
use chrono::NaiveDate;
use domain::life::MeetingKind;
use domain::Invalid;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearRecord {
    pub member_id: i64,
    pub year: i32,
    pub meetings_expected: i64,
    pub meetings_attended: i64,
    /// Hours of party lectures attended.
    pub lecture_hours: f64,
    /// Hours of all organizational life attended (collective study counts toward the 32 hours a
    /// year of 党员教育管理工作条例 Art. 13).
    pub study_hours: f64,
    /// Volunteer service credited this year.
    pub volunteer_hours: f64,
    pub by_kind: BTreeMap<String, i64>,
}

/// A member's organizational life in a year: what they were expected at and attended.
pub async fn year_record(db: &Db, caller: &Caller, member_id: i64, year: i32) -> Result<YearRecord> {
    crate::members::get(db, caller, member_id).await?;
    let rows: Vec<(i64, String, String, String)> = db
        .all(
            Q::new(
                "SELECT m.id, a.status, m.starts_at, m.ends_at FROM meeting_attendance a JOIN meetings m ON m.id = a.meeting_id
                 WHERE a.member_id = $1 AND m.local_date >= $2 AND m.local_date <= $3 AND m.status IN ('held', 'archived')",
            )
            .bind(member_id)
            .bind(NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?)
            .bind(NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?),
        )
        .await?;
    let kinds: Vec<(i64, String)> = db
        .all(
            Q::new(
                "SELECT k.meeting_id, k.kind FROM meeting_kinds k JOIN meeting_attendance a ON a.meeting_id = k.meeting_id
                 WHERE a.member_id = $1 AND a.status = 'present'",
            )
            .bind(member_id),
        )
        .await?;
    let mut record = YearRecord {
        member_id,
        year,
        meetings_expected: rows.len() as i64,
        meetings_attended: 0,
        lecture_hours: 0.0,
        study_hours: 0.0,
        volunteer_hours: crate::activities::volunteer_minutes(db, member_id, year).await? as f64 / 60.0,
        by_kind: BTreeMap::new(),
    };
    for (id, status, starts, ends) in rows {
        if status != "present" {
            continue;
        }
        record.meetings_attended += 1;
        let hours = parse_instant(&starts)
            .zip(parse_instant(&ends))
            .map_or(0.0, |(s, e)| (e - s).num_minutes() as f64 / 60.0);
        record.study_hours += hours;
        for (_, k) in kinds.iter().filter(|(m, _)| *m == id) {
            if k == MeetingKind::PartyLecture.as_str() {
                record.lecture_hours += hours;
            }
            *record.by_kind.entry(k.clone()).or_default() += 1;
        }
    }
    Ok(record)
}
