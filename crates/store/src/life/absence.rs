//! Members who missed six consecutive months without reason: a flag only (党章 Art. 9).

use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::Result;
use crate::orgs::{self};
use crate::scope::{Caller, Perm};
use chrono::{Duration, NaiveDate};
use domain::life::{self, MonthAttendance};
use domain::org::subtree_end;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AbsenceFlag {
    pub member_id: i64,
    pub name: String,
    /// The months counted, oldest first (`YYYY-MM`).
    pub months_missed: Vec<String>,
}

/// Members of the subtree who missed organizational life six consecutive months without reason
/// (党章 Art. 9): a flag for the branch to look at, never an action.
pub async fn absence_flags(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<AbsenceFlag>> {
    let root = orgs::get(db, caller, org_id).await?;
    caller
        .require(
            db,
            Perm::ManageMeetings,
            &root.path,
            "life.absence_flags",
            ("org", &org_id),
        )
        .await?;
    let since = today() - Duration::days(400);
    let (start, end) = (root.path.clone(), subtree_end(&root.path));
    // Six months missed need six absences without a reason on six days at least: only members with
    // that many are read in full (a county's roll calls are hundreds of thousands of lines, its
    // candidates a handful), and the subtree's mobile members, whose lines are at their hosts.
    let candidates: Vec<(i64,)> = db
        .all(
            Q::new(
                "SELECT a.member_id FROM meetings m JOIN meeting_attendance a ON a.meeting_id = m.id AND a.status = 'absent'
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.local_date >= $3 AND m.status IN ('held', 'archived')
                   AND a.guest = FALSE AND (a.reason IS NULL OR TRIM(a.reason) = '')
                 GROUP BY a.member_id HAVING COUNT(DISTINCT m.local_date) >= 6
                 UNION
                 SELECT x.member_id FROM mobile_members x JOIN members mb ON mb.id = x.member_id
                 WHERE mb.org_path >= $1 AND mb.org_path < $2",
            )
            .bind(start.clone())
            .bind(end.clone())
            .bind(since),
        )
        .await?;
    let mut rows: Vec<(i64, String, NaiveDate, String, Option<String>)> = Vec::new();
    for chunk in candidates.chunks(500) {
        let among = |q: &mut Q| {
            q.push(" AND a.member_id IN (");
            q.push_list(chunk.iter().map(|(id,)| *id));
            q.push(")");
        };
        // The subtree's meetings without their guests (they are not the host's to flag), and the
        // subtree's mobile members at their hosts' meetings (that counts for them at home).
        let mut q = Q::new(
            "SELECT a.member_id, mb.name, m.local_date, a.status, a.reason FROM meeting_attendance a
             JOIN meetings m ON m.id = a.meeting_id JOIN members mb ON mb.id = a.member_id
             WHERE m.org_path >= $1 AND m.org_path < $2 AND m.local_date >= $3 AND m.status IN ('held', 'archived')
               AND mb.status = 'active' AND a.guest = FALSE",
        )
        .bind(start.clone())
        .bind(end.clone())
        .bind(since);
        among(&mut q);
        q.push(
            " UNION ALL SELECT a.member_id, mb.name, m.local_date, a.status, a.reason FROM mobile_members x
             JOIN members mb ON mb.id = x.member_id JOIN meeting_attendance a ON a.member_id = x.member_id
             JOIN meetings m ON m.id = a.meeting_id
             WHERE mb.org_path >= $1 AND mb.org_path < $2 AND m.local_date >= $3 AND m.status IN ('held', 'archived')
               AND mb.status = 'active' AND a.guest = TRUE AND m.org_id = x.host_org_id",
        );
        among(&mut q);
        rows.extend(db.all::<(i64, String, NaiveDate, String, Option<String>)>(q).await?);
    }
    let mut by_member: BTreeMap<(i64, String), BTreeMap<String, MonthAttendance>> = BTreeMap::new();
    for (member, name, date, status, reason) in rows {
        let month = by_member
            .entry((member, name))
            .or_default()
            .entry(life::month_label(date))
            .or_insert(MonthAttendance::Missed);
        let this = match (status.as_str(), reason.as_deref().is_some_and(|r| !r.trim().is_empty())) {
            ("present", _) => MonthAttendance::Attended,
            ("leave", _) | ("absent", true) => MonthAttendance::Excused,
            _ => MonthAttendance::Missed,
        };
        // Attending any meeting of the month counts; an excuse counts unless attended.
        *month = match (*month, this) {
            (MonthAttendance::Attended, _) | (_, MonthAttendance::Attended) => MonthAttendance::Attended,
            (MonthAttendance::Excused, _) | (_, MonthAttendance::Excused) => MonthAttendance::Excused,
            _ => MonthAttendance::Missed,
        };
    }
    Ok(by_member
        .into_iter()
        .filter_map(|((member_id, name), months)| {
            let list: Vec<MonthAttendance> = months.values().copied().collect();
            life::six_month_flag(&list).then(|| AbsenceFlag {
                member_id,
                name,
                months_missed: months
                    .into_iter()
                    .filter(|(_, m)| *m == MonthAttendance::Missed)
                    .map(|(k, _)| k)
                    .collect(),
            })
        })
        .collect())
}
