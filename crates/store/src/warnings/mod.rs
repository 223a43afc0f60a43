//! Warnings (预警): what an organization must act on, found by the rules over its records and kept
//! in one table, each with its owner (the organization that must act), the day it was first found
//! and the day the data resolved it, counted per organization and per subtree. A committee's home
//! reads a province's counts from one row per kind instead of evaluating fifty thousand
//! organizations' meetings, terms, dues and files on every request.
//!
//! Kept current two ways. Every write that can change an organization's warnings marks it stale in
//! its own transaction (`marks`); and the first reader of a new day marks every
//! organization stale, since the rules speak of dates (a quarter ends, arrears reach six months).
//! A reader first evaluates again the stale organizations of its subtree (`refresh`), so what it
//! counts is what the lists it links to show. The rules themselves live where the lists are
//! (`life::compliance`, `life::terms`, `dues::reports`, `development`); this room only keeps what
//! they find. The rows are derived from audited writes and name no more than those lists do; they
//! are not themselves audited.

pub mod acks;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use domain::dues::Month;
use domain::life::ComplianceStatus;
use domain::org::{path_ids, subtree_end};

use crate::clock::today;
use crate::db::{new_id, Db, Q};
use crate::dues::member::last_complete_month;
use crate::dues::reports::ArrearsItem;
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

/// A transfer letter sent that expired unanswered: the sender must reissue it or call the receiver …
pub const LETTERS_EXPIRED: &str = "letters_expired";
/// … or one that expires within `LETTER_EXPIRING_DAYS`.
pub const LETTERS_EXPIRING: &str = "letters_expiring";
/// How many days ahead a letter still out counts as expiring.
pub const LETTER_EXPIRING_DAYS: u64 = 7;
/// A branch with active members who have no dues base this year: their dues cannot be computed
/// (bases are set at the start of the year, 年初核定).
pub const WITHOUT_BASE: &str = "without_base";
/// From October, an organization with members below this year's study minimum (32 学时, 56 for
/// secretaries and committee members; 条例 2019 Art. 20): one warning for the organization, never a
/// list of people.
pub const STUDY_BELOW: &str = "study_below";
/// The month from which study below the minimum is a warning.
pub const STUDY_WARNING_FROM_MONTH: u32 = 10;
/// A structure the branch regulations say must change (支部工作条例 Arts. 5, 15: too few full
/// members, too many members, a committee required or too large); advice is not a warning.
pub const STRUCTURE: &str = "structure";

/// An organization whose records fail a data-quality check more often than the threshold allows
/// (`quality`), or whose committee's term is not recorded.
pub const QUALITY: &str = "quality";

/// One warning as the rules find it.
struct Found {
    kind: &'static str,
    subject: String,
    org_id: i64,
    org_path: String,
    label: String,
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
    // A day's evaluation may write most rows: the planner is told once the first part is written
    // (or it keeps an empty table's plans for the rest), and at the end.
    let large = stale.len() > 4 * CHUNK;
    for (i, chunk) in stale.chunks(CHUNK).enumerate() {
        let found = evaluate(db, chunk).await?;
        keep(db, chunk, found).await?;
        if large && i == 0 {
            db.exec(Q::new("ANALYZE warnings")).await?;
            db.exec(Q::new("ANALYZE figure_counts")).await?;
        }
    }
    if large {
        for table in [
            "warnings",
            "warning_counts",
            "figure_counts",
            "figure_totals",
            "figure_history",
        ] {
            db.exec(Q::new(&format!("ANALYZE {table}"))).await?;
        }
    }
    Ok(stale.len())
}

/// Evaluates again, across the whole tree, what writes have marked stale since the day was
/// evaluated; the server runs it every few seconds (`SETTLE_EVERY` in the server), so that a
/// reader of a large subtree finds its warnings and figures counted instead of counting them
/// first: after a bulk load marks thousands of branches, that reader waited 38 s at a million
/// members. A new day is left to the daily job (or the day's first reader), which evaluates it
/// once; this never starts it. Returns how many organizations were evaluated.
pub async fn settle(db: &Db) -> Result<usize> {
    let (last,): (Option<chrono::NaiveDate>,) = db
        .one(Q::new("SELECT last_run_on FROM job_leases WHERE name = 'warnings_day'"))
        .await?;
    if last != Some(today()) {
        return Ok(0);
    }
    refresh(db, "/").await
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
        crate::marks::all_stale(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A read's rows, with the store's errors (for reads joined with the rules' own).
async fn rows<T: crate::db::Row>(db: &Db, q: Q) -> Result<Vec<T>> {
    Ok(db.all(q).await?)
}

/// What the rules find today for these organizations (id, seq, path), each owned by one of them;
/// and the figures read on the way that the dashboards keep (`figures::Counts`).
async fn evaluate(db: &Db, orgs: &[(i64, i64, String)]) -> Result<(Vec<Found>, crate::figures::Counts)> {
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
    let today = today();
    let year = today.year();
    // Letters sent and still out, expired or expiring: the sender's.
    let mut letters_q = Q::new(
        "SELECT t.id, t.from_org_id, t.expires_on, m.name FROM transfers t JOIN members m ON m.id = t.member_id
         WHERE t.status = 'sent' AND t.expires_on < $1 AND t.from_path IN (",
    )
    .bind(today + chrono::Days::new(LETTER_EXPIRING_DAYS + 1));
    letters_q.push_list(paths.iter().cloned()).push(")");
    // Members without this year's base, per branch (as the dues book lists them).
    let mut without_q = Q::new(
        "SELECT m.org_id, COUNT(*) FROM members m WHERE m.status = 'active'
         AND NOT EXISTS (SELECT 1 FROM dues_profiles p WHERE p.member_id = m.id AND p.year = $1) AND m.org_path IN (",
    )
    .bind(year as i64);
    without_q.push_list(paths.iter().cloned()).push(") GROUP BY m.org_id");
    // Data quality: each member check failed among the organization's own members.
    let mut failing_q = Q::new(
        "SELECT m.org_id, q.check_name, COUNT(*) FROM quality_failures q JOIN members m ON m.id = q.member_id
         WHERE q.check_name <> 'duplicate' AND m.status = 'active' AND m.org_path IN (",
    );
    failing_q
        .push_list(paths.iter().cloned())
        .push(") GROUP BY m.org_id, q.check_name");
    // Study below the minimum, late in the year: the organizations where members are below it.
    let mut below_q = Q::new(
        "SELECT DISTINCT y.org_path FROM study_years y
         WHERE y.year = $1 AND y.counted AND y.credited_tenths < y.required_tenths AND y.org_path IN (",
    )
    .bind(year as i64);
    below_q.push_list(paths.iter().cloned()).push(")");
    let study_late = today.month() >= STUDY_WARNING_FROM_MONTH;
    // The rules read independently of one another: at once, so that the reader who evaluates an
    // organization after a write waits for the slowest read, not for their sum.
    let (year_so_far, terms, arrears, board, letters, without, failing, orgs_found, below) = tokio::try_join!(
        crate::life::compliance::year_among(db, &ids),
        crate::life::terms::due_among(db, &ids),
        crate::dues::reports::arrears_among(db, &paths),
        crate::development::board_among(db, &paths),
        rows::<(i64, i64, chrono::NaiveDate, String)>(db, letters_q),
        rows::<(i64, i64)>(db, without_q),
        rows::<(i64, String, i64)>(db, failing_q),
        crate::orgs::among(db, &ids),
        async {
            if study_late {
                rows::<(String,)>(db, below_q).await
            } else {
                Ok(Vec::new())
            }
        },
    )?;
    // The compliance rate's terms by kind: periods ended this year, and those held.
    let mut figures = crate::figures::Counts::new();
    for (org_id, kind, ended, held) in year_so_far.ended {
        figures.insert((org_id, format!("life_due:{kind}")), ended);
        figures.insert((org_id, format!("life_met:{kind}")), held);
    }
    for item in year_so_far.flagged {
        let kind = if item.status == "overdue" {
            MEETINGS_OVERDUE
        } else {
            MEETINGS_DUE_SOON
        };
        push(kind, meeting_subject(&item), item.org_id, item.org_name);
    }
    for term in terms {
        let kind = match term.status.as_str() {
            "overdue" => TERMS_OVERDUE,
            "due_in3_months" => TERMS_DUE,
            _ => continue,
        };
        push(kind, format!("o{}", term.org_id), term.org_id, term.org_name);
    }
    // Arrears belong to the branch whose ledger line shows them, as the dues page lists them.
    for (path, a) in arrears {
        let kind = match a.level.as_str() {
            "flag" => DUES_FLAG,
            "warning" => DUES_WARNING,
            _ => continue,
        };
        if let Some(org_id) = id_of.get(path.as_str()) {
            push(kind, format!("m{}", a.member_id), *org_id, a.name);
        }
    }
    for f in board {
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
    for (id, org_id, expires, name) in letters {
        let kind = if expires < today {
            LETTERS_EXPIRED
        } else {
            LETTERS_EXPIRING
        };
        push(kind, format!("t{id}"), org_id, name);
    }
    let size: HashMap<i64, i64> = orgs_found.iter().map(|o| (o.id, o.direct_members)).collect();
    for (org_id, check, n) in failing {
        // The dashboards count the same failures (`figures`).
        figures.insert((org_id, format!("dq:{check}")), n);
        if !domain::quality::passes(n, size.get(&org_id).copied().unwrap_or(0)) {
            if let Some(o) = orgs_found.iter().find(|o| o.id == org_id) {
                found.push(Found {
                    kind: QUALITY,
                    subject: format!("o{org_id}|{check}"),
                    org_id,
                    org_path: o.path.clone(),
                    label: o.name.clone(),
                });
            }
        }
    }
    let names: HashMap<i64, String> = orgs_found
        .into_iter()
        .map(|o| {
            if o.dissolved_on.is_none() && o.term_end.is_none() && o.has_term() {
                found.push(Found {
                    kind: QUALITY,
                    subject: format!("o{}|terms_missing", o.id),
                    org_id: o.id,
                    org_path: o.path.clone(),
                    label: o.name.clone(),
                });
            }
            for code in o.structure_actions() {
                found.push(Found {
                    kind: STRUCTURE,
                    subject: format!("o{}|{code}", o.id),
                    org_id: o.id,
                    org_path: o.path.clone(),
                    label: o.name.clone(),
                });
            }
            (o.id, o.name)
        })
        .collect();
    let mut push = |kind, subject: String, org_id: i64| {
        if let (Some(path), Some(name)) = (path_of.get(&org_id), names.get(&org_id)) {
            found.push(Found {
                kind,
                subject,
                org_id,
                org_path: path.to_string(),
                label: name.clone(),
            });
        }
    };
    for (org_id, _) in without.into_iter().filter(|(_, n)| *n > 0) {
        push(WITHOUT_BASE, format!("o{org_id}|{year}"), org_id);
    }
    for (path,) in below {
        if let Some(org_id) = id_of.get(path.as_str()) {
            push(STUDY_BELOW, format!("o{org_id}|{year}"), *org_id);
        }
    }
    Ok((found, figures))
}

/// Stores what was found for these organizations: new warnings open today, those no longer found
/// are resolved today, those found again keep their first day; each organization's counts and its
/// ancestors' subtree totals follow.
///
/// One keeper at a time (a row lock; SQLite has one writer anyway), and only for the marks this
/// evaluation started from: a mark another keeper took, or a write renewed, is left to the next
/// evaluation, so no change is counted twice and none is counted from older data.
async fn keep(
    db: &Db,
    orgs: &[(i64, i64, String)],
    (found, mut read): (Vec<Found>, crate::figures::Counts),
) -> Result<()> {
    let today = today();
    let mut tx = db.begin().await?;
    tx.exec(Q::new(
        "UPDATE job_leases SET holder = holder WHERE name = 'warnings_day'",
    ))
    .await?;
    let mut claimed = HashSet::new();
    for chunk in orgs.chunks(CHUNK) {
        let mut q = Q::new("DELETE FROM warnings_stale WHERE (org_id, seq) IN (VALUES ");
        for (i, (id, seq, _)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*id).into(), (*seq).into()]);
        }
        q.push(") RETURNING org_id");
        claimed.extend(tx.all::<(i64,)>(q).await?.into_iter().map(|(id,)| id));
    }
    let orgs: Vec<(i64, &str)> = orgs
        .iter()
        .filter(|(id, _, _)| claimed.contains(id))
        .map(|(id, _, path)| (*id, path.as_str()))
        .collect();
    let found: Vec<Found> = found.into_iter().filter(|f| claimed.contains(&f.org_id)).collect();
    if orgs.is_empty() {
        tx.commit().await?;
        return Ok(());
    }

    let mut q = Q::new(
        "SELECT id, kind, subject, org_id, org_path, label FROM warnings WHERE resolved_on IS NULL AND org_id IN (",
    );
    q.push_list(orgs.iter().map(|(id, _)| *id)).push(")");
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
        q.push_list(chunk.iter().copied()).push(")");
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
    // A person's warning that changes owner leaves its old owner with one fewer: that owner is
    // counted again too (an organization's own meeting or term never changes owner).
    let mut left: BTreeMap<i64, String> = BTreeMap::new();
    let movable: Vec<&&Found> = changed.iter().filter(|f| !f.subject.starts_with('o')).collect();
    for chunk in movable.chunks(CHUNK) {
        let mut q = Q::new("SELECT DISTINCT org_id, org_path FROM warnings WHERE resolved_on IS NULL AND subject IN (");
        q.push_list(chunk.iter().map(|f| f.subject.as_str())).push(")");
        left.extend(tx.all::<(i64, String)>(q).await?);
    }
    for (id, _) in &orgs {
        left.remove(id);
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

    // Each organization's own counts: those evaluated from what was found, those left from the table.
    let mut counts: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for f in &found {
        *counts.entry((f.org_id, f.kind.to_string())).or_default() += 1;
    }
    let left_ids: Vec<i64> = left.keys().copied().collect();
    for chunk in left_ids.chunks(CHUNK) {
        let mut q = Q::new("SELECT org_id, kind, COUNT(*) FROM warnings WHERE resolved_on IS NULL AND org_id IN (");
        q.push_list(chunk.iter().copied()).push(") GROUP BY org_id, kind");
        counts.extend(
            tx.all::<(i64, String, i64)>(q)
                .await?
                .into_iter()
                .map(|(o, k, n)| ((o, k), n)),
        );
    }
    let paths: HashMap<i64, &str> = orgs
        .iter()
        .copied()
        .chain(left.iter().map(|(id, p)| (*id, p.as_str())))
        .collect();
    let counted_ids: Vec<i64> = paths.keys().copied().collect();
    // What changes is added to the organization's and every ancestor's subtree totals.
    let mut deltas: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for chunk in counted_ids.chunks(CHUNK) {
        let mut q = Q::new("SELECT org_id, kind, n FROM warning_counts WHERE org_id IN (");
        q.push_list(chunk.iter().copied()).push(")");
        for (org, kind, n) in tx.all::<(i64, String, i64)>(q).await? {
            *deltas.entry((org, kind)).or_default() -= n;
        }
        let mut q = Q::new("DELETE FROM warning_counts WHERE org_id IN (");
        q.push_list(chunk.iter().copied()).push(")");
        tx.exec(q).await?;
    }
    for ((org, kind), n) in &counts {
        *deltas.entry((*org, kind.clone())).or_default() += n;
        // The dashboards count the open warnings by kind too (`figures`).
        read.insert((*org, format!("warnings:{kind}")), *n);
    }
    let counts: Vec<_> = counts.into_iter().collect();
    for chunk in counts.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO warning_counts (org_id, kind, org_path, n) VALUES ");
        for (i, ((org, kind), n)) in chunk.iter().enumerate() {
            q.push_row(
                i == 0,
                [(*org).into(), kind.clone().into(), paths[org].into(), (*n).into()],
            );
        }
        tx.exec(q).await?;
    }
    let mut totals: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for ((org, kind), delta) in deltas.into_iter().filter(|(_, d)| *d != 0) {
        for id in path_ids(paths[&org]) {
            *totals.entry((id, kind.clone())).or_default() += delta;
        }
    }
    crate::marks::add_totals(&mut tx, totals).await?;
    // The dashboards' figures of the same organizations, counted from the same records.
    let mut counted: Vec<(i64, &str)> = paths.into_iter().collect();
    counted.sort_unstable();
    crate::figures::keep(&mut tx, &counted, today, read).await?;
    tx.commit().await?;
    Ok(())
}

/// How many warnings of a kind are open in an organization's subtree.
async fn counted(db: &Db, kind: &str, org_id: i64) -> Result<i64> {
    let n: Option<(i64,)> = db
        .opt(
            Q::new("SELECT n FROM warning_totals WHERE org_id = $1 AND kind = $2")
                .bind(org_id)
                .bind(kind),
        )
        .await?;
    Ok(n.map_or(0, |(n,)| n))
}

/// The open warnings of one kind over a subtree: how many, and the first few labels in tree order.
pub async fn open(db: &Db, kind: &str, org_id: i64, path: &str, examples: usize) -> Result<(i64, Vec<String>)> {
    let end = subtree_end(path);
    let count = counted(db, kind, org_id).await?;
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

/// Above this many items, the compliance lists walk the counts from the most (`meetings`).
const WALK_WORST_ABOVE: i64 = 2_000;

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
    let total = counted(db, kind, org.id).await?;
    // Whole organizations, the most first (then in tree order), until the limit is reached. Many
    // are read by walking the counts in that order, a few by their subtree and then sorted;
    // SQLite plans without the bound values (`db::stable_plans`), so `+col` tells it which.
    let path_col = if total > WALK_WORST_ABOVE && !db.is_postgres() {
        "+org_path"
    } else {
        "org_path"
    };
    let q = Q::new(&format!(
        "SELECT org_id, n FROM warning_counts WHERE kind = $1 AND {path_col} >= $2 AND {path_col} < $3
         ORDER BY n DESC, org_path LIMIT $4"
    ))
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
    q.push_list(shown.iter().copied()).push(")");
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

/// The largest subtree whose arrears list reads the ledger of everyone behind (a county: tens of
/// milliseconds; 100,000 members on SQLite took 350 ms); above it, the list is the members three or
/// more months behind, from the warnings. Their branches' pages list those one or two months behind.
pub const ARREARS_FROM_LEDGER_LIMIT: i64 = 20_000;

/// The subtree's members behind with their dues as at the end of `as_of` (by default the last
/// complete month), flags first, then the longest runs: the dues pages' list. Within a county it
/// is read from the ledger (`dues::reports::arrears`); a larger subtree's, for the last complete
/// month, starts from its warnings (`warned_arrears`).
pub async fn arrears(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    as_of: Option<Month>,
    limit: usize,
) -> Result<Vec<ArrearsItem>> {
    let org = crate::dues::reports::report_org(db, caller, org_id).await?;
    let cut = last_complete_month(today());
    if org.subtree_members <= ARREARS_FROM_LEDGER_LIMIT || as_of.is_some_and(|m| m != cut) {
        return crate::dues::reports::arrears(db, caller, org_id, as_of, limit).await;
    }
    warned_arrears(db, &org, limit).await
}

/// The members of a subtree with a dues warning or flag open (three or more months behind at the
/// last complete month), flags first and the oldest first, at most `limit`, each with their months
/// and amounts read from the ledger.
pub async fn warned_arrears(db: &Db, org: &crate::orgs::Org, limit: usize) -> Result<Vec<ArrearsItem>> {
    refresh(db, &org.path).await?;
    let mut ids = Vec::new();
    for kind in [DUES_FLAG, DUES_WARNING] {
        let room = limit.saturating_sub(ids.len());
        if room == 0 {
            break;
        }
        let subjects: Vec<(String,)> = db
            .all(
                Q::new(
                    "SELECT subject FROM warnings WHERE resolved_on IS NULL AND kind = $1 AND org_path >= $2 AND org_path < $3
                     ORDER BY since, id LIMIT $4",
                )
                .bind(kind)
                .bind(org.path.clone())
                .bind(subtree_end(&org.path))
                .bind(room as i64),
            )
            .await?;
        ids.extend(
            subjects
                .iter()
                .filter_map(|(s,)| s.strip_prefix('m')?.parse::<i64>().ok()),
        );
    }
    let mut items = crate::dues::reports::arrears_of(db, &ids, last_complete_month(today())).await?;
    crate::dues::reports::worst_first(&mut items);
    Ok(items)
}
