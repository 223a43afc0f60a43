//! Warnings (预警): what an organization must act on, found by the rules over its records and kept
//! in one table, each with its owner (the organization that must act), the day it was first found
//! and the day the data resolved it. A committee's home counts a province's warnings from this
//! table (an index range) instead of evaluating forty thousand organizations' meetings, terms,
//! dues and files on every request.
//!
//! Kept current two ways. Every write that can change an organization's warnings marks it stale in
//! its own transaction (`stale`, `member_stale`); and the first reader of a new day marks every
//! organization stale, since the rules speak of dates (a quarter ends, arrears reach six months).
//! A reader first evaluates again the stale organizations of its subtree (`refresh`), so what it
//! counts is what the lists it links to show. The rules themselves live where the lists are
//! (`life::compliance`, `life::terms`, `dues::reports`, `development`); this room only keeps what
//! they find. The rows are derived from audited writes and name no more than those lists do; they
//! are not themselves audited.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use domain::life::ComplianceStatus;
use domain::org::subtree_end;

use crate::clock::today;
use crate::db::{new_id, Db, Tx, Q};
use crate::error::Result;
use crate::life::compliance::ComplianceItem;
use crate::scope::Caller;

/// An organization's quarter (or month, or year) whose required meeting was not held in time …
pub const MEETINGS_OVERDUE: &str = "meetings_overdue";
/// … or whose period ends soon without it (life::Frequency::warning_days).
pub const MEETINGS_DUE_SOON: &str = "meetings_due_soon";
/// A committee whose term has ended (关于党的基层组织任期的意见 2018) …
pub const TERMS_OVERDUE: &str = "terms_overdue";
/// … or ends within three months.
pub const TERMS_DUE: &str = "terms_due";
/// A member six months behind with their dues without a reason: for the branch to decide on (党章 Art. 9).
pub const DUES_FLAG: &str = "dues_flag";
/// A member three or more months behind: someone should talk to them.
pub const DUES_WARNING: &str = "dues_warning";
/// A development file past a deadline of the 25 steps (the talk within a month, an approval
/// within three months of the vote).
pub const DEVELOPMENT_LATE: &str = "development_late";
/// A development file whose next step is due (a year as an activist, probation ended).
pub const DEVELOPMENT_DUE: &str = "development_due";

/// One warning as the rules find it.
struct Found {
    kind: &'static str,
    subject: String,
    org_id: i64,
    org_path: String,
    label: String,
}

/// Whose records changed: the organization whose warnings are to be evaluated again.
pub enum Of {
    Org(i64),
    /// The member's branch. (A member who moved within the last month still has last month's
    /// ledger line at the old branch; that branch's warning about them is evaluated again with the
    /// next day's marks.)
    Member(i64),
    /// The meeting's organization.
    Meeting(i64),
    /// The development file's branch.
    File(i64),
}

/// Marks an organization's warnings to be evaluated again, in the transaction that changes the
/// records they come from.
pub async fn stale(tx: &mut Tx, of: Of) -> Result<()> {
    let (source, id) = match of {
        Of::Org(id) => ("SELECT id, path, 1 FROM orgs", id),
        Of::Member(id) => ("SELECT org_id, org_path, 1 FROM members", id),
        Of::Meeting(id) => ("SELECT org_id, org_path, 1 FROM meetings", id),
        Of::File(id) => ("SELECT org_id, org_path, 1 FROM development_files", id),
    };
    tx.exec(
        Q::new(&format!(
            "INSERT INTO warnings_stale (org_id, org_path, seq) {source} WHERE id = $1 {RENEW}"
        ))
        .bind(id),
    )
    .await?;
    Ok(())
}

/// A mark already there is renewed: an evaluation that started from the old one leaves it.
const RENEW: &str = "ON CONFLICT (org_id) DO UPDATE SET seq = warnings_stale.seq + 1";

/// Marks many organizations at once (bulk loads).
pub async fn stale_orgs(tx: &mut Tx, org_ids: impl IntoIterator<Item = i64>) -> Result<()> {
    let ids: Vec<i64> = org_ids
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in ids.chunks(CHUNK) {
        let mut q =
            Q::new("INSERT INTO warnings_stale (org_id, org_path, seq) SELECT id, path, 1 FROM orgs WHERE id IN (");
        q.push_ids(chunk.iter().copied()).push(&format!(") {RENEW}"));
        tx.exec(q).await?;
    }
    Ok(())
}

/// Marks every organization: a new day, a new month's ledger.
pub async fn all_stale(tx: &mut Tx) -> Result<()> {
    tx.exec(Q::new(&format!(
        "INSERT INTO warnings_stale (org_id, org_path, seq) SELECT id, path, 1 FROM orgs WHERE dissolved_on IS NULL {RENEW}"
    )))
    .await?;
    Ok(())
}

/// How many organizations are evaluated together (a bound on the statements' parameters).
const CHUNK: usize = 500;

/// Evaluates again the stale organizations of the subtree at `path` (`/` for all): afterwards its
/// warnings are what the rules find in its records today. Returns how many were evaluated.
pub async fn refresh(db: &Db, path: &str) -> Result<usize> {
    new_day(db).await?;
    // The mark's path is the organization's (a move updates both), so a subtree's marks are a range.
    let stale: Vec<(i64, i64, String)> = db
        .all(
            Q::new(
                "SELECT org_id, seq, org_path FROM warnings_stale WHERE org_path >= $1 AND org_path < $2 ORDER BY org_path",
            )
            .bind(path)
            .bind(subtree_end(path)),
        )
        .await?;
    for chunk in stale.chunks(CHUNK) {
        let found = evaluate(db, chunk).await?;
        keep(db, chunk, found).await?;
    }
    // A day's evaluation rewrites most rows: the planner is told, or it keeps the empty table's plans.
    if stale.len() > 1000 {
        db.exec(Q::new("ANALYZE warnings")).await?;
        db.exec(Q::new("ANALYZE warning_counts")).await?;
    }
    Ok(stale.len())
}

/// On a day's first call (on any server), marks every organization stale, in the same transaction
/// as the day's mark so that no reader counts yesterday's evaluation as today's.
async fn new_day(db: &Db) -> Result<()> {
    let today = today();
    let (last,): (Option<chrono::NaiveDate>,) = db
        .one(Q::new("SELECT last_run_on FROM job_leases WHERE name = 'warnings_day'"))
        .await?;
    if last == Some(today) {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    // Any other day, not only an earlier one: a clock set back must not keep a later day's findings.
    let taken = tx
        .exec(
            Q::new(
                "UPDATE job_leases SET last_run_on = $1 WHERE name = 'warnings_day'
                 AND (last_run_on IS NULL OR last_run_on <> $1)",
            )
            .bind(today),
        )
        .await?;
    if taken == 1 {
        all_stale(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What the rules find today for these organizations (id, seq, path), each owned by one of them.
async fn evaluate(db: &Db, orgs: &[(i64, i64, String)]) -> Result<Vec<Found>> {
    let ids: Vec<i64> = orgs.iter().map(|(id, _, _)| *id).collect();
    let paths: Vec<String> = orgs.iter().map(|(_, _, p)| p.clone()).collect();
    let path_of: HashMap<i64, &str> = orgs.iter().map(|(id, _, p)| (*id, p.as_str())).collect();
    let id_of: HashMap<&str, i64> = orgs.iter().map(|(id, _, p)| (p.as_str(), *id)).collect();
    let mut found = Vec::new();
    let mut push = |kind, subject: String, org_id: i64, label: String| {
        if let Some(path) = path_of.get(&org_id) {
            found.push(Found {
                kind,
                subject,
                org_id,
                org_path: path.to_string(),
                label,
            });
        }
    };
    for item in crate::life::compliance::flagged_among(db, &ids).await? {
        let kind = if item.status == "overdue" {
            MEETINGS_OVERDUE
        } else {
            MEETINGS_DUE_SOON
        };
        push(kind, meeting_subject(&item), item.org_id, item.org_name);
    }
    for term in crate::life::terms::due_among(db, &ids).await? {
        let kind = match term.status.as_str() {
            "overdue" => TERMS_OVERDUE,
            "due_in3_months" => TERMS_DUE,
            _ => continue,
        };
        push(kind, format!("o{}", term.org_id), term.org_id, term.org_name);
    }
    // Arrears belong to the branch whose ledger line shows them, as the dues page lists them.
    for (path, a) in crate::dues::reports::arrears_among(db, &paths).await? {
        let kind = match a.level.as_str() {
            "flag" => DUES_FLAG,
            "warning" => DUES_WARNING,
            _ => continue,
        };
        if let Some(org_id) = id_of.get(path.as_str()) {
            push(kind, format!("m{}", a.member_id), *org_id, a.name);
        }
    }
    for f in crate::development::board_among(db, &paths).await? {
        let has = |alerts: &[&str]| f.alerts.iter().any(|a| alerts.contains(&a.as_str()));
        for (kind, alerts) in [
            (DEVELOPMENT_LATE, &["talk_overdue", "approval_overdue"][..]),
            (DEVELOPMENT_DUE, &["conversion_due", "target_eligible"][..]),
        ] {
            if has(alerts) {
                push(kind, format!("f{}", f.file.id), f.file.org_id, f.file.name.clone());
            }
        }
    }
    Ok(found)
}

/// Stores what was found for these organizations: new warnings open today, those no longer found
/// are resolved today, those found again keep their first day. The marks the evaluation started
/// from are taken off unless a write renewed them meanwhile.
async fn keep(db: &Db, orgs: &[(i64, i64, String)], found: Vec<Found>) -> Result<()> {
    let today = today();
    let mut tx = db.begin().await?;
    let mut q = Q::new(
        "SELECT id, kind, subject, org_id, org_path, label FROM warnings WHERE resolved_on IS NULL AND org_id IN (",
    );
    q.push_ids(orgs.iter().map(|(id, _, _)| *id)).push(")");
    let open: Vec<(i64, String, String, i64, String, String)> = tx.all(q).await?;
    let found_keys: HashSet<(&str, &str)> = found.iter().map(|f| (f.kind, f.subject.as_str())).collect();
    let resolved: Vec<i64> = open
        .iter()
        .filter(|(_, kind, subject, ..)| !found_keys.contains(&(kind.as_str(), subject.as_str())))
        .map(|(id, ..)| *id)
        .collect();
    for chunk in resolved.chunks(CHUNK) {
        let mut q = Q::new("UPDATE warnings SET resolved_on = ");
        q.push_bind(today).push(" WHERE id IN (");
        q.push_ids(chunk.iter().copied()).push(")");
        tx.exec(q).await?;
    }
    let known: HashSet<(&str, &str, i64, &str, &str)> = open
        .iter()
        .map(|(_, k, s, o, p, l)| (k.as_str(), s.as_str(), *o, p.as_str(), l.as_str()))
        .collect();
    // New, or moved to another owner (a member who changed branch), or renamed.
    let changed: Vec<&Found> = found
        .iter()
        .filter(|f| {
            !known.contains(&(
                f.kind,
                f.subject.as_str(),
                f.org_id,
                f.org_path.as_str(),
                f.label.as_str(),
            ))
        })
        .collect();
    // Subjects that change owner leave a count behind at their old owner: it is counted again too.
    let mut recount: std::collections::BTreeSet<i64> = orgs.iter().map(|(id, _, _)| *id).collect();
    let movable: Vec<&&Found> = changed.iter().filter(|f| !f.subject.starts_with('o')).collect();
    for chunk in movable.chunks(CHUNK) {
        let mut q = Q::new("SELECT DISTINCT org_id FROM warnings WHERE resolved_on IS NULL AND subject IN (");
        for (i, f) in chunk.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push_bind(f.subject.clone());
        }
        q.push(")");
        recount.extend(tx.all::<(i64,)>(q).await?.into_iter().map(|(id,)| id));
    }
    for chunk in changed.chunks(100) {
        let mut q = Q::new("INSERT INTO warnings (id, kind, subject, org_id, org_path, label, since) VALUES ");
        for (i, f) in chunk.iter().enumerate() {
            q.push_row(
                i == 0,
                [
                    new_id().into(),
                    f.kind.into(),
                    f.subject.clone().into(),
                    f.org_id.into(),
                    f.org_path.clone().into(),
                    f.label.clone().into(),
                    today.into(),
                ],
            );
        }
        q.push(
            " ON CONFLICT (kind, subject) WHERE resolved_on IS NULL DO UPDATE
              SET org_id = excluded.org_id, org_path = excluded.org_path, label = excluded.label",
        );
        tx.exec(q).await?;
    }
    let recount: Vec<i64> = recount.into_iter().collect();
    for chunk in recount.chunks(CHUNK) {
        let mut q = Q::new("DELETE FROM warning_counts WHERE org_id IN (");
        q.push_ids(chunk.iter().copied()).push(")");
        tx.exec(q).await?;
        let mut q = Q::new(
            "INSERT INTO warning_counts (org_id, kind, org_path, n)
             SELECT org_id, kind, MIN(org_path), COUNT(*) FROM warnings WHERE resolved_on IS NULL AND org_id IN (",
        );
        q.push_ids(chunk.iter().copied()).push(") GROUP BY org_id, kind");
        tx.exec(q).await?;
    }
    for chunk in orgs.chunks(CHUNK) {
        let mut q = Q::new("DELETE FROM warnings_stale WHERE (org_id, seq) IN (VALUES ");
        for (i, (id, seq, _)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*id).into(), (*seq).into()]);
        }
        q.push(")");
        tx.exec(q).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How many warnings of a kind are open over a subtree, from each organization's count.
async fn counted(db: &Db, kind: &str, path: &str) -> Result<i64> {
    let (n,): (Option<i64>,) = db
        .one(
            Q::new(
                "SELECT CAST(SUM(n) AS BIGINT) FROM warning_counts WHERE kind = $1 AND org_path >= $2 AND org_path < $3",
            )
            .bind(kind)
            .bind(path)
            .bind(subtree_end(path)),
        )
        .await?;
    Ok(n.unwrap_or(0))
}

/// The open warnings of one kind over a subtree: how many, and the first few labels in tree order.
pub async fn open(db: &Db, kind: &str, path: &str, examples: usize) -> Result<(i64, Vec<String>)> {
    let end = subtree_end(path);
    let count = counted(db, kind, path).await?;
    if count == 0 {
        return Ok((0, Vec::new()));
    }
    let labels: Vec<(String,)> = db
        .all(
            Q::new(
                "SELECT label FROM warnings WHERE resolved_on IS NULL AND kind = $1 AND org_path >= $2 AND org_path < $3
                 ORDER BY org_path, id LIMIT $4",
            )
            .bind(kind)
            .bind(path)
            .bind(end)
            .bind(examples as i64),
        )
        .await?;
    Ok((count, labels.into_iter().map(|(l,)| l).collect()))
}

/// A meeting warning's subject: the organization, the kind of meeting and the period.
fn meeting_subject(item: &ComplianceItem) -> String {
    format!("o{}|{}|{}", item.org_id, item.kind, item.period)
}

/// The item a meeting warning stands for; held is none, or the period would not be listed.
fn meeting_item(org_id: i64, org_name: String, subject: &str, status: &str) -> Option<ComplianceItem> {
    let mut parts = subject.split('|').skip(1);
    Some(ComplianceItem {
        org_id,
        org_name,
        kind: parts.next()?.to_string(),
        period: parts.next()?.to_string(),
        expected: 1,
        held: 0,
        status: status.to_string(),
    })
}

/// The subtree's meetings overdue this year (or due soon: `status`), the organizations with the
/// most first, at most `limit` items (whole organizations), and how many there are in all: the
/// compliance pages' lists, from the warnings. Another year's overdue list is computed from the
/// meetings (`life::compliance::overdue`); nothing is due soon in a year that is not this one.
pub async fn meetings(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    year: i32,
    status: ComplianceStatus,
    limit: usize,
) -> Result<(Vec<ComplianceItem>, usize)> {
    let kind = match status {
        ComplianceStatus::Overdue => MEETINGS_OVERDUE,
        ComplianceStatus::DueSoon => MEETINGS_DUE_SOON,
        ComplianceStatus::OnTrack => return Err(domain::Invalid::one("status", "invalid").into()),
    };
    if year != today().year() {
        return match status {
            ComplianceStatus::Overdue => crate::life::compliance::overdue(db, caller, org_id, year, limit).await,
            _ => Ok((Vec::new(), 0)),
        };
    }
    let org = crate::life::compliance::readable(db, caller, org_id).await?;
    refresh(db, &org.path).await?;
    let total = counted(db, kind, &org.path).await?;
    // Whole organizations, the most first (then in tree order), until the limit is reached.
    let q = Q::new(
        "SELECT org_id, n FROM warning_counts WHERE kind = $1 AND org_path >= $2 AND org_path < $3
         ORDER BY n DESC, org_path LIMIT $4",
    )
    .bind(kind)
    .bind(org.path.clone())
    .bind(subtree_end(&org.path))
    .bind(limit as i64);
    let worst: Vec<(i64, i64)> = db.all(q).await?;
    let mut shown = Vec::new();
    let mut items = 0;
    for (org, n) in worst {
        if items >= limit {
            break;
        }
        shown.push(org);
        items += n as usize;
    }
    if shown.is_empty() {
        return Ok((Vec::new(), total as usize));
    }
    let mut q = Q::new("SELECT org_id, label, subject FROM warnings WHERE resolved_on IS NULL AND kind = ");
    q.push_bind(kind).push(" AND org_id IN (");
    q.push_ids(shown.iter().copied()).push(")");
    let rows: Vec<(i64, String, String)> = db.all(q).await?;
    let rank: HashMap<i64, usize> = shown.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    let mut items: Vec<ComplianceItem> = rows
        .into_iter()
        .filter_map(|(org, label, subject)| meeting_item(org, label, &subject, status.as_str()))
        .collect();
    items.sort_by(|a, b| {
        rank[&a.org_id]
            .cmp(&rank[&b.org_id])
            .then(a.period.cmp(&b.period))
            .then(a.kind.cmp(&b.kind))
    });
    Ok((items, total as usize))
}
