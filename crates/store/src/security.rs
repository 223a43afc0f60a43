//! The daily security watch (the seed paper: a security report every day at 22:00). One server,
//! holding the lease, writes the report for the 24 hours to 22:00 Beijing time from the audit log
//! and the grants: the audit chain's verification, sign-in failures and lockouts, rate-limit
//! hits, refusals, reveals and exports against the previous 30 days' daily average, grant changes
//! and grants still pending, new accounts, backups. The security administrator reads it and
//! acknowledges it with a note; until then it stays on their home page.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{instant_text, new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Perm};

/// The report is written at this Beijing hour, for the 24 hours before it.
pub const REPORT_HOUR: u32 = 22;
/// The figures are held against their daily average over this many days before the report's.
const BASELINE_DAYS: i64 = 30;
/// A figure is unusual above this multiple of its daily average…
const UNUSUAL_FACTOR: f64 = 2.0;
/// …and at least this many (a quiet system's 3 against 1 is not an incident).
const UNUSUAL_AT_LEAST: i64 = 10;
/// Without a backup for this many days the report names it as an incident.
pub const BACKUP_WITHIN_DAYS: i64 = 7;
/// An acknowledgement's note, at most.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The figures counted from the audit log, each with its audit-log condition. The conditions are
/// fixed text (no input reaches them).
const COUNTS: &[(&str, &str)] = &[
    ("failed_logins", "action = 'auth.login' AND result = 'failed'"),
    (
        "lockouts",
        "action = 'auth.login' AND result = 'failed' AND detail = 'locked'",
    ),
    ("locked_attempts", "action = 'auth.login' AND result = 'locked'"),
    ("rate_limited", "action = 'rate_limited'"),
    (
        "refusals",
        "result IN ('denied', 'refused') AND action <> 'rate_limited'",
    ),
    ("reveals", "action = 'member.reveal'"),
    (
        "exports",
        "action IN ('member.export', 'meeting.export', 'dues.export')",
    ),
];

/// The audit chain as verified when the report was written.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chain {
    pub intact: bool,
    pub entries: i64,
    /// What is broken, when it is.
    pub problem: Option<String>,
}

/// One figure of the 24 hours, against its daily average over the 30 days before.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Count {
    /// `failed_logins`, `lockouts`, `locked_attempts`, `rate_limited`, `refusals`, `reveals`, `exports`.
    pub what: String,
    pub count: i64,
    pub daily_average: f64,
    pub unusual: bool,
}

/// An audit entry the report lists (grant changes, new accounts, backups), in words.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Line {
    pub at: String,
    /// Who acted: their name, or `cli:…` for the command line and the jobs.
    pub actor: String,
    /// `grant.create`, `grant.revoke`, `grant.confirm`, `grant.return`, `user.create`, `backup.create`.
    pub action: String,
    pub target_id: String,
    pub detail: String,
    /// The account the entry is about (grants, new accounts): `name (username)`.
    pub account: Option<String>,
    /// For a grant: its role (`viewer`, …) and organization.
    #[sqlx(default)]
    pub role: Option<String>,
    #[sqlx(default)]
    pub org_name: Option<String>,
}

/// A grant waiting for its second person.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PendingGrant {
    pub grant_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_name: Option<String>,
    pub since: String,
}

/// Something the security administrator should look into.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    /// `chain_broken`, `unusual` (a figure above twice its average) or `no_backup`.
    pub kind: String,
    /// For `unusual`: the figure, its count and its daily average.
    pub what: Option<String>,
    pub count: Option<i64>,
    pub daily_average: Option<f64>,
    /// For `no_backup`: when the last backup was made, if ever.
    pub last_backup_at: Option<String>,
    /// The same in a sentence (English, for the command line and logs).
    pub detail: String,
}

/// What a report found.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub chain: Chain,
    pub counts: Vec<Count>,
    pub grant_changes: Vec<Line>,
    pub pending_grants: Vec<PendingGrant>,
    pub new_accounts: Vec<Line>,
    pub backups: Vec<Line>,
    /// The newest backup ever made, if any.
    pub last_backup: Option<Line>,
    /// Empty when there were no incidents.
    pub incidents: Vec<Incident>,
}

/// One day's report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: i64,
    /// The Beijing date whose 22:00 closes the 24 hours.
    #[schema(value_type = String, format = Date)]
    pub report_on: NaiveDate,
    pub window_from: String,
    pub window_to: String,
    pub incidents: i64,
    /// `job` for the nightly run, `cli:…` for `hongji security report`.
    pub made_by: String,
    pub made_at: String,
    pub acked_at: Option<String>,
    /// The name of who acknowledged it.
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
    /// Left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    report_on: NaiveDate,
    window_from: String,
    window_to: String,
    incidents: i64,
    made_by: String,
    made_at: String,
    acked_at: Option<String>,
    acked_by: Option<String>,
    ack_note: Option<String>,
    figures: String,
}

impl ReportRow {
    fn report(self, with_figures: bool) -> Result<Report> {
        let figures = if with_figures {
            Some(serde_json::from_str(&self.figures).map_err(stored)?)
        } else {
            None
        };
        Ok(Report {
            id: self.id,
            report_on: self.report_on,
            window_from: self.window_from,
            window_to: self.window_to,
            incidents: self.incidents,
            made_by: self.made_by,
            made_at: self.made_at,
            acked_at: self.acked_at,
            acked_by: self.acked_by,
            ack_note: self.ack_note,
            figures,
        })
    }
}

/// Figures that do not read back as they were written are a storage fault.
fn stored(e: serde_json::Error) -> Error {
    Error::Db(sqlx::Error::Decode(Box::new(e)))
}

const SELECT_REPORT: &str = "SELECT r.id, r.report_on, r.window_from, r.window_to, r.incidents, r.made_by, r.made_at,
    r.acked_at, u.display_name AS acked_by, r.ack_note, r.figures
    FROM security_reports r LEFT JOIN users u ON u.id = r.acked_by";

/// The 24 hours a report covers: from 22:00 the day before to 22:00 on `on`, Beijing time.
pub fn window(on: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = domain::time::day_start(on) + Duration::hours(REPORT_HOUR as i64);
    (to - Duration::days(1), to)
}

/// The report whose 24 hours hold this instant (after 22:00 it is the next day's).
pub fn report_day(at: DateTime<Utc>) -> NaiveDate {
    let today = domain::time::local_date(at);
    if at < window(today).1 {
        today
    } else {
        today + Duration::days(1)
    }
}

async fn count(db: &Db, condition: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64> {
    let (n,): (i64,) = db
        .one(
            Q::new(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE at >= $1 AND at < $2 AND {condition}"
            ))
            .bind(instant_text(from))
            .bind(instant_text(to)),
        )
        .await?;
    Ok(n)
}

/// Audit entries with the names of who acted and of the account they are about.
fn lines_query(entries: &str) -> String {
    format!(
        "SELECT a.at, COALESCE(actor.display_name, a.actor) AS actor, a.action, a.target_id, a.detail,
                CASE WHEN u.id IS NULL THEN NULL ELSE u.display_name || ' (' || u.username || ')' END AS account
         FROM ({entries}) a
         LEFT JOIN users actor ON actor.id = a.actor_id
         LEFT JOIN users u ON a.target_type = 'user' AND CAST(u.id AS TEXT) = a.target_id
         ORDER BY a.seq"
    )
}

async fn lines(db: &Db, condition: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Line>> {
    let entries = format!("SELECT * FROM audit_log WHERE at >= $1 AND at < $2 AND {condition} ORDER BY seq LIMIT 500");
    let mut lines: Vec<Line> = db
        .all(
            Q::new(&lines_query(&entries))
                .bind(instant_text(from))
                .bind(instant_text(to)),
        )
        .await?;
    for line in &mut lines {
        name_the_grant(db, line).await?;
    }
    Ok(lines)
}

/// A grant entry's role and organization, from its detail (`role=viewer org=12 pending` when made,
/// `grant=34` after) and the records.
async fn name_the_grant(db: &Db, line: &mut Line) -> Result<()> {
    let value = |key: &str| {
        line.detail
            .split(' ')
            .find_map(|part| part.strip_prefix(key))
            .map(str::to_string)
    };
    let number = |key: &str| value(key).and_then(|v| v.parse::<i64>().ok()).filter(|n| *n != 0);
    let (role, org_id) = if let Some(role) = value("role=") {
        (Some(role), number("org="))
    } else if let Some(grant) = number("grant=") {
        let row: Option<(String, Option<i64>)> = db
            .opt(Q::new("SELECT role, org_id FROM grants WHERE id = $1").bind(grant))
            .await?;
        row.map_or((None, None), |(role, org)| (Some(role), org))
    } else {
        return Ok(());
    };
    line.role = role;
    if let Some(org) = org_id {
        let name: Option<(String,)> = db.opt(Q::new("SELECT name FROM orgs WHERE id = $1").bind(org)).await?;
        line.org_name = name.map(|(n,)| n);
    }
    Ok(())
}

const BACKUPS: &str = "action = 'backup.create' AND result = 'ok'";

/// Counts the report's figures for `on` (nothing is written).
pub async fn figures(db: &Db, on: NaiveDate) -> Result<Figures> {
    let (from, to) = window(on);
    let chain = match audit::verify(db).await? {
        Ok(intact) => Chain {
            intact: true,
            entries: intact.entries - intact.pruned_through,
            problem: None,
        },
        Err(broken) => Chain {
            intact: false,
            entries: 0,
            problem: Some(broken.to_string()),
        },
    };
    let mut incidents = Vec::new();
    if let Some(problem) = &chain.problem {
        incidents.push(Incident {
            kind: "chain_broken".into(),
            what: None,
            count: None,
            daily_average: None,
            last_backup_at: None,
            detail: problem.clone(),
        });
    }
    let mut counts = Vec::new();
    for (what, condition) in COUNTS {
        let n = count(db, condition, from, to).await?;
        let before = count(db, condition, from - Duration::days(BASELINE_DAYS), from).await?;
        let daily_average = before as f64 / BASELINE_DAYS as f64;
        let unusual = n >= UNUSUAL_AT_LEAST && n as f64 > UNUSUAL_FACTOR * daily_average;
        if unusual {
            incidents.push(Incident {
                kind: "unusual".into(),
                what: Some(what.to_string()),
                count: Some(n),
                daily_average: Some(daily_average),
                last_backup_at: None,
                detail: format!("{n} against a daily average of {daily_average:.1}"),
            });
        }
        counts.push(Count {
            what: what.to_string(),
            count: n,
            daily_average,
            unusual,
        });
    }
    let last = format!("SELECT * FROM audit_log WHERE at < $1 AND {BACKUPS} ORDER BY seq DESC LIMIT 1");
    let last_backup: Option<Line> = db.opt(Q::new(&lines_query(&last)).bind(instant_text(to))).await?;
    let recent = last_backup
        .as_ref()
        .and_then(|b| crate::db::parse_instant(&b.at))
        .is_some_and(|at| at > to - Duration::days(BACKUP_WITHIN_DAYS));
    if !recent {
        incidents.push(Incident {
            kind: "no_backup".into(),
            what: None,
            count: None,
            daily_average: None,
            last_backup_at: last_backup.as_ref().map(|b| b.at.clone()),
            detail: match &last_backup {
                Some(b) => format!("last backup {}", b.at),
                None => "no backup has been made".into(),
            },
        });
    }
    let pending_grants = db
        .all(Q::new(
            "SELECT g.id AS grant_id, u.username, u.display_name, g.role, o.name AS org_name, g.created_at AS since
             FROM grants g JOIN users u ON u.id = g.user_id LEFT JOIN orgs o ON o.id = g.org_id
             WHERE g.status = 'pending' ORDER BY g.created_at LIMIT 500",
        ))
        .await?;
    Ok(Figures {
        chain,
        counts,
        grant_changes: lines(db, "action LIKE 'grant.%'", from, to).await?,
        pending_grants,
        new_accounts: lines(db, "action = 'user.create' AND result = 'ok'", from, to).await?,
        backups: lines(db, BACKUPS, from, to).await?,
        last_backup,
        incidents,
    })
}

/// Writes (or writes again) the report for `on`; a report written again is unacknowledged.
pub async fn write(db: &Db, caller: &Caller, on: NaiveDate) -> Result<Report> {
    if !domain::time::YEARS.contains(&chrono::Datelike::year(&on)) {
        return Err(domain::Invalid::one("date", "out_of_range").into());
    }
    let figures = figures(db, on).await?;
    let (from, to) = window(on);
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(Q::new("DELETE FROM security_reports WHERE report_on = $1").bind(on))
        .await?;
    tx.exec(
        Q::new(
            "INSERT INTO security_reports (id, report_on, window_from, window_to, incidents, figures, made_by, made_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(on)
        .bind(instant_text(from))
        .bind(instant_text(to))
        .bind(figures.incidents.len() as i64)
        .bind(serde_json::to_string(&figures).map_err(stored)?)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("security.report.write", "security_report", id)
            .with_detail(format!("{on} incidents={}", figures.incidents.len())),
    )
    .await?;
    tx.commit().await?;
    let row: ReportRow = db
        .one(Q::new(&format!("{SELECT_REPORT} WHERE r.id = $1")).bind(id))
        .await?;
    row.report(true)
}

/// The nightly run, checked every few minutes (`now` is the clock's): after 22:00 Beijing time,
/// the server that takes today's lease writes today's report. `None` before 22:00 or when
/// another server has it.
pub async fn run_nightly(db: &Db, holder: &str, now: DateTime<Utc>) -> Result<Option<Report>> {
    let today = domain::time::local_date(now);
    if now < window(today).1 || !crate::jobs::take_daily_lease(db, "security_report", holder, today).await? {
        return Ok(None);
    }
    write(db, &Caller::system("job"), today).await.map(Some)
}

/// Reports, newest first, without their figures (the security administrator).
pub async fn list(db: &Db, caller: &Caller, unacknowledged_only: bool) -> Result<Vec<Report>> {
    caller
        .require_any(
            db,
            Perm::WatchSecurity,
            "security.report.list",
            ("security_report", &""),
        )
        .await?;
    let filter = if unacknowledged_only {
        " WHERE r.acked_at IS NULL"
    } else {
        ""
    };
    let rows: Vec<ReportRow> = db
        .all(Q::new(&format!(
            "{SELECT_REPORT}{filter} ORDER BY r.report_on DESC LIMIT 400"
        )))
        .await?;
    rows.into_iter().map(|r| r.report(false)).collect()
}

/// One report with its figures; the read is audited.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Report> {
    caller
        .require_any(
            db,
            Perm::WatchSecurity,
            "security.report.read",
            ("security_report", &id),
        )
        .await?;
    let row: Option<ReportRow> = db
        .opt(Q::new(&format!("{SELECT_REPORT} WHERE r.id = $1")).bind(id))
        .await?;
    let report = caller
        .found(db, row, "security.report.read", ("security_report", &id))
        .await?
        .report(true)?;
    audit::append_alone(db, caller, Event::ok("security.report.read", "security_report", id)).await?;
    Ok(report)
}

/// Acknowledges a report with a note (what was looked into, what was done).
pub async fn acknowledge(db: &Db, caller: &Caller, id: i64, note: &str) -> Result<Report> {
    let report = get(db, caller, id).await?;
    let mut errors = Vec::new();
    let note = domain::clean_text("note", note, MAX_NOTE_CHARS, &mut errors).unwrap_or_default();
    domain::error::check(errors)?;
    if report.acked_at.is_some() {
        return Err(Error::Refused("security.report.acknowledged"));
    }
    let mut tx = db.begin().await?;
    let changed = tx
        .exec(
            Q::new(
                "UPDATE security_reports SET acked_at = $1, acked_by = $2, ack_note = $3
                 WHERE id = $4 AND acked_at IS NULL",
            )
            .bind(now_text())
            .bind(caller.user_id)
            .bind(note)
            .bind(id),
        )
        .await?;
    if changed == 0 {
        return Err(Error::Refused("security.report.acknowledged"));
    }
    audit::append(&mut tx, caller, Event::ok("security.report.ack", "security_report", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}
