//! Compliance: expected against held per kind and period, and the subtree's overdue list.

use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self};
use crate::scope::{Caller, Perm};
use chrono::{Datelike, NaiveDate};
use domain::life::{self, ComplianceStatus, Frequency, MeetingKind};
use domain::org::subtree_end;
use domain::Invalid;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceItem {
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub period: String,
    pub expected: u32,
    pub held: u32,
    /// `on_track`, `due_soon` or `overdue`.
    pub status: String,
}

/// What compliance is computed from: the branches and groups of a subtree, their frequency
/// settings, and the dates each kind was held in the year.
struct LifeYear {
    orgs: Vec<(i64, String, String, i64, NaiveDate)>,
    overrides: HashMap<(i64, String), Frequency>,
    held: HashMap<(i64, String), Vec<NaiveDate>>,
    year: i32,
}

async fn load_year(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<LifeYear> {
    let root = readable(db, caller, org_id).await?;
    read_year(db, Among::Subtree(&root.path), year).await
}

/// The organization whose subtree's compliance the caller asks for, if they may read it: those who
/// read its members or manage its meetings.
pub async fn readable(db: &Db, caller: &Caller, org_id: i64) -> Result<orgs::Org> {
    let root = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &root.path) && !caller.can_at(Perm::ManageMeetings, &root.path) {
        return caller
            .refuse(db, Error::Forbidden, "life.compliance", ("org", &org_id))
            .await;
    }
    Ok(root)
}

/// Which organizations a year is read for: a subtree, or chosen ones (the warnings re-evaluate
/// the organizations whose records changed).
enum Among<'a> {
    Subtree(&'a str),
    Orgs(&'a [i64]),
}

impl Among<'_> {
    /// ` AND {column} …` restricting rows to these organizations, by path or by id.
    fn push(&self, q: &mut Q, path_column: &str, id_column: &str) {
        match self {
            Among::Subtree(path) => {
                q.push(&format!(" AND {path_column} >= "))
                    .push_bind(path.to_string())
                    .push(&format!(" AND {path_column} < "))
                    .push_bind(subtree_end(path));
            }
            Among::Orgs(ids) => {
                q.push(&format!(" AND {id_column} IN ("));
                q.push_list(ids.iter().copied());
                q.push(")");
            }
        }
    }
}

async fn read_year(db: &Db, among: Among<'_>, year: i32) -> Result<LifeYear> {
    let mut q = Q::new(
        "SELECT o.id, o.name, o.kind, (SELECT COUNT(*) FROM org_officers f WHERE f.org_id = o.id), o.established_on FROM orgs o
         WHERE o.dissolved_on IS NULL AND o.kind IN ('branch', 'party_group')",
    );
    among.push(&mut q, "o.path", "o.id");
    q.push(" ORDER BY o.path");
    let orgs = db.all(q).await?;
    let mut q = Q::new(
        "SELECT s.org_id, s.kind, s.frequency FROM org_life_settings s JOIN orgs o ON o.id = s.org_id WHERE 1 = 1",
    );
    among.push(&mut q, "o.path", "s.org_id");
    let overrides: Vec<(i64, String, String)> = db.all(q).await?;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?;
    let mut q = Q::new(
        "SELECT m.org_id, k.kind, m.local_date FROM meetings m JOIN meeting_kinds k ON k.meeting_id = m.id
         WHERE m.status IN ('held', 'archived') AND m.local_date >= ",
    );
    q.push_bind(first).push(" AND m.local_date <= ").push_bind(last);
    among.push(&mut q, "m.org_path", "m.org_id");
    let rows: Vec<(i64, String, NaiveDate)> = db.all(q).await?;
    let mut held: HashMap<(i64, String), Vec<NaiveDate>> = HashMap::new();
    for (org, kind, date) in rows {
        held.entry((org, kind)).or_default().push(date);
    }
    let overrides = overrides
        .into_iter()
        .filter_map(|(o, k, f)| Some(((o, k), Frequency::parse(&f)?)))
        .collect();
    Ok(LifeYear {
        orgs,
        overrides,
        held,
        year,
    })
}

impl LifeYear {
    /// Calls `visit(org index, kind, period, held, status)` for every item, linear in the organizations.
    fn each(&self, today: NaiveDate, mut visit: impl FnMut(usize, MeetingKind, &life::Period, u32, ComplianceStatus)) {
        for (i, (id, _, kind, committee, established)) in self.orgs.iter().enumerate() {
            for k in life::expected_kinds(kind == "branch", kind == "party_group", *committee >= 3) {
                let key = (*id, k.as_str().to_string());
                let Some(freq) = self.overrides.get(&key).copied().or_else(|| life::default_frequency(k)) else {
                    continue;
                };
                let dates = self.held.get(&key);
                // Nothing is due for the time before an organization existed.
                for p in life::periods(self.year, freq)
                    .into_iter()
                    .filter(|p| p.end > *established)
                {
                    let count =
                        dates.map_or(0, |ds| ds.iter().filter(|d| **d >= p.start && **d < p.end).count()) as u32;
                    visit(i, k, &p, count, life::status(count, 1, &p, freq, today));
                }
            }
        }
    }

    fn item(
        &self,
        org: usize,
        kind: MeetingKind,
        p: &life::Period,
        held: u32,
        status: ComplianceStatus,
    ) -> ComplianceItem {
        ComplianceItem {
            org_id: self.orgs[org].0,
            org_name: self.orgs[org].1.clone(),
            kind: kind.as_str().into(),
            period: p.label.clone(),
            expected: 1,
            held,
            status: status.as_str().into(),
        }
    }
}

/// Expected versus held, per organization of the subtree, kind and period of `year`; with `only`,
/// just the items in that status.
pub async fn compliance(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    only: Option<ComplianceStatus>,
) -> Result<Vec<ComplianceItem>> {
    let data = load_year(db, caller, org_id, year).await?;
    let mut out = Vec::new();
    data.each(today(), |org, kind, p, held, status| {
        if only.is_none_or(|o| o == status) {
            out.push(data.item(org, kind, p, held, status));
        }
    });
    Ok(out)
}

/// Overdue items below an organization, the organizations with the most first, at most `limit`
/// items (whole organizations), and how many there are in all. Counting comes first, so a
/// province's list builds only the items it shows.
pub async fn overdue(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    limit: usize,
) -> Result<(Vec<ComplianceItem>, usize)> {
    let data = load_year(db, caller, org_id, year).await?;
    let today = today();
    let mut per_org = vec![0usize; data.orgs.len()];
    data.each(today, |org, _, _, _, status| {
        if status == ComplianceStatus::Overdue {
            per_org[org] += 1;
        }
    });
    let total = per_org.iter().sum();
    let mut order: Vec<usize> = (0..data.orgs.len()).filter(|i| per_org[*i] > 0).collect();
    order.sort_by(|a, b| {
        per_org[*b]
            .cmp(&per_org[*a])
            .then(data.orgs[*a].1.cmp(&data.orgs[*b].1))
    });
    let mut rank = vec![usize::MAX; data.orgs.len()];
    let mut shown = 0;
    for (r, org) in order.iter().enumerate() {
        if shown >= limit {
            break;
        }
        rank[*org] = r;
        shown += per_org[*org];
    }
    let mut items = Vec::with_capacity(shown);
    data.each(today, |org, kind, p, held, status| {
        if status == ComplianceStatus::Overdue && rank[org] != usize::MAX {
            items.push((rank[org], data.item(org, kind, p, held, status)));
        }
    });
    items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.period.cmp(&b.1.period)));
    Ok((items.into_iter().map(|(_, i)| i).collect(), total))
}

/// What the warnings and the dashboards read of chosen organizations' year so far.
pub(crate) struct YearSoFar {
    /// The items overdue or due soon.
    pub flagged: Vec<ComplianceItem>,
    /// Per organization and kind: the periods of the year that have ended, and how many of them
    /// were held (the compliance rate's two terms).
    pub ended: Vec<(i64, &'static str, i64, i64)>,
}

/// The year so far of chosen organizations, for the warnings and the dashboards' figures.
pub(crate) async fn year_among(db: &Db, org_ids: &[i64]) -> Result<YearSoFar> {
    let today = today();
    let data = read_year(db, Among::Orgs(org_ids), today.year()).await?;
    let mut flagged = Vec::new();
    let mut ended: std::collections::BTreeMap<(i64, &'static str), (i64, i64)> = Default::default();
    data.each(today, |org, kind, p, held, status| {
        if matches!(status, ComplianceStatus::Overdue | ComplianceStatus::DueSoon) {
            flagged.push(data.item(org, kind, p, held, status));
        }
        if p.end <= today {
            let e = ended.entry((data.orgs[org].0, kind.as_str())).or_default();
            e.0 += 1;
            e.1 += i64::from(held > 0);
        }
    });
    Ok(YearSoFar {
        flagged,
        ended: ended.into_iter().map(|((o, k), (n, held))| (o, k, n, held)).collect(),
    })
}
