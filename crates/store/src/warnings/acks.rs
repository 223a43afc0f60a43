//! Warnings as their owners and the organizations above them see and answer them (预警处置): a
//! subtree's warnings by state, each with its owner, the day it was first found, a link to where it
//! is acted on, and whether someone has acknowledged it with a note. A warning left unacknowledged
//! longer than the owner's escalation days (set by an organization for its subtree, the nearest
//! setting above applying) is shown to the owner's parent as escalated. Warnings resolve from the
//! data, never by hand: acknowledging one says it is seen, not that it is gone.

use chrono::NaiveDate;
use domain::org::{lineage, subtree_end};
use domain::FieldError;
use serde::{Deserialize, Serialize};

use super::*;
use crate::audit::{self, Event};
use crate::db::now_text;
use crate::error::Error;
use crate::orgs::{self, Org};
use crate::scope::Perm;

/// Unacknowledged this many days, a warning is escalated to the owner's parent unless an
/// organization above has set otherwise.
pub const ESCALATE_AFTER_DAYS: i64 = 7;

/// Warnings whose deadline has not passed yet: the owner still has time.
const PENDING_KINDS: [&str; 6] = [
    MEETINGS_DUE_SOON,
    TERMS_DUE,
    DUES_WARNING,
    DEVELOPMENT_DUE,
    LETTERS_EXPIRING,
    STUDY_BELOW,
];
/// Warnings past a deadline the regulations set.
const FIRING_KINDS: [&str; 8] = [
    MEETINGS_OVERDUE,
    TERMS_OVERDUE,
    DUES_FLAG,
    DEVELOPMENT_LATE,
    LETTERS_EXPIRED,
    WITHOUT_BASE,
    STRUCTURE,
    QUALITY,
];

/// What a reader must be allowed at the owner's organization to see (and, to acknowledge, act on)
/// a kind of warning: the permission of the list it links to.
fn perm_of(kind: &str) -> Perm {
    match kind {
        MEETINGS_OVERDUE | MEETINGS_DUE_SOON | TERMS_OVERDUE | TERMS_DUE => Perm::ManageMeetings,
        DUES_FLAG | DUES_WARNING | WITHOUT_BASE => Perm::ManageDues,
        STUDY_BELOW => Perm::ManageStudy,
        // The committee changes a structure; the branch sees its advice on its own page.
        STRUCTURE => Perm::ManageOrgs,
        _ => Perm::WriteMembers,
    }
}

/// `pending` or `firing` for an open warning of this kind.
pub fn state_of(kind: &str) -> &'static str {
    if PENDING_KINDS.contains(&kind) {
        "pending"
    } else {
        "firing"
    }
}

/// Where a warning is acted on.
fn link(kind: &str, subject: &str, owner: i64) -> String {
    let id = subject.get(1..).and_then(|s| s.split('|').next()).unwrap_or("");
    match kind {
        MEETINGS_OVERDUE | MEETINGS_DUE_SOON => format!("/orgs/{owner}/compliance"),
        TERMS_OVERDUE | TERMS_DUE => format!("/orgs/{owner}/compliance#terms"),
        DUES_FLAG | DUES_WARNING => format!("/members/{id}/dues"),
        LETTERS_EXPIRED => format!("/transfers?org_id={owner}&status=expired"),
        LETTERS_EXPIRING => format!("/transfers?org_id={owner}&status=sent"),
        WITHOUT_BASE => format!("/orgs/{owner}/dues?show=no_base#book"),
        STUDY_BELOW => format!("/study/report?org_id={owner}"),
        QUALITY => format!("/orgs/{owner}/data-quality"),
        STRUCTURE => format!("/orgs/{owner}"),
        _ => format!("/orgs/{owner}/development"),
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct WarningFilter {
    /// `open` (default: pending and firing), `pending`, `firing` or `resolved` (the last 90 days).
    #[param(schema_with = state_schema)]
    pub state: Option<String>,
    /// One kind: `meetings_overdue`, `meetings_due_soon`, `terms_overdue`, `terms_due`,
    /// `dues_flag`, `dues_warning`, `development_late`, `development_due`, `letters_expired`,
    /// `letters_expiring`, `without_base`, `study_below`, `structure`, `quality`.
    #[param(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<i64>,
}

pub const STATES: [&str; 4] = ["open", "pending", "firing", "resolved"];
pub const KINDS: [&str; 14] = [
    MEETINGS_OVERDUE,
    MEETINGS_DUE_SOON,
    TERMS_OVERDUE,
    TERMS_DUE,
    DUES_FLAG,
    DUES_WARNING,
    DEVELOPMENT_LATE,
    DEVELOPMENT_DUE,
    LETTERS_EXPIRED,
    LETTERS_EXPIRING,
    WITHOUT_BASE,
    STUDY_BELOW,
    STRUCTURE,
    QUALITY,
];

fn state_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&STATES)
}

fn kind_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&KINDS)
}

/// Resolved warnings are listed this many days back.
const RESOLVED_DAYS: u64 = 90;
pub const PAGE: i64 = 50;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub id: i64,
    pub kind: String,
    /// `pending` (a deadline ahead), `firing` (past it) or `resolved` (the data no longer shows it).
    pub state: String,
    /// The organization that must act.
    pub owner_id: i64,
    pub owner_name: String,
    /// The member, organization or file it names.
    pub label: String,
    #[schema(value_type = String, format = Date)]
    pub since: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub resolved_on: Option<NaiveDate>,
    pub acked_at: Option<String>,
    /// Who acknowledged it, by name.
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
    /// Unacknowledged past the escalation days: the owner's parent is shown it.
    pub escalated: bool,
    /// Where it is acted on.
    pub link: String,
    /// Whether the reader may acknowledge it (they may act at the owner).
    pub can_ack: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WarningPage {
    pub org_id: i64,
    pub org_name: String,
    pub state: String,
    /// Open warnings the reader may see in the subtree, by state.
    pub pending: i64,
    pub firing: i64,
    /// Rows under the filter, for the pager.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The oldest first (resolved: the latest resolved first).
    pub rows: Vec<Warning>,
    /// The escalation days that apply at this organization, and whether the reader may set them.
    pub escalate_after_days: i64,
    pub can_set: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    org_id: i64,
    org_path: String,
    owner_name: String,
    subject: String,
    label: String,
    since: NaiveDate,
    resolved_on: Option<NaiveDate>,
    acked_at: Option<String>,
    acked_by: Option<String>,
    ack_note: Option<String>,
}

/// Above this many open warnings in a list, its page walks the index on their day.
const WALK_SINCE_ABOVE: i64 = 2_000;

const SELECT: &str = "SELECT w.id, w.kind, w.org_id, w.org_path, o.name AS owner_name, w.subject, w.label, w.since,
    w.resolved_on, w.acked_at, u.display_name AS acked_by, w.ack_note
    FROM warnings w JOIN orgs o ON o.id = w.org_id LEFT JOIN users u ON u.id = w.acked_by";

/// The escalation days at each organization of a subtree and above it: the nearest setting on a
/// path applies.
struct Escalation(Vec<(String, i64)>);

impl Escalation {
    async fn load(db: &Db, path: &str) -> Result<Escalation> {
        let mut q = Q::new("SELECT org_path, escalate_after_days FROM warning_settings WHERE org_path IN (");
        q.push_list(lineage(path))
            .push(") OR (org_path >= ")
            .push_bind(path.to_string())
            .push(" AND org_path < ")
            .push_bind(subtree_end(path))
            .push(")");
        let mut rows: Vec<(String, i64)> = db.all(q).await?;
        // Deepest first: the first prefix found is the nearest.
        rows.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(Escalation(rows))
    }

    fn days_at(&self, path: &str) -> i64 {
        self.0
            .iter()
            .find(|(p, _)| path.starts_with(p.as_str()))
            .map_or(ESCALATE_AFTER_DAYS, |(_, d)| *d)
    }

    fn escalated(&self, row: &Row, today: NaiveDate) -> bool {
        row.resolved_on.is_none()
            && row.acked_at.is_none()
            && (today - row.since).num_days() >= self.days_at(&row.org_path)
    }
}

/// The warnings escalated to an organization that the caller may see: its direct children's own,
/// open and unacknowledged past their escalation days, oldest first; how many, and the owners'
/// names (for the home's to-do).
pub(crate) async fn escalated_to(db: &Db, caller: &Caller, org: &Org) -> Result<(i64, Vec<String>)> {
    let escalation = Escalation::load(db, &org.path).await?;
    // From the children to their warnings, never the other way: SQLite, whose plans cannot see
    // the parent bound here, would otherwise walk every open warning in the tree by day to spare
    // a sort (88 ms a home at 100,000 members before the tables' statistics were refreshed).
    // `CROSS JOIN` fixes SQLite's loop order; PostgreSQL reads it as the same inner join.
    let rows: Vec<(String, String, NaiveDate, String)> = db
        .all(
            Q::new(
                "SELECT w.kind, w.org_path, w.since, o.name FROM orgs o CROSS JOIN warnings w
                 WHERE w.org_id = o.id AND o.parent_id = $1 AND w.resolved_on IS NULL AND w.acked_at IS NULL
                 ORDER BY w.since, w.id",
            )
            .bind(org.id),
        )
        .await?;
    let today = today();
    let mut owners = Vec::new();
    let mut count = 0;
    for (kind, path, since, owner) in rows {
        if (today - since).num_days() >= escalation.days_at(&path) && caller.can_at(perm_of(&kind), &path) {
            count += 1;
            if !owners.contains(&owner) {
                owners.push(owner);
            }
        }
    }
    Ok((count, owners))
}

/// The warnings of an organization's subtree the caller may see (those of the lists their
/// permissions open there), evaluated again first for the organizations whose records changed.
pub async fn list(db: &Db, caller: &Caller, org_id: i64, f: &WarningFilter) -> Result<WarningPage> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &org.path) {
        return caller
            .refuse(db, Error::NotFound, "warnings.read", ("org", &org_id))
            .await;
    }
    let state = f.state.as_deref().filter(|s| !s.is_empty()).unwrap_or("open");
    let mut e = Vec::new();
    if !STATES.contains(&state) {
        e.push(FieldError::new("state", "invalid"));
    }
    let kind = f.kind.as_deref().filter(|k| !k.is_empty());
    if kind.is_some_and(|k| !KINDS.contains(&k)) {
        e.push(FieldError::new("kind", "invalid"));
    }
    let page = f.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        e.push(FieldError::new("page", "out_of_range"));
    }
    domain::error::check(e)?;
    refresh(db, &org.path).await?;
    let visible: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| caller.can_at(perm_of(k), &org.path))
        .collect();
    let count_of = |kinds: &[&str]| -> Vec<String> {
        kinds
            .iter()
            .filter(|k| visible.contains(k) && kind.is_none_or(|only| only == **k))
            .map(|k| k.to_string())
            .collect()
    };
    let totals: Vec<(String, i64)> = db
        .all(Q::new("SELECT kind, n FROM warning_totals WHERE org_id = $1").bind(org.id))
        .await?;
    let sum = |kinds: &[String]| -> i64 { totals.iter().filter(|(k, _)| kinds.contains(k)).map(|(_, n)| n).sum() };
    let (pending_kinds, firing_kinds) = (count_of(&PENDING_KINDS), count_of(&FIRING_KINDS));
    let (pending, firing) = (sum(&pending_kinds), sum(&firing_kinds));
    let kinds: Vec<String> = match state {
        "pending" => pending_kinds,
        "firing" => firing_kinds,
        _ => pending_kinds.into_iter().chain(firing_kinds).collect(),
    };
    let today = today();
    let escalation = Escalation::load(db, &org.path).await?;
    let mut out = WarningPage {
        org_id: org.id,
        org_name: org.name.clone(),
        state: state.to_string(),
        pending,
        firing,
        total: 0,
        page,
        per_page: PAGE,
        rows: Vec::new(),
        escalate_after_days: escalation.days_at(&org.path),
        can_set: caller.can_at(Perm::ManageOrgs, &org.path),
    };
    if kinds.is_empty() {
        return Ok(out);
    }
    // Many open warnings are paged by walking the index on their day, a few by their subtree and
    // kinds, then sorted. SQLite plans without the bound values (`db::stable_plans`), so it is
    // told: `+col` keeps a condition out of its index choice.
    let walk_since = state != "resolved" && !db.is_postgres() && sum(&kinds) > WALK_SINCE_ABOVE;
    let (path_col, kind_col) = if walk_since {
        ("+w.org_path", "+w.kind")
    } else {
        ("w.org_path", "w.kind")
    };
    let mut q = Q::new(SELECT);
    let narrow = |q: &mut Q| {
        q.push(&format!(" WHERE {path_col} >= "))
            .push_bind(org.path.clone())
            .push(&format!(" AND {path_col} < "))
            .push_bind(subtree_end(&org.path))
            .push(&format!(" AND {kind_col} IN ("))
            .push_list(kinds.iter().cloned())
            .push(")");
        if state == "resolved" {
            q.push(" AND w.resolved_on >= ")
                .push_bind(today - chrono::Days::new(RESOLVED_DAYS));
        } else {
            q.push(" AND w.resolved_on IS NULL");
        }
    };
    narrow(&mut q);
    out.total = if state == "resolved" {
        let mut count = Q::new("SELECT COUNT(*) FROM warnings w");
        narrow(&mut count);
        db.one::<(i64,)>(count).await?.0
    } else {
        sum(&kinds)
    };
    if state == "resolved" {
        q.push(" ORDER BY w.resolved_on DESC, w.id DESC");
    } else {
        // The oldest first: the escalated ones lead (an index on the day keeps a province's first
        // page a short read).
        q.push(" ORDER BY w.since, w.id");
    }
    q.push(" LIMIT ")
        .push_bind(PAGE)
        .push(" OFFSET ")
        .push_bind((page - 1) * PAGE);
    let rows: Vec<Row> = db.all(q).await?;
    out.rows = rows
        .into_iter()
        .map(|r| Warning {
            state: if r.resolved_on.is_some() {
                "resolved".into()
            } else {
                state_of(&r.kind).into()
            },
            escalated: escalation.escalated(&r, today),
            link: link(&r.kind, &r.subject, r.org_id),
            can_ack: r.resolved_on.is_none() && caller.can_at(Perm::WriteMembers, &r.org_path),
            id: r.id,
            kind: r.kind,
            owner_id: r.org_id,
            owner_name: r.owner_name,
            label: r.label,
            since: r.since,
            resolved_on: r.resolved_on,
            acked_at: r.acked_at,
            acked_by: r.acked_by,
            ack_note: r.ack_note,
        })
        .collect();
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AckInput {
    /// What will be done, or why nothing needs to be (1 to 500 characters).
    #[schema(schema_with = domain::schema::required_text::<500>, required = true)]
    pub note: Option<String>,
}

/// Acknowledges open warnings with one note, all or none: each must be one the caller may act on
/// at its owner (a member's arrears by those who keep dues, and so on); another's is not found.
/// Returns how many were acknowledged (one already acknowledged is left as it was).
pub async fn ack(db: &Db, caller: &Caller, ids: &[i64], input: &AckInput) -> Result<usize> {
    let mut e = Vec::new();
    let note = domain::required_text("note", input.note.as_deref(), 500, &mut e);
    domain::error::list("ids", ids, 500)?;
    domain::error::check(e)?;
    let note = note.unwrap_or_default();
    let mut q = Q::new("SELECT id, kind, org_path, acked_at FROM warnings WHERE resolved_on IS NULL AND id IN (");
    q.push_list(ids.iter().copied()).push(")");
    let open: Vec<(i64, String, String, Option<String>)> = db.all(q).await?;
    for id in ids {
        let mine = open
            .iter()
            .find(|(w, ..)| w == id)
            .filter(|(_, kind, path, _)| caller.can_at(perm_of(kind), path) && caller.can_at(Perm::WriteMembers, path));
        caller.found(db, mine, "warnings.ack", ("warning", id)).await?;
    }
    let now = now_text();
    let mut tx = db.begin().await?;
    let mut acked = 0;
    for (id, ..) in open.iter().filter(|(_, _, _, at)| at.is_none()) {
        acked += tx
            .exec(
                Q::new(
                    "UPDATE warnings SET acked_at = $1, acked_by = $2, ack_note = $3 WHERE id = $4 AND acked_at IS NULL",
                )
                .bind(now.clone())
                .bind((caller.user_id != 0).then_some(caller.user_id))
                .bind(note.clone())
                .bind(*id),
            )
            .await? as usize;
        audit::append(&mut tx, caller, Event::ok("warnings.ack", "warning", *id)).await?;
    }
    tx.commit().await?;
    Ok(acked)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EscalationInput {
    /// Days a warning may stay unacknowledged before the owner's parent is shown it (1 to 90), for
    /// this organization's whole subtree unless one below sets its own.
    #[schema(minimum = 1, maximum = 90, required = true)]
    pub escalate_after_days: Option<i64>,
}

/// Sets the escalation days for an organization's subtree, by those who manage it.
pub async fn set_escalation(db: &Db, caller: &Caller, org_id: i64, input: &EscalationInput) -> Result<i64> {
    let org: Org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageOrgs, &org.path, "warnings.settings", ("org", &org_id))
        .await?;
    let days = match input.escalate_after_days {
        Some(d) if (1..=90).contains(&d) => d,
        Some(_) => return Err(domain::Invalid::one("escalate_after_days", "between:1–90").into()),
        None => return Err(domain::Invalid::one("escalate_after_days", "required").into()),
    };
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO warning_settings (org_id, org_path, escalate_after_days, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org_id) DO UPDATE SET org_path = excluded.org_path, escalate_after_days = excluded.escalate_after_days,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(org.id)
        .bind(org.path.clone())
        .bind(days)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("warnings.settings", "org", org.id).with_detail(format!("escalate_after_days={days}")),
    )
    .await?;
    tx.commit().await?;
    Ok(days)
}
