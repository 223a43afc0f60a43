//! Backups (`hongji backup`, `hongji restore`). A backup is a folder: the database as one
//! consistent snapshot taken while the server runs (SQLite's `VACUUM INTO`; `pg_dump` of an
//! exported snapshot on PostgreSQL), the uploaded files (sealed as they are stored), and a
//! manifest with every table's row count, the audit chain's head and the key file's fingerprint.
//! The key file is never in it: kept apart, a stolen backup opens no personal field. A restore
//! checks the key, brings the database and the files back, and verifies the counts and the audit
//! chain before it says it is done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use sqlx::{ConnectOptions, Connection};

use crate::audit::{self, Event};
use crate::db::{now_text, Db, Q};
use crate::{Caller, Keys, Store};

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const FILES: &str = "files";

/// What a backup holds, written beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub made_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The fingerprint of the key file that opens it (`Keys::fingerprint`).
    pub key_fingerprint: String,
    /// The audit log's last entry and its seal.
    pub audit_seq: i64,
    pub audit_hash: String,
    /// Every table's rows.
    pub tables: BTreeMap<String, i64>,
    pub files: u64,
    pub file_bytes: u64,
}

impl Manifest {
    fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> Result<PathBuf> {
    let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url).context("reading the SQLite database URL")?;
    Ok(opts.get_filename().to_path_buf())
}

/// Runs a PostgreSQL client tool on a database, naming the tool when it is missing or fails. The
/// password goes in the tool's environment, never on its command line (where `ps` shows it).
async fn run_tool(tool: &str, database_url: &str, args: &[&str]) -> Result<()> {
    let (url, password) = without_password(database_url)?;
    let mut command = tokio::process::Command::new(tool);
    if let Some(p) = password {
        command.env("PGPASSWORD", p);
    }
    let out = command
        .args(args)
        .arg("--dbname")
        .arg(url)
        .output()
        .await
        .with_context(|| format!("running {tool} (install the PostgreSQL client tools)"))?;
    if !out.status.success() {
        bail!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The URL without its password, and the password (percent-decoded).
fn without_password(database_url: &str) -> Result<(String, Option<String>)> {
    let mut url = url::Url::parse(database_url).context("reading the PostgreSQL URL")?;
    let password = url
        .password()
        .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = url.set_password(None);
    Ok((url.to_string(), password))
}

/// Makes a backup into `out` (a new or empty folder) while the server may run, and audits it.
pub async fn make(store: &Store, database_url: &str, files_dir: &Path, out: &Path) -> Result<Manifest> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_none();
        ensure!(empty, "{} is not empty: a backup goes into a new folder", out.display());
    }
    crate::private::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    crate::private::restrict(out)?;
    let db = &store.db;
    let (backend, tables, (audit_seq, audit_hash)) = if !db.is_postgres() {
        let copy = out.join(SQLITE_FILE);
        db.sqlite_copy_into(&copy)
            .await
            .context("copying the SQLite database")?;
        crate::private::restrict(&copy)?;
        // Counted in the copy itself, opened read-only.
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&copy)
            .read_only(true)
            .connect()
            .await?;
        let mut tx = conn.begin().await?;
        let names: Vec<String> = sqlx::query_scalar(crate::db::SQLITE_TABLES).fetch_all(&mut *tx).await?;
        let mut tables = BTreeMap::new();
        for name in names {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{name}\""))
                .fetch_one(&mut *tx)
                .await?;
            tables.insert(name, n);
        }
        let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        conn.close().await?;
        ("sqlite", tables, head)
    } else {
        // One snapshot for the counts and the dump: exported from this transaction, which stays
        // open until pg_dump is done.
        let mut tx = db.begin().await?;
        tx.exec(Q::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            .await?;
        let (snapshot,): (String,) = tx.one(Q::new("SELECT pg_export_snapshot()")).await?;
        let tables = tx.table_counts().await?;
        let head: (i64, String) = tx.one(Q::new("SELECT seq, hash FROM audit_head WHERE id = 1")).await?;
        let dump = out.join(PG_FILE);
        let dump_arg = dump.to_string_lossy().into_owned();
        run_tool(
            "pg_dump",
            database_url,
            &["--format=custom", "--snapshot", &snapshot, "--file", &dump_arg],
        )
        .await?;
        tx.commit().await?;
        crate::private::restrict(&dump)?;
        ("postgres", tables, head)
    };
    let (files, file_bytes) =
        crate::private::copy_tree(files_dir, &out.join(FILES)).context("copying the uploaded files")?;
    let manifest = Manifest {
        made_at: now_text(),
        backend: backend.into(),
        key_fingerprint: store.keys.fingerprint(),
        audit_seq,
        audit_hash,
        tables,
        files,
        file_bytes,
    };
    crate::private::write(&out.join(MANIFEST), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    audit::append_alone(
        db,
        &Caller::system("backup"),
        Event::ok("backup.create", "backup", &manifest.made_at).with_detail(format!(
            "{backend} rows={} audit={} files={files}",
            manifest.rows(),
            manifest.audit_seq
        )),
    )
    .await?;
    Ok(manifest)
}

/// Where the data goes back to.
pub struct Target<'a> {
    pub database_url: &'a str,
    pub key_file: &'a Path,
    pub checkpoints: &'a Path,
    pub files_dir: &'a Path,
    /// Move data already there aside (`*.before-restore-TIME`) instead of refusing.
    pub replace: bool,
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub audit_entries: i64,
    /// The newest checkpoint written after the backup: the log had reached it, and the entries
    /// after the backup's are not in it.
    pub after_backup: Option<audit::Checkpoint>,
    /// What was moved aside.
    pub moved_aside: Vec<PathBuf>,
}

fn aside(path: &Path, stamp: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".before-restore-{stamp}"));
    path.with_file_name(name)
}

fn non_empty(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some()),
        Ok(m) => m.len() > 0,
        Err(_) => false,
    }
}

/// Brings a backup back and verifies it: the key file must be the backup's, the target empty
/// (or `replace`), then every table's count and the audit chain must agree with the manifest.
pub async fn restore(backup: &Path, to: Target<'_>) -> Result<Restored> {
    let text = std::fs::read_to_string(backup.join(MANIFEST))
        .with_context(|| format!("{} holds no {MANIFEST}: not a Hongji backup", backup.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).context("reading the backup's manifest")?;
    ensure!(
        to.key_file.exists(),
        "the key file {} is not there: put the key file kept apart from the backups in place first",
        to.key_file.display()
    );
    let keys = Keys::load_or_create(to.key_file)?;
    ensure!(
        keys.fingerprint() == manifest.key_fingerprint,
        "the key file {} is not the one this backup was made with (fingerprint {}, the backup's {})",
        to.key_file.display(),
        keys.fingerprint(),
        manifest.key_fingerprint
    );
    ensure!(
        (manifest.backend == "postgres") == is_postgres(to.database_url),
        "this is a {} backup: restore it into a {} database",
        manifest.backend,
        manifest.backend
    );
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
    let mut moved_aside = Vec::new();
    // Every refusal comes before anything is moved.
    let sqlite_db = (!is_postgres(to.database_url))
        .then(|| sqlite_path(to.database_url))
        .transpose()?;
    let pg_schema = if is_postgres(to.database_url) {
        let mut conn = sqlx::PgConnection::connect(to.database_url).await?;
        let (schema, tables): (String, i64) = sqlx::query_as(
            "SELECT current_schema()::text, (SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema())",
        )
        .fetch_one(&mut conn)
        .await?;
        ensure!(
            tables == 0 || to.replace,
            "the database already holds {tables} tables: --replace moves them aside (schema {schema}_before_restore_{stamp})"
        );
        Some((schema, tables > 0))
    } else {
        None
    };
    if let Some(path) = &sqlite_db {
        ensure!(
            !non_empty(path) || to.replace,
            "{} already exists: --replace moves it aside",
            path.display()
        );
    }
    ensure!(
        !non_empty(to.files_dir) || to.replace,
        "{} already holds files: --replace moves them aside",
        to.files_dir.display()
    );

    if let Some(path) = &sqlite_db {
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                let a = aside(&p, &stamp);
                std::fs::rename(&p, &a)?;
                moved_aside.push(a);
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private::create_dir_all(dir)?;
        }
        std::fs::copy(backup.join(SQLITE_FILE), path).context("copying the database back")?;
        crate::private::restrict(path)?;
    }
    if let Some((schema, occupied)) = &pg_schema {
        let mut conn = sqlx::PgConnection::connect(to.database_url).await?;
        let old = format!("{schema}_before_restore_{stamp}");
        if *occupied {
            sqlx::raw_sql(&format!(
                "ALTER SCHEMA \"{schema}\" RENAME TO \"{old}\"; CREATE SCHEMA \"{schema}\""
            ))
            .execute(&mut conn)
            .await?;
        }
        let dump = backup.join(PG_FILE).to_string_lossy().into_owned();
        let restored = run_tool(
            "pg_restore",
            to.database_url,
            &["--no-owner", "--single-transaction", "--exit-on-error", &dump],
        )
        .await;
        if let Err(e) = restored {
            if *occupied {
                sqlx::raw_sql(&format!(
                    "DROP SCHEMA \"{schema}\" CASCADE; ALTER SCHEMA \"{old}\" RENAME TO \"{schema}\""
                ))
                .execute(&mut conn)
                .await?;
            }
            return Err(e.context("nothing was restored; the database is as it was"));
        }
        if *occupied {
            moved_aside.push(PathBuf::from(format!("schema {old}")));
        }
    }
    if non_empty(to.files_dir) {
        let a = aside(to.files_dir, &stamp);
        std::fs::rename(to.files_dir, &a)?;
        moved_aside.push(a);
    } else if to.files_dir.exists() {
        std::fs::remove_dir(to.files_dir)?;
    }
    crate::private::copy_tree(&backup.join(FILES), to.files_dir).context("copying the uploaded files back")?;
    let archive = aside(to.checkpoints, &stamp);
    let after_backup = audit::checkpoints_upto(to.checkpoints, &archive, &keys.audit_key(), manifest.audit_seq)?;
    if archive.exists() {
        moved_aside.push(archive);
    }

    // The counts before any migration of this version touches the tables.
    let anchor = audit::Anchor::new(keys.audit_key(), to.checkpoints.to_path_buf());
    let db = Db::connect(to.database_url, anchor).await?;
    let mut tx = db.begin().await?;
    let tables = tx.table_counts().await?;
    tx.commit().await?;
    let differ: Vec<String> = manifest
        .tables
        .iter()
        .filter(|(t, n)| tables.get(*t) != Some(n))
        .map(|(t, n)| format!("{t}: {} rows, the backup {n}", tables.get(t).copied().unwrap_or(0)))
        .collect();
    ensure!(
        differ.is_empty(),
        "the restored tables do not match the backup: {}",
        differ.join("; ")
    );
    drop(db);
    let store = Store::open(to.database_url, to.key_file, to.checkpoints).await?;
    let audit_entries = match audit::verify(&store.db).await? {
        Ok(intact) => intact.entries,
        Err(broken) => bail!("the restored audit log does not verify: {broken}"),
    };
    ensure!(
        audit_entries >= manifest.audit_seq,
        "the restored audit log holds {audit_entries} entries, the backup {}",
        manifest.audit_seq
    );
    audit::checkpoint(&store.db).await?;
    audit::append_alone(
        &store.db,
        &Caller::system("restore"),
        Event::ok("backup.restore", "backup", &manifest.made_at).with_detail(format!(
            "rows={} audit={}",
            manifest.rows(),
            manifest.audit_seq
        )),
    )
    .await?;
    Ok(Restored {
        manifest,
        audit_entries,
        after_backup,
        moved_aside,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_leaves_the_command_line() {
        let (url, password) =
            super::without_password("postgres://hongji:p%40ss+w%2Frd@db.internal:5432/hongji?sslmode=require").unwrap();
        assert_eq!(url, "postgres://hongji@db.internal:5432/hongji?sslmode=require");
        assert_eq!(password.as_deref(), Some("p@ss+w/rd"));
        let (url, password) = super::without_password("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
        assert_eq!(
            (url.as_str(), password),
            ("postgres://postgres@127.0.0.1:5432/postgres", None)
        );
    }
}
