//! The hash-chained audit log (数据留痕; GB/T 22239-2019 §8.1.4.3). Each entry's hash covers its own
//! fields and the previous entry's hash; a head row holds the last sequence number and hash, so an
//! edit, a removal (anywhere, including at the end) or a reordering is detected by `verify`.

use serde::{Deserialize, Serialize};

use crate::crypto::sm3_hex;
use crate::db::{now_text, Db, Tx, Q};
use crate::error::Result;
use crate::scope::{Caller, Perm};
use crate::Error;

/// What happened, to what, with what result. `detail` never holds personal data in clear.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: String,
    pub result: &'static str,
    pub detail: String,
}

impl Event {
    pub fn ok(action: &'static str, target_type: &'static str, target_id: impl ToString) -> Event {
        Event {
            action,
            target_type,
            target_id: target_id.to_string(),
            result: "ok",
            detail: String::new(),
        }
    }

    pub fn denied(action: &'static str, target_type: &'static str, target_id: impl ToString) -> Event {
        Event {
            result: "denied",
            ..Event::ok(action, target_type, target_id)
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = detail.into();
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub result: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    fn compute_hash(&self) -> String {
        let fields = [
            self.seq.to_string(),
            self.at.clone(),
            self.actor_id.map(|i| i.to_string()).unwrap_or_default(),
            self.actor.clone(),
            self.ip.clone(),
            self.action.clone(),
            self.target_type.clone(),
            self.target_id.clone(),
            self.result.clone(),
            self.detail.clone(),
            self.prev_hash.clone(),
        ];
        sm3_hex(fields.join("\u{1f}").as_bytes())
    }
}

/// Appends within the caller's transaction, so the record and its audit entry commit together.
pub async fn append(tx: &mut Tx, caller: &Caller, event: Event) -> Result<()> {
    // Taking the head row's lock serializes appenders on PostgreSQL; SQLite has one writer anyway.
    let (seq, prev_hash): (i64, String) = tx
        .one(Q::new(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        ))
        .await?;
    let mut entry = Entry {
        seq,
        at: now_text(),
        actor_id: (caller.user_id != 0).then_some(caller.user_id),
        actor: caller.username.clone(),
        ip: caller.ip.clone(),
        action: event.action.to_string(),
        target_type: event.target_type.to_string(),
        target_id: event.target_id,
        result: event.result.to_string(),
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    tx.exec(
        Q::new(
            "INSERT INTO audit_log (seq, at, actor_id, actor, ip, action, target_type, target_id, result, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(entry.seq)
        .bind(entry.at)
        .bind(entry.actor_id)
        .bind(entry.actor)
        .bind(entry.ip)
        .bind(entry.action)
        .bind(entry.target_type)
        .bind(entry.target_id)
        .bind(entry.result)
        .bind(entry.detail)
        .bind(entry.prev_hash)
        .bind(entry.hash.clone()),
    )
    .await?;
    tx.exec(Q::new("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(entry.hash))
        .await?;
    Ok(())
}

/// Appends in a transaction of its own: for reads, refusals and failed logins.
pub async fn append_alone(db: &Db, caller: &Caller, event: Event) -> Result<()> {
    let mut tx = db.begin().await?;
    append(&mut tx, caller, event).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub result: Option<String>,
    /// Inclusive, `YYYY-MM-DD` (Beijing dates).
    #[param(schema_with = domain::schema::date)]
    pub from: Option<String>,
    #[param(schema_with = domain::schema::date)]
    pub to: Option<String>,
    /// Entries before this sequence number (for paging backwards from the newest).
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub before: Option<i64>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub limit: Option<i64>,
}

/// Newest first. Reading the log is itself audited.
pub async fn list(db: &Db, caller: &Caller, f: &AuditFilter) -> Result<Vec<Entry>> {
    caller
        .require_any(db, Perm::ReadAudit, "audit.read", ("audit", &""))
        .await?;
    let mut q = Q::new("SELECT * FROM audit_log WHERE 1=1");
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(a) = nonempty(&f.actor) {
        q.push(" AND actor = ").push_bind(a);
    }
    if let Some(a) = nonempty(&f.action) {
        // Actions are dotted (`member.create`): a prefix selects a family.
        q.push(" AND action >= ")
            .push_bind(a.clone())
            .push(" AND action < ")
            .push_bind(format!("{a}\u{10ffff}"));
    }
    if let Some(t) = nonempty(&f.target_id) {
        q.push(" AND target_id = ").push_bind(t);
    }
    if let Some(r) = nonempty(&f.result) {
        q.push(" AND result = ").push_bind(r);
    }
    // The dates people type are Beijing dates; the log keeps UTC instants.
    let day_start = |field: &'static str, d: &str, plus_days: i64| {
        domain::member::parse_date(d)
            .map(|d| domain::time::day_start(d + chrono::Duration::days(plus_days)))
            .map(crate::db::instant_text)
            .ok_or_else(|| Error::Invalid(domain::Invalid::one(field, "invalid")))
    };
    if let Some(d) = nonempty(&f.from) {
        q.push(" AND at >= ").push_bind(day_start("from", &d, 0)?);
    }
    if let Some(d) = nonempty(&f.to) {
        q.push(" AND at < ").push_bind(day_start("to", &d, 1)?);
    }
    if let Some(b) = f.before {
        q.push(" AND seq < ").push_bind(b);
    }
    q.push(" ORDER BY seq DESC LIMIT ")
        .push_bind(f.limit.unwrap_or(100).clamp(1, 1000));
    let rows = db.all(q).await?;
    append_alone(db, caller, Event::ok("audit.read", "audit", "")).await?;
    Ok(rows)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Broken {
    /// An entry's content no longer matches its hash (edited).
    Edited(i64),
    /// A sequence number is missing (removed) or out of place (reordered).
    Gap { expected: i64, found: i64 },
    /// An entry's link to its predecessor does not match (removed or reordered).
    Link(i64),
    /// The head disagrees with the last entry (entries removed from the end).
    Head { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Edited(s) => write!(f, "entry {s} was edited: its hash does not match its content"),
            Broken::Gap { expected, found } => {
                write!(f, "entry {expected} is missing or out of order (found {found} in its place)")
            }
            Broken::Link(s) => write!(f, "entry {s} does not follow its predecessor: an entry before it was removed or reordered"),
            Broken::Head { head_seq, last_seq } => write!(
                f,
                "the log ends at entry {last_seq} but the chain head records {head_seq}: entries after {last_seq} were removed"
            ),
        }
    }
}

/// Walks the whole chain in order; returns the number of entries or the first break.
pub async fn verify(db: &Db) -> Result<std::result::Result<i64, Broken>> {
    let mut expected = 1i64;
    let mut prev = String::new();
    loop {
        let page: Vec<Entry> = db
            .all(Q::new("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000").bind(expected))
            .await?;
        if page.is_empty() {
            break;
        }
        for e in page {
            if e.seq != expected {
                return Ok(Err(Broken::Gap { expected, found: e.seq }));
            }
            if e.compute_hash() != e.hash {
                return Ok(Err(Broken::Edited(e.seq)));
            }
            if e.prev_hash != prev {
                return Ok(Err(Broken::Link(e.seq)));
            }
            prev = e.hash;
            expected += 1;
        }
    }
    // Entries below `expected` skipped by a lower first seq are caught as a gap at 1.
    let (head_seq, head_hash): (i64, String) = db.one(Q::new("SELECT seq, hash FROM audit_head WHERE id = 1")).await?;
    let last = expected - 1;
    if head_seq != last || head_hash != prev {
        return Ok(Err(Broken::Head {
            head_seq,
            last_seq: last,
        }));
    }
    Ok(Ok(last))
}
