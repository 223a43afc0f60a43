//! Reports over an organization's subtree: totals by month, arrears (党章 Art. 9), the book and
//! the payments list.

use super::bases::{ProfileRow, PROFILE_COLUMNS};
use super::member::{last_complete_month, LedgerRow};
use super::payments::{with_months, Payment, PaymentRow, PAYMENT_SELECT};
use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::Result;
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};
use chrono::NaiveDate;
use domain::dues::{self, LedgerMonth, Month};
use domain::org::subtree_end;
use domain::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonthTotals {
    #[schema(value_type = String, example = "2026-01")]
    pub month: String,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    /// Members owing dues that month.
    pub members: i64,
    /// Of them, those who have paid the month in full.
    pub paying_members: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgDues {
    pub org_id: i64,
    pub org_name: String,
    pub year: i32,
    pub month: Option<u32>,
    pub due_fen: i64,
    pub paid_fen: i64,
    /// What the period's months still owe, all of them (the rows add up to it).
    pub outstanding_fen: i64,
    /// Of it, the months before this one: what is overdue (the headline 未交). A month that
    /// began two days ago is not arrears.
    pub overdue_fen: i64,
    /// Of it, this month's, shown apart (本月应交).
    pub this_month_fen: i64,
    /// For a month, that month's; for a year, those of its latest month so far.
    pub members: i64,
    pub paying_members: i64,
    /// Voluntary payments in the period (net of reversals).
    pub voluntary_fen: i64,
    /// Single voluntary payments of 1,000 yuan or more, to be remitted in full to the centre.
    pub remit_count: i64,
    pub remit_fen: i64,
    /// Active members with no base set for the year; counted for subtrees of up to 100,000
    /// members (a county), left out above (open an organization below).
    pub members_without_base: Option<i64>,
    pub months: Vec<MonthTotals>,
}

/// The largest subtree whose members without a base are counted: reading every member of a
/// province takes seconds, a county's tens of milliseconds.
pub const WITHOUT_BASE_LIMIT: i64 = 100_000;

/// An organization the caller may read members of, for a report over its subtree.
pub(crate) async fn report_org(db: &Db, caller: &Caller, org_id: i64) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ReadMembers, &org.path, "dues.report", ("org", &org_id))
        .await?;
    Ok(org)
}

/// Active members of an organization's subtree with no dues base for `year`.
pub async fn members_without_base(db: &Db, caller: &Caller, org_id: i64, year: i32) -> Result<i64> {
    let org = report_org(db, caller, org_id).await?;
    without_base(db, &org, year).await
}

async fn without_base(db: &Db, org: &Org, year: i32) -> Result<i64> {
    let (n,): (i64,) = db
        .one(
            Q::new(
                "SELECT COUNT(*) FROM members m WHERE m.org_path >= $1 AND m.org_path < $2 AND m.status = 'active'
                 AND NOT EXISTS (SELECT 1 FROM dues_profiles p WHERE p.member_id = m.id AND p.year = $3)",
            )
            .bind(org.path.clone())
            .bind(subtree_end(&org.path))
            .bind(year as i64),
        )
        .await?;
    Ok(n)
}

/// Due, paid and outstanding over an organization's subtree for a year, or one month of it.
pub async fn report(db: &Db, caller: &Caller, org_id: i64, year: i32, month: Option<u32>) -> Result<OrgDues> {
    if !domain::time::YEARS.contains(&year) {
        return Err(Invalid::one("year", "invalid").into());
    }
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(Invalid::one("month", "invalid").into());
    }
    let org = report_org(db, caller, org_id).await?;
    let end = subtree_end(&org.path);
    let wanted: Vec<i64> = match month {
        Some(m) => vec![year as i64 * 100 + m as i64],
        None => (1..=12).map(|m| year as i64 * 100 + m).collect(),
    };
    // Each organization's month totals (`dues::totals`), added up over the subtree. PostgreSQL
    // sums BIGINT as NUMERIC: the sums are cast back.
    let mut q = Q::new(
        "SELECT month, CAST(SUM(due_fen) AS BIGINT), CAST(SUM(paid_fen) AS BIGINT), CAST(SUM(outstanding_fen) AS BIGINT),
         CAST(SUM(members) AS BIGINT), CAST(SUM(paying_members) AS BIGINT)
         FROM dues_totals WHERE month IN (",
    );
    for (i, m) in wanted.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(*m);
    }
    q.push(") AND org_path >= ")
        .push_bind(org.path.clone())
        .push(" AND org_path < ")
        .push_bind(end.clone())
        .push(" GROUP BY month ORDER BY month");
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = db.all(q).await?;
    let months: Vec<MonthTotals> = rows
        .iter()
        .map(|(m, due, paid, out, members, paying)| MonthTotals {
            month: Month::from_key(*m).map(|m| m.to_string()).unwrap_or_default(),
            due_fen: *due,
            paid_fen: *paid,
            outstanding_fen: *out,
            members: *members,
            paying_members: *paying,
        })
        .collect();
    let (from, to) = match month {
        Some(m) => {
            let first = NaiveDate::from_ymd_opt(year, m, 1).expect("checked");
            (
                first,
                first.checked_add_months(chrono::Months::new(1)).expect("valid") - chrono::Days::new(1),
            )
        }
        None => (
            NaiveDate::from_ymd_opt(year, 1, 1).expect("checked"),
            NaiveDate::from_ymd_opt(year, 12, 31).expect("checked"),
        ),
    };
    let (voluntary_fen, remit_count, remit_fen): (i64, i64, i64) = db
        .one(
            Q::new(
                "SELECT CAST(COALESCE(SUM(p.voluntary_fen), 0) AS BIGINT),
                 CAST(COALESCE(SUM(CASE WHEN p.remit_to_centre AND NOT EXISTS (SELECT 1 FROM dues_payments r WHERE r.reverses = p.id) THEN 1 ELSE 0 END), 0) AS BIGINT),
                 CAST(COALESCE(SUM(CASE WHEN p.remit_to_centre AND NOT EXISTS (SELECT 1 FROM dues_payments r WHERE r.reverses = p.id) THEN p.voluntary_fen ELSE 0 END), 0) AS BIGINT)
                 FROM dues_payments p WHERE p.org_path >= $1 AND p.org_path < $2 AND p.paid_on >= $3 AND p.paid_on <= $4",
            )
            .bind(org.path.clone())
            .bind(end.clone())
            .bind(from)
            .bind(to),
        )
        .await?;
    let members_without_base = if org.subtree_members <= WITHOUT_BASE_LIMIT {
        Some(without_base(db, &org, year).await?)
    } else {
        None
    };
    let latest = months.last().cloned().unwrap_or_default();
    let this_month = Month::of(crate::clock::today()).to_string();
    let owed_where = |keep: &dyn Fn(&str) -> bool| -> i64 {
        months
            .iter()
            .filter(|m| keep(&m.month))
            .map(|m| m.outstanding_fen)
            .sum()
    };
    let overdue_fen = owed_where(&|m| m < this_month.as_str());
    let this_month_fen = owed_where(&|m| m == this_month.as_str());
    Ok(OrgDues {
        org_id,
        org_name: org.name,
        year,
        month,
        due_fen: months.iter().map(|m| m.due_fen).sum(),
        paid_fen: months.iter().map(|m| m.paid_fen).sum(),
        outstanding_fen: months.iter().map(|m| m.outstanding_fen).sum(),
        overdue_fen,
        this_month_fen,
        members: latest.members,
        paying_members: latest.paying_members,
        voluntary_fen,
        remit_count,
        remit_fen,
        members_without_base,
        months,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArrearsItem {
    pub member_id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    /// Consecutive unpaid months up to the last complete month.
    pub months: i64,
    #[schema(value_type = String)]
    pub from: Month,
    #[schema(value_type = String)]
    pub to: Month,
    pub outstanding_fen: i64,
    /// The longest run of them with no reason recorded.
    pub unexcused_run: i64,
    /// `notice` (1–2 months), `warning` (3 or more), `flag` (6 without a reason: for the branch to
    /// decide under 党章 Art. 9; nothing happens by itself).
    pub level: String,
}

/// Members of a subtree behind with their dues as at the end of `as_of` (by default the last
/// complete month), flags first, then the longest runs.
pub async fn arrears(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    as_of: Option<Month>,
    limit: usize,
) -> Result<Vec<ArrearsItem>> {
    let org = report_org(db, caller, org_id).await?;
    let cut = as_of.unwrap_or_else(|| last_complete_month(today()));
    let candidates: Vec<(i64,)> = db
        .all(
            Q::new("SELECT member_id FROM dues_ledger WHERE month = $1 AND org_path >= $2 AND org_path < $3 AND paid_fen < due_fen")
                .bind(cut.key())
                .bind(org.path.clone())
                .bind(subtree_end(&org.path)),
        )
        .await?;
    let ids: Vec<i64> = candidates.into_iter().map(|(id,)| id).collect();
    let mut items = arrears_of(db, &ids, cut).await?;
    worst_first(&mut items);
    items.truncate(limit);
    Ok(items)
}

/// Flags first, then the longest runs, then by name.
pub(crate) fn worst_first(items: &mut [ArrearsItem]) {
    items.sort_by(|a, b| (b.level == "flag", b.months, &a.name).cmp(&(a.level == "flag", a.months, &b.name)));
}

/// The arrears of these members (those behind at `cut`), in no particular order.
pub(crate) async fn arrears_of(db: &Db, candidates: &[i64], cut: Month) -> Result<Vec<ArrearsItem>> {
    let mut items = Vec::new();
    for chunk in candidates.chunks(500) {
        let mut q = Q::new(
            "SELECT l.member_id, l.month, l.due_fen, l.paid_fen, l.unpaid_reason FROM dues_ledger l WHERE l.month <= ",
        );
        q.push_bind(cut.key()).push(" AND l.member_id IN (");
        q.push_list(chunk.iter().copied());
        q.push(") ORDER BY l.member_id, l.month");
        let rows: Vec<LedgerRow> = db.all(q).await?;
        let mut q = Q::new(
            "SELECT m.id, m.name, m.org_id, o.name FROM members m JOIN orgs o ON o.id = m.org_id WHERE m.id IN (",
        );
        q.push_list(chunk.iter().copied());
        q.push(")");
        let names: HashMap<i64, (String, i64, String)> = db
            .all::<(i64, String, i64, String)>(q)
            .await?
            .into_iter()
            .map(|(id, name, org_id, org_name)| (id, (name, org_id, org_name)))
            .collect();
        let mut by_member: BTreeMap<i64, Vec<LedgerMonth>> = BTreeMap::new();
        for r in &rows {
            by_member.entry(r.member_id).or_default().push(r.as_month());
        }
        for (member_id, months) in by_member {
            let (Some(a), Some((name, org_id, org_name))) = (dues::arrears(&months, cut), names.get(&member_id)) else {
                continue;
            };
            items.push(ArrearsItem {
                member_id,
                name: name.clone(),
                org_id: *org_id,
                org_name: org_name.clone(),
                months: a.months,
                from: a.from,
                to: a.to,
                outstanding_fen: a.outstanding_fen,
                unexcused_run: a.unexcused_run,
                level: serde_json::to_value(a.level)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            });
        }
    }
    Ok(items)
}

/// The arrears of the members whose ledger at the last complete month lies in one of these
/// organizations, each with that organization's path: for the warnings.
pub(crate) async fn arrears_among(db: &Db, org_paths: &[String]) -> Result<Vec<(String, ArrearsItem)>> {
    let cut = last_complete_month(today());
    let mut q = Q::new("SELECT member_id, org_path FROM dues_ledger WHERE month = ");
    q.push_bind(cut.key()).push(" AND paid_fen < due_fen AND org_path IN (");
    q.push_list(org_paths).push(")");
    let candidates: HashMap<i64, String> = db.all::<(i64, String)>(q).await?.into_iter().collect();
    let ids: Vec<i64> = candidates.keys().copied().collect();
    let items = arrears_of(db, &ids, cut).await?;
    Ok(items
        .into_iter()
        .filter_map(|i| Some((candidates.get(&i.member_id)?.clone(), i)))
        .collect())
}

/// One member's year in a branch's dues book.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookLine {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub category: Option<String>,
    pub base_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    /// Each month of the year: due and paid (`None` when nothing is owed that month).
    #[schema(value_type = Vec<Option<Vec<i64>>>)]
    pub months: Vec<Option<(i64, i64)>>,
    pub due_fen: i64,
    pub paid_fen: i64,
    #[schema(value_type = Option<String>)]
    pub paid_up_to: Option<Month>,
}

/// The year's book for the active members of a subtree (at most `limit`), in roster order.
pub async fn book(db: &Db, caller: &Caller, org_id: i64, year: i32, limit: i64) -> Result<Vec<BookLine>> {
    let org = report_org(db, caller, org_id).await?;
    let with_base = caller.can_at(Perm::ManageDues, &org.path);
    let members: Vec<(i64, String, String)> = db
        .all(
            Q::new(
                "SELECT m.id, m.name, o.name FROM members m JOIN orgs o ON o.id = m.org_id
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.status = 'active' ORDER BY m.org_path, m.name, m.id LIMIT $3",
            )
            .bind(org.path.clone())
            .bind(subtree_end(&org.path))
            .bind(limit),
        )
        .await?;
    let mut lines = Vec::with_capacity(members.len());
    for chunk in members.chunks(500) {
        let mut q =
            Q::new("SELECT member_id, month, due_fen, paid_fen, unpaid_reason FROM dues_ledger WHERE member_id IN (");
        q.push_list(chunk.iter().map(|(id, _, _)| *id));
        q.push(") AND month <= ")
            .push_bind(year as i64 * 100 + 12)
            .push(" ORDER BY member_id, month");
        let rows: Vec<LedgerRow> = db.all(q).await?;
        let mut q = Q::new(&format!("SELECT {PROFILE_COLUMNS} FROM dues_profiles WHERE year = "));
        q.push_bind(year as i64).push(" AND member_id IN (");
        q.push_list(chunk.iter().map(|(id, _, _)| *id));
        q.push(") ORDER BY member_id, from_month");
        let profiles: Vec<ProfileRow> = db.all(q).await?;
        let mut ledger: HashMap<i64, Vec<&LedgerRow>> = HashMap::new();
        for r in &rows {
            ledger.entry(r.member_id).or_default().push(r);
        }
        for (id, name, org_name) in chunk {
            let own = ledger.remove(id).unwrap_or_default();
            let latest = profiles.iter().filter(|p| p.member_id == *id).last();
            let months: Vec<Option<(i64, i64)>> = (1..=12)
                .map(|m| {
                    own.iter()
                        .find(|r| r.month == year as i64 * 100 + m)
                        .map(|r| (r.due_fen, r.paid_fen))
                })
                .collect();
            let all: Vec<LedgerMonth> = own.iter().map(|r| r.as_month()).collect();
            lines.push(BookLine {
                member_id: *id,
                name: name.clone(),
                org_name: org_name.clone(),
                category: latest.map(|p| p.category.clone()),
                base_fen: latest.filter(|_| with_base).map(|p| p.base_fen),
                monthly_fen: latest.map(|p| p.monthly_fen),
                due_fen: months.iter().flatten().map(|(d, _)| d).sum(),
                paid_fen: months.iter().flatten().map(|(_, p)| p).sum(),
                months,
                paid_up_to: dues::paid_up_to(&all),
            });
        }
    }
    Ok(lines)
}

/// Payments recorded in a subtree in a year, newest first; with `voluntary_only`, those with a
/// voluntary part.
pub async fn org_payments(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    voluntary_only: bool,
    limit: i64,
) -> Result<Vec<Payment>> {
    let org = report_org(db, caller, org_id).await?;
    let mut q = Q::new(&format!(
        "{PAYMENT_SELECT} WHERE p.org_path >= $1 AND p.org_path < $2 AND p.paid_on >= $3 AND p.paid_on <= $4"
    ))
    .bind(org.path.clone())
    .bind(subtree_end(&org.path))
    .bind(NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Invalid::one("year", "invalid"))?)
    .bind(NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Invalid::one("year", "invalid"))?);
    if voluntary_only {
        q.push(" AND p.voluntary_fen <> 0");
    }
    q.push(" ORDER BY p.paid_on DESC, p.recorded_at DESC LIMIT ")
        .push_bind(limit);
    let rows: Vec<PaymentRow> = db.all(q).await?;
    with_months(db, rows).await
}
