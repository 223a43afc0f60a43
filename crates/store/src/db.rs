//! The two backends behind one small query interface. SQL is written once with `$n` placeholders,
//! which SQLite and PostgreSQL both accept; arguments are typed so that PostgreSQL sees the right
//! parameter types even for NULLs. Per-backend SQL is kept to the migrations and bulk loading.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, Postgres, Sqlite};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Arg {
    I64(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Bool(bool),
    Date(Option<NaiveDate>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident, $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Arg {
                $e
            }
        }
    };
}
arg_from!(i64, v, Arg::I64(Some(v)));
arg_from!(Option<i64>, v, Arg::I64(v));
arg_from!(String, v, Arg::Text(Some(v)));
arg_from!(&String, v, Arg::Text(Some(v.clone())));
arg_from!(&str, v, Arg::Text(Some(v.to_string())));
arg_from!(Option<String>, v, Arg::Text(v));
arg_from!(Option<&str>, v, Arg::Text(v.map(str::to_string)));
arg_from!(Vec<u8>, v, Arg::Bytes(Some(v)));
arg_from!(Option<Vec<u8>>, v, Arg::Bytes(v));
arg_from!(bool, v, Arg::Bool(v));
arg_from!(NaiveDate, v, Arg::Date(Some(v)));
arg_from!(Option<NaiveDate>, v, Arg::Date(v));

/// A query under construction: SQL text and its arguments in placeholder order.
#[derive(Debug, Clone, Default)]
pub struct Q {
    sql: String,
    args: Vec<Arg>,
    one_plan: bool,
}

impl Q {
    pub fn new(sql: &str) -> Self {
        Q {
            sql: sql.to_string(),
            args: Vec::new(),
            one_plan: false,
        }
    }

    /// Marks a read whose best plan is the same whatever values are bound (a lookup by key, a page
    /// walked along the index it is ordered by): PostgreSQL then plans it once per connection
    /// instead of at every execution, as every other statement is (see `Backend::Pg`). SQLite plans
    /// every statement once anyway (`stable_plans`).
    pub fn one_plan(mut self) -> Self {
        self.one_plan = true;
        self
    }

    /// Binds the next `$n` written in the SQL.
    pub fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `a`.
    pub fn push_bind(&mut self, a: impl Into<Arg>) -> &mut Self {
        self.args.push(a.into());
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends bound values separated by commas, for `IN (…)`.
    pub fn push_list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self
    }

    /// Appends one row of a multi-row `VALUES` list: `(`$1, $2, …`)`, preceded by a comma unless first.
    pub fn push_row(&mut self, first: bool, values: impl IntoIterator<Item = Arg>) -> &mut Self {
        self.push(if first { "(" } else { ", (" });
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self.push(")")
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Date(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row type both backends can decode.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A row's fields as (name, SQL expression): selected as columns (`columns`) or packed into one
/// JSON value per page (`Db::packing`).
pub type Fields = [(&'static str, &'static str)];

/// `expr AS name, …` for a SELECT list.
pub fn columns(fields: &Fields) -> String {
    let list: Vec<String> = fields.iter().map(|(name, expr)| format!("{expr} AS {name}")).collect();
    list.join(", ")
}

/// A boolean packed by SQLite, which has none: `0`/`1` there, `false`/`true` from PostgreSQL.
/// Read by a visitor taking either (an untagged enum would build an error for every SQLite value
/// before trying the integer: a tenth of a member page's decoding).
pub fn packed_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Packed;
    impl serde::de::Visitor<'_> for Packed {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a boolean or 0/1")
        }
        fn visit_bool<E>(self, b: bool) -> Result<bool, E> {
            Ok(b)
        }
        fn visit_i64<E>(self, i: i64) -> Result<bool, E> {
            Ok(i != 0)
        }
        fn visit_u64<E>(self, i: u64) -> Result<bool, E> {
            Ok(i != 0)
        }
    }
    d.deserialize_any(Packed)
}

/// The database, and the anchor its audit chain is sealed with (the key and the checkpoint file,
/// both outside the database).
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    anchor: std::sync::Arc<crate::audit::Anchor>,
    /// Callers read in the last seconds, by token (see `callers`).
    callers: std::sync::Arc<crate::callers::Callers>,
}

#[derive(Clone, Debug)]
enum Backend {
    /// SQLite allows one writer: writes go through a one-connection pool so that transactions
    /// queue instead of failing with SQLITE_BUSY; reads use their own pool (WAL).
    Sqlite { read: SqlitePool, write: SqlitePool },
    /// `planned` plans each execution for its values (a subtree is a path range, and one
    /// statement serves a branch of 30 members and a province of millions); `generic` keeps one
    /// plan per statement, for the reads marked `Q::one_plan` (planning the member list's page cost
    /// PostgreSQL 0.5 ms at each execution, longer than running it).
    Pg { planned: PgPool, generic: PgPool },
}

pub struct Tx {
    conn: TxConn,
    anchor: std::sync::Arc<crate::audit::Anchor>,
    callers: std::sync::Arc<crate::callers::Callers>,
    /// This transaction changes who a token is or what it reaches: remembered callers are
    /// forgotten once it commits.
    changes_callers: bool,
}

enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>),
}

macro_rules! run {
    (fetch_all, $exec:expr, $sql:expr, $q:expr, $t:ty) => {{
        let sql: String = $sql;
        bound!(sqlx::query_as::<_, $t>(&sql), $q.args).fetch_all($exec).await
    }};
    (fetch_optional, $exec:expr, $sql:expr, $q:expr, $t:ty) => {{
        let sql: String = $sql;
        bound!(sqlx::query_as::<_, $t>(&sql), $q.args)
            .fetch_optional($exec)
            .await
    }};
    // sqlx leaves a SQLite statement that stopped at its first row un-reset, which keeps that
    // connection's read snapshot open: later reads on it would not see newer commits. Reading to
    // the end finishes the statement (the queries here return at most a row or a few).
    (fetch_first, $exec:expr, $sql:expr, $q:expr, $t:ty) => {{
        let sql: String = $sql;
        bound!(sqlx::query_as::<_, $t>(&sql), $q.args)
            .fetch_all($exec)
            .await
            .map(|rows| rows.into_iter().next())
    }};
    (execute, $exec:expr, $sql:expr, $q:expr) => {{
        let sql: String = $sql;
        bound!(sqlx::query(&sql), $q.args)
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
    }};
}

/// SQLite takes `$1` as a *named* parameter, and sqlx asks SQLite for every parameter's name,
/// which SQLite finds by walking the list: statements with thousands of parameters (batched
/// inserts) spent 90% of their time there. Anonymous `?` parameters have no name to look up, so
/// placeholders that run `$1, $2, $3…` in order become `?`; any other order keeps its number (`?3`).
/// The SQL text never holds a `$` of its own: values are always bound.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut numbers = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                n.push(d);
            }
            numbers.push(n.parse::<usize>().unwrap_or(0));
            out.push('?');
            out.push_str(&n);
        } else {
            out.push(c);
        }
    }
    let in_order = numbers.iter().enumerate().all(|(i, n)| *n == i + 1);
    if !in_order {
        return out;
    }
    // Drop the numbers: `?12` → `?`.
    let mut plain = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        plain.push(c);
        if c == '?' {
            while chars.next_if(char::is_ascii_digit).is_some() {}
        }
    }
    plain
}

/// The database, its WAL and shared-memory files are the server user's alone (SQLite gives the
/// WAL the database file's mode, so creating that as 0600 is enough for new files).
fn private_sqlite_files(db: &std::path::Path) -> std::io::Result<()> {
    let name = db.to_string_lossy();
    if name.is_empty() || name.starts_with(':') {
        return Ok(()); // in memory
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::create_dir_all(dir)?;
    }
    if !db.exists() {
        crate::private::create_new(db, b"")?;
    }
    for suffix in ["", "-wal", "-shm"] {
        crate::private::restrict(std::path::Path::new(&format!("{name}{suffix}")))?;
    }
    Ok(())
}

/// What a pool holds, for the operators' metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Plans a SQLite statement once, whatever values are bound to it. The bundled SQLite samples
/// index keys (STAT4) and by default re-plans a prepared statement on every execution whose bound
/// values fall on a sampled index (a path range, say): under load a member page spent a quarter
/// of its database time parsing and planning again (perf: `sqlite3Reprepare`). With the query
/// planner stability guarantee the plan is made from the statistics alone; literals written in
/// the SQL (`status = 'active'`) still use the samples.
async fn stable_plans(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is locked for the call; `sqlite3_db_config` with an integer option takes
    // the new value and an optional out-pointer for the old one (null: not wanted).
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused stable plans ({rc})").into(),
        ));
    }
    Ok(())
}

impl Db {
    pub async fn connect(url: &str, anchor: crate::audit::Anchor) -> Result<Db, sqlx::Error> {
        let anchor = std::sync::Arc::new(anchor);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Two pools by how statements are planned (see `Backend::Pg`).
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let pool = |max, mode| {
                PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    // sqlx pings every connection before lending it: a round trip before each
                    // statement outside a transaction and each transaction (an exam submission made
                    // three). Only a connection left idle for a while is pinged now, in case the
                    // server restarted or the network dropped it meanwhile; a broken one is closed
                    // and another lent.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for > Duration::from_secs(10) {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(opts.clone().options([("plan_cache_mode", mode)]))
            };
            let planned = pool(16, "force_custom_plan").await?;
            let generic = pool(8, "force_generic_plan").await?;
            Ok(Db {
                backend: Backend::Pg { planned, generic },
                anchor,
                callers: Default::default(),
            })
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("cache_size", "-65536");
            private_sqlite_files(opts.get_filename()).map_err(sqlx::Error::Io)?;
            // sqlx pings a connection before lending it by default: for SQLite a round trip to the
            // connection's worker thread before every query, guarding against a lost network
            // peer that a file does not have (perf: a third of the thread hand-offs under load).
            let write = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .after_connect(|conn, _| Box::pin(stable_plans(conn)))
                .connect_with(opts.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(8)
                .after_connect(|conn, _| Box::pin(stable_plans(conn)))
                .connect_with(opts.read_only(true))
                .await?;
            Ok(Db {
                backend: Backend::Sqlite { read, write },
                anchor,
                callers: Default::default(),
            })
        }
    }

    pub fn anchor(&self) -> &crate::audit::Anchor {
        &self.anchor
    }

    pub fn callers(&self) -> &crate::callers::Callers {
        &self.callers
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Pg { .. })
    }

    /// The connections the pool holds and how many are idle (SQLite: the readers and the writer).
    pub fn pool_use(&self) -> PoolUse {
        match &self.backend {
            Backend::Pg { planned, generic } => PoolUse {
                size: planned.size() + generic.size(),
                idle: (planned.num_idle() + generic.num_idle()) as u32,
                max: planned.options().get_max_connections() + generic.options().get_max_connections(),
            },
            Backend::Sqlite { read, write } => PoolUse {
                size: read.size() + write.size(),
                idle: (read.num_idle() + write.num_idle()) as u32,
                max: read.options().get_max_connections() + write.options().get_max_connections(),
            },
        }
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.begin_planned(false).await
    }

    /// A transaction whose every statement finds its rows by key, so that its best plans are the
    /// same whatever values are bound: on PostgreSQL it runs on a connection that plans each
    /// statement once (see `Q::one_plan`). Planning an exam attempt's writes at every submission
    /// cost more than running them.
    pub async fn begin_one_plan(&self) -> Result<Tx, sqlx::Error> {
        self.begin_planned(true).await
    }

    async fn begin_planned(&self, one_plan: bool) -> Result<Tx, sqlx::Error> {
        Ok(match &self.backend {
            Backend::Sqlite { write, .. } => Tx {
                conn: TxConn::Sqlite(write.begin().await?),
                anchor: self.anchor.clone(),
                callers: self.callers.clone(),
                changes_callers: false,
            },
            Backend::Pg { planned, generic } => Tx {
                conn: TxConn::Pg(if one_plan { generic } else { planned }.begin().await?),
                anchor: self.anchor.clone(),
                callers: self.callers.clone(),
                changes_callers: false,
            },
        })
    }

    pub async fn all<T: Row>(&self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { read, .. } => run!(fetch_all, read, sqlite_sql(&q.sql), q, T),
            Backend::Pg { planned, generic } => {
                let p = if q.one_plan { generic } else { planned };
                run!(fetch_all, p, q.sql.clone(), q, T)
            }
        }
    }

    pub async fn opt<T: Row>(&self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { read, .. } => run!(fetch_first, read, sqlite_sql(&q.sql), q, T),
            Backend::Pg { planned, generic } => {
                let p = if q.one_plan { generic } else { planned };
                run!(fetch_optional, p, q.sql.clone(), q, T)
            }
        }
    }

    pub async fn one<T: Row>(&self, q: Q) -> Result<T, sqlx::Error> {
        self.opt(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// The head of a query whose rows the database packs into one JSON array, in `order` (an
    /// `ORDER BY …` clause): the driver then moves one value instead of every column of every row.
    /// On SQLite each value is otherwise copied and sent across from the connection's worker
    /// thread: perf at 100,000 members put a roster row of 23 columns at about 20 µs, packed 9 µs.
    /// Read with `packed_page`.
    pub fn packing(&self, fields: &Fields, order: &str) -> String {
        let (array, object, cast) = if self.is_postgres() {
            ("json_agg", "json_build_object", "::text")
        } else {
            ("json_group_array", "json_object", "")
        };
        let pairs: Vec<String> = fields.iter().map(|(name, expr)| format!("'{name}', {expr}")).collect();
        format!("SELECT {array}({object}({}){order}){cast}", pairs.join(", "))
    }

    /// A page of rows from a query headed by `packing` and, as its second column, the total they
    /// were paged from.
    pub async fn packed_page<T: serde::de::DeserializeOwned>(&self, q: Q) -> Result<(Vec<T>, i64), sqlx::Error> {
        let (json, total): (Option<String>, i64) = self.one(q).await?;
        let rows = match json {
            Some(json) => serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            None => Vec::new(),
        };
        Ok((rows, total))
    }

    /// A single write outside an explicit transaction.
    pub async fn exec(&self, q: Q) -> Result<u64, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { write, .. } => run!(execute, write, sqlite_sql(&q.sql), q),
            Backend::Pg { planned, .. } => run!(execute, planned, q.sql.clone(), q),
        }
    }

    /// Runs a script of several statements (migrations).
    pub async fn script(&self, sql: &str) -> Result<(), sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
            Backend::Pg { planned, .. } => sqlx::raw_sql(sql).execute(planned).await.map(|_| ()),
        }
    }

    /// A consistent copy of a SQLite database while the server reads and writes: `VACUUM INTO`
    /// copies one read snapshot, on a reading connection so that writers are not held up.
    pub async fn sqlite_copy_into(&self, path: &std::path::Path) -> Result<(), sqlx::Error> {
        let Backend::Sqlite { read, .. } = &self.backend else {
            return Err(sqlx::Error::Configuration("not a SQLite database".into()));
        };
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(read)
            .await
            .map(|_| ())
    }

    /// Refreshes the planner's statistics after bulk loads; on PostgreSQL also the visibility map,
    /// so that index-only scans need not visit the table (what autovacuum does later on its own).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { .. } => self.script("ANALYZE").await,
            Backend::Pg { .. } => self.script("VACUUM ANALYZE").await,
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Pg { planned, generic } => {
                planned.close().await;
                generic.close().await;
            }
        }
    }
}

impl Tx {
    pub fn anchor(&self) -> &crate::audit::Anchor {
        &self.anchor
    }

    pub fn callers(&self) -> &crate::callers::Callers {
        &self.callers
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.conn, TxConn::Pg(_))
    }

    pub async fn all<T: Row>(&mut self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        match &mut self.conn {
            TxConn::Sqlite(t) => run!(fetch_all, &mut **t, sqlite_sql(&q.sql), q, T),
            TxConn::Pg(t) => run!(fetch_all, &mut **t, q.sql.clone(), q, T),
        }
    }

    pub async fn opt<T: Row>(&mut self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match &mut self.conn {
            TxConn::Sqlite(t) => run!(fetch_first, &mut **t, sqlite_sql(&q.sql), q, T),
            TxConn::Pg(t) => run!(fetch_optional, &mut **t, q.sql.clone(), q, T),
        }
    }

    pub async fn one<T: Row>(&mut self, q: Q) -> Result<T, sqlx::Error> {
        self.opt(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn exec(&mut self, q: Q) -> Result<u64, sqlx::Error> {
        match &mut self.conn {
            TxConn::Sqlite(t) => run!(execute, &mut **t, sqlite_sql(&q.sql), q),
            TxConn::Pg(t) => run!(execute, &mut **t, q.sql.clone(), q),
        }
    }

    /// Every table's row count, as this transaction sees them (a backup's check).
    pub async fn table_counts(&mut self) -> Result<std::collections::BTreeMap<String, i64>, sqlx::Error> {
        let tables = if self.is_postgres() { PG_TABLES } else { SQLITE_TABLES };
        let names: Vec<(String,)> = self.all(Q::new(tables)).await?;
        let mut counts = std::collections::BTreeMap::new();
        for (name,) in names {
            let (n,): (i64,) = self.one(Q::new(&format!("SELECT COUNT(*) FROM \"{name}\""))).await?;
            counts.insert(name, n);
        }
        Ok(counts)
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Pg(t) => t.commit().await?,
        }
        // After the commit: a caller read from here on sees the change (see `callers`).
        if self.changes_callers {
            self.callers.forget();
        }
        Ok(())
    }

    /// Marks this transaction as changing accounts, grants, sessions or tokens.
    pub fn changes_callers(&mut self) {
        self.changes_callers = true;
    }
}

/// The tables of the database (names from the catalog, never from input).
pub const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name";
pub const PG_TABLES: &str =
    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename";

/// Instants are stored as fixed-width UTC text (`2026-11-24T01:02:03.123456Z`) on both backends:
/// it sorts correctly, compares as text, and hashes identically when the audit chain is verified.
/// Text for a `LIKE … ESCAPE '\'` pattern that matches itself only: `%`, `_` and `\` escaped.
pub fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn now_text() -> String {
    instant_text(crate::clock::now())
}

pub fn instant_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Random positive ids below 2^53, so they survive JavaScript numbers and reveal no row order.
pub fn new_id() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(1..(1i64 << 53))
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_core.sql")),
    (2, include_str!("../migrations/sqlite/0002_meetings.sql")),
    (3, include_str!("../migrations/sqlite/0003_notices.sql")),
    (4, include_str!("../migrations/sqlite/0004_activities.sql")),
    (5, include_str!("../migrations/sqlite/0005_attachments.sql")),
    (6, include_str!("../migrations/sqlite/0006_online_link.sql")),
    (7, include_str!("../migrations/sqlite/0007_dues.sql")),
    (8, include_str!("../migrations/sqlite/0008_reviews_transfers.sql")),
    (9, include_str!("../migrations/sqlite/0009_announcements.sql")),
    (10, include_str!("../migrations/sqlite/0010_development.sql")),
    (11, include_str!("../migrations/sqlite/0011_development_requests.sql")),
    (12, include_str!("../migrations/sqlite/0012_corrections.sql")),
    (
        13,
        include_str!("../migrations/sqlite/0013_transfers_mobile_documents.sql"),
    ),
    (14, include_str!("../migrations/sqlite/0014_keyed_audit.sql")),
    (15, include_str!("../migrations/sqlite/0015_pending_grants.sql")),
    (16, include_str!("../migrations/sqlite/0016_login_failures.sql")),
    (17, include_str!("../migrations/sqlite/0017_security_reports.sql")),
    (18, include_str!("../migrations/sqlite/0018_audit_retention.sql")),
    (19, include_str!("../migrations/sqlite/0019_partial_indexes.sql")),
    (20, include_str!("../migrations/sqlite/0020_warnings.sql")),
    (21, include_str!("../migrations/sqlite/0021_dues_totals.sql")),
    (22, include_str!("../migrations/sqlite/0022_paths_follow_moves.sql")),
    (23, include_str!("../migrations/sqlite/0023_study.sql")),
    (24, include_str!("../migrations/sqlite/0024_meeting_study_hours.sql")),
    (25, include_str!("../migrations/sqlite/0025_study_classes.sql")),
    (26, include_str!("../migrations/sqlite/0026_study_exams.sql")),
    (27, include_str!("../migrations/sqlite/0027_study_media.sql")),
    (28, include_str!("../migrations/sqlite/0028_search.sql")),
    (29, include_str!("../migrations/sqlite/0029_study_totals.sql")),
    (30, include_str!("../migrations/sqlite/0030_study_task_members.sql")),
    (31, include_str!("../migrations/sqlite/0031_warning_acks.sql")),
    (32, include_str!("../migrations/sqlite/0032_attempt_questions_room.sql")),
    (33, include_str!("../migrations/sqlite/0033_figures.sql")),
    (34, include_str!("../migrations/sqlite/0034_displays.sql")),
    (35, include_str!("../migrations/sqlite/0035_quality.sql")),
    (36, include_str!("../migrations/sqlite/0036_attempt_answers.sql")),
    (37, include_str!("../migrations/sqlite/0037_worst_first.sql")),
    (38, include_str!("../migrations/sqlite/0038_task_done_by_place.sql")),
    (39, include_str!("../migrations/sqlite/0039_attempts_by_member.sql")),
];
const PG_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_core.sql")),
    (2, include_str!("../migrations/postgres/0002_meetings.sql")),
    (3, include_str!("../migrations/postgres/0003_notices.sql")),
    (4, include_str!("../migrations/postgres/0004_activities.sql")),
    (5, include_str!("../migrations/postgres/0005_attachments.sql")),
    (6, include_str!("../migrations/postgres/0006_online_link.sql")),
    (7, include_str!("../migrations/postgres/0007_dues.sql")),
    (8, include_str!("../migrations/postgres/0008_reviews_transfers.sql")),
    (9, include_str!("../migrations/postgres/0009_announcements.sql")),
    (10, include_str!("../migrations/postgres/0010_development.sql")),
    (11, include_str!("../migrations/postgres/0011_development_requests.sql")),
    (12, include_str!("../migrations/postgres/0012_corrections.sql")),
    (
        13,
        include_str!("../migrations/postgres/0013_transfers_mobile_documents.sql"),
    ),
    (14, include_str!("../migrations/postgres/0014_keyed_audit.sql")),
    (15, include_str!("../migrations/postgres/0015_pending_grants.sql")),
    (16, include_str!("../migrations/postgres/0016_login_failures.sql")),
    (17, include_str!("../migrations/postgres/0017_security_reports.sql")),
    (18, include_str!("../migrations/postgres/0018_audit_retention.sql")),
    (19, include_str!("../migrations/postgres/0019_partial_indexes.sql")),
    (20, include_str!("../migrations/postgres/0020_warnings.sql")),
    (21, include_str!("../migrations/postgres/0021_dues_totals.sql")),
    (22, include_str!("../migrations/postgres/0022_paths_follow_moves.sql")),
    (23, include_str!("../migrations/postgres/0023_study.sql")),
    (24, include_str!("../migrations/postgres/0024_meeting_study_hours.sql")),
    (25, include_str!("../migrations/postgres/0025_study_classes.sql")),
    (26, include_str!("../migrations/postgres/0026_study_exams.sql")),
    (27, include_str!("../migrations/postgres/0027_study_media.sql")),
    (28, include_str!("../migrations/postgres/0028_search.sql")),
    (29, include_str!("../migrations/postgres/0029_study_totals.sql")),
    (30, include_str!("../migrations/postgres/0030_study_task_members.sql")),
    (31, include_str!("../migrations/postgres/0031_warning_acks.sql")),
    (
        32,
        include_str!("../migrations/postgres/0032_attempt_questions_room.sql"),
    ),
    (33, include_str!("../migrations/postgres/0033_figures.sql")),
    (34, include_str!("../migrations/postgres/0034_displays.sql")),
    (35, include_str!("../migrations/postgres/0035_quality.sql")),
    (36, include_str!("../migrations/postgres/0036_attempt_answers.sql")),
    (37, include_str!("../migrations/postgres/0037_worst_first.sql")),
    (38, include_str!("../migrations/postgres/0038_task_done_by_place.sql")),
    (39, include_str!("../migrations/postgres/0039_attempts_by_member.sql")),
];

/// Applies the migrations this database has not seen yet, each in its own transaction; returns
/// the versions it applied.
pub async fn migrate(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    db.script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .await?;
    let done: Vec<(i64,)> = db.all(Q::new("SELECT version FROM schema_migrations")).await?;
    let list = if db.is_postgres() {
        PG_MIGRATIONS
    } else {
        SQLITE_MIGRATIONS
    };
    let mut applied = Vec::new();
    for (version, sql) in list {
        if done.iter().any(|(v,)| v == version) {
            continue;
        }
        applied.push(*version);
        let script = format!(
            "BEGIN;\n{sql}\nINSERT INTO schema_migrations (version, applied_at) VALUES ({version}, '{}');\nCOMMIT;",
            now_text()
        );
        db.script(&script).await?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_placeholders_are_numbered() {
        assert_eq!(
            super::sqlite_sql("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2"
        );
        assert_eq!(
            super::sqlite_sql("INSERT INTO t VALUES ($1, $2), ($3, $4)"),
            "INSERT INTO t VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            super::sqlite_sql("UPDATE t SET a = $1, b = $1"),
            "UPDATE t SET a = ?1, b = ?1"
        );
    }

    #[test]
    fn packed_booleans_read_from_either_database() {
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(deserialize_with = "super::packed_bool")]
            b: bool,
        }
        let read = |json: &str| serde_json::from_str::<Row>(json).map(|r| r.b);
        assert!(read(r#"{"b": 1}"#).unwrap());
        assert!(!read(r#"{"b": 0}"#).unwrap());
        assert!(read(r#"{"b": true}"#).unwrap());
        assert!(!read(r#"{"b": false}"#).unwrap());
        assert!(read(r#"{"b": "yes"}"#).is_err());
    }
}
