//! The two backends behind one small query interface. SQL is written once with `$n` placeholders,
//! which SQLite and PostgreSQL both accept; arguments are typed so that PostgreSQL sees the right
//! parameter types even for NULLs. Per-backend SQL is kept to the migrations and bulk loading.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
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
}

impl Q {
    pub fn new(sql: &str) -> Self {
        Q {
            sql: sql.to_string(),
            args: Vec::new(),
        }
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
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite allows one writer: writes go through a one-connection pool so that transactions
    /// queue instead of failing with SQLITE_BUSY; reads use their own pool (WAL).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Pg(PgPool),
}

pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>),
}

macro_rules! run {
    (fetch_all, $exec:expr, $q:expr, $t:ty) => {
        bound!(sqlx::query_as::<_, $t>(&$q.sql), $q.args)
            .fetch_all($exec)
            .await
    };
    (fetch_optional, $exec:expr, $q:expr, $t:ty) => {
        bound!(sqlx::query_as::<_, $t>(&$q.sql), $q.args)
            .fetch_optional($exec)
            .await
    };
    (execute, $exec:expr, $q:expr) => {
        bound!(sqlx::query(&$q.sql), $q.args)
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
    };
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Db::Pg(pool))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("cache_size", "-65536");
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.read_only(true))
                .await?;
            Ok(Db::Sqlite { read, write })
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    pub async fn all<T: Row>(&self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Db::Sqlite { read, .. } => run!(fetch_all, read, q, T),
            Db::Pg(p) => run!(fetch_all, p, q, T),
        }
    }

    pub async fn opt<T: Row>(&self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match self {
            Db::Sqlite { read, .. } => run!(fetch_optional, read, q, T),
            Db::Pg(p) => run!(fetch_optional, p, q, T),
        }
    }

    pub async fn one<T: Row>(&self, q: Q) -> Result<T, sqlx::Error> {
        self.opt(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// A single write outside an explicit transaction.
    pub async fn exec(&self, q: Q) -> Result<u64, sqlx::Error> {
        match self {
            Db::Sqlite { write, .. } => run!(execute, write, q),
            Db::Pg(p) => run!(execute, p, q),
        }
    }

    /// Runs a script of several statements (migrations).
    pub async fn script(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
            Db::Pg(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Pg(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn all<T: Row>(&mut self, q: Q) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(t) => run!(fetch_all, &mut **t, q, T),
            Tx::Pg(t) => run!(fetch_all, &mut **t, q, T),
        }
    }

    pub async fn opt<T: Row>(&mut self, q: Q) -> Result<Option<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(t) => run!(fetch_optional, &mut **t, q, T),
            Tx::Pg(t) => run!(fetch_optional, &mut **t, q, T),
        }
    }

    pub async fn one<T: Row>(&mut self, q: Q) -> Result<T, sqlx::Error> {
        self.opt(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn exec(&mut self, q: Q) -> Result<u64, sqlx::Error> {
        match self {
            Tx::Sqlite(t) => run!(execute, &mut **t, q),
            Tx::Pg(t) => run!(execute, &mut **t, q),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Pg(t) => t.commit().await,
        }
    }
}

/// Instants are stored as fixed-width UTC text (`2026-11-24T01:02:03.123456Z`) on both backends:
/// it sorts correctly, compares as text, and hashes identically when the audit chain is verified.
pub fn now_text() -> String {
    instant_text(Utc::now())
}

pub fn instant_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Random positive ids below 2^53, so they survive JavaScript numbers and reveal no row order.
pub fn new_id() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(1..(1i64 << 53))
}

const SQLITE_MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../migrations/sqlite/0001_core.sql"))];
const PG_MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/postgres/0001_core.sql"))];

/// Applies the migrations this database has not seen yet, each in its own transaction.
pub async fn migrate(db: &Db) -> Result<(), sqlx::Error> {
    db.script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .await?;
    let done: Vec<(i64,)> = db
        .all(Q::new("SELECT version FROM schema_migrations"))
        .await?;
    let list = if db.is_postgres() {
        PG_MIGRATIONS
    } else {
        SQLITE_MIGRATIONS
    };
    for (version, sql) in list {
        if done.iter().any(|(v,)| v == version) {
            continue;
        }
        let script = format!(
            "BEGIN;\n{sql}\nINSERT INTO schema_migrations (version, applied_at) VALUES ({version}, '{}');\nCOMMIT;",
            now_text()
        );
        db.script(&script).await?;
    }
    Ok(())
}
