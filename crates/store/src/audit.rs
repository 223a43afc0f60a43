//! The keyed, anchored audit log (数据留痕; GB/T 22239-2019 §8.1.4.3). Each entry's seal is an
//! HMAC-SM3, under a key kept outside the database, of its own fields and the previous entry's
//! seal: whoever can write the database but lacks the key cannot edit, remove or reorder entries
//! and re-seal the rest. Checkpoints (the count, the last seal, the time, themselves sealed) are
//! appended at least daily and at shutdown to a file outside the database, so a log cut back or
//! emptied, with its head row moved to match, is caught too. `verify` checks both.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::crypto::AuditKey;
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
    fn fields(&self) -> [String; 11] {
        [
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
        ]
    }

    fn seal(&self, key: &AuditKey) -> String {
        let fields = self.fields();
        let parts: Vec<&str> = fields.iter().map(String::as_str).collect();
        key.mac(&parts)
    }

    /// The unkeyed SM3 chain of logs written before the key, checked once when they are re-sealed.
    fn unkeyed_hash(&self) -> String {
        crate::crypto::sm3_hex(self.fields().join("\u{1f}").as_bytes())
    }
}

/// The audit key and where checkpoints are appended; both outside the database.
#[derive(Debug)]
pub struct Anchor {
    pub key: AuditKey,
    pub checkpoints: PathBuf,
    /// The head (number and seal) this server's last append on PostgreSQL left: the next entry
    /// is sealed on it and written in one statement, which holds only while the head is still
    /// there (see `append`).
    last_head: std::sync::Mutex<Option<(i64, String)>>,
}

impl Anchor {
    pub fn new(key: AuditKey, checkpoints: PathBuf) -> Anchor {
        Anchor {
            key,
            checkpoints,
            last_head: Default::default(),
        }
    }

    fn last_head(&self) -> Option<(i64, String)> {
        self.last_head.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn remember_head(&self, seq: i64, hash: &str) {
        *self.last_head.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, hash.to_string()));
    }
}

/// One line of the checkpoint file: at `at`, the log held `seq` entries ending in `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub at: String,
    pub seq: i64,
    pub hash: String,
}

impl Checkpoint {
    fn line(&self, key: &AuditKey) -> String {
        let seq = self.seq.to_string();
        let mac = key.mac(&["checkpoint", &self.at, &seq, &self.hash]);
        format!("{}\t{}\t{}\t{}\n", self.at, self.seq, self.hash, mac)
    }

    fn parse(line: &str, key: &AuditKey) -> Option<Checkpoint> {
        let mut parts = line.split('\t');
        let (at, seq, hash, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if key.mac(&["checkpoint", at, seq, hash]) != mac {
            return None;
        }
        Some(Checkpoint {
            at: at.to_string(),
            seq: seq.parse().ok()?,
            hash: hash.to_string(),
        })
    }
}

/// Appends a checkpoint of the log as it stands (the server does at start, daily and at shutdown;
/// `hongji audit checkpoint` by hand).
pub async fn checkpoint(db: &Db) -> Result<Checkpoint> {
    let (seq, hash): (i64, String) = db.one(Q::new("SELECT seq, hash FROM audit_head WHERE id = 1")).await?;
    let c = Checkpoint {
        at: now_text(),
        seq,
        hash,
    };
    let anchor = db.anchor();
    let line = c.line(&anchor.key);
    let path = anchor.checkpoints.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private::create_dir_all(dir)?;
        }
        crate::private::append(&path, line.as_bytes())
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r)
    .map_err(|e| {
        tracing::error!(error = %e, "could not write an audit checkpoint");
        Error::Refused("audit.checkpoint_unwritable")
    })?;
    Ok(c)
}

/// After a restore the log ends where the backup's did, and checkpoints written since record more
/// entries than it holds. The file is moved aside to `archive` and written again without them
/// (lines copied as they were, sealed; a line without the key's seal stays, for `verify` to name);
/// returns the newest checkpoint left out, which says what the backup does not hold.
pub fn checkpoints_upto(path: &Path, archive: &Path, key: &AuditKey, seq: i64) -> std::io::Result<Option<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    std::fs::rename(path, archive)?;
    let mut kept = String::new();
    let mut dropped: Option<Checkpoint> = None;
    for line in text.lines() {
        match Checkpoint::parse(line, key) {
            Some(c) if c.seq > seq => {
                if dropped.as_ref().is_none_or(|d| d.seq < c.seq) {
                    dropped = Some(c);
                }
            }
            _ => {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    crate::private::write(path, kept.as_bytes())?;
    Ok(dropped)
}

/// The checkpoints, oldest first; a line that does not carry the key's seal is a break.
fn read_checkpoints(path: &Path, key: &AuditKey) -> std::result::Result<Vec<Checkpoint>, Broken> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(_) => return Err(Broken::UnsealedCheckpoint(0)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Checkpoint::parse(l, key).ok_or(Broken::UnsealedCheckpoint(i + 1)))
        .collect()
}

/// Re-seals a log written before the key (migration 14), once, if its unkeyed chain holds.
pub async fn seal_unkeyed(db: &Db) -> anyhow::Result<()> {
    let (keyed,): (bool,) = db.one(Q::new("SELECT keyed FROM audit_head WHERE id = 1")).await?;
    if keyed {
        return Ok(());
    }
    let key = db.anchor().key.clone();
    let mut tx = db.begin().await?;
    let entries: Vec<Entry> = tx.all(Q::new("SELECT * FROM audit_log ORDER BY seq")).await?;
    let (mut prev_unkeyed, mut prev) = (String::new(), String::new());
    for (i, mut e) in entries.into_iter().enumerate() {
        if e.seq != i as i64 + 1 || e.prev_hash != prev_unkeyed || e.unkeyed_hash() != e.hash {
            anyhow::bail!(
                "the audit log was already broken at entry {} before it was keyed",
                e.seq
            );
        }
        prev_unkeyed = e.hash.clone();
        e.prev_hash = prev.clone();
        let sealed = e.seal(&key);
        tx.exec(
            Q::new("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(e.prev_hash)
                .bind(sealed.clone())
                .bind(e.seq),
        )
        .await?;
        prev = sealed;
    }
    tx.exec(Q::new("UPDATE audit_head SET hash = $1, keyed = TRUE WHERE id = 1").bind(prev))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Appends within the caller's transaction, so the record and its audit entry commit together.
pub async fn append(tx: &mut Tx, caller: &Caller, event: Event) -> Result<()> {
    let mut entry = Entry {
        seq: 0,
        at: now_text(),
        actor_id: (caller.user_id != 0).then_some(caller.user_id),
        actor: caller.username.clone(),
        ip: caller.ip.clone(),
        action: event.action.to_string(),
        target_type: event.target_type.to_string(),
        target_id: event.target_id,
        result: event.result.to_string(),
        detail: event.detail,
        prev_hash: String::new(),
        hash: String::new(),
    };
    const INSERT: &str = "INSERT INTO audit_log (seq, at, actor_id, actor, ip, action, target_type, target_id, result, detail, prev_hash, hash)";
    if !tx.is_postgres() {
        // SQLite has one writer: the head is read and moved in process, statement by statement.
        take_head(tx, &mut entry).await?;
        let values = " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        tx.exec(bound(Q::new(&format!("{INSERT}{values}")), &entry)).await?;
        tx.exec(Q::new("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(entry.hash))
            .await?;
        return Ok(());
    }
    // PostgreSQL: every audited write pays for this, so it is one round trip where it can be.
    // Sealed on the head this server's last append left, the entry and the head's move go in one
    // statement that moves the head only if it is still that one (another server, or a
    // transaction of this one that committed first or rolled back, makes it miss: nothing is
    // written, and the head is then taken as below). Waiting for the head row's lock serializes
    // appenders either way.
    if let Some((seq, prev_hash)) = tx.anchor().last_head() {
        seal(tx, &mut entry, seq + 1, prev_hash);
        let sql = format!(
            "WITH head AS (UPDATE audit_head SET seq = $1, hash = $12 WHERE id = 1 AND seq = $1 - 1 AND hash = $11 RETURNING id)
             {INSERT} SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM head"
        );
        if tx.exec(bound(Q::new(&sql), &entry)).await? == 1 {
            tx.anchor().remember_head(entry.seq, &entry.hash);
            return Ok(());
        }
    }
    take_head(tx, &mut entry).await?;
    let sql = format!(
        "WITH entry AS ({INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12))
         UPDATE audit_head SET hash = $12 WHERE id = 1"
    );
    tx.exec(bound(Q::new(&sql), &entry)).await?;
    tx.anchor().remember_head(entry.seq, &entry.hash);
    Ok(())
}

/// Moves the head on by one (its row stays locked until the transaction ends) and seals the
/// entry after it.
async fn take_head(tx: &mut Tx, entry: &mut Entry) -> Result<()> {
    let (seq, prev_hash): (i64, String) = tx
        .one(Q::new(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        ))
        .await?;
    seal(tx, entry, seq, prev_hash);
    Ok(())
}

/// Places the entry after the head `(seq, prev_hash)` and seals it.
fn seal(tx: &Tx, entry: &mut Entry, seq: i64, prev_hash: String) {
    entry.seq = seq;
    entry.prev_hash = prev_hash;
    entry.hash = entry.seal(&tx.anchor().key);
}

/// Binds the entry's fields as `$1`…`$12`, in `audit_log`'s column order.
fn bound(q: Q, e: &Entry) -> Q {
    q.bind(e.seq)
        .bind(e.at.clone())
        .bind(e.actor_id)
        .bind(e.actor.clone())
        .bind(e.ip.clone())
        .bind(e.action.clone())
        .bind(e.target_type.clone())
        .bind(e.target_id.clone())
        .bind(e.result.clone())
        .bind(e.detail.clone())
        .bind(e.prev_hash.clone())
        .bind(e.hash.clone())
}

/// Audit entries are kept at least this long (网络安全法 Art. 21: network logs kept no less than
/// six months); a shorter retention is refused when the server starts.
pub const MIN_RETENTION_DAYS: i64 = 184;

fn prune_seal(key: &AuditKey, seq: i64, hash: &str) -> String {
    key.mac(&["pruned", &seq.to_string(), hash])
}

/// Removes the entries older than `retention_days` before `now` (never the last one) and keeps
/// the last removed entry's number and seal, sealed, for the chain to start from. Returns how
/// many were removed; the removal is itself audited.
pub async fn prune(db: &Db, retention_days: i64, now: chrono::DateTime<chrono::Utc>) -> Result<i64> {
    if retention_days < MIN_RETENTION_DAYS {
        return Err(domain::Invalid::one("retention_days", "out_of_range").into());
    }
    let cutoff = crate::db::instant_text(now - chrono::Duration::days(retention_days));
    let mut tx = db.begin().await?;
    let (head_seq, pruned_seq): (i64, i64) = tx
        .one(Q::new(
            "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, pruned_seq",
        ))
        .await?;
    let last: Option<(i64, String)> = tx
        .opt(
            Q::new("SELECT seq, hash FROM audit_log WHERE at < $1 AND seq < $2 ORDER BY seq DESC LIMIT 1")
                .bind(cutoff)
                .bind(head_seq),
        )
        .await?;
    let Some((through, hash)) = last.filter(|(seq, _)| *seq > pruned_seq) else {
        return Ok(0);
    };
    let removed = tx
        .exec(Q::new("DELETE FROM audit_log WHERE seq <= $1").bind(through))
        .await? as i64;
    let seal = prune_seal(&tx.anchor().key, through, &hash);
    tx.exec(
        Q::new("UPDATE audit_head SET pruned_seq = $1, pruned_hash = $2, pruned_seal = $3 WHERE id = 1")
            .bind(through)
            .bind(hash)
            .bind(seal),
    )
    .await?;
    append(
        &mut tx,
        &Caller::system("retention"),
        Event::ok("audit.prune", "audit", through).with_detail(format!("removed={removed} days={retention_days}")),
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
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
        domain::time::parse_bound(d)
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
    /// An entry's content no longer matches its seal (edited, or sealed without the key).
    Edited(i64),
    /// A sequence number is missing (removed) or out of place (reordered).
    Gap { expected: i64, found: i64 },
    /// An entry's link to its predecessor does not match (removed or reordered).
    Link(i64),
    /// The head disagrees with the last entry (entries removed from the end).
    Head { head_seq: i64, last_seq: i64 },
    /// The log holds fewer entries than a checkpoint recorded (cut back or emptied).
    Truncated { at: String, seq: i64, last_seq: i64 },
    /// The entry a checkpoint recorded has another seal now (rewritten with the key).
    Rewritten { at: String, seq: i64 },
    /// A line of the checkpoint file does not carry the key's seal (0: the file is unreadable).
    UnsealedCheckpoint(usize),
    /// The mark of entries removed by the retention is not sealed with the key: entries were
    /// removed from the start by someone else.
    Pruned(i64),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Edited(s) => write!(f, "entry {s} was edited: its seal does not match its content"),
            Broken::Gap { expected, found } => {
                write!(f, "entry {expected} is missing or out of order (found {found} in its place)")
            }
            Broken::Link(s) => write!(f, "entry {s} does not follow its predecessor: an entry before it was removed or reordered"),
            Broken::Head { head_seq, last_seq } => write!(
                f,
                "the log ends at entry {last_seq} but the chain head records {head_seq}: entries after {last_seq} were removed"
            ),
            Broken::Truncated { at, seq, last_seq } => write!(
                f,
                "the checkpoint of {at} records {seq} entries but the log ends at {last_seq}: entries {}–{seq} are missing since that checkpoint",
                last_seq + 1
            ),
            Broken::Rewritten { at, seq } => write!(
                f,
                "entry {seq} differs from the checkpoint of {at}: the log up to it was rewritten"
            ),
            Broken::Pruned(s) => write!(
                f,
                "entries up to {s} are marked as removed by the retention, but the mark is not sealed with the audit key: they were removed by someone else"
            ),
            Broken::UnsealedCheckpoint(0) => write!(f, "the checkpoint file cannot be read"),
            Broken::UnsealedCheckpoint(line) => write!(
                f,
                "line {line} of the checkpoint file is not sealed with the audit key: the file was altered"
            ),
        }
    }
}

/// What `verify` found intact: the entries, and the checkpoints they agree with.
#[derive(Debug, PartialEq, Eq)]
pub struct Intact {
    /// The last entry's number.
    pub entries: i64,
    /// Entries up to this number were removed by the retention (0: none).
    pub pruned_through: i64,
    pub checkpoints: usize,
    /// The newest checkpoint: entries after it are protected by the key only.
    pub last_checkpoint: Option<Checkpoint>,
}

/// Walks the whole chain in order, then holds it against every checkpoint.
pub async fn verify(db: &Db) -> Result<std::result::Result<Intact, Broken>> {
    let anchor = db.anchor();
    let checkpoints = match read_checkpoints(&anchor.checkpoints, &anchor.key) {
        Ok(c) => c,
        Err(b) => return Ok(Err(b)),
    };
    let mut at_checkpoint: std::collections::BTreeMap<i64, Vec<&Checkpoint>> = Default::default();
    for c in &checkpoints {
        at_checkpoint.entry(c.seq).or_default().push(c);
    }
    // After a removal by the retention, the chain starts at the sealed mark it left.
    let (pruned_seq, pruned_hash, pruned_seal): (i64, String, String) = db
        .one(Q::new(
            "SELECT pruned_seq, pruned_hash, pruned_seal FROM audit_head WHERE id = 1",
        ))
        .await?;
    if pruned_seq > 0 && prune_seal(&anchor.key, pruned_seq, &pruned_hash) != pruned_seal {
        return Ok(Err(Broken::Pruned(pruned_seq)));
    }
    let mut expected = pruned_seq + 1;
    let mut prev = pruned_hash;
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
            if e.seal(&anchor.key) != e.hash {
                return Ok(Err(Broken::Edited(e.seq)));
            }
            if e.prev_hash != prev {
                return Ok(Err(Broken::Link(e.seq)));
            }
            if let Some(c) = at_checkpoint
                .get(&e.seq)
                .and_then(|cs| cs.iter().find(|c| c.hash != e.hash))
            {
                return Ok(Err(Broken::Rewritten {
                    at: c.at.clone(),
                    seq: c.seq,
                }));
            }
            prev = e.hash;
            expected += 1;
        }
    }
    let last = expected - 1;
    // The newest checkpoint that the log no longer reaches names what is gone.
    if let Some(c) = checkpoints.iter().filter(|c| c.seq > last).max_by_key(|c| c.seq) {
        return Ok(Err(Broken::Truncated {
            at: c.at.clone(),
            seq: c.seq,
            last_seq: last,
        }));
    }
    let (head_seq, head_hash): (i64, String) = db.one(Q::new("SELECT seq, hash FROM audit_head WHERE id = 1")).await?;
    if head_seq != last || head_hash != prev {
        return Ok(Err(Broken::Head {
            head_seq,
            last_seq: last,
        }));
    }
    Ok(Ok(Intact {
        entries: last,
        pruned_through: pruned_seq,
        checkpoints: checkpoints.len(),
        last_checkpoint: checkpoints.into_iter().max_by_key(|c| c.seq),
    }))
}
